package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func pass(context.Context) error { return nil }

func sleepFor(d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// hang ignores its context and returns only when release is closed.
func hang(release <-chan struct{}) func(context.Context) error {
	return func(context.Context) error { <-release; return nil }
}

func get(t *testing.T, h http.Handler, header string) (*httptest.ResponseRecorder, Body) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/heartbeat", nil)
	if header != "" {
		r.Header.Set(RequestStartHeader, header)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var b Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec, b
}

func TestHandler(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name       string
		checks     []Check
		wantStatus int
		wantFailed []string
		wantErrors map[string]string
		maxTime    time.Duration
	}{
		{"no checks", nil, 200, nil, nil, time.Second},
		{"all pass", []Check{Func("db", 0, pass), Func("cache", 0, pass)}, 200, nil, nil, time.Second},
		{"a slow check within its timeout passes", []Check{Func("slow", time.Second, sleepFor(100*time.Millisecond))}, 200, nil, nil, time.Second},
		{"a failing check is named", []Check{Func("db", 0, pass), Func("cache", 0, func(context.Context) error { return errors.New("dial tcp: refused") })},
			503, []string{"cache"}, map[string]string{"cache": "failed"}, time.Second},
		{"a slow check past its timeout fails", []Check{Func("slow", 50*time.Millisecond, sleepFor(time.Minute))},
			503, []string{"slow"}, map[string]string{"slow": "timeout after 50ms"}, time.Second},
		{"a hung check is bounded by its timeout", []Check{Func("db", 0, pass), Func("hung", 100*time.Millisecond, hang(release))},
			503, []string{"hung"}, map[string]string{"hung": "timeout after 100ms"}, time.Second},
		{"a panicking check fails", []Check{Func("boom", 0, func(context.Context) error { panic("nil map") })},
			503, []string{"boom"}, map[string]string{"boom": "failed"}, time.Second},
		{"a check without a function fails", []Check{{Name: "empty"}}, 503, []string{"empty"}, nil, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var failures []string
			var mu sync.Mutex
			h := Handler(tt.checks...)
			h.OnFailure = func(name string, err error) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, name)
			}
			start := time.Now()
			rec, body := get(t, h, "")
			if took := time.Since(start); took > tt.maxTime {
				t.Errorf("took %v; want at most %v", took, tt.maxTime)
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d; want %d", rec.Code, tt.wantStatus)
			}
			if !slices.Equal(body.Failed, tt.wantFailed) {
				t.Errorf("failed %v; want %v", body.Failed, tt.wantFailed)
			}
			slices.Sort(failures)
			if !slices.Equal(failures, tt.wantFailed) {
				t.Errorf("OnFailure told %v; want %v", failures, tt.wantFailed)
			}
			wantStatus := "ok"
			if tt.wantStatus != 200 {
				wantStatus = "fail"
			}
			if body.Status != wantStatus || len(body.Checks) != len(tt.checks) {
				t.Errorf("body %+v; want status %q and %d checks", body, wantStatus, len(tt.checks))
			}
			for i, c := range body.Checks {
				if c.Name != tt.checks[i].Name {
					t.Errorf("check %d is %q; want %q (the order given)", i, c.Name, tt.checks[i].Name)
				}
				if want, ok := tt.wantErrors[c.Name]; ok && c.Error != want {
					t.Errorf("check %q error %q; want %q", c.Name, c.Error, want)
				}
			}
			for _, h := range []string{"Cache-Control", "Content-Type"} {
				if rec.Header().Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store, no-cache, must-revalidate, max-age=0" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
}

// The checks run at once: each waits until all have started.
func TestHandlerRunsChecksConcurrently(t *testing.T) {
	var started sync.WaitGroup
	started.Add(3)
	rendezvous := func(ctx context.Context) error {
		started.Done()
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	rec, body := get(t, Handler(Func("a", 5*time.Second, rendezvous), Func("b", 5*time.Second, rendezvous), Func("c", 5*time.Second, rendezvous)), "")
	if rec.Code != 200 {
		t.Fatalf("status %d, %+v: the checks did not all run at once", rec.Code, body)
	}
}

func TestHandlerReportsDuration(t *testing.T) {
	_, body := get(t, Handler(Func("slow", time.Second, sleepFor(120*time.Millisecond))), "")
	if d := body.Checks[0].DurationMS; d < 120 || d > 1000 {
		t.Fatalf("durationMs %v; want about 120", d)
	}
}

// While a timed-out run is still going, later probes fail the check at once
// rather than piling up goroutines on the hung dependency; once it returns,
// the check runs again.
func TestHandlerHungCheckCostsOneGoroutine(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	h := Handler(Func("hung", 20*time.Millisecond, func(ctx context.Context) error {
		started.Add(1)
		<-release
		return nil
	}))
	before := runtime.NumGoroutine()
	for i := range 50 {
		rec, body := get(t, h, "")
		if rec.Code != 503 {
			t.Fatalf("probe %d: status %d; want 503", i, rec.Code)
		}
		if i > 0 && body.Checks[0].Error != "still hung" {
			t.Fatalf("probe %d: error %q; want \"still hung\"", i, body.Checks[0].Error)
		}
	}
	if n := started.Load(); n != 1 {
		t.Fatalf("the hung check was started %d times; want 1", n)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Fatalf("goroutines: %d before, %d after 50 probes", before, after)
	}
	close(release)
	deadline := time.Now().Add(2 * time.Second)
	for h.hung[0].Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	h.Checks[0].Run = pass
	if rec, _ := get(t, h, ""); rec.Code != 200 {
		t.Fatalf("after the dependency recovered: status %d; want 200", rec.Code)
	}
}

func TestHandlerHead(t *testing.T) {
	r := httptest.NewRequest(http.MethodHead, "/heartbeat", nil)
	rec := httptest.NewRecorder()
	Handler(Func("db", 0, pass)).ServeHTTP(rec, r)
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: %d with %d body bytes; want 200 and none", rec.Code, rec.Body.Len())
	}
}

func TestHandlerQueueHeaders(t *testing.T) {
	c := &clock{t: time.Unix(1796047200, 0)}
	stamp := func(d time.Duration) string { return strconv.FormatInt(c.now().Add(-d).UnixMilli(), 10) }
	tests := []struct {
		name       string
		middleware bool
		header     string
		want       map[string]string // "" means absent
	}{
		{"no middleware, no header", false, "", map[string]string{QueueTimeHeader: "", QueueP95Header: "", QueueCountHeader: "", UtilizationHeader: ""}},
		{"no middleware: the probe's own wait", false, stamp(42 * time.Millisecond), map[string]string{QueueTimeHeader: "42", QueueP95Header: "", QueueCountHeader: ""}},
		{"clock skew counts as 0", false, stamp(-3 * time.Second), map[string]string{QueueTimeHeader: "0"}},
		{"malformed header: no queue time", false, "t=soon", map[string]string{QueueTimeHeader: ""}},
		{"middleware: window figures including the probe", true, stamp(42 * time.Millisecond),
			map[string]string{QueueTimeHeader: "42", QueueP95Header: "878", QueueCountHeader: "21", QueueWindowHeader: "30", UtilizationHeader: "0"}},
		{"middleware, probe without a stamp", true, "",
			map[string]string{QueueTimeHeader: "", QueueP95Header: "878", QueueCountHeader: "20", QueueWindowHeader: "30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hb := Handler(Func("db", 0, pass))
			hb.now = c.now
			var h http.Handler = hb
			if tt.middleware {
				w := NewWindow(30 * time.Second)
				w.now = c.now
				mux := http.NewServeMux()
				mux.Handle("/heartbeat", hb)
				mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
				h = w.Middleware(mux)
				// 18 requests waited 10 ms, 2 waited 800 ms: the 95th percentile is
				// slow (878 ms: the upper edge of the histogram bucket holding 800 ms).
				for i := range 20 {
					d := 10 * time.Millisecond
					if i >= 18 {
						d = 800 * time.Millisecond
					}
					r := httptest.NewRequest("GET", "/page", nil)
					r.Header.Set(RequestStartHeader, stamp(d))
					h.ServeHTTP(httptest.NewRecorder(), r)
				}
			}
			rec, _ := get(t, h, tt.header)
			for k, want := range tt.want {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s: %q; want %q", k, got, want)
				}
			}
		})
	}
}

