package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// hangTimeout is the hanging formation's probe timeout: the whole fleet's
// tick must take about this long, not the sum of its formations'.
const hangTimeout = 1500 * time.Millisecond

// fleetFile is three formations: an app Heroku does not know, a heartbeat
// that never answers, and a slow app that scales up on its first fail.
var fleetFile = template.Must(template.New("fleet").Parse(`# written by fleet_test.go
HEROKU_API_URL: {{.API}}
MAX_RESPONSE_TIME_IN_MS: 60
MIN_RESPONSE_TIME_IN_MS: 30
NOTIFY_ON_EVERY_SCALE: true
STATE_FILE: {{.State}}
HEARTBEAT_INTERVAL_IN_SECONDS: 1
POLICY: original
FORMATIONS:
  - HEROKU_APP_NAME: ghost
    HEARTBEAT_URL: {{.Fast}}
  - HEROKU_APP_NAME: hang
    HEARTBEAT_URL: {{.Hang}}
    HEARTBEAT_TIMEOUT_IN_MS: {{.HangMS}}
    NUMBER_OF_FAILS_TO_SCALE_UP_AFTER: 5
  - HEROKU_APP_NAME: shop
    HEARTBEAT_URL: {{.Slow}}
    NUMBER_OF_FAILS_TO_SCALE_UP_AFTER: 1
    MAX_DYNOS: {"0:00": 4}
    MAX_RESPONSE_TIME_IN_MS: 80
`))

type fleetWorld struct {
	heroku    *herokusim.Server
	env       map[string]string
	path      string // the settings file
	statePath string
	scaledAt  map[string]time.Duration // app -> when its first scale landed, from the command's start
	start     time.Time
	mu        sync.Mutex
}

