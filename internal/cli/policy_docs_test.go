package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	simulation "github.com/autoscalebot/autoscalebot/internal/simulate"
)

// policySeeds are the seeds the README's policy table sums over.
const policySeeds = 5

// policyTotals sums one policy's runs of one profile (or all) at one interval.
type policyTotals struct {
	dynoHours, idealDynoHours, sloMinutes float64
	actions, idealChanges, episodes       int
	underSeconds                          float64 // Σ episodes × mean length
}

func (p *policyTotals) add(r simulation.RunReport, ideal simulation.IdealScores) {
	p.dynoHours += r.DynoHours
	p.idealDynoHours += ideal.DynoHours
	p.sloMinutes += r.SLOViolationMinutes
	p.actions += r.ScaleUps + r.ScaleDowns
	p.idealChanges += ideal.ScaleUps + ideal.ScaleDowns
	p.episodes += r.UnderProvisionedEpisodes
	p.underSeconds += float64(r.UnderProvisionedEpisodes) * r.MeanUnderProvisionedSeconds
}

func (p policyTotals) row(profile, every string, policy settings.Policy) string {
	reaction := 0.0
	if p.episodes > 0 {
		reaction = p.underSeconds / float64(p.episodes)
	}
	return fmt.Sprintf("| %s | %s | `%s` | %.1f (%.1f) | %.1f min | %d (%d) | %.0f s |\n",
		profile, every, policy, p.dynoHours, p.idealDynoHours, p.sloMinutes, p.actions, p.idealChanges, reaction)
}

// TestPolicyDocs keeps the README's policy table real: every built-in
// profile, seeds 1–5, one day each, at -interval 60 and 30, under every
// policy (each with its defaults and a maximum of 12 dynos),
// run through the real command; rewritten with -update (go test
// ./internal/cli -run TestPolicyDocs -update).
func TestPolicyDocs(t *testing.T) {
	env := map[string]string{settings.EnvMaxDynos: "12"}
	var table strings.Builder
	table.WriteString("| profile | every | policy | dyno-hours (ideal) | SLO missed | scale actions (ideal) | reaction |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, interval := range []string{"60", "30"} {
		all := map[settings.Policy]*policyTotals{}
		for _, p := range simulation.Profiles {
			per := map[settings.Policy]*policyTotals{}
			for seed := 1; seed <= policySeeds; seed++ {
				// The default runs as given, then every other policy.
				args := []string{"simulate", "-profile", p.Name, "-interval", interval, "-seed", strconv.Itoa(seed), "-json"}
				for _, policy := range settings.Policies()[1:] {
					args = append(args, "-with", settings.EnvPolicy+"="+string(policy))
				}
				code, stdout, stderr := runCLI(t, env, args...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				var rep simulation.Report
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatal(err)
				}
				for i, policy := range settings.Policies() {
					if per[policy] == nil {
						per[policy] = &policyTotals{}
					}
					if all[policy] == nil {
						all[policy] = &policyTotals{}
					}
					per[policy].add(rep.Runs[i], rep.Ideal)
					all[policy].add(rep.Runs[i], rep.Ideal)
				}
			}
			for _, policy := range settings.Policies() {
				table.WriteString(per[policy].row(p.Name, interval+" s", policy))
			}
		}
		for _, policy := range settings.Policies() {
			table.WriteString(all[policy].row("**all**", interval+" s", policy))
		}
	}
	docsQuoted(t, "policy-compare.md", table.String(), "Policies")
}
