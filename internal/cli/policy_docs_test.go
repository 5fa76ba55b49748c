package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/simulation"
)

// policySeeds are the seeds the policy table of docs/policies.md sums over.
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

// TestPolicyDocs keeps the policy table of docs/policies.md real: every built-in
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
	docsQuoted(t, "policy-compare.md", table.String(), "docs/policies.md", "Policies")
}

// traceVariants are the rows of the public-trace table of docs/policies.md: each
// policy on the response-time signal, then the original and the default
// on utilization.
var traceVariants = []struct{ policy, signal string }{
	{"tracking", "response_time"}, {"original", "response_time"}, {"proportional", "response_time"},
	{"tracking", "utilization"}, {"original", "utilization"},
}

// TestPolicyTracesDocs keeps the table on the public traces of docs/policies.md real:
// each row is the real command on a trace of ../shared/traces (beside the
// module's root), seeds 1–3, 30 s ticks, at most 10 dynos, the policy's
// defaults, and the frontier the command reports; rewritten with -update
// (go test ./internal/cli -run TestPolicyTracesDocs -update). Skipped with
// -short or without the traces.
func TestPolicyTracesDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the public traces; not with -short")
	}
	dir := filepath.Join("..", "..", "..", "shared", "traces")
	traces := []struct{ file, label string }{
		{"nasa-http-1995-days-21-22.csv", "NASA, 2 days"},
		{"twitter-stream-days-11-12.csv", "Twitter, 2 days"},
		{"nasa-http-1995-day-21-seconds.csv", "NASA, day 21 by the second"},
	}
	if _, err := os.Stat(filepath.Join(dir, traces[0].file)); err != nil {
		t.Skip("no ../shared/traces beside the module root (the repository's CI has it)")
	}
	var table strings.Builder
	table.WriteString("| trace | policy | signal | dyno-hours (× ideal) | SLO missed | scale calls |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	env := map[string]string{settings.EnvMaxDynos: "10", settings.EnvHeartbeatInterval: "30"}
	for _, tr := range traces {
		type mean struct{ dynoHours, sloMinutes, calls float64 }
		means := make([]mean, len(traceVariants))
		var rep simulation.Report
		for seed := 1; seed <= 3; seed++ {
			args := []string{"simulate", "-trace", filepath.Join(dir, tr.file), "-seed", strconv.Itoa(seed), "-json"}
			for _, v := range traceVariants {
				args = append(args, "-with", settings.EnvPolicy+"="+v.policy+" "+settings.EnvSignal+"="+v.signal)
			}
			code, stdout, stderr := runCLI(t, env, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			rep = simulation.Report{}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			for i := range traceVariants {
				r := rep.Runs[i+1] // the first run is as given: the defaults
				means[i].dynoHours += r.DynoHours / 3
				means[i].sloMinutes += r.SLOViolationMinutes / 3
				means[i].calls += float64(r.ScaleUps+r.ScaleDowns) / 3
			}
		}
		for i, v := range traceVariants {
			m := means[i]
			fmt.Fprintf(&table, "| %s | `%s` | `%s` | %.1f (%.2f×) | %.1f min (%.1f%%) | %.0f |\n", tr.label, v.policy, v.signal,
				m.dynoHours, m.dynoHours/rep.Ideal.DynoHours, m.sloMinutes, 100*m.sloMinutes/float64(rep.Minutes), m.calls)
		}
		if f := rep.Frontier; f != nil && f.Ratio != nil {
			fmt.Fprintf(&table, "| %s | frontier (u %.2f, hold %d s) | — | %.1f (%.2f×) | %.1f min (%.1f%%) | — |\n", tr.label,
				f.Utilization, f.HoldSeconds, f.DynoHours, *f.Ratio, f.SLOViolationMinutes, *f.SLOPct)
		} else {
			fmt.Fprintf(&table, "| %s | frontier | — | none within %.0f%% of the time | — | — |\n", tr.label, simulation.FrontierLimitPct)
		}
	}
	docsQuoted(t, "policy-traces.md", table.String(), "docs/policies.md", "Policies")
}