// The heartbeat under load: many clients at once on an app wrapped in the
// middleware, with slow requests among them; every probe answers, the
// count is every request of the window, and the P95 sees the slow tail.
func TestUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	var dbCalls atomic.Int64
	hb := Handler(
		Func("db", time.Second, func(ctx context.Context) error { dbCalls.Add(1); return sleepFor(5 * time.Millisecond)(ctx) }),
		Func("cache", time.Second, pass),
	)
	mux := http.NewServeMux()
	mux.Handle("/heartbeat", hb)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "page") })
	srv := httptest.NewServer(Middleware(mux))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64

	const clients, each = 50, 40
	var wg sync.WaitGroup
	var bad atomic.Int64
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				// One request in ten waited 400 ms for a dyno, the rest 20 ms.
				wait := 20 * time.Millisecond
				if (c*each+i)%10 == 0 {
					wait = 400 * time.Millisecond
				}
				path := "/page"
				if i%4 == 0 {
					path = "/heartbeat"
				}
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.Header.Set(RequestStartHeader, strconv.FormatInt(time.Now().Add(-wait).UnixMilli(), 10))
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 || (path == "/heartbeat" && resp.Header.Get(QueueTimeHeader) == "") {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed or lacked the queue header", n, clients*each)
	}
	if n := dbCalls.Load(); n != clients*each/4 {
		t.Fatalf("the db check ran %d times; want once per probe (%d): never cached", n, clients*each/4)
	}
	// A last probe, which waited 20 ms itself.
	req, _ := http.NewRequest("GET", srv.URL+"/heartbeat", nil)
	req.Header.Set(RequestStartHeader, strconv.FormatInt(time.Now().Add(-20*time.Millisecond).UnixMilli(), 10))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	count, _ := strconv.Atoi(resp.Header.Get(QueueCountHeader))
	p95, _ := strconv.Atoi(resp.Header.Get(QueueP95Header))
	own, _ := strconv.Atoi(resp.Header.Get(QueueTimeHeader))
	if count != clients*each+1 {
		t.Errorf("%s = %d; want every request (%d)", QueueCountHeader, count, clients*each+1)
	}
	if p95 < 400 || p95 > 700 {
		t.Errorf("%s = %d; want the slow tail, 400 ms and a little", QueueP95Header, p95)
	}
	if own < 20 || own > 300 {
		t.Errorf("%s = %d; want about 20", QueueTimeHeader, own)
	}
}
