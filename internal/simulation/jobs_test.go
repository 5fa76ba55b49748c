package simulation

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// jobSecond is the queue as read at one second.
type jobSecond struct {
	second, depth, busy, finished int
	latency                       float64
}

// TestJobQueueByHand steps the job model second by second at -noise 0,
// without the tick: the scale calls are made by hand.
func TestJobQueueByHand(t *testing.T) {
	type scaleAt struct{ second, quantity int }
	tests := []struct {
		name        string
		perMin      []float64
		seconds     float64
		concurrency int
		initial     int
		scales      []scaleAt
		want        []jobSecond // the seconds checked
	}{{
		// Ten jobs in minute 0 arrive at 60(k + ½)/10 = 3, 9, 15, … 57.
		// One dyno, scaled up at 0, serves from 30 with 5 slots.
		//	s 3–29   job 0 (enqueued at 3) waits: latency s − 3, 26 s at 29;
		//	         jobs 1–4 join it (9 … 27).
		//	s 30     the dyno is up: jobs 0–4 start, to end at 60. Nothing waits.
		//	s 33–59  job 5 (33) waits, latency s − 33 (26 s at 59), jobs
		//	         6–9 join it (39 … 57): 5 waiting at 57.
		//	s 60     jobs 0–4 end (57 to 33 s after they were enqueued) and
		//	         jobs 5–9 take their slots, to end at 90.
		//	s 90     all ten have run.
		name: "ten jobs, one dyno booting 30 s", perMin: []float64{10, 0}, seconds: 30, concurrency: 5,
		scales: []scaleAt{{0, 1}},
		want: []jobSecond{
			{second: 2}, {second: 3, depth: 1}, {second: 29, depth: 5, latency: 26},
			{second: 30, busy: 5}, {second: 33, depth: 1, busy: 5}, {second: 59, depth: 5, busy: 5, latency: 26},
			{second: 60, busy: 5, finished: 5}, {second: 89, busy: 5, finished: 5}, {second: 90, finished: 10},
		},
	}, {
		// Two jobs of 100 s, one at a time on each of two dynos: job 0
		// (enqueued at 15) on dyno 1, to end at 115; job 1 (45) on dyno 2,
		// to end at 145. At 60 the formation scales to one: dyno 2 stops,
		// and its job, 85 s from its end, goes back to the queue's front
		// when its 25 s are up, at 85: latency 85 − 45 = 40 s, 69 at 114.
		// At 115 job 0 ends and job 1 runs again from the start, to 215.
		name: "a stopped dyno's long job goes back to the queue", perMin: []float64{2, 0, 0, 0}, seconds: 100, concurrency: 1,
		initial: 2, scales: []scaleAt{{60, 1}},
		want: []jobSecond{
			{second: 45, busy: 2}, {second: 60, busy: 2}, {second: 84, busy: 2}, {second: 85, depth: 1, busy: 1, latency: 40},
			{second: 114, depth: 1, busy: 1, latency: 69}, {second: 115, busy: 1, finished: 1},
			{second: 214, busy: 1, finished: 1}, {second: 215, finished: 2},
		},
	}, {
		// The same two jobs, scaled down at 130: dyno 2's job ends at
		// 145, within its 25 s, and the dyno's slot goes with it. Job 2
		// (enqueued at 150) takes dyno 1's, free since 115, to 250. Jobs
		// 3 and 4 (195, 225) wait for it: had dyno 2's slot come back, job
		// 3 would have started at once. At 250 job 3 starts (to 350) and
		// job 4 waits on: latency 25 s, 124 at 349; it runs 350–450.
		name: "a stopped dyno's job that ends within its shutdown time", perMin: []float64{2, 0, 1, 2, 0, 0, 0, 0},
		seconds: 100, concurrency: 1, initial: 2, scales: []scaleAt{{130, 1}},
		want: []jobSecond{
			{second: 130, busy: 1, finished: 1}, {second: 145, finished: 2}, {second: 150, busy: 1, finished: 2},
			{second: 195, depth: 1, busy: 1, finished: 2}, {second: 249, depth: 2, busy: 1, finished: 2, latency: 54},
			{second: 250, depth: 1, busy: 1, finished: 3, latency: 25}, {second: 349, depth: 1, busy: 1, finished: 3, latency: 124},
			{second: 350, busy: 1, finished: 4}, {second: 450, finished: 5},
		},
	}, {
		// Four jobs of 100 s (at 7.5, 22.5, 37.5, 52.5) on two dynos of
		// two slots, which take turns: jobs 0 and 2 on dyno 1 (to 107.5 and
		// 137.5), 1 and 3 on dyno 2. Dyno 2 stops at 60: both its jobs go
		// back at 85, the older in front (latency 85 − 22.5 = 62.5 s). Job 1
		// runs from 107.5, job 3 from 137.5 (latency 108 − 52.5 at 108).
		name: "jobs going back together keep their order", perMin: []float64{4, 0, 0, 0, 0}, seconds: 100, concurrency: 2,
		initial: 2, scales: []scaleAt{{60, 1}},
		want: []jobSecond{
			{second: 60, busy: 4}, {second: 85, depth: 2, busy: 2, latency: 62.5}, {second: 107, depth: 2, busy: 2, latency: 84.5},
			{second: 108, depth: 1, busy: 2, finished: 1, latency: 55.5}, {second: 138, busy: 2, finished: 2},
			{second: 208, busy: 1, finished: 3}, {second: 238, finished: 4},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Model{JobSeconds: tt.seconds, JobConcurrency: tt.concurrency, BootSeconds: 30}
			q := newJobQueue(m, tt.perMin, tt.initial)
			got := map[int]jobSecond{}
			for s := range 60 * len(tt.perMin) {
				q.step(s)
				for _, sc := range tt.scales {
					if sc.second == s {
						q.scale(s, sc.quantity)
					}
				}
				got[s] = jobSecond{second: s, depth: q.waiting.depth, busy: q.busy(), finished: q.finished, latency: q.latency}
			}
			for _, w := range tt.want {
				if g := got[w.second]; g.depth != w.depth || g.busy != w.busy || g.finished != w.finished || math.Abs(g.latency-w.latency) > 1e-9 {
					t.Errorf("second %d:\n got %+v\nwant %+v", w.second, g, w)
				}
			}
		})
	}
}

