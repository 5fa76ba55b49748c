package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/simulation"
)

// tunedMax is the variant the profile charts show beside the defaults: the
// default maximum of 3 dynos is below most profiles' peak.
const tunedMax = "AUTOSCALE_MAX_DYNOS=12"

// TestSimulateDocs keeps the simulator's page (docs/simulator.md) real: the example
// output, the chart of every built-in profile and the table of the default
// settings scored on every profile are this command's output, rewritten
// with -update (go test ./internal/cli -run TestSimulateDocs -update).
func TestSimulateDocs(t *testing.T) {
	example := []string{"simulate", "-profile", "step", "-interval", "60", "-with", tunedMax,
		"-with", tunedMax + " AUTOSCALE_MIN_RESPONSE_TIME_IN_MS=300"}
	code, stdout, stderr := runCLI(t, nil, example...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	docsGolden(t, "simulate-step.txt", "$ autoscalebot "+shellJoin(example)+"\n"+stdout)

	dir := t.TempDir()
	var table strings.Builder
	table.WriteString("| profile | every | dyno-hours (ideal) | SLO missed | ups / downs (ideal) | accuracy U / O | timeshare U / O | jitter | reaction |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range simulation.Profiles {
		chartPath := filepath.Join(dir, p.Name+".svg")
		args := []string{"simulate", "-profile", p.Name, "-interval", "60", "-with", tunedMax, "-chart", chartPath}
		if code, _, stderr := runCLI(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		svg, err := os.ReadFile(chartPath)
		if err != nil {
			t.Fatal(err)
		}
		docsGolden(t, "simulate-"+p.Name+".svg", string(svg))

		for _, interval := range []string{"60", "30"} {
			code, stdout, stderr := runCLI(t, nil, "simulate", "-profile", p.Name, "-interval", interval, "-json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep simulation.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			r := rep.Runs[0]
			fmt.Fprintf(&table, "| %s | %s s | %.1f (%.1f) | %.1f min | %d / %d (%d / %d) | %.2f / %.2f | %.0f%% / %.0f%% | %+.2f/h | %.0f s |\n",
				p.Name, interval, r.DynoHours, rep.Ideal.DynoHours, r.SLOViolationMinutes, r.ScaleUps, r.ScaleDowns,
				rep.Ideal.ScaleUps, rep.Ideal.ScaleDowns, r.AccuracyU, r.AccuracyO, 100*r.TimeshareU, 100*r.TimeshareO,
				r.Jitter, r.MeanUnderProvisionedSeconds)
		}
	}
	docsQuoted(t, "simulate-defaults.md", table.String(), "docs/simulator.md", "Tuning with the simulator")
}

// shellJoin quotes the arguments that need it, as a user would type them.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.ContainsAny(a, " \"{}") {
			out[i] = "'" + a + "'"
		}
	}
	return strings.Join(out, " ")
}
