package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/simulation"
)

// workerEnv is the worker formation of the job runs in docs/simulator.md: from zero
// to ten dynos on the queue's latency (10 s and 1 s its thresholds, the
// defaults).
var workerEnv = map[string]string{
	settings.EnvProcessType: "worker", settings.EnvSignal: "job_latency", settings.EnvMinDynos: "0", settings.EnvMaxDynos: "10",
}

// The variants the job runs are compared with: sized from the jobs
// waiting and running, a dyno for each 5 (the default model's slots), and
// a worker that never goes below one dyno.
const (
	sized    = "AUTOSCALE_JOBS_PER_DYNO=5"
	alwaysOn = "AUTOSCALE_MIN_DYNOS=1"
)

// envPrefix is env as a shell would take it before a command, sorted.
func envPrefix(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + env[k]
	}
	return strings.Join(keys, " ")
}

// TestSimulateJobDocs keeps the job model's examples in docs/simulator.md real: a night
// of the nightly profile from zero and back, sized by latency alone and by
// the jobs, beside an always-on worker (the table and the chart), and
// every job profile scored so, with what each costs a day and a month,
// are this command's output, rewritten with -update (go test
// ./internal/cli -run TestSimulateJobDocs -update).
func TestSimulateJobDocs(t *testing.T) {
	night := []string{"simulate", "-profile", "nightly", "-noise", "0", "-interval", "60", "-with", sized, "-with", alwaysOn}
	code, stdout, stderr := runCLI(t, workerEnv, night...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	docsQuoted(t, "simulate-nightly.txt", "$ "+envPrefix(workerEnv)+" \\\n  autoscalebot "+shellJoin(night)+"\n"+stdout, "docs/simulator.md", "The job model")
	chartPath := filepath.Join(t.TempDir(), "nightly.svg")
	if code, _, stderr := runCLI(t, workerEnv, append(night, "-chart", chartPath)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	svg, err := os.ReadFile(chartPath)
	if err != nil {
		t.Fatal(err)
	}
	docsGolden(t, "simulate-nightly.svg", string(svg))

	var table strings.Builder
	table.WriteString("| profile | worker | dyno-hours (ideal) | a day | 30 days | SLO missed | ups / downs (ideal) | reaction |\n")
	table.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, p := range simulation.JobProfiles {
		code, stdout, stderr := runCLI(t, workerEnv, "simulate", "-profile", p.Name, "-interval", "60", "-json", "-with", sized, "-with", alwaysOn)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep simulation.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		for i, worker := range []string{"from zero", "from zero, 5 jobs a dyno", "always on"} {
			r := rep.Runs[i]
			fmt.Fprintf(&table, "| %s | %s | %.1f (%.1f) | $%.2f | $%.2f | %.0f min | %d / %d (%d / %d) | %.0f s |\n",
				p.Name, worker, r.DynoHours, rep.Ideal.DynoHours, r.CostUSD, 30*r.CostUSD, r.SLOViolationMinutes,
				r.ScaleUps, r.ScaleDowns, rep.Ideal.ScaleUps, rep.Ideal.ScaleDowns, r.MeanUnderProvisionedSeconds)
		}
	}
	docsQuoted(t, "simulate-jobs.md", table.String(), "docs/simulator.md", "The job model")

	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "simulator.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range simulation.JobProfiles {
		if line := "- `" + p.Name + "`: " + p.Description + ".\n"; !strings.Contains(string(doc), line) {
			t.Errorf("docs/simulator.md does not describe the %s profile as it is: %q", p.Name, line)
		}
	}
}
