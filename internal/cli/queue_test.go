package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hb "github.com/autoscalebot/autoscalebot/heartbeat"
)

// queueApp is an app built on the heartbeat package behind a stand-in for
// Heroku's router, which stamps X-Request-Start as if each request had
// waited queue for a dyno.
type queueApp struct {
	queue  atomic.Int64 // ms
	slow   atomic.Bool  // the app's own work takes 150 ms per request
	broken atomic.Bool  // the heartbeat's check fails
	url    string
}

// window is the middleware's window: short, so the test can let a phase's
// requests age out instead of waiting the default 30 s.
const window = 2 * time.Second

// queueToken is the token the app's kit and the command share: without it
// the kit withholds its load headers.
const queueToken = "queue-token"

func withToken(h *hb.Heartbeat) *hb.Heartbeat {
	h.Token = queueToken
	return h
}

func newQueueApp(t *testing.T) *queueApp {
	t.Helper()
	a := &queueApp{}
	check := withToken(hb.Handler(hb.Func("db", time.Second, func(context.Context) error {
		if a.broken.Load() {
			return errors.New("db down")
		}
		return nil
	})))
	mux := http.NewServeMux()
	mux.Handle("/heartbeat", check)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	app := hb.NewWindow(window).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.slow.Load() {
			time.Sleep(150 * time.Millisecond)
		}
		mux.ServeHTTP(w, r)
	}))
	router := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stamp := time.Now().Add(-time.Duration(a.queue.Load()) * time.Millisecond)
		r.Header.Set(hb.RequestStartHeader, strconv.FormatInt(stamp.UnixMilli(), 10))
		app.ServeHTTP(w, r)
	}))
	t.Cleanup(router.Close)
	a.url = router.URL
	return a
}

// traffic sends n user requests through the router.
func (a *queueApp) traffic(t *testing.T, n int) {
	t.Helper()
	for range n {
		resp, err := http.Get(a.url + "/page")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// TestOnceOnQueueTimeEndToEnd: ticks with AUTOSCALE_SIGNAL=queue_time
// through the real probe against an app using the heartbeat middleware, the
// fake Platform API and the state file. The app scales up on a long queue
// although every answer is fast, scales down on a short queue although every
// answer is slow, and a failing heartbeat still counts as a fail.
func TestOnceOnQueueTimeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the queue-time window to turn over")
	}
	w := newWorld(t)
	app := newQueueApp(t)
	w.env["AUTOSCALE_HEARTBEAT_URL"] = app.url + "/heartbeat"
	w.env["AUTOSCALE_SIGNAL"] = "queue_time"
	w.env["AUTOSCALE_HEARTBEAT_TOKEN"] = queueToken
	w.env["AUTOSCALE_MAX_QUEUE_TIME_IN_MS"] = "100"
	w.env["AUTOSCALE_MIN_QUEUE_TIME_IN_MS"] = "20"
	// Response-time thresholds that would decide the opposite way each time.
	w.env["AUTOSCALE_MAX_RESPONSE_TIME_IN_MS"] = "100"
	w.env["AUTOSCALE_MIN_RESPONSE_TIME_IN_MS"] = "50"

	steps := []struct {
		name       string
		queueMS    int64
		slow       bool
		broken     bool
		newPhase   bool // let the previous phase's requests leave the window
		wantQty    int
		wantSource string
		wantVerd   string
	}{
		{name: "long queue, fast answers: slow 1", queueMS: 300, wantQty: 1, wantSource: "queue_p95", wantVerd: "fail"},
		{name: "long queue again scales up", queueMS: 300, wantQty: 2, wantSource: "queue_p95", wantVerd: "fail"},
		{name: "short queue, slow answers: fast 1", queueMS: 2, slow: true, newPhase: true, wantQty: 2, wantSource: "queue_p95", wantVerd: "pass"},
		{name: "short queue again scales down", queueMS: 2, slow: true, wantQty: 1, wantSource: "queue_p95", wantVerd: "pass"},
		{name: "a failing check fails whatever the queue", queueMS: 2, broken: true, wantQty: 1, wantSource: "queue_p95", wantVerd: "fail"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			app.queue.Store(st.queueMS)
			app.slow.Store(st.slow)
			app.broken.Store(st.broken)
			if st.newPhase {
				time.Sleep(window + 100*time.Millisecond)
			}
			app.traffic(t, 10)
			code, out, errOut := w.cmd(t, "once", "-json")
			out = "\n" + out
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			var sum struct {
				Verdict       string `json:"verdict"`
				LatencyMS     int64  `json:"latencyMs"`
				Signal        string `json:"signal"`
				LatencySource string `json:"latencySource"`
				ProbeDetail   string `json:"probeDetail"`
			}
			// Notices are printed before the summary.
			if err := json.Unmarshal([]byte(out[strings.Index(out, "\n{")+1:]), &sum); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if sum.Signal != "queue_time" || sum.LatencySource != st.wantSource || sum.Verdict != st.wantVerd {
				t.Errorf("summary %+v; want signal queue_time, source %s, verdict %s", sum, st.wantSource, st.wantVerd)
			}
			if got := w.heroku.Quantity("myapp", "web"); got != st.wantQty {
				t.Errorf("formation %d, want %d\n%s", got, st.wantQty, out)
			}
		})
	}

	// status and history say which signal and where each figure came from.
	state := w.env["AUTOSCALE_STATE_FILE"]
	_, out, _ := w.cmd(t, "status", "-state", state)
	if !strings.Contains(out, "queue p95") {
		t.Errorf("status does not say the figure is the queue p95:\n%s", out)
	}
	_, out, _ = w.cmd(t, "status", "-state", state, "-json")
	for _, want := range []string{`"signal": "queue_time"`, `"maxQueueMs": 100`, `"minQueueMs": 20`, `"latencySource": "queue_p95"`} {
		if !strings.Contains(out, want) {
			t.Errorf("status -json lacks %s:\n%s", want, out)
		}
	}
	_, out, _ = w.cmd(t, "history", "-state", state, "-since", "1h")
	if strings.Count(out, "queue p95") < len(steps) {
		t.Errorf("history does not say each figure is the queue p95:\n%s", out)
	}
}

// Without the middleware's window, or without a router stamp, the probe
// falls back and says so.
func TestOnceOnQueueTimeFallsBack(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.Handler
		stamp      bool
		wantSource string
	}{
		{"handler without the middleware: the probe's own queue time", withToken(hb.Handler()), true, "queue_probe"},
		{"no router stamp: the response time", hb.Middleware(withToken(hb.Handler())), false, "response_time"},
		{"an app without the kit: the response time", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }), true, "response_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if tt.stamp {
					r.Header.Set(hb.RequestStartHeader, strconv.FormatInt(time.Now().UnixMilli(), 10))
				}
				tt.handler.ServeHTTP(rw, r)
			}))
			defer srv.Close()
			w.env["AUTOSCALE_HEARTBEAT_URL"] = srv.URL
			w.env["AUTOSCALE_SIGNAL"] = "queue_time"
			w.env["AUTOSCALE_HEARTBEAT_TOKEN"] = queueToken
			code, out, errOut := w.cmd(t, "once")
			if code != 0 || !strings.Contains(out, "("+tt.wantSource+")") {
				t.Errorf("exit %d, output %q %q; want the source %s named", code, out, errOut, tt.wantSource)
			}
		})
	}
}
