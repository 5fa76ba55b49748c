package simulation

import (
	"context"
	"math"
	"reflect"
	"testing"
)

// A per-second trace steps the model with each second's rate; the ideal
// stays the minute's (its mean rate). Both files carry 480 requests a
// minute to one dyno (μ = 10/s, idle 100 ms, SLO 1000 ms, no noise):
//
//	steady: 8 a second, ρ = 0.8, L = 100/(1 − 0.8) = 500 ms, never over
//	        the SLO: the same run as the per-minute trace of 480 rpm.
//	burst:  (a spreadsheet's export: quoted, CRLF, a byte-order mark) all
//	        480 in each minute's first ten seconds, λ = 48/s: the backlog
//	        q(s) = 38s, L = 2000 + 100q > SLO for s 0–9; then it drains from
//	        380 by 10 a second, L = 100 + 100q > 1000 while q > 9, s 10–47.
//	        48 s a minute over the SLO, 96 s in all: 1.6 minutes.
func TestPerSecondTraces(t *testing.T) {
	s := loadSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": "1"})
	m := defaultModel(s)
	m.Noise, m.Interval = 0, 60
	run := func(tr Trace) Result {
		t.Helper()
		res, err := Run(context.Background(), s, m, tr, Options{Ticks: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	steady, burst := readTrace(t, "testdata/steady-seconds.csv"), readTrace(t, "testdata/burst-seconds.csv")
	for name, tr := range map[string]Trace{"steady": steady, "burst": burst} {
		if !reflect.DeepEqual(tr.RPM, []float64{480, 480}) || len(tr.RPS) != 120 {
			t.Fatalf("%s: %v rpm from %d seconds; want 480 a minute from 120", name, tr.RPM, len(tr.RPS))
		}
	}
	perMinute := run(PerMinute(480, 480))
	if got := run(steady); !reflect.DeepEqual(got, perMinute) {
		t.Errorf("a steady per-second trace ran differently from its per-minute form:\n%+v\n%+v", got.Scores, perMinute.Scores)
	}
	if perMinute.SLOViolationMinutes != 0 {
		t.Errorf("steady: %v SLO minutes; want 0", perMinute.SLOViolationMinutes)
	}
	got := run(burst)
	if got.SLOViolationMinutes != 1.6 || got.IdealDynoHours != perMinute.IdealDynoHours || got.DynoHours != perMinute.DynoHours {
		t.Errorf("burst: %v SLO minutes, %v dyno-hours (ideal %v); want 1.6, and the steady run's %v (%v)",
			got.SLOViolationMinutes, got.DynoHours, got.IdealDynoHours, perMinute.DynoHours, perMinute.IdealDynoHours)
	}
	if l := got.Ticks[1].LatencyMS; math.Abs(l-2000) > 1e-9 {
		t.Errorf("the tick at second 60 saw %v ms; want 2000 (the burst's first second)", l)
	}
}
