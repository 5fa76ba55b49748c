// Package simulate replays traffic through the real autoscaler tick against
// a model of an app on Heroku, and scores the result against the ideal
// ("demand") dyno count with the BUNGEE elasticity metrics (Herbst et al.,
// SEAMS 2015). The rules are not copied here: every tick is tick.Ticker's,
// run with in-memory stand-ins for the store, the formation, the probe and
// the clock.
package simulation

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Model is the app on Heroku that the autoscaler is run against, and the
// cadence it is run at. The JSON names are those of `simulate -json`.
type Model struct {
	CapacityRPM float64 `json:"capacityRpm,omitempty"` // requests per minute one dyno serves at full use
	BaseMS      float64 `json:"baseMs,omitempty"`      // latency of an idle app
	BootSeconds int     `json:"bootSeconds"`           // from a scale call until a new dyno serves
	Noise       float64 `json:"noise"`                 // sigma of the log-normal noise on each probe; 0: exact
	Seed        uint64  `json:"seed"`
	SLOMS       float64 `json:"sloMs"`           // latency target the scores count violations of
	Interval    int     `json:"intervalSeconds"` // seconds between ticks
	// Initial is the dyno count at the start; 0 means the minimum in force
	// at Start for each run.
	Initial   int       `json:"initial"`
	Start     time.Time `json:"start"`     // time of minute 0
	DynoPrice float64   `json:"dynoPrice"` // dollars per dyno-hour
	// JobSeconds and JobConcurrency are the job model's (a trace of jobs):
	// a job's mean run time, and the jobs one dyno runs at once.
	JobSeconds     float64 `json:"jobSeconds,omitempty"`
	JobConcurrency int     `json:"jobConcurrency,omitempty"`
}

// Defaults of the model flags that do not come from the settings.
const (
	DefaultCapacityRPM = 600
	DefaultBaseMS      = 100
	DefaultBootSeconds = 30
	DefaultNoise       = 0.25
	DefaultSeed        = 1
	DefaultDynoPrice   = 0.035 // Standard-1X, per hour
	// Sidekiq's default concurrency is 5 threads a process.
	DefaultJobSeconds     = 30
	DefaultJobConcurrency = 5
)

// DefaultStart is minute 0 unless told otherwise: a Monday, at midnight UTC.
var DefaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// maxRPM bounds a trace's rate, far above any one Heroku app, so that the
// arithmetic stays exact.
const maxRPM = 1e9

// Validate reports every problem with the model of an app serving
// requests at once, naming the flag.
func (m Model) Validate() error { return m.validate(false) }

// ValidateJobs is Validate for the job model.
func (m Model) ValidateJobs() error { return m.validate(true) }

func (m Model) validate(jobs bool) error {
	var problems []string
	bad := func(flag string, v any, why string) {
		problems = append(problems, fmt.Sprintf("-%s %v: %s", flag, v, why))
	}
	if jobs {
		m.jobProblems(bad)
	} else {
		m.requestProblems(bad)
	}
	if m.BootSeconds < 0 || m.BootSeconds > 3600 {
		bad("boot-seconds", m.BootSeconds, "must be 0 to 3600")
	}
	if !finite(m.Noise) || m.Noise < 0 || m.Noise > 5 {
		bad("noise", m.Noise, "must be 0 to 5")
	}
	if m.Interval < 1 || m.Interval > 24*3600 {
		bad("interval", m.Interval, "must be 1 to 86400 seconds")
	}
	if m.Initial < 0 || m.Initial > 10000 {
		bad("initial", m.Initial, "must be 0 to 10000")
	}
	if !finite(m.DynoPrice) || m.DynoPrice < 0 {
		bad("dyno-price", m.DynoPrice, "must not be negative")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (m Model) requestProblems(bad func(flag string, v any, why string)) {
	if !finite(m.CapacityRPM) || m.CapacityRPM <= 0 {
		bad("capacity-rpm", m.CapacityRPM, "must be more than 0")
	}
	if !finite(m.BaseMS) || m.BaseMS <= 0 {
		bad("base-ms", m.BaseMS, "must be more than 0")
	}
	switch {
	case !finite(m.SLOMS) || m.SLOMS <= 0:
		bad("slo-ms", m.SLOMS, "must be more than 0")
	case finite(m.BaseMS) && m.BaseMS >= m.SLOMS:
		// No dyno count could meet the target: the ideal is undefined.
		bad("base-ms", m.BaseMS, fmt.Sprintf("must be below the SLO (-slo-ms %v): even an idle app would miss it", m.SLOMS))
	}
}

// maxJobSeconds bounds a job's mean run time: a day.
const maxJobSeconds = 24 * 3600

func (m Model) jobProblems(bad func(flag string, v any, why string)) {
	if !finite(m.JobSeconds) || m.JobSeconds <= 0 || m.JobSeconds > maxJobSeconds {
		bad("job-seconds", m.JobSeconds, "must be more than 0, up to 86400 (a day)")
	}
	if m.JobConcurrency < 1 || m.JobConcurrency > 1000 {
		bad("job-concurrency", m.JobConcurrency, "must be 1 to 1000")
	}
	if !finite(m.SLOMS) || m.SLOMS <= 0 {
		bad("slo-ms", m.SLOMS, "must be more than 0")
	}
}

// validateFor validates the model tr runs through.
func (m Model) validateFor(tr Trace) error {
	if tr.Jobs {
		return m.ValidateJobs()
	}
	return m.Validate()
}

// demand is the ideal of a minute of tr whose rate (or jobs) is v.
func (m Model) demand(tr Trace, v float64) int {
	if tr.Jobs {
		return m.JobIdeal(v)
	}
	return m.Ideal(v)
}

// Ideal is the demand for a minute at rpm: the least dyno count, at least
// one, whose idle-queue latency base/(1-ρ) meets the SLO, whatever the
// bounds say. Computed as ⌈rpm·slo / (capacity·(slo−base))⌉, which is exact
// for whole-number flags (no 1−0.1 rounding).
func (m Model) Ideal(rpm float64) int {
	n := math.Ceil(rpm * m.SLOMS / (m.CapacityRPM * (m.SLOMS - m.BaseMS)))
	return max(1, int(n))
}

// JobIdeal is the demand for a minute in which jobs are enqueued: the dynos
// whose slots run that work within the minute, ⌈jobs × job-seconds / 60 /
// concurrency⌉, and 0 when no job arrives. A hair above a whole number is
// the float error of a fractional run time, not work.
func (m Model) JobIdeal(jobs float64) int {
	if jobs <= 0 {
		return 0
	}
	n := jobs * m.JobSeconds / 60 / float64(m.JobConcurrency)
	return max(1, int(math.Ceil(n-1e-9)))
}
