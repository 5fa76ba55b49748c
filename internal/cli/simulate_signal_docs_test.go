package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/simulation"
)

// queueVariant is the queue_time signal with the thresholds the model's
// response-time defaults stand for: its dynos serve one request at a time,
// so the wait is the latency less the 100 ms service time, and the 1000 ms
// and 200 ms response thresholds are 900 ms and 100 ms of queue.
const queueVariant = "AUTOSCALE_SIGNAL=queue_time AUTOSCALE_MAX_QUEUE_TIME_IN_MS=900 AUTOSCALE_MIN_QUEUE_TIME_IN_MS=100"

// utilizationVariant is the utilization signal at its default target.
const utilizationVariant = "AUTOSCALE_SIGNAL=utilization"

// TestSimulateSignalDocs keeps the comparison of the signals in docs/heartbeat.md
// real: all three run on every built-in profile under the original's
// rules, beside the frontier, and the table is this command's output,
// rewritten with -update (go test ./internal/cli -run TestSimulateSignalDocs -update).
func TestSimulateSignalDocs(t *testing.T) {
	var table strings.Builder
	table.WriteString("| profile | signal | dyno-hours (ideal) | SLO missed | ups / downs (ideal) | timeshare U / O | jitter |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	env := map[string]string{settings.EnvMaxDynos: "12", settings.EnvPolicy: string(settings.PolicyOriginal)}
	for _, p := range simulation.Profiles {
		code, stdout, stderr := runCLI(t, env, "simulate", "-profile", p.Name, "-interval", "60", "-json",
			"-with", queueVariant, "-with", utilizationVariant)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep simulation.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		for i, signal := range []string{"response_time", "queue_time", "utilization"} {
			r := rep.Runs[i]
			fmt.Fprintf(&table, "| %s | `%s` | %.1f (%.1f) | %.1f min | %d / %d (%d / %d) | %.0f%% / %.0f%% | %+.2f/h |\n",
				p.Name, signal, r.DynoHours, rep.Ideal.DynoHours, r.SLOViolationMinutes, r.ScaleUps, r.ScaleDowns,
				rep.Ideal.ScaleUps, rep.Ideal.ScaleDowns, 100*r.TimeshareU, 100*r.TimeshareO, r.Jitter)
		}
		table.WriteString(frontierDocsRow(p.Name, rep))
	}
	docsQuoted(t, "simulate-signals.md", table.String(), "docs/heartbeat.md", "Scaling on utilization")
}

// frontierDocsRow is the frontier's row of a docs table: its policy, dyno-hours and SLO misses.
func frontierDocsRow(profile string, rep simulation.Report) string {
	f := rep.Frontier
	if f.Ratio == nil {
		return fmt.Sprintf("| %s | frontier: none within 2%% | - | - | - | - | - |\n", profile)
	}
	return fmt.Sprintf("| %s | frontier (u %.2f, hold %d s) | %.1f (%.1f) | %.1f min | - | - | - |\n",
		profile, f.Utilization, f.HoldSeconds, f.DynoHours, rep.Ideal.DynoHours, f.SLOViolationMinutes)
}