// TestJobsThroughTheTick runs the job model through the real tick, from
// zero dynos and back, at -noise 0.
//
// Model: 30 s jobs, 5 at once a dyno, boot 30 s, SLO 20 s, a tick every
// 10 s. Settings: a worker formation of 0–2 dynos on the job_latency
// signal: a queue latency over 10 s fails, under 1 s passes; 1 fail scales
// up, 2 passes down, 2 idle beats to zero. Traffic: ten jobs in minute 0
// (at 3, 9, … 57), then nothing for three minutes.
//
//	s 0    nothing waits: latency 0, pass.
//	s 10   job 0 (3) has waited 7 s: ok, but at zero a waiting job scales
//	       at once: → 1, ready at 40.
//	s 20   17 s: fail → 2, ready at 50.    s 30: 27 s: fail, at max.
//	s 40   dyno 1 serves: jobs 0–4 start (to 70); jobs 5–6 wait from 33: 7 s, ok.
//	s 50   dyno 2 serves: jobs 5–7 start (to 80); jobs 8 (51) and 9 (57)
//	       start as they come, on dyno 2 (to 81 and 87). Nothing waits: pass.
//	s 60   pass → 2 → 1: dyno 2 stops; jobs 5–8 end within its 25 s, job
//	       9 does not and goes back at 85, to run again on dyno 1 (to 115).
//	s 70   jobs 0–4 have ended: 5 busy (dyno 2's). s 80: 2 busy (jobs 8, 9).
//	s 90–110  job 9's second run: 1 busy; passes, but one dyno stays for it.
//	s 120  idle: the first idle beat.      s 130: the second → 0.
//
// Over the SLO: s 24–39 (job 0's wait): minute 0, one minute in all.
// Supply: 1 dyno for 10 s, 2 for 40, 1 for 70: 160 dyno-seconds; the
// ideal: 1 dyno in minute 0 (10 × 30 / 60 / 5), 60.
func TestJobsThroughTheTick(t *testing.T) {
	s := workerSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": "2",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER": "1", "AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER": "2"})
	m := Model{JobSeconds: 30, JobConcurrency: 5, BootSeconds: 30, SLOMS: 20000, Interval: 10, Start: DefaultStart, DynoPrice: 0.036}
	res, err := Run(context.Background(), s, m, JobsPerMinute(10, 0, 0, 0), Options{Ticks: true})
	if err != nil {
		t.Fatal(err)
	}
	type tk struct {
		second  int
		latency time.Duration
		depth   int
		busy    int
		verdict probe.Verdict
		reason  string
		dynos   int
	}
	want := []tk{
		{0, 0, 0, 0, probe.Pass, "Steady", 0},
		{10, 7 * time.Second, 2, 0, probe.OK, "JobsWaiting", 1},
		{20, 17 * time.Second, 3, 0, probe.Fail, "SlowStreak", 2},
		{30, 27 * time.Second, 5, 0, probe.Fail, "AtMax", 2},
		{40, 7 * time.Second, 2, 5, probe.OK, "Steady", 2},
		{50, 0, 0, 8, probe.Pass, "Steady", 2},
		{60, 0, 0, 10, probe.Pass, "FastStreak", 1},
		{70, 0, 0, 5, probe.Pass, "Steady", 1},
		{80, 0, 0, 2, probe.Pass, "Steady", 1},
		{90, 0, 0, 1, probe.Pass, "Steady", 1},
		{100, 0, 0, 1, probe.Pass, "Steady", 1},
		{110, 0, 0, 1, probe.Pass, "Steady", 1},
		{120, 0, 0, 0, probe.Pass, "Steady", 1},
		{130, 0, 0, 0, probe.Pass, "NoJobs", 0},
		{140, 0, 0, 0, probe.Pass, "AtMin", 0},
	}
	for i, w := range want {
		g := res.Ticks[i]
		q := g.Probe.Jobs.Queues[0]
		got := tk{g.Second, q.Latency, q.Depth, q.Busy, g.Probe.Verdict, fmt.Sprint(g.Summary.Reason), g.Requested}
		if got != w || q.Name != "default" || g.Probe.Latency != q.Latency || g.Probe.Status != 200 {
			t.Errorf("tick %d:\n got %+v (queue %q, probe latency %s, status %d)\nwant %+v", i, got, q.Name, g.Probe.Latency, g.Probe.Status, w)
		}
	}
	sc := res.Scores
	if sc.SLOViolationMinutes != 1 || sc.DynoHours != 160.0/3600 || sc.IdealDynoHours != 60.0/3600 || sc.ScaleUps != 2 || sc.ScaleDowns != 2 {
		t.Errorf("scores %+v; want 1 SLO minute, 160/3600 dyno-hours against 60/3600, 2 ups and 2 downs", sc)
	}
}

