package cli

import (
	"flag"
	"fmt"
	"time"

	"strings"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/simulation"
)

// simulateFlags are simulate's flags, and which of them were given.
type simulateFlags struct {
	tracePath, profile, start, since, chartPath   string
	days, boot, interval, initial, jobConcurrency int
	capacity, base, noise, slo, price, jobSeconds float64
	seed                                          uint64
	with                                          withFlags
	asJSON, fromHistory                           bool
	ff                                            formationFlags
	set                                           map[string]bool
}

// requestFlags and jobFlags are the flags of one model only.
var (
	requestFlags = []string{"capacity-rpm", "base-ms"}
	jobFlags     = []string{"job-seconds", "job-concurrency"}
)

func parseSimulateFlags(args []string, env Env) (*simulateFlags, error) {
	f := &simulateFlags{}
	fs := newFlagSet("simulate", env)
	fs.StringVar(&f.tracePath, "trace", "", "traffic from a CSV file: the header minute,rpm and a row per minute from 0, or second,rps and a row per second; or a job queue's, minute,jobs (jobs enqueued) and a row per minute")
	fs.StringVar(&f.profile, "profile", "", "a built-in traffic profile: "+simulation.ProfileNames())
	fs.IntVar(&f.days, "days", 1, "days of the profile")
	fs.Float64Var(&f.capacity, "capacity-rpm", simulation.DefaultCapacityRPM, "requests per minute one dyno serves at full use")
	fs.Float64Var(&f.base, "base-ms", simulation.DefaultBaseMS, "latency of an idle app, in ms")
	fs.Float64Var(&f.jobSeconds, "job-seconds", simulation.DefaultJobSeconds, "with jobs: a job's mean run time, in seconds")
	fs.IntVar(&f.jobConcurrency, "job-concurrency", simulation.DefaultJobConcurrency, "with jobs: the jobs one dyno runs at once")
	fs.IntVar(&f.boot, "boot-seconds", simulation.DefaultBootSeconds, "seconds from a scale call until a new dyno serves")
	fs.Float64Var(&f.noise, "noise", simulation.DefaultNoise, "sigma of the log-normal noise on each probe (0: exact); with jobs, above 0: Poisson arrivals and exponential run times")
	fs.Uint64Var(&f.seed, "seed", simulation.DefaultSeed, "seed of the noise and the noisy profiles")
	fs.Float64Var(&f.slo, "slo-ms", 0, "latency target, in ms (default "+settings.EnvMaxResponseTime+"; with jobs, "+settings.EnvMaxJobLatency+")")
	fs.IntVar(&f.interval, "interval", 0, "seconds between ticks (default "+settings.EnvHeartbeatInterval+" of each run; with -history, the recorded cadence)")
	fs.IntVar(&f.initial, "initial", 0, "dynos at the start (default the minimum in force then, for each run; with -history, the first record's)")
	fs.StringVar(&f.start, "start", simulation.DefaultStart.Format(time.RFC3339), "RFC 3339 time of minute 0; schedules are read in "+settings.EnvTimeZone)
	fs.Float64Var(&f.price, "dyno-price", simulation.DefaultDynoPrice, "dollars per dyno-hour (Standard-1X)")
	fs.Var(&f.with, "with", "run again with these settings changed: 'KEY=VALUE KEY2=VALUE2' (repeatable); any of\n"+strings.Join(simulateSettings, "\n"))
	fs.BoolVar(&f.asJSON, "json", false, "print JSON for scripts")
	fs.StringVar(&f.chartPath, "chart", "", "also write an SVG chart of traffic, latency and dynos to this file")
	fs.BoolVar(&f.fromHistory, "history", false, "replay the traffic inferred from a formation's recorded decisions")
	f.ff.register(fs, env.Getenv)
	fs.StringVar(&f.since, "since", "7d", "with -history: a duration back from now (24h, 7d) or an RFC 3339 time")
	if err := fs.Parse(args); err != nil {
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "simulate: unexpected argument %q\n", fs.Arg(0))
		return nil, errUsage
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return f, nil
}

// problems are the flags' problems taken together: the traffic's source
// and the flags that apply to one source only.
func (f *simulateFlags) problems() []string {
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	sources := 0
	for _, name := range []string{"trace", "profile", "history"} {
		if f.set[name] {
			sources++
		}
	}
	switch {
	case sources == 0:
		problem("say what traffic to replay: -profile NAME (%s), -trace FILE.csv or -history", simulation.ProfileNames())
	case sources > 1:
		problem("give only one of -trace, -profile and -history")
	}
	if f.set["days"] && !f.set["profile"] {
		problem("-days applies to -profile only")
	}
	if f.fromHistory && f.set["start"] {
		problem("-start cannot be combined with -history: the replay starts at the first record")
	}
	if !f.fromHistory {
		for _, name := range []string{"app", "type", "since", "table", "stack", "state"} {
			if f.set[name] && (f.ff.settingsPath == "" || (name != "app" && name != "type")) {
				problem("-%s applies to -history only", name)
			}
		}
	}
	if f.set["initial"] && f.initial < 1 {
		problem("-initial %d: must be at least 1", f.initial)
	}
	return problems
}

// modelProblems name the flags of the model the traffic does not run
// through: jobs (jobs true) or requests.
func (f *simulateFlags) modelProblems(jobs bool) []string {
	var problems []string
	other, applies := jobFlags, "a trace of jobs (minute,jobs, or a job profile)"
	if jobs {
		other, applies = requestFlags, "requests (a minute,rpm or second,rps trace, a request profile, -history)"
	}
	for _, name := range other {
		if f.set[name] {
			problems = append(problems, fmt.Sprintf("-%s applies to %s only", name, applies))
		}
	}
	return problems
}

// model is the model the flags describe, for traffic of jobs or requests,
// starting at start; its SLO is by default the first run's maximum
// response time, or with jobs its maximum job latency.
func (f *simulateFlags) model(start time.Time, first settings.Settings, jobs bool) simulation.Model {
	m := simulation.Model{
		BootSeconds: f.boot, Noise: f.noise, Seed: f.seed, SLOMS: f.slo, Interval: f.interval, Initial: f.initial,
		Start: start, DynoPrice: f.price,
	}
	if jobs {
		m.JobSeconds, m.JobConcurrency = f.jobSeconds, f.jobConcurrency
	} else {
		m.CapacityRPM, m.BaseMS = f.capacity, f.base
	}
	switch {
	case f.set["slo-ms"]:
	case jobs:
		m.SLOMS = float64(first.MaxJobLatency.Milliseconds())
	default:
		m.SLOMS = float64(first.MaxResponseTime.Milliseconds())
	}
	return m
}

// traffic reads the trace or the profile asked for, and says what it is.
func (f *simulateFlags) traffic() (simulation.Trace, string, error) {
	switch {
	case f.set["profile"]:
		tr, err := simulation.ProfileTrace(f.profile, f.days, f.seed)
		return tr, fmt.Sprintf("profile %s, %d day%s", f.profile, f.days, plural(f.days)), err
	case f.set["trace"]:
		tr, err := readTrace(f.tracePath)
		return tr, "trace " + f.tracePath, err
	}
	return simulation.Trace{}, "", nil
}
