package simulation

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// TestTuneTable is the tuning harness the tracking policy was tuned with
// (docs/policies.md, "Policies"). It asserts nothing and runs only when
// AUTOSCALEBOT_TUNE names variants, "name:KEY=V,KEY=V;name2:…", each run
// beside AUTOSCALE_POLICY=original on the public traces (default app and
// the other shape: boot 60 s, idle 50 ms, 300 rpm a dyno) and the built-in
// profiles, at most 10 dynos, 30 s ticks. It prints a row per shape,
// traffic and variant; AUTOSCALEBOT_TUNE_SUMMARY=1 adds one line per
// variant with the ratios to the original and to the frontier.
// AUTOSCALEBOT_TUNE_SEEDS ("1 2 3") and AUTOSCALEBOT_TUNE_PROFILES
// ("steady noisy step ramp diurnal spike") narrow it.
//
//	AUTOSCALEBOT_TUNE='t:AUTOSCALE_POLICY=tracking;u:AUTOSCALE_SIGNAL=utilization' \
//	  go test ./internal/simulation -run TestTuneTable -v
func TestTuneTable(t *testing.T) {
	spec := os.Getenv("AUTOSCALEBOT_TUNE")
	if spec == "" {
		t.Skip("the tuning harness runs when AUTOSCALEBOT_TUNE names variants")
	}
	names, variants := tuneVariants(spec)
	traffic := map[string]Trace{}
	for name := range publicTraces {
		traffic[name] = readPublicTrace(t, name)
	}
	seeds := tuneSeeds()
	cases := tuneCases(t, names, variants, traffic, seeds)
	sums := map[tuneKey]*totals{}
	for i, r := range runCases(t, cases) {
		c := cases[i]
		k := tuneKey{c.variant, c.traffic, c.shape.name}
		if sums[k] == nil {
			sums[k] = &totals{}
		}
		sums[k].add(r)
	}
	var b strings.Builder
	tuneRows(&b, names, sums)
	if os.Getenv("AUTOSCALEBOT_TUNE_SUMMARY") != "" {
		for _, v := range names[1:] {
			tuneSummary(t, &b, v, variants[v], sums, traffic, seeds)
		}
	}
	t.Log("\n" + b.String())
}

type tuneKey struct{ variant, traffic, shape string }

// tuneVariants parses the spec; the original comes first.
func tuneVariants(spec string) ([]string, map[string]map[string]string) {
	names := []string{"original"}
	variants := map[string]map[string]string{"original": {settings.EnvPolicy: string(settings.PolicyOriginal)}}
	for _, v := range strings.Split(spec, ";") {
		name, kvs, _ := strings.Cut(v, ":")
		env := map[string]string{}
		for _, kv := range strings.Split(kvs, ",") {
			if k, val, ok := strings.Cut(kv, "="); ok {
				env[k] = val
			}
		}
		variants[name] = env
		names = append(names, name)
	}
	return names, variants
}

func tuneSeeds() []uint64 {
	seeds := []uint64{1, 2, 3}
	if v := os.Getenv("AUTOSCALEBOT_TUNE_SEEDS"); v != "" {
		seeds = nil
		for _, f := range strings.Fields(v) {
			var x uint64
			fmt.Sscan(f, &x)
			seeds = append(seeds, x)
		}
	}
	return seeds
}

