package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	hb "github.com/autoscalebot/autoscalebot/heartbeat"
	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
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

// TestFleetJobWorkerEndToEnd runs the real bootstrap under the emulator
// with a settings file of a web formation and its app's worker on
// job_latency, the worker at 0 dynos. The heartbeat token lives in moto's
// SSM (the stack's HeartbeatTokenParameterName) and the web app's heartbeat
// answers its job report only to it: a minute's wait takes the worker to 1
// at the first invocation, and a window of idle heartbeats back to 0; the
// token reaches no output, result, notice or table item.
func TestFleetJobWorkerEndToEnd(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	token := "hb-" + randomHex(t, 12)
	tokenParam := "/autoscalebot/" + randomHex(t, 4) + "/heartbeat-token"
	params := fleetParams()
	params["HeartbeatTokenParameterName"] = tokenParam
	s := newStack(t, params)
	if _, err := s.ssm.PutParameter(s.ctx, &ssm.PutParameterInput{Name: aws.String(tokenParam), Value: aws.String(token),
		Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	s.oldKeys = append(s.oldKeys, token) // kept out of every output, as the key is
	s.heroku.SetFormation(s.app, "worker", 0, "")
	s.beat.set(fastBeat)
	var (
		mu      sync.Mutex
		report  [3]string // latency, depth, busy
		refused int       // requests without the token
	)
	jobs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+token {
			refused++
		} else {
			w.Header().Set(hb.JobLatencyHeader, report[0])
			w.Header().Set(hb.JobDepthHeader, report[1])
			w.Header().Set(hb.JobBusyHeader, report[2])
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(jobs.Close)
	setReport := func(latency, depth, busy string) {
		mu.Lock()
		defer mu.Unlock()
		report = [3]string{latency, depth, busy}
	}

	file := writeSettings(t, fmt.Sprintf(`FORMATIONS:
  - HEROKU_APP_NAME: %[1]s
  - HEROKU_APP_NAME: %[1]s
    HEROKU_PROCESS_TYPE: worker
    HEARTBEAT_URL: %[2]s/heartbeat
    SIGNAL: job_latency
    MIN_DYNOS: 0
`, s.app, jobs.URL))
	fn := s.start(t, fleetEnv(t, s, file), lambdatest.Options{})
	steps := []struct {
		report  [3]string
		reason  decision.Reason
		workers int
	}{
		{[3]string{"default=60000", "default=12", "default=0"}, decision.JobsWaiting, 1},
		{[3]string{"default=0", "default=0", "default=0"}, decision.Steady, 1},
		{[3]string{"default=0", "default=0", "default=0"}, decision.Steady, 1},
		{[3]string{"default=0", "default=0", "default=0"}, decision.NoJobs, 0}, // NumberOfPassesToScaleDownAfter=3
	}
	for i, st := range steps {
		setReport(st.report[0], st.report[1], st.report[2])
		out := s.invoke(t, fn, lambdatest.ScheduledEvent(t))
		var res lambdafn.FleetResult
		if err := json.Unmarshal(out, &res); err != nil || len(res.Formations) != 2 {
			t.Fatalf("invocation %d: %s, want a result of two formations", i+1, out)
		}
		web, worker := res.Formations[0], res.Formations[1]
		if web.Error != "" || web.ProcessType != process || worker.Error != "" || worker.Reason != st.reason ||
			s.heroku.Quantity(s.app, "worker") != st.workers {
			t.Fatalf("invocation %d: web %+v, worker %+v; want the worker %s to %d", i+1, web.Summary, worker.Summary, st.reason, st.workers)
		}
	}
	if got := s.heroku.Quantity(s.app, process); got != 1 {
		t.Errorf("web formation %d, want it at its minimum, 1", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused != 0 {
		t.Errorf("%d heartbeat requests without the token", refused)
	}
	s.receive(t, 2, noticeWait) // the two scales' notices, for the check below
	if leaks := s.leaks(t); len(leaks) > 0 {
		t.Errorf("the API key or the heartbeat token appears in:\n%s", strings.Join(leaks, "\n"))
	}
}