// TestNoisyJobs: with noise, minute m's jobs arrive as a Poisson process
// (so a second of a 30-job minute has none with probability e^−½, not the
// exact model's 1/2), and jobs run an exponential time of the mean (over
// it with probability e^−1), both seeded; without noise nothing is drawn.
func TestNoisyJobs(t *testing.T) {
	const minutes, perMinute = 600, 30
	perMin := make([]float64, minutes)
	for i := range perMin {
		perMin[i] = perMinute
	}
	arrivals := func(m Model) (counts []int, quiet int) {
		q := newJobQueue(m, perMin, 0)
		for s := 1; s <= 60*minutes; s++ {
			c := q.arrivalsUntil(s)
			counts = append(counts, c.n)
			if c.n == 0 {
				quiet++
			}
		}
		return counts, quiet
	}
	m := Model{JobSeconds: 30, JobConcurrency: 5, Noise: 0.25, Seed: 1}
	counts, quiet := arrivals(m)
	var sum, sq float64
	for i := 0; i < len(counts); i += 60 {
		n := 0
		for _, c := range counts[i : i+60] {
			n += c
		}
		sum += float64(n)
		sq += float64(n * n)
	}
	mean := sum / minutes
	variance := sq/minutes - mean*mean
	if math.Abs(mean-perMinute) > 1 || math.Abs(variance/perMinute-1) > 0.25 {
		t.Errorf("a minute's jobs: mean %.2f, variance %.2f; want about %d and %d (Poisson)", mean, variance, perMinute, perMinute)
	}
	if share := float64(quiet) / (60 * minutes); math.Abs(share-math.Exp(-0.5)) > 0.01 {
		t.Errorf("%.3f of the seconds have no arrival; want about e^−½ = %.3f", share, math.Exp(-0.5))
	}
	if again, _ := arrivals(m); !slices.Equal(again, counts) {
		t.Error("the same seed gave other arrivals")
	}
	m.Seed = 2
	if other, _ := arrivals(m); slices.Equal(other, counts) {
		t.Error("another seed gave the same arrivals")
	}

	q := newJobQueue(m, perMin, 0)
	var total float64
	over := 0
	const jobs = 100000
	for id := range uint64(jobs) {
		r := q.runSeconds(id)
		total += r
		if r > 30 {
			over++
		}
	}
	if mean := total / jobs; math.Abs(mean-30) > 0.5 {
		t.Errorf("mean run time %.2f s; want about 30", mean)
	}
	if share := float64(over) / jobs; math.Abs(share-math.Exp(-1)) > 0.01 {
		t.Errorf("%.3f of the jobs run over the mean; want about e^−1 = %.3f", share, math.Exp(-1))
	}
	if q.runSeconds(7) != q.runSeconds(7) {
		t.Error("a job's run time is not its own")
	}

	m.Noise = 0
	exact, quiet := arrivals(m)
	if quiet != 30*minutes || exact[0] != 1 || exact[1] != 0 || newJobQueue(m, perMin, 0).arrivals != nil {
		t.Errorf("without noise: %d quiet seconds, %v at first; want every other second, 1 (at 1 s) then 0", quiet, exact[:2])
	}
	if r := newJobQueue(m, perMin, 0).runSeconds(7); r != 30 {
		t.Errorf("without noise a job runs %v s, want 30", r)
	}
}

