package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
)

const apiKey = "cli-test-key-5f0e1d"

// heartbeat is an app whose answer is slow or instant, switchable mid-test.
type heartbeat struct {
	slow atomic.Bool
}

func (h *heartbeat) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	// Wide margins around the thresholds below: a loaded machine answers
	// an instant heartbeat in tens of milliseconds.
	if h.slow.Load() {
		time.Sleep(600 * time.Millisecond)
	}
	w.Write([]byte("ok"))
}

type world struct {
	heroku *herokusim.Server
	beat   *heartbeat
	env    map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		heroku: herokusimtest.New(t, herokusim.WithToken(apiKey)),
		beat:   &heartbeat{},
	}
	app := httptest.NewServer(w.beat)
	t.Cleanup(app.Close)
	w.heroku.SetFormation("myapp", "web", 1, "")
	w.env = map[string]string{
		"AUTOSCALE_HEROKU_APP_NAME":                      "myapp",
		"AUTOSCALE_HEROKU_API_KEY":                       apiKey,
		"AUTOSCALE_HEROKU_API_URL":                       w.heroku.URL,
		"AUTOSCALE_HEARTBEAT_URL":                        app.URL + "/heartbeat",
		"AUTOSCALE_MAX_RESPONSE_TIME_IN_MS":              "400",
		"AUTOSCALE_MIN_RESPONSE_TIME_IN_MS":              "200",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER":    "2",
		"AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER": "2",
		"AUTOSCALE_NOTIFY_ON_EVERY_SCALE":                "true",
		"AUTOSCALE_STATE_FILE":                           filepath.Join(t.TempDir(), "state.json"),
		// The command's tests drive its streaks beat by beat.
		"AUTOSCALE_POLICY": "original",
	}
	return w
}

func (w *world) cmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = Main(context.Background(), args, Env{
		Getenv: func(k string) string { return w.env[k] },
		Stdout: &out, Stderr: &errOut,
	})
	if strings.Contains(out.String()+errOut.String(), apiKey) {
		t.Errorf("the API key was printed:\n%s\n%s", out.String(), errOut.String())
	}
	return code, out.String(), errOut.String()
}

// TestOnceTicksEndToEnd drives several ticks through the real probe, the
// real Heroku client against the fake Platform API, and the state file.
func TestOnceTicksEndToEnd(t *testing.T) {
	w := newWorld(t)
	steps := []struct {
		name     string
		slow     bool
		wantQty  int
		wantText string
	}{
		{name: "first slow beat: streak 1", slow: true, wantQty: 1, wantText: "Steady"},
		{name: "second slow beat scales up", slow: true, wantQty: 2, wantText: "notice scaled"},
		{name: "a fast beat starts a fast streak", wantQty: 2, wantText: "fast 1"},
		{name: "second fast beat scales down", wantQty: 1, wantText: "FastStreak"},
		{name: "fast at the minimum stays", wantQty: 1, wantText: "fast 1"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			w.beat.slow.Store(st.slow)
			code, out, errOut := w.cmd(t, "once")
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			if got := w.heroku.Quantity("myapp", "web"); got != st.wantQty {
				t.Errorf("formation %d, want %d\n%s", got, st.wantQty, out)
			}
			if !strings.Contains(out, st.wantText) {
				t.Errorf("output lacks %q:\n%s", st.wantText, out)
			}
		})
	}
	patches := 0
	for _, r := range w.heroku.Requests() {
		if r.Method == http.MethodPatch {
			patches++
		}
		if !r.Auth {
			t.Errorf("%s %s sent without Authorization", r.Method, r.Path)
		}
	}
	if patches != 2 {
		t.Errorf("%d PATCH requests, want 2 (one up, one down)", patches)
	}
}

func TestDryRunWithoutKeyNeverCallsHeroku(t *testing.T) {
	w := newWorld(t)
	delete(w.env, "AUTOSCALE_HEROKU_API_KEY")
	w.beat.slow.Store(true)
	for range 3 {
		code, out, errOut := w.cmd(t, "once")
		if code != 0 || !strings.Contains(out, "dry run") {
			t.Fatalf("exit %d, output %q %q: want success flagged dry run", code, out, errOut)
		}
	}
	if n := len(w.heroku.Requests()); n != 0 {
		t.Errorf("dry run without a key sent %d requests to Heroku", n)
	}
	_, out, _ := w.cmd(t, "once", "-json")
	if !strings.Contains(out, `"dryRun": true`) || !strings.Contains(out, `"current": 2`) {
		t.Errorf("the simulated formation did not follow the dry-run scale:\n%s", out)
	}
}

func TestBadSettingsNameEachVariable(t *testing.T) {
	w := newWorld(t)
	w.env["AUTOSCALE_HEARTBEAT_URL"] = "/heartbeat"
	w.env["AUTOSCALE_INCREMENT"] = "0"
	w.env["AUTOSCALE_TIME_ZONE"] = "Mars/Olympus"
	code, _, errOut := w.cmd(t, "once")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, name := range []string{"AUTOSCALE_HEARTBEAT_URL", "AUTOSCALE_INCREMENT", "AUTOSCALE_TIME_ZONE"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("error does not name %s:\n%s", name, errOut)
		}
	}
	if n := len(w.heroku.Requests()); n != 0 {
		t.Errorf("bad settings still sent %d requests", n)
	}
}

func TestRunKeepsTickingThroughFailures(t *testing.T) {
	w := newWorld(t)
	w.env["AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS"] = "1"
	w.heroku.SetFault(herokusim.Fault{Status: http.StatusServiceUnavailable, Count: 1})
	code, out, errOut := w.cmd(t, "run", "-duration", "1500ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var ticks []string
	for _, l := range lines {
		if strings.Contains(l, "myapp/web  ") {
			ticks = append(ticks, l)
		}
	}
	if len(ticks) != 2 || !strings.Contains(ticks[0], "error: read formation") || !strings.Contains(ticks[1], "dynos 1 → 1") {
		t.Errorf("want a failed tick then a good one, got:\n%s", out)
	}
}

func TestRunWithoutHeartbeatURLStartsTheDemo(t *testing.T) {
	env := map[string]string{"AUTOSCALE_STATE_FILE": filepath.Join(t.TempDir(), "state.json")}
	var out, errOut strings.Builder
	code := Main(context.Background(), []string{"run", "-duration", "1500ms"}, Env{
		Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut,
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"DEMO MODE", "AUTOSCALE_HEARTBEAT_URL=", "demo-app/web  heartbeat pass"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{name: "no command", args: nil, code: 2},
		{name: "unknown command", args: []string{"scale"}, code: 2},
		{name: "help", args: []string{"help"}, code: 0},
		{name: "bad flag", args: []string{"once", "-nope"}, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := Main(context.Background(), tt.args, Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &errOut})
			if code != tt.code || !strings.Contains(out.String()+errOut.String(), "Usage:") {
				t.Errorf("exit %d, want %d, with usage; output %q", code, tt.code, out.String()+errOut.String())
			}
		})
	}
}
