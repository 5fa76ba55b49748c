package simulation

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Profile is a built-in day of traffic, repeated for as many days as asked.
type Profile struct {
	Name        string
	Description string
	// day returns a day's rpm (a job profile's jobs), minute by minute;
	// noisy profiles draw from rng.
	day func(rng *rand.Rand) [minutesPerDay]float64
}

const minutesPerDay = 24 * 60

// Profiles are the built-in traffic shapes, sized for the default model
// (600 rpm a dyno, 100 ms idle, a 1000 ms SLO: one dyno per 540 rpm).
var Profiles = []Profile{
	{Name: "steady", Description: "1,500 rpm all day (3 dynos)", day: flat(1500)},
	{Name: "step", Description: "700 rpm, then a sudden 4× rush to 2,800 rpm from 10:00 to 12:00 and back (2 → 6 dynos)",
		day: stepDay(700, 4, 10*60, 12*60)},
	{Name: "ramp", Description: "300 rpm at midnight rising steadily to 3,000 rpm at noon and back (1 → 6 → 1 dynos)",
		day: piecewise([][2]float64{{0, 300}, {12 * 60, 3000}, {24 * 60, 300}})},
	{Name: "diurnal", Description: "a working day: 250 rpm at night, the morning rise from 06:00, a lunch peak of 2,400 rpm, the evening fall to 250 by 23:00 (1 → 5 dynos)",
		day: piecewise(workingDay)},
	{Name: "spike", Description: "600 rpm with a 10× flash crowd (6,000 rpm) from 12:00 for 10 minutes (2 → 12 dynos)",
		day: stepDay(600, 10, 12*60, 12*60+10)},
	{Name: "noisy", Description: "the working day with each minute's rate scattered (log-normal, sigma 0.3; seeded by -seed)",
		day: noisy(piecewise(workingDay), 0.3)},
}

// JobProfiles are the built-in days of a job queue, sized for the default
// job model (30 s jobs, 5 at once a dyno: one dyno runs 10 jobs a minute).
var JobProfiles = []Profile{
	{Name: "nightly", Description: "a batch of 600 jobs enqueued at 02:00, none the rest of the day (an hour of one dyno's work; the ideal: 60 dynos for that minute)",
		day: batch(600, 2*60)},
	{Name: "bursty", Description: "bursts of 50 to 300 jobs at random minutes, about two an hour, none between (5 to 30 dynos for a minute; seeded by -seed)",
		day: bursts(1.0/30, 50, 300)},
	{Name: "trickle", Description: "a job every 5 minutes, all day (1 dyno for one minute in five)",
		day: every(5)},
}

// workingDay is the diurnal profile's shape: (minute of the day, rpm),
// joined by straight lines.
var workingDay = [][2]float64{
	{0, 250}, {6 * 60, 250}, {9 * 60, 2000}, {12 * 60, 2200}, {13 * 60, 2400},
	{14 * 60, 2000}, {17 * 60, 1800}, {20 * 60, 600}, {23 * 60, 250}, {24 * 60, 250},
}

// ProfileNames lists the built-in profiles, for usage and errors.
func ProfileNames() string {
	names := func(ps []Profile) string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.Name
		}
		return strings.Join(out, ", ")
	}
	return names(Profiles) + "; of jobs: " + names(JobProfiles)
}

// ProfileTrace is days of the named profile, a trace of jobs for a job
// profile. The noisy ones draw from a generator seeded with seed, so the
// same seed gives the same trace.
func ProfileTrace(name string, days int, seed uint64) (Trace, error) {
	var problems []error
	all := slices.Concat(Profiles, JobProfiles)
	i := slices.IndexFunc(all, func(p Profile) bool { return p.Name == name })
	if i < 0 {
		problems = append(problems, fmt.Errorf("-profile %q: no such profile (%s)", name, ProfileNames()))
	}
	if days < 1 || days > maxMinutes/minutesPerDay {
		problems = append(problems, fmt.Errorf("-days %d: must be 1 to %d", days, maxMinutes/minutesPerDay))
	}
	if len(problems) > 0 {
		return Trace{}, errors.Join(problems...)
	}
	// A stream of its own, apart from the probe noise's.
	rng := rand.New(rand.NewPCG(seed, 0x70726f66696c65)) // "profile"
	rpm := make([]float64, 0, days*minutesPerDay)
	for range days {
		day := all[i].day(rng)
		rpm = append(rpm, day[:]...)
	}
	return Trace{RPM: rpm, Jobs: i >= len(Profiles)}, nil
}

func flat(rpm float64) func(*rand.Rand) [minutesPerDay]float64 {
	return func(*rand.Rand) (d [minutesPerDay]float64) {
		for m := range d {
			d[m] = rpm
		}
		return d
	}
}

// stepDay is base rpm with factor× from minute from until minute to.
func stepDay(base, factor float64, from, to int) func(*rand.Rand) [minutesPerDay]float64 {
	return func(*rand.Rand) (d [minutesPerDay]float64) {
		for m := range d {
			d[m] = base
			if m >= from && m < to {
				d[m] = base * factor
			}
		}
		return d
	}
}

// piecewise joins (minute, rpm) points with straight lines, rounded to whole rpm.
func piecewise(points [][2]float64) func(*rand.Rand) [minutesPerDay]float64 {
	return func(*rand.Rand) (d [minutesPerDay]float64) {
		j := 0
		for m := range d {
			for j+2 < len(points) && float64(m) >= points[j+1][0] {
				j++
			}
			a, b := points[j], points[j+1]
			d[m] = math.Round(a[1] + (b[1]-a[1])*(float64(m)-a[0])/(b[0]-a[0]))
		}
		return d
	}
}

// noisy scatters each minute of shape by a mean-one log-normal factor.
func noisy(shape func(*rand.Rand) [minutesPerDay]float64, sigma float64) func(*rand.Rand) [minutesPerDay]float64 {
	return func(rng *rand.Rand) [minutesPerDay]float64 {
		d := shape(rng)
		for m := range d {
			d[m] = math.Round(d[m] * math.Exp(sigma*rng.NormFloat64()-sigma*sigma/2))
		}
		return d
	}
}

// batch is jobs enqueued at minute at, and none otherwise.
func batch(jobs float64, at int) func(*rand.Rand) [minutesPerDay]float64 {
	return func(*rand.Rand) (d [minutesPerDay]float64) {
		d[at] = jobs
		return d
	}
}

// bursts gives each minute, with probability p, a burst of lo to hi jobs.
func bursts(p float64, lo, hi int) func(*rand.Rand) [minutesPerDay]float64 {
	return func(rng *rand.Rand) (d [minutesPerDay]float64) {
		for m := range d {
			// Both drawn every minute, so a burst's size does not shift the rest.
			burst, size := rng.Float64() < p, lo+rng.IntN(hi-lo+1)
			if burst {
				d[m] = float64(size)
			}
		}
		return d
	}
}

// every is a job every n minutes, from minute 0.
func every(n int) func(*rand.Rand) [minutesPerDay]float64 {
	return func(*rand.Rand) (d [minutesPerDay]float64) {
		for m := 0; m < minutesPerDay; m += n {
			d[m] = 1
		}
		return d
	}
}
