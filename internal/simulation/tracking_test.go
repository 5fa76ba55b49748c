package simulation

import (
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// totals are one variant's scores summed over seeds, with the seconds of
// its under-provisioned episodes.
type totals struct {
	Scores
	underSeconds float64
}

// add sums one run into the totals.
func (t *totals) add(r Scores) {
	t.DynoHours += r.DynoHours
	t.IdealDynoHours += r.IdealDynoHours
	t.SLOViolationMinutes += r.SLOViolationMinutes
	t.ScaleUps += r.ScaleUps
	t.ScaleDowns += r.ScaleDowns
	t.UnderProvisionedEpisodes += r.UnderProvisionedEpisodes
	t.underSeconds += float64(r.UnderProvisionedEpisodes) * r.MeanUnderProvisionedSeconds
}

// meanUnder is the mean length of an under-provisioned episode, in seconds.
func (t totals) meanUnder() float64 {
	if t.UnderProvisionedEpisodes == 0 {
		return 0
	}
	return t.underSeconds / float64(t.UnderProvisionedEpisodes)
}

// sumRuns runs tr once per seed with the settings env gives (a maximum
// of 10 dynos unless it says otherwise) on the default app at 30 s ticks.
func sumRuns(t *testing.T, env map[string]string, tr Trace, seeds []uint64) totals {
	t.Helper()
	full := map[string]string{settings.EnvMaxDynos: "10"}
	for k, v := range env {
		full[k] = v
	}
	var cases []runCase
	for _, seed := range seeds {
		cases = append(cases, runCase{shape: defaultShape, seed: seed, env: full, tr: tr, noise: -1})
	}
	var out totals
	for _, r := range runCases(t, cases) {
		out.add(r)
	}
	return out
}

var trackingSeeds = []uint64{1, 2, 3}

// TestTrackingBeatsOriginalOnPublicTraces holds docs/policies.md's public-trace
// table for the response-time signal: seeds 1–3 of both two-day windows,
// 30 s ticks, at most 10 dynos, default settings against
// AUTOSCALE_POLICY=original. On each window the default spends at most 5 %
// more dyno-hours and misses the SLO no longer; summed, at least 40 % less.
func TestTrackingBeatsOriginalOnPublicTraces(t *testing.T) {
	var orig, track float64
	for _, name := range []string{"nasa", "twitter"} {
		tr := readPublicTrace(t, name)
		o := sumRuns(t, map[string]string{settings.EnvPolicy: string(settings.PolicyOriginal)}, tr, trackingSeeds)
		d := sumRuns(t, nil, tr, trackingSeeds)
		t.Logf("%s: dyno-hours %.1f → %.1f (%.3f×), SLO missed %.1f → %.1f min (%.2f×)", name,
			o.DynoHours, d.DynoHours, d.DynoHours/o.DynoHours, o.SLOViolationMinutes, d.SLOViolationMinutes, d.SLOViolationMinutes/o.SLOViolationMinutes)
		if d.DynoHours > 1.05*o.DynoHours {
			t.Errorf("%s: the default spends %.1f dyno-hours, more than the original's %.1f + 5%%", name, d.DynoHours, o.DynoHours)
		}
		if d.SLOViolationMinutes > o.SLOViolationMinutes {
			t.Errorf("%s: the default misses the SLO for %.1f minutes, more than the original's %.1f", name, d.SLOViolationMinutes, o.SLOViolationMinutes)
		}
		orig += o.SLOViolationMinutes
		track += d.SLOViolationMinutes
	}
	if track > 0.6*orig {
		t.Errorf("summed, the default misses the SLO for %.1f minutes, not 40%% less than the original's %.1f", track, orig)
	}
}

// TestTrackingNearTheFrontier holds docs/policies.md's public-trace table for
// the utilization signal: on each two-day window (seeds 1–3, 30 s ticks,
// at most 10 dynos) the default policy misses the SLO at most 2 % of the
// time and spends at most 1.25 times the frontier's dyno-hours.
func TestTrackingNearTheFrontier(t *testing.T) {
	env := map[string]string{settings.EnvSignal: "utilization"}
	for _, name := range []string{"nasa", "twitter"} {
		tr := readPublicTrace(t, name)
		f := frontierOf(t, env, defaultShape, tr)
		if f.Ratio == nil {
			t.Fatalf("%s: no frontier within %.0f%%", name, FrontierLimitPct)
		}
		d := sumRuns(t, env, tr, trackingSeeds)
		runs := float64(len(trackingSeeds))
		pct := 100 * d.SLOViolationMinutes / (runs * float64(tr.Minutes()))
		ratio := d.DynoHours / runs / f.DynoHours
		t.Logf("%s: %.1f dyno-hours a run, %.3f× the frontier's %.1f; SLO missed %.2f%% of the time (the frontier's %.2f%%)",
			name, d.DynoHours/runs, ratio, f.DynoHours, pct, *f.SLOPct)
		if pct > FrontierLimitPct {
			t.Errorf("%s: the SLO is missed %.2f%% of the time, more than %.0f%%", name, pct, FrontierLimitPct)
		}
		if ratio > 1.25 {
			t.Errorf("%s: %.3f× the frontier's dyno-hours, more than 1.25×", name, ratio)
		}
	}
}

// TestTrackingOnProfiles holds what docs/policies.md says of the default on the
// built-in profiles (seeds 1–3, 30 s ticks, at most 10 dynos): on `step` a
// mean under-provisioned episode of at most 90 s (the original's: 160 s),
// fewer scale calls than the original, and on `noisy` and `steady` at
// most half as many (no flapping).
func TestTrackingOnProfiles(t *testing.T) {
	for _, p := range []string{"step", "noisy", "steady"} {
		t.Run(p, func(t *testing.T) {
			var o, d totals
			for _, seed := range trackingSeeds {
				tr, err := ProfileTrace(p, 1, seed)
				if err != nil {
					t.Fatal(err)
				}
				for _, run := range []struct {
					sum *totals
					env map[string]string
				}{{&o, map[string]string{settings.EnvPolicy: string(settings.PolicyOriginal)}}, {&d, nil}} {
					r := sumRuns(t, run.env, tr, []uint64{seed})
					run.sum.ScaleUps += r.ScaleUps
					run.sum.ScaleDowns += r.ScaleDowns
					run.sum.UnderProvisionedEpisodes += r.UnderProvisionedEpisodes
					run.sum.underSeconds += r.underSeconds
				}
			}
			calls := func(x totals) int { return x.ScaleUps + x.ScaleDowns }
			t.Logf("scale calls %d → %d; mean under-provisioned %.0f s → %.0f s", calls(o), calls(d), o.meanUnder(), d.meanUnder())
			if p == "step" && d.meanUnder() > 90 {
				t.Errorf("a mean under-provisioned episode of %.0f s, more than 90 s", d.meanUnder())
			}
			if calls(d) >= calls(o) {
				t.Errorf("%d scale calls, not fewer than the original's %d", calls(d), calls(o))
			}
			if p != "step" && 2*calls(d) > calls(o) {
				t.Errorf("%d scale calls, more than half the original's %d", calls(d), calls(o))
			}
		})
	}
}
