package simulation

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// sharedDir is ../shared beside the module's root, where the repository's
// CI keeps the public traces and the reference tools; "" when absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	if _, err := os.Stat(filepath.Join(shared, "tools", "frontier.py")); err != nil {
		return ""
	}
	return shared
}

// TestFrontierMatchesReference: the frontier the simulator reports is the
// one ../shared/tools/frontier.py computes, an independent implementation,
// on the public traces at its defaults (30 s ticks, 30 s boot, 1–10 dynos).
func TestFrontierMatchesReference(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Python reference (seconds)")
	}
	shared := sharedDir(t)
	if shared == "" {
		t.Skip("no ../shared/tools/frontier.py beside the module root (the repository's CI has it)")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to run the reference")
	}
	for _, name := range []string{"nasa-http-1995-days-21-22.csv", "twitter-stream-days-11-12.csv"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(shared, "traces", name)
			out, err := exec.Command(python, filepath.Join(shared, "tools", "frontier.py"), path,
				"--interval", "30", "--boot", "30", "--min", "1", "--max", "10").Output()
			if err != nil {
				t.Fatalf("frontier.py: %v", err)
			}
			var want struct {
				Ratio, SLOPct, U float64
				Hold             int
			}
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("frontier.py printed %q: %v", out, err)
			}
			s := loadSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": "10"})
			m := defaultModel(s)
			m.Interval = 30
			got, err := FrontierOf(context.Background(), s, m, readTrace(t, path))
			if err != nil {
				t.Fatal(err)
			}
			if got.Ratio == nil || *got.Ratio != want.Ratio || *got.SLOPct != want.SLOPct || got.Utilization != want.U ||
				got.HoldSeconds != want.Hold {
				t.Errorf("frontier %s; frontier.py %s", show(got), out)
			}
		})
	}
}

func readTrace(t *testing.T, path string) Trace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := ReadCSV(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func show(f Frontier) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestFrontierCapped: when the maximum is below what the ideal needs, the
// frontier says so, and it is bound by the maximum too: with a schedule,
// the maximum in force at the time, which also bounds the frontier's runs.
func TestFrontierCapped(t *testing.T) {
	tr, err := ProfileTrace("spike", 1, 1) // 6,000 rpm at noon: 12 dynos
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		max, wantMax string
		capped       bool
	}{
		{"3", "3", true},
		{"12", "12", false},
		// A schedule: the maximum in force at the spike is the one compared.
		{`{"0:00":3,"11:30":12,"13:00":3}`, "12", false},
		{`{"0:00":12,"11:30":3,"13:00":12}`, "3", true},
	} {
		s := loadSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": tt.max})
		m := defaultModel(s)
		f, err := FrontierOf(context.Background(), s, m, tr)
		if err != nil {
			t.Fatal(err)
		}
		if f.IdealMaxDynos != 12 || strconv.Itoa(f.MaxDynos) != tt.wantMax || f.Capped() != tt.capped || (f.Ratio != nil) == tt.capped {
			t.Errorf("max %s: %s; want the ideal's 12 dynos against the maximum %s (capped %t), a policy within 2%% unless capped", tt.max, show(f), tt.wantMax, tt.capped)
		}
	}
}