func newFleetWorld(t *testing.T) *fleetWorld {
	t.Helper()
	w := &fleetWorld{heroku: herokusimtest.New(t, herokusim.WithToken(apiKey)), scaledAt: map[string]time.Duration{}}
	w.heroku.SetFormation("hang", "web", 1, "")
	w.heroku.SetFormation("shop", "web", 1, "")
	w.heroku.OnScale(func(app, _ string, _ int) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.scaledAt[app]; !ok {
			w.scaledAt[app] = time.Since(w.start)
		}
	})
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL + "/heartbeat"
	}
	fast := serve(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	slow := serve(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(120 * time.Millisecond):
		case <-r.Context().Done():
		}
		w.Write([]byte("ok"))
	})
	// Never answers: the probe's own timeout ends the wait.
	hang := serve(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

	dir := t.TempDir()
	w.statePath = filepath.Join(dir, "fleet-state.json")
	w.path = filepath.Join(dir, "autoscalebot.yaml")
	f, err := os.Create(w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = fleetFile.Execute(f, map[string]any{
		"API": w.heroku.URL, "State": w.statePath, "Fast": fast, "Slow": slow, "Hang": hang, "HangMS": hangTimeout.Milliseconds(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The environment gives the key and a state file the file overrides.
	w.env = map[string]string{
		"AUTOSCALE_HEROKU_API_KEY": apiKey,
		"AUTOSCALE_STATE_FILE":     filepath.Join(dir, "not-this.json"),
	}
	return w
}

func (w *fleetWorld) cmd(t *testing.T, args ...string) (code int, stdout, stderr string, took time.Duration) {
	t.Helper()
	var out, errOut strings.Builder
	w.start = time.Now()
	code = Main(context.Background(), args, Env{
		Getenv: func(k string) string { return w.env[k] },
		Stdout: &out, Stderr: &errOut,
	})
	took = time.Since(w.start)
	if strings.Contains(out.String()+errOut.String(), apiKey) {
		t.Errorf("the API key was printed:\n%s\n%s", out.String(), errOut.String())
	}
	return code, out.String(), errOut.String(), took
}

// TestOnceTicksEveryFormationOfTheFile: one tick of a three-formation file,
// through the real probe, the Heroku client against the fake Platform API
// and one state file. The unknown app fails alone, the hanging heartbeat
// costs its own timeout and delays no one, and the slow app scales up.
func TestOnceTicksEveryFormationOfTheFile(t *testing.T) {
	w := newFleetWorld(t)
	code, out, errOut, took := w.cmd(t, "once", "-settings", w.path)

	if code != 1 {
		t.Errorf("exit %d, want 1 for the unknown app", code)
	}
	if want := "autoscalebot: 1 of 3 formations failed: FORMATIONS[0] (ghost/web)\n"; !strings.HasSuffix(errOut, want) {
		t.Errorf("stderr does not end naming the failed formation only, %q:\n%s", want, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var ticks []string
	for _, l := range lines {
		if strings.Contains(l, "/web  ") {
			ticks = append(ticks, l)
		}
	}
	wantLines := []struct{ app, text string }{
		{"ghost/web", "error: read formation"},
		{"hang/web", "heartbeat fail"},
		{"shop/web", "dynos 1 → 2"},
	}
	if len(ticks) != len(wantLines) {
		t.Fatalf("want one line per formation, in the file's order; got:\n%s", out)
	}
	for i, want := range wantLines {
		if !strings.Contains(ticks[i], want.app) || !strings.Contains(ticks[i], want.text) {
			t.Errorf("line %d = %q, want %s with %q", i, ticks[i], want.app, want.text)
		}
	}
	if !strings.Contains(out, "notice scaled") {
		t.Errorf("no scale notice on the console:\n%s", out)
	}

	// Isolation: the scale landed long before the hanging probe gave up,
	// and the whole tick took one probe timeout, not the sum.
	w.mu.Lock()
	shopAt, scaled := w.scaledAt["shop"]
	w.mu.Unlock()
	t.Logf("shop scaled %v after the start; the fleet's tick took %v (hanging probe timeout %v)", shopAt, took, hangTimeout)
	if !scaled || shopAt > hangTimeout/2 {
		t.Errorf("shop scaled at %v (scaled: %v), want well before the hanging probe's %v timeout", shopAt, scaled, hangTimeout)
	}
	if took < hangTimeout || took > hangTimeout+2*time.Second {
		t.Errorf("once took %v, want about the hanging probe's timeout %v", took, hangTimeout)
	}
	if got := w.heroku.Quantity("shop", "web"); got != 2 {
		t.Errorf("shop has %d dynos, want 2", got)
	}
	if got := w.heroku.Quantity("hang", "web"); got != 1 {
		t.Errorf("hang has %d dynos, want 1 (one fail of five)", got)
	}

	// One state file, the file's, keyed by app and process type.
	keys, err := state.NewFileStore(w.statePath).Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.String())
	}
	if got := strings.Join(names, " "); got != "ghost/web hang/web shop/web" {
		t.Errorf("state file holds %q, want every formation's state", got)
	}
	hang, err := state.NewFileStore(w.statePath).Load(context.Background(), state.Key{App: "hang", ProcessType: "web"})
	if err != nil || hang.SlowStreak != 1 {
		t.Errorf("hang's state: slow streak %d, err %v; want 1", hang.SlowStreak, err)
	}
}

// TestOnceFleetJSON: -json lists every formation's summary and error.
func TestOnceFleetJSON(t *testing.T) {
	w := newFleetWorld(t)
	w.env["AUTOSCALE_SETTINGS_FILE"] = w.path // the variable is the flag
	code, out, _, _ := w.cmd(t, "once", "-json")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var results []fleetResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(results) != 3 || results[0].Formation != "FORMATIONS[0] (ghost/web)" || results[0].Error == "" ||
		results[2].Summary.Target != 2 || results[2].Error != "" || !results[0].Summary.HerokuRefused {
		t.Errorf("results: %+v", results)
	}
}

// TestRunTicksEveryFormationEachInterval: run goes on through the unknown
// app's failures, ticking all three every interval (the file's top level).
func TestRunTicksEveryFormationEachInterval(t *testing.T) {
	w := newFleetWorld(t)
	code, out, errOut, _ := w.cmd(t, "run", "-settings", w.path, "-duration", "2500ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "autoscaling 3 formations from "+w.path+" every 1s") {
		t.Errorf("no banner:\n%s", out)
	}
	for _, app := range []string{"ghost", "hang", "shop"} {
		if n := strings.Count(out, "  "+app+"/web  "); n < 2 {
			t.Errorf("%s ticked %d times in 2.5 s at a 1 s interval, want at least 2:\n%s", app, n, out)
		}
	}
	// A loaded machine may stretch a tick past its interval: scaled at
	// least once is what the run must show.
	if got := w.heroku.Quantity("shop", "web"); got < 2 {
		t.Errorf("shop has %d dynos after its slow ticks, want at least 2", got)
	}
}

// TestFleetBadFileTouchesNothing: a bad file fails every command before
// any request, naming each problem.
func TestFleetBadFileTouchesNothing(t *testing.T) {
	w := newFleetWorld(t)
	raw, err := os.ReadFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(raw), "MAX_DYNOS: {\"0:00\": 4}", "MAX_DYNOS: {\"0:00\": 4}\n    MAX_DYNOZ: 5", 1)
	if err := os.WriteFile(w.path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"once"}, {"run", "-duration", "1s"}, {"simulate", "-profile", "steady"}} {
		code, _, errOut, _ := w.cmd(t, append(args, "-settings", w.path)...)
		if code != 1 || !strings.Contains(errOut, "FORMATIONS[2] (shop/web): MAX_DYNOZ: unknown setting; did you mean MAX_DYNOS?") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, code, errOut)
		}
	}
	if n := len(w.heroku.Requests()); n != 0 {
		t.Errorf("a bad file still sent %d requests", n)
	}
}

