package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/lambdatest"
	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tooltest"
)

// TestFleetEndToEnd runs the real bootstrap under the emulator with a
// settings file of three formations: an app Heroku does not know, a
// heartbeat that hangs until its timeout, and one that scales up. The scale
// lands while the other probe still hangs, the invocation fails naming only the unknown app (so the
// error alarm fires), and once Heroku knows the app every formation ticks
// and the result lists each.
func TestFleetEndToEnd(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	s := newStack(t, fleetParams())
	s.heroku.SetFormation("blog-"+s.app, process, 1, "")
	hang := newHeartbeat(t)
	hang.set(time.Minute) // answers only when the probe gives up
	s.beat.set(slowBeat)

	var scaledWhileHanging atomic.Bool
	s.heroku.OnScale(func(app, _ string, _ int) {
		if app == s.app {
			scaledWhileHanging.Store(hang.gaveUp.Load() == 0)
		}
	})
	file := writeSettings(t, fmt.Sprintf(`# three formations, one stack
NUMBER_OF_FAILS_TO_SCALE_UP_AFTER: 1
FORMATIONS:
  - HEROKU_APP_NAME: %[1]s
  - HEROKU_APP_NAME: ghost-%[1]s
  - HEROKU_APP_NAME: blog-%[1]s
    HEARTBEAT_URL: %[2]s/heartbeat
    HEARTBEAT_TIMEOUT_IN_MS: 2000
`, s.app, hang.srv.URL))
	fn := s.start(t, fleetEnv(t, s, file), lambdatest.Options{})

	out := s.invoke(t, fn, lambdatest.ScheduledEvent(t))
	var failure struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(out, &failure); err != nil || failure.ErrorMessage == "" {
		t.Fatalf("first invocation: %s, want an error naming the unknown app", out)
	}
	ghost := fmt.Sprintf("FORMATIONS[1] (ghost-%s/web)", s.app)
	if failure.ErrorType != "FleetError" || !strings.HasPrefix(failure.ErrorMessage, "1 of 3 formations failed: "+ghost+": ") {
		t.Errorf("error %s: %q, want FleetError: 1 of 3 formations failed: %s: …", failure.ErrorType, failure.ErrorMessage, ghost)
	}
	if got := s.heroku.Quantity(s.app, process); got != 2 || !scaledWhileHanging.Load() {
		t.Errorf("the formation that scales: quantity %d, scaled while the other probe hung: %t; want 2, before it gave up",
			got, scaledWhileHanging.Load())
	}
	blog, err := s.store.Load(s.ctx, state.Key{App: "blog-" + s.app, ProcessType: process})
	if err != nil || blog.LastDecision == nil || blog.LastDecision.Verdict != probe.Fail {
		t.Errorf("the hanging heartbeat's formation: %+v (%v), want a decision on a fail verdict", blog.LastDecision, err)
	}

	// The fleet's metrics lines: one Fleet dimension, FailedTicks for the unknown app.
	failed := map[string]float64{}
	for line := range strings.Lines(fn.Output()) {
		if !strings.Contains(line, `"CloudWatchMetrics"`) {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		if doc[metrics.DimensionFleet] == nil || doc[metrics.DimensionFleet] == "" {
			t.Errorf("a fleet's metrics line without the Fleet dimension: %s", line)
		}
		failed[fmt.Sprint(doc[metrics.DimensionApp])], _ = doc[metrics.FailedTicks].(float64)
	}
	if failed["ghost-"+s.app] != 1 || failed[s.app] != 0 || len(failed) != 3 {
		t.Errorf("FailedTicks by app %v, want 1 for the unknown app only", failed)
	}

	// Heroku learns the app: the next minute every formation ticks.
	s.heroku.SetFormation("ghost-"+s.app, process, 1, "")
	out = s.invoke(t, fn, lambdatest.ScheduledEvent(t))
	var res lambdafn.FleetResult
	if err := json.Unmarshal(out, &res); err != nil || len(res.Formations) != 3 {
		t.Fatalf("second invocation: %s, want a result listing three formations", out)
	}
	for _, f := range res.Formations {
		if f.Error != "" || f.Reason == "" || f.Reason == decision.HerokuRefused {
			t.Errorf("%s: %+v, want a decision and no error", f.Formation, f.Summary)
		}
	}
	if strings.Contains(fn.Output(), s.apiKey) || strings.Contains(string(out), s.apiKey) {
		t.Error("the API key reached the function's output")
	}
}

// fleetParams are the end-to-end run's parameters with a settings file.
func fleetParams() map[string]string {
	p := maps.Clone(e2eParams)
	p["SettingsFile"] = "autoscalebot.yaml"
	return p
}

// writeSettings writes a settings file for the emulator's bootstrap, as
// the build ships it.
func writeSettings(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "autoscalebot.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// fleetEnv is the stack's function environment with the settings file at
// file: the stack points the variable at the package's settings file in /var/task,
// and the emulator runs the bootstrap from here.
func fleetEnv(t *testing.T, s *stack, file string) []string {
	t.Helper()
	if got, want := s.fn.Env[settings.EnvSettingsFile], "/var/task/autoscalebot.yaml"; got != want {
		t.Fatalf("the stack's %s = %q, want %q", settings.EnvSettingsFile, got, want)
	}
	return s.env(t, nil, map[string]string{settings.EnvSettingsFile: file})
}

// TestFleetFanOutEndToEnd runs the fan-out path with the real bootstrap:
// a fleet larger than FAN_OUT_ABOVE is not ticked by the scheduled
// invocation, which sends its formations to the stack's tick queue; the
// test, standing in for the event source mapping, delivers them to the same
// function, which ticks each once, even when delivered twice.
func TestFleetFanOutEndToEnd(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	s := newStack(t, fleetParams())
	q := newTickQueue(t, s)
	apps := []string{s.app, "second-" + s.app, "third-" + s.app}
	var b strings.Builder
	b.WriteString("FAN_OUT_ABOVE: 2\nFORMATIONS:\n")
	for _, app := range apps[1:] {
		s.heroku.SetFormation(app, process, 1, "")
	}
	for _, app := range apps {
		fmt.Fprintf(&b, "  - HEROKU_APP_NAME: %s\n", app)
	}
	fn := s.start(t, fleetEnv(t, s, writeSettings(t, b.String())), lambdatest.Options{})

	var res lambdafn.FleetResult
	ev := lambdatest.ScheduledEvent(t)
	if out := s.invoke(t, fn, ev); json.Unmarshal(out, &res) != nil || res.FannedOut != 3 || res.Messages != 1 || len(res.Formations) != 0 {
		t.Fatalf("scheduled invocation: %s, want 3 formations fanned out in 1 message and none ticked", out)
	}
	if hits := s.beat.hits.Load(); hits != 0 {
		t.Errorf("the scheduled invocation probed %d heartbeats, want none", hits)
	}
	msg, ok := q.receive(t, 10*time.Second)
	if !ok {
		t.Fatal("no message in the tick queue")
	}
	for delivery := range 2 { // the second is a duplicate: nothing more happens
		if resp := q.deliver(t, fn, q.event(*msg.Body)); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: failures %+v", delivery+1, resp.BatchItemFailures)
		}
	}
	if hits := s.beat.hits.Load(); hits != 3 {
		t.Errorf("heartbeat probed %d times for three formations delivered twice, want 3", hits)
	}
	for _, app := range apps {
		st, err := s.store.Load(s.ctx, state.Key{App: app, ProcessType: process})
		if err != nil || len(st.EventIDs) != 1 || !st.Handled(ev.ID) {
			t.Errorf("%s: event ids %v (%v), want the scheduled event's id once", app, st.EventIDs, err)
		}
	}
}
