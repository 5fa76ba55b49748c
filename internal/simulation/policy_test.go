package simulation

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// policyTotals sums one policy's scores over profiles and seeds.
type policyTotals struct {
	dynoHours, sloMinutes float64
	actions               map[string]int // scale calls, by profile
}

// comparePolicies runs every built-in profile for one day per seed at the
// interval, under each policy with its defaults and a maximum of 12 dynos
// (the default 3 is below most profiles' peak, and would decide alone).
func comparePolicies(t *testing.T, interval int, seeds []uint64) map[settings.Policy]policyTotals {
	t.Helper()
	out := map[settings.Policy]policyTotals{}
	for _, policy := range settings.Policies() {
		s := loadSettings(t, map[string]string{settings.EnvPolicy: string(policy), settings.EnvMaxDynos: "12"})
		tot := policyTotals{actions: map[string]int{}}
		for _, p := range Profiles {
			for _, seed := range seeds {
				tr, err := ProfileTrace(p.Name, 1, seed)
				if err != nil {
					t.Fatal(err)
				}
				m := defaultModel(s)
				m.Interval, m.Seed = interval, seed
				r, err := Run(context.Background(), s, m, tr, Options{})
				if err != nil {
					t.Fatalf("%s %s seed %d: %v", policy, p.Name, seed, err)
				}
				tot.dynoHours += r.DynoHours
				tot.sloMinutes += r.SLOViolationMinutes
				tot.actions[p.Name] += r.ScaleUps + r.ScaleDowns
			}
		}
		out[policy] = tot
	}
	return out
}

// TestProportionalBeatsOriginal recomputes, at a reduced size (three seeds
// of one day), the comparison the policy table of docs/policies.md makes, and fails
// if the proportional policy stops meeting its three targets against the
// original on the sum over every profile and seed, at 60 s and at 30 s: at
// most 5 % more dyno-hours; at least 40 % fewer SLO-violation minutes; on
// the noisy and steady profiles, no more scale actions than the original
// at 60 s and at most half as many at 30 s.
func TestProportionalBeatsOriginal(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	for _, tt := range []struct {
		interval      int
		actionsFactor float64 // of the original's, on noisy and steady
	}{
		{interval: 60, actionsFactor: 1},
		{interval: 30, actionsFactor: 0.5},
	} {
		t.Run(fmt.Sprintf("%ds", tt.interval), func(t *testing.T) {
			got := comparePolicies(t, tt.interval, seeds)
			orig, prop := got[settings.PolicyOriginal], got[settings.PolicyProportional]
			var b strings.Builder
			fmt.Fprintf(&b, "dyno-hours %.1f → %.1f (%+.1f%%); SLO missed %.1f → %.1f min (%+.1f%%)",
				orig.dynoHours, prop.dynoHours, 100*(prop.dynoHours/orig.dynoHours-1),
				orig.sloMinutes, prop.sloMinutes, 100*(prop.sloMinutes/orig.sloMinutes-1))
			for _, p := range Profiles {
				fmt.Fprintf(&b, "; %s actions %d → %d", p.Name, orig.actions[p.Name], prop.actions[p.Name])
			}
			t.Log(b.String())
			if prop.dynoHours > 1.05*orig.dynoHours {
				t.Errorf("proportional uses %.1f dyno-hours, more than the original's %.1f + 5%%", prop.dynoHours, orig.dynoHours)
			}
			if prop.sloMinutes > 0.6*orig.sloMinutes {
				t.Errorf("proportional misses the SLO for %.1f minutes, not 40%% fewer than the original's %.1f", prop.sloMinutes, orig.sloMinutes)
			}
			for _, name := range []string{"noisy", "steady"} {
				if limit := tt.actionsFactor * float64(orig.actions[name]); float64(prop.actions[name]) > limit {
					t.Errorf("%s: proportional scales %d times, more than %.1f (%.1f × the original's %d)",
						name, prop.actions[name], limit, tt.actionsFactor, orig.actions[name])
				}
			}
		})
	}
}
