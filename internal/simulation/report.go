package simulation

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Variant is one set of settings to run the trace with.
type Variant struct {
	Label    string
	Settings settings.Settings
	// Changed are the settings this variant changes, as written (nil for the first run).
	Changed map[string]string
}

// Report is the output of `simulate -json`. The field names are a stable
// interface for scripts: add fields, never rename them.
type Report struct {
	Runs []RunReport `json:"runs"`
	// Recorded is what really happened, with -history: the recorded dyno
	// counts and probe latencies scored against the same ideal.
	Recorded *RunReport  `json:"recorded,omitempty"`
	Ideal    IdealScores `json:"ideal"`
	// Frontier is the perfect-information limit, with the first run's
	// bounds and cadence; none for a trace of jobs.
	Frontier *Frontier `json:"frontier,omitempty"`
	Model    Model     `json:"model"`
	Traffic  string    `json:"traffic"` // what was replayed: a profile, a trace file, a history
	Minutes  int       `json:"minutes"`
	// Jobs says the traffic was a job queue's, run through the job model.
	Jobs bool `json:"jobs,omitempty"`
}

// RunReport is one run's scores under its label.
type RunReport struct {
	Label           string            `json:"label"`
	Settings        map[string]string `json:"settings"` // the settings changed from the first run
	IntervalSeconds int               `json:"intervalSeconds"`
	InitialDynos    int               `json:"initialDynos"`
	Scores
}

// Compare runs tr under every variant, the first being the settings as
// given, and reports them beside the ideal and the frontier. An m.Interval of 0 takes each
// run's heartbeat interval setting (the report's model shows the first's).
// Results keep what opt asks for. The report's Traffic is the caller's to name.
func Compare(ctx context.Context, variants []Variant, m Model, tr Trace, opt Options) (Report, []Result, error) {
	if len(variants) == 0 {
		return Report{}, nil, errors.New("no settings to simulate")
	}
	rep := Report{Ideal: roundIdeal(IdealOf(m, tr)), Model: m, Minutes: tr.Minutes(), Jobs: tr.Jobs}
	results := make([]Result, 0, len(variants))
	for i, v := range variants {
		mv := m
		if m.Interval == 0 {
			mv.Interval = int(v.Settings.HeartbeatInterval / time.Second)
		}
		if i == 0 {
			rep.Model.Interval = mv.Interval
		}
		res, err := Run(ctx, v.Settings, mv, tr, opt)
		if err != nil {
			return Report{}, nil, err
		}
		changed := v.Changed
		if changed == nil {
			changed = map[string]string{}
		}
		rep.Runs = append(rep.Runs, RunReport{
			Label: v.Label, Settings: changed, IntervalSeconds: mv.Interval, InitialDynos: res.InitialDynos, Scores: roundScores(res.Scores),
		})
		results = append(results, res)
	}
	if tr.Jobs {
		return rep, results, nil // the frontier is the request model's
	}
	model := m
	model.Interval = rep.Model.Interval
	f, err := FrontierOf(ctx, variants[0].Settings, model, tr)
	if err != nil {
		return Report{}, nil, err
	}
	rep.Frontier = &f
	return rep, results, nil
}

// round6 keeps six decimals: enough for any score, and no 0.30000000000000004.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func roundScores(s Scores) Scores {
	for _, f := range []*float64{
		&s.DynoHours, &s.IdealDynoHours, &s.CostUSD, &s.SLOViolationMinutes, &s.AccuracyU, &s.AccuracyO,
		&s.TimeshareU, &s.TimeshareO, &s.Jitter, &s.MeanUnderProvisionedSeconds,
	} {
		*f = round6(*f)
	}
	return s
}

func roundIdeal(s IdealScores) IdealScores {
	s.DynoHours, s.CostUSD = round6(s.DynoHours), round6(s.CostUSD)
	return s
}

// RecordedRun is the report of what the records show over inf (see ScoreRecorded).
func RecordedRun(recs []state.Record, inf Inferred, m Model, timeout time.Duration) RunReport {
	return RunReport{
		Label: "recorded", Settings: map[string]string{}, IntervalSeconds: inf.IntervalSeconds, InitialDynos: inf.Dynos,
		Scores: roundScores(ScoreRecorded(recs, inf, m, timeout)),
	}
}
