package simulation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// publicTraces are the public traces' files in ../shared/traces, beside
// the module's root, by short name.
var publicTraces = map[string]string{
	"nasa":    "nasa-http-1995-days-21-22.csv",
	"twitter": "twitter-stream-days-11-12.csv",
	"seconds": "nasa-http-1995-day-21-seconds.csv",
}

// readPublicTrace reads one public trace, skipping the test when the run
// is short or the traces are not beside the clone.
func readPublicTrace(t *testing.T, name string) Trace {
	t.Helper()
	if testing.Short() {
		t.Skip("replays the public traces (seconds); not with -short")
	}
	path := filepath.Join(sharedDir(t), "traces", publicTraces[name])
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no public trace %s: ../shared/traces beside the module root (the repository's CI has it)", publicTraces[name])
	}
	return readTrace(t, path)
}

// appShape is a model of an app, apart from the cadence and the seed.
type appShape struct {
	name                  string
	capacityRPM, baseMS   float64
	bootSeconds, interval int
}

var (
	// defaultShape is the simulator's default app at 30 s ticks.
	defaultShape = appShape{name: "default", capacityRPM: DefaultCapacityRPM, baseMS: DefaultBaseMS, bootSeconds: DefaultBootSeconds, interval: 30}
	// otherShape is another app: slower to boot, faster when idle, half
	// the capacity.
	otherShape = appShape{name: "other", capacityRPM: 300, baseMS: 50, bootSeconds: 60, interval: 30}
)

// runCase is one run: settings, app, seed and traffic (variant and
// traffic name it in errors).
type runCase struct {
	variant, traffic string
	shape            appShape
	seed             uint64
	env              map[string]string
	tr               Trace
	noise            float64 // the probe's noise; below 0, the default
}

// runCases runs the cases, two at a time (the machine's cores), and
// returns their scores in order.
func runCases(t *testing.T, cases []runCase) []Scores {
	t.Helper()
	out := make([]Scores, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	errs := make(chan error, len(cases))
	for i, c := range cases {
		s := loadSettings(t, c.env)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			m := defaultModel(s)
			m.CapacityRPM, m.BaseMS, m.BootSeconds, m.Interval, m.Seed = c.shape.capacityRPM, c.shape.baseMS, c.shape.bootSeconds, c.shape.interval, c.seed
			if c.noise >= 0 {
				m.Noise = c.noise
			}
			r, err := Run(context.Background(), s, m, c.tr, Options{})
			if err != nil {
				errs <- fmt.Errorf("%s %s %s seed %d: %w", c.variant, c.traffic, c.shape.name, c.seed, err)
				return
			}
			out[i] = r.Scores
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// frontierOf is the perfect-information limit of tr for the app shape at
// its cadence, with the bounds env gives (at most 10 dynos unless it says).
func frontierOf(t *testing.T, env map[string]string, shape appShape, tr Trace) Frontier {
	t.Helper()
	full := map[string]string{settings.EnvMaxDynos: "10"}
	for k, v := range env {
		full[k] = v
	}
	s := loadSettings(t, full)
	m := defaultModel(s)
	m.CapacityRPM, m.BaseMS, m.BootSeconds, m.Interval = shape.capacityRPM, shape.baseMS, shape.bootSeconds, shape.interval
	f, err := FrontierOf(context.Background(), s, m, tr)
	if err != nil {
		t.Fatalf("frontier: %v", err)
	}
	return f
}
