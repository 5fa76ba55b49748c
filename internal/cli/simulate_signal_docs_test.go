package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	simulation "github.com/autoscalebot/autoscalebot/internal/simulate"
)

// queueVariant is the queue_time signal with the thresholds the model's
// response-time defaults stand for: its dynos serve one request at a time,
// so the wait is the latency less the 100 ms service time, and the 1000 ms
// and 200 ms response thresholds are 900 ms and 100 ms of queue.
const queueVariant = "AUTOSCALE_SIGNAL=queue_time AUTOSCALE_MAX_QUEUE_TIME_IN_MS=900 AUTOSCALE_MIN_QUEUE_TIME_IN_MS=100"

// TestSimulateSignalDocs keeps the README's comparison of the two signals
// real: both run on every built-in profile, and the table is this
// command's output, rewritten with -update
// (go test ./internal/cli -run TestSimulateSignalDocs -update).
func TestSimulateSignalDocs(t *testing.T) {
	var table strings.Builder
	table.WriteString("| profile | signal | dyno-hours (ideal) | SLO missed | ups / downs (ideal) | timeshare U / O | jitter |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range simulation.Profiles {
		for _, signal := range []struct{ name, with string }{
			{"response_time", tunedMax},
			{"queue_time", tunedMax + " " + queueVariant},
		} {
			code, stdout, stderr := runCLI(t, nil, "simulate", "-profile", p.Name, "-interval", "60", "-json", "-with", signal.with)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep simulation.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			r := rep.Runs[len(rep.Runs)-1] // the -with run, after the settings as given
			fmt.Fprintf(&table, "| %s | `%s` | %.1f (%.1f) | %.1f min | %d / %d (%d / %d) | %.0f%% / %.0f%% | %+.2f/h |\n",
				p.Name, signal.name, r.DynoHours, rep.Ideal.DynoHours, r.SLOViolationMinutes, r.ScaleUps, r.ScaleDowns,
				rep.Ideal.ScaleUps, rep.Ideal.ScaleDowns, 100*r.TimeshareU, 100*r.TimeshareO, r.Jitter)
		}
	}
	docsQuoted(t, "simulate-signals.md", table.String(), "Scaling on queue time")
}