// TestJobProfiles: the job profiles' shapes, two days each, as traces of
// jobs, and their ideal under the default job model.
func TestJobProfiles(t *testing.T) {
	m := Model{JobSeconds: DefaultJobSeconds, JobConcurrency: DefaultJobConcurrency}
	day := func(tr Trace, d int) []float64 { return tr.RPM[d*minutesPerDay : (d+1)*minutesPerDay] }
	tests := []struct {
		name        string
		seedMatters bool
		check       func(t *testing.T, day []float64)
	}{
		{name: "nightly", check: func(t *testing.T, day []float64) {
			for m, jobs := range day {
				if want := map[bool]float64{true: 600}[m == 120]; jobs != want {
					t.Fatalf("minute %d: %v jobs, want %v (600 at 02:00 only)", m, jobs, want)
				}
			}
		}},
		{name: "bursty", seedMatters: true, check: func(t *testing.T, day []float64) {
			n := 0
			for m, jobs := range day {
				switch {
				case jobs == 0:
				case jobs < 50 || jobs > 300:
					t.Fatalf("minute %d: a burst of %v jobs, want 50 to 300", m, jobs)
				default:
					n++
				}
			}
			if n < 30 || n > 70 {
				t.Errorf("%d bursts in a day, want about 48 (two an hour)", n)
			}
		}},
		{name: "trickle", check: func(t *testing.T, day []float64) {
			for m, jobs := range day {
				if want := map[bool]float64{true: 1}[m%5 == 0]; jobs != want {
					t.Fatalf("minute %d: %v jobs, want one every 5 minutes", m, jobs)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ProfileTrace(tt.name, 2, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Jobs || tr.Minutes() != 2*minutesPerDay {
				t.Fatalf("jobs %t, %d minutes; want two days of jobs", tr.Jobs, tr.Minutes())
			}
			other, _ := ProfileTrace(tt.name, 2, 2)
			if !slices.Equal(tr.RPM, other.RPM) != tt.seedMatters {
				t.Errorf("seed matters: %t, want %t", !slices.Equal(tr.RPM, other.RPM), tt.seedMatters)
			}
			for d := range 2 {
				tt.check(t, day(tr, d))
			}
			if !tt.seedMatters && !slices.Equal(day(tr, 0), day(tr, 1)) {
				t.Error("the two days differ")
			}
		})
	}
	nightly, _ := ProfileTrace("nightly", 1, 1)
	if ideal := IdealOf(Model{JobSeconds: DefaultJobSeconds, JobConcurrency: DefaultJobConcurrency, DynoPrice: 0.035}, nightly); ideal.DynoHours != 1 ||
		ideal.ScaleUps != 1 || ideal.ScaleDowns != 1 || m.JobIdeal(600) != 60 {
		t.Errorf("nightly's ideal %+v; want 1 dyno-hour (60 dynos for a minute), up once and down once", ideal)
	}
	if _, err := ProfileTrace("weekly", 1, 1); err == nil || !strings.Contains(err.Error(), "; of jobs: nightly, bursty, trickle)") {
		t.Errorf("an unknown profile: %v; want the job profiles listed", err)
	}
	if steady, _ := ProfileTrace("steady", 1, 1); steady.Jobs {
		t.Error("a request profile reads as jobs")
	}
}

// TestJobRunsDeterministic: a job run is the same for the same seed, and
// with -noise 0 whatever the seed.
func TestJobRunsDeterministic(t *testing.T) {
	tr, err := ProfileTrace("bursty", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	run := runner(t, workerSettings(t, nil), tr)
	m := defaultJobModel()
	a := run(m)
	if b := run(m); !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed differ")
	}
	m.Seed = 2
	if c := run(m); reflect.DeepEqual(a.Scores, c.Scores) {
		t.Error("another seed gave the same run")
	}
	m.Noise = 0
	exact := run(m)
	m.Seed = 1
	if other := run(m); !reflect.DeepEqual(exact, other) {
		t.Error("with -noise 0 the seed still changed the run")
	}
	if a.DynoHours == 0 || a.ScaleUps == 0 || a.ScaleDowns == 0 {
		t.Errorf("a day of bursts never scaled: %+v", a.Scores)
	}
}

// TestSignalFits: the job model runs on the job_latency signal only, and
// that signal on the job model only.
func TestSignalFits(t *testing.T) {
	m := defaultJobModel()
	web := defaultModel(loadSettings(t, nil))
	web.Interval = 60
	for _, tt := range []struct {
		name string
		s    settings.Settings
		m    Model
		tr   Trace
		want string
	}{
		{"jobs on response time", loadSettings(t, map[string]string{"AUTOSCALE_HEROKU_PROCESS_TYPE": "worker"}), m, JobsPerMinute(1),
			"a trace of jobs runs a worker formation on its queue: set AUTOSCALE_SIGNAL=job_latency (it is response_time)"},
		{"requests on job latency", workerSettings(t, nil), web, PerMinute(600),
			"AUTOSCALE_SIGNAL=job_latency scales on a job queue: replay a trace of jobs (minute,jobs) or a job profile"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.s, tt.m, tt.tr, Options{}); err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