// TestSimulatePicksTheFormation: simulate takes the file's first formation,
// or the one -app and -type name.
func TestSimulatePicksTheFormation(t *testing.T) {
	w := newFleetWorld(t)
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut string
	}{
		{name: "the first by default", args: nil, code: 0, wantOut: `"sloMs": 60`},
		{name: "-app picks one", args: []string{"-app", "shop"}, code: 0, wantOut: `"sloMs": 80`},
		{name: "no such formation", args: []string{"-app", "blog"}, code: 1, wantOut: `no formation of the settings file matches -app "blog" -type (any) (it has ghost/web, hang/web, shop/web)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"simulate", "-profile", "steady", "-base-ms", "20", "-json", "-settings", w.path}, tt.args...)
			code, out, errOut, _ := w.cmd(t, args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.wantOut) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tt.code, tt.wantOut, out, errOut)
			}
		})
	}
	if n := len(w.heroku.Requests()); n != 0 {
		t.Errorf("simulate sent %d requests", n)
	}
}

// TestOperatingCommandsFindTheFilesState: status, pause and history look
// in the state file the settings file names, across its formations.
func TestOperatingCommandsFindTheFilesState(t *testing.T) {
	w := newFleetWorld(t)
	if code, _, errOut, _ := w.cmd(t, "once", "-settings", w.path); code != 1 {
		t.Fatalf("once: exit %d: %s", code, errOut)
	}
	steps := []struct {
		name string
		args []string
		want []string
	}{
		{name: "status lists every formation", args: []string{"status"}, want: []string{"ghost/web", "hang/web", "shop/web"}},
		{name: "pause one", args: []string{"pause", "-app", "shop"}, want: []string{"shop/web"}},
		{name: "status shows it paused", args: []string{"status", "-app", "shop"}, want: []string{"paused"}},
		{name: "history of one", args: []string{"history", "-app", "shop", "-only-scales"}, want: []string{"1 → 2"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			code, out, errOut, _ := w.cmd(t, append(st.args, "-settings", w.path)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, want := range st.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	if _, err := os.Stat(w.env["AUTOSCALE_STATE_FILE"]); err == nil {
		t.Error("a command wrote the environment's state file, not the settings file's")
	}
}

// TestFleetReadsEachAppOnce: the formations of one app share one read of
// its formation list per tick (one Heroku token, not one per process type),
// in `once` and in each of `run`'s ticks.
func TestFleetReadsEachAppOnce(t *testing.T) {
	w := newFleetWorld(t)
	w.heroku.SetFormation("shop", "worker", 1, "")
	w.heroku.SetFormation("blog", "web", 1, "")
	beat := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.Write([]byte("ok")) }))
	t.Cleanup(beat.Close)
	file := fmt.Sprintf(`HEROKU_API_URL: %s
STATE_FILE: %s
HEARTBEAT_URL: %s
HEARTBEAT_INTERVAL_IN_SECONDS: 1
FORMATIONS:
  - HEROKU_APP_NAME: shop
  - {HEROKU_APP_NAME: shop, HEROKU_PROCESS_TYPE: worker}
  - HEROKU_APP_NAME: blog
`, w.heroku.URL, w.statePath, beat.URL)
	if err := os.WriteFile(w.path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut, _ := w.cmd(t, "once", "-settings", w.path); code != 0 {
		t.Fatalf("once: exit %d: %s", code, errOut)
	}
	if n := w.heroku.Count(http.MethodGet); n != 2 {
		t.Errorf("once made %d Heroku reads for two apps, want 2 (one per app)", n)
	}
	code, out, errOut, _ := w.cmd(t, "run", "-settings", w.path, "-duration", "2500ms")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	ticks := strings.Count(out, "  shop/worker  ")
	if ticks < 2 {
		t.Fatalf("run ticked %d times:\n%s", ticks, out)
	}
	if n := w.heroku.Count(http.MethodGet) - 2; n != 2*ticks {
		t.Errorf("run made %d Heroku reads in %d ticks of two apps, want %d", n, ticks, 2*ticks)
	}
}