// tuneCases is every run: each variant on every public trace and shape,
// and on the profiles with the default app.
func tuneCases(t *testing.T, names []string, variants map[string]map[string]string, traffic map[string]Trace, seeds []uint64) []runCase {
	profiles := strings.Fields(os.Getenv("AUTOSCALEBOT_TUNE_PROFILES"))
	if len(profiles) == 0 {
		profiles = []string{"steady", "noisy", "step", "ramp", "diurnal", "spike"}
	}
	var cases []runCase
	for _, v := range names {
		env := map[string]string{settings.EnvMaxDynos: "10"}
		for k, x := range variants[v] {
			env[k] = x
		}
		for _, seed := range seeds {
			for _, shape := range []appShape{defaultShape, otherShape} {
				for name, tr := range traffic {
					cases = append(cases, runCase{variant: v, traffic: name, shape: shape, seed: seed, env: env, tr: tr, noise: -1})
				}
			}
			for _, p := range profiles {
				tr, err := ProfileTrace(p, 1, seed)
				if err != nil {
					t.Fatal(err)
				}
				cases = append(cases, runCase{variant: v, traffic: p, shape: defaultShape, seed: seed, env: env, tr: tr, noise: -1})
			}
		}
	}
	return cases
}

// tuneRows prints a row per shape, traffic and variant, with the ratios
// to the original's.
func tuneRows(b *strings.Builder, names []string, sums map[tuneKey]*totals) {
	keys := make([]tuneKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tuneKey) int {
		if c := strings.Compare(a.shape+a.traffic, b.shape+b.traffic); c != 0 {
			return c
		}
		return slices.Index(names, a.variant) - slices.Index(names, b.variant)
	})
	for _, k := range keys {
		s, o := sums[k], sums[tuneKey{"original", k.traffic, k.shape}]
		fmt.Fprintf(b, "%-8s %-8s %-12s dh %7.1f (%.2f× ideal, %.3f× orig)  slo %6.1f min (%.2f× orig)  calls %4d (%.2f×)  react %4.0f s\n",
			k.shape, k.traffic, k.variant, s.DynoHours, s.DynoHours/s.IdealDynoHours, s.DynoHours/o.DynoHours,
			s.SLOViolationMinutes, s.SLOViolationMinutes/o.SLOViolationMinutes, s.ScaleUps+s.ScaleDowns,
			float64(s.ScaleUps+s.ScaleDowns)/float64(o.ScaleUps+o.ScaleDowns), s.meanUnder())
	}
}

// tuneSummary prints one line for variant v: on each trace and shape its
// dyno-hours and SLO minutes over the original's and its dyno-hours over
// the frontier's with the SLO percentage, then the calls on the noisy
// and steady profiles over the original's and the reaction on step.
func tuneSummary(t *testing.T, b *strings.Builder, v string, env map[string]string, sums map[tuneKey]*totals,
	traffic map[string]Trace, seeds []uint64) {
	fmt.Fprintf(b, "%-10s", v)
	runs := float64(len(seeds))
	for _, shape := range []appShape{defaultShape, otherShape} {
		for _, name := range []string{"nasa", "twitter", "seconds"} {
			s, o := sums[tuneKey{v, name, shape.name}], sums[tuneKey{"original", name, shape.name}]
			f := frontierOf(t, env, shape, traffic[name])
			vsF := math.NaN() // no frontier within the limit (the maximum caps it)
			if f.Ratio != nil {
				vsF = s.DynoHours / runs / f.DynoHours
			}
			fmt.Fprintf(b, " %s/%s %.3f %.2f %.3f×F %.2f%% |", name[:1], shape.name[:1], s.DynoHours/o.DynoHours,
				s.SLOViolationMinutes/o.SLOViolationMinutes, vsF, 100*s.SLOViolationMinutes/(runs*float64(traffic[name].Minutes())))
		}
	}
	for _, p := range []string{"noisy", "steady"} {
		if s := sums[tuneKey{v, p, "default"}]; s != nil {
			o := sums[tuneKey{"original", p, "default"}]
			fmt.Fprintf(b, " %s calls %.2f", p, float64(s.ScaleUps+s.ScaleDowns)/float64(o.ScaleUps+o.ScaleDowns))
		}
	}
	if s := sums[tuneKey{v, "step", "default"}]; s != nil {
		fmt.Fprintf(b, " step react %.0f", s.meanUnder())
	}
	b.WriteString("\n")
}
