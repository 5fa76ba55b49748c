package heartbeat

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// inFlight is one request's time in flight, in seconds after t0; to < 0:
// still in flight at the probe.
type inFlight struct{ from, to float64 }

func times(n int, r inFlight) []inFlight { return slices.Repeat([]inFlight{r}, n) }

// every is n requests of dur seconds, one each period from from on.
func every(n int, from, period, dur float64) []inFlight {
	out := make([]inFlight, n)
	for i := range out {
		at := from + float64(i)*period
		out[i] = inFlight{at, at + dur}
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// A known pattern of requests in flight gives a known utilization. The
// window is first used at t0, a whole second; probed at 60 s, a 30 s window
// reaches back to 30 s.
func TestWindowUtilization(t *testing.T) {
	tests := []struct {
		name     string
		conc     int
		requests []inFlight
		probe    float64 // seconds after t0
		want     float64
	}{
		{"idle", 0, nil, 60, 0},
		{"one request in flight throughout", 0, times(1, inFlight{0, -1}), 60, 1},
		{"a known pattern", 0, []inFlight{
			{10, 20}, // before the window: forgotten
			{25, 33}, // 3 s inside (30–33)
			{40, 45}, // with the next, 40–50 has one in flight or more:
			{42, 50}, // 10 s busy, as C = 1
			{58, -1}, // in flight at the probe: 2 s so far
		}, 60, 15.0 / 30},
		{"C=4, 2 in flight throughout: half", 4, times(2, inFlight{0, -1}), 60, 0.5},
		{"C=4, 6 in flight count as 4", 4, append(times(6, inFlight{30, 42}), inFlight{42, 60}),
			60, (4*12 + 1*18) / (4 * 30.0)}, // 66/120
		{"C=2, 3 in flight: full, not more", 2, times(3, inFlight{0, -1}), 60, 1},
		{"many short requests: 50 ms of each 100 ms", 0, every(300, 30, 0.1, 0.05), 60, 0.5},
		{"edge: a request that ended as the window starts is forgotten", 0, []inFlight{{0, 30}}, 60, 0},
		{"edge: one that started as the window starts counts whole", 0, []inFlight{{30, 31}}, 60, 1.0 / 30},
		{"edge: one across the start counts its part inside", 0, []inFlight{{29, 31}}, 60, 1.0 / 30},
		// Probed within a second, the window starts at the whole second 30 s
		// before the current one: at 60.5 s it is 30–60.5, 30.5 s long.
		{"a probe within a second", 0, []inFlight{{29.5, 30.5}, {60, -1}}, 60.5, (0.5 + 0.5) / 30.5},
		{"a process younger than the window: its life so far", 0, []inFlight{{0, 10}}, 20, 10.0 / 20},
		{"the ring wraps: a busy minute long gone", 0, []inFlight{{0, 60}}, 120, 0},
		{"the ring wraps: a slot reused holds only its new second", 0, []inFlight{{0, 60}, {100, 109}}, 120, 9.0 / 30},
		{"a request longer than the ring: only the window counts", 0, []inFlight{{0, 100}}, 125, 5.0 / 30},
		{"in flight for minutes, still", 0, times(1, inFlight{0, -1}), 185.25, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Unix(1796047200, 0)
			c := &clock{t: t0}
			w := NewWindow(30 * time.Second)
			w.now = c.now
			w.Concurrency = tt.conc
			w.Stats() // the window's first use, at t0
			type event struct {
				at    float64
				delta int
			}
			var events []event
			for _, r := range tt.requests {
				events = append(events, event{r.from, +1})
				if r.to >= 0 {
					events = append(events, event{r.to, -1})
				}
			}
			slices.SortStableFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
			for _, e := range events {
				c.set(t0.Add(seconds(e.at)))
				if e.delta > 0 {
					w.start(c.now(), 0, false)
				} else {
					w.stop()
				}
			}
			c.set(t0.Add(seconds(tt.probe)))
			if got := w.Stats().Utilization; math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("utilization %.6f; want %.6f", got, tt.want)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {0.004, "0"}, {1.0 / 3, "33"}, {2.0 / 3, "67"}, {0.999, "100"}, {1, "100"}, {1.5, "100"}, {-0.2, "0"}}
	for _, tt := range tests {
		if got := percent(tt.in); got != tt.want {
			t.Errorf("percent(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// held serves /hold until release is closed, telling entered when each
// request is in; anything else it answers at once, the heartbeat with hb.
func held(hb http.Handler, entered *sync.WaitGroup, release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/heartbeat", hb)
	mux.HandleFunc("/hold", func(http.ResponseWriter, *http.Request) { entered.Done(); <-release })
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	return mux
}

// The heartbeat's answer carries the utilization, and the probe is not
// counted in flight, however long its checks take: probes of an idle app
// read 0 even when each takes 5 s.
func TestHandlerUtilization(t *testing.T) {
	t0 := time.Unix(1796047200, 0)
	c := &clock{t: t0}
	hb := Handler(Func("slow db", time.Minute, func(context.Context) error { c.add(5 * time.Second); return nil }))
	hb.now = c.now
	w := NewWindow(30 * time.Second)
	w.now = c.now
	var entered sync.WaitGroup
	release := make(chan struct{})
	app := w.Middleware(held(hb, &entered, release))
	probe := func(want string) {
		t.Helper()
		at := c.now().Sub(t0)
		rec, _ := get(t, app, "")
		if got := rec.Header().Get(UtilizationHeader); got != want {
			t.Errorf("probe at %v: %s %q; want %q", at, UtilizationHeader, got, want)
		}
	}
	probe("0") // at 0 s, the window's first use; the check takes 5 s
	probe("0") // at 5 s: the first probe's 5 s were no load
	entered.Add(1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/hold", nil))
	}()
	entered.Wait()          // held from 10 s
	c.add(15 * time.Second) // to 25 s
	probe("60")             // 15 s busy of the 25 s since the first use
	close(release)          // at 30 s, after that probe's check: held 10–30 s
	<-done
	c.add(10 * time.Second)
	probe("67") // at 40 s, the window is 10–40 s: 20 s busy of 30
	c.add(25 * time.Second)
	probe("0") // at 70 s, the window is 40–70 s: the last probe's 5 s were no load
}

func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// Requests in flight at once from many goroutines, with pages and probes
// among them (run with -race): 16 held for 10 s with C = 8 fill it, so
// whatever else runs, the window 30 s on is a third busy, and once all
// have ended none is left in flight.
func TestWindowUtilizationConcurrent(t *testing.T) {
	t0 := time.Unix(1796047200, 0)
	c := &clock{t: t0}
	hb := Handler(Func("db", time.Second, pass))
	hb.now = c.now
	w := NewWindow(30 * time.Second)
	w.now = c.now
	w.Concurrency = 8
	w.Stats() // the window's first use, at t0
	var entered, all sync.WaitGroup
	release := make(chan struct{})
	app := w.Middleware(held(hb, &entered, release))
	serve := func(path string) {
		app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	entered.Add(16)
	for range 16 {
		all.Go(func() { serve("/hold") })
	}
	for i := range 4 {
		all.Go(func() {
			for j := range 200 {
				serve([]string{"/page", "/heartbeat"}[(i+j)%2])
			}
		})
	}
	entered.Wait()
	c.add(10 * time.Second)
	close(release)
	all.Wait()
	c.add(20 * time.Second)
	rec, _ := get(t, app, "")
	if got := rec.Header().Get(UtilizationHeader); got != "33" {
		t.Errorf("%s %q; want 33: 8 of 8 busy for 10 s of 30", UtilizationHeader, got)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight != 0 {
		t.Errorf("%d requests still counted in flight; want 0", w.inflight)
	}
}

// Counting a request in and out of flight allocates nothing, whatever the
// traffic; the ring stays its size.
func TestWindowInFlightAllocatesNothing(t *testing.T) {
	c := &clock{t: time.Unix(1796047200, 0)}
	w := NewWindow(0)
	w.now = c.now
	w.Concurrency = 4
	if n := testing.AllocsPerRun(10000, func() {
		c.add(300 * time.Millisecond)
		w.start(c.now(), 20*time.Millisecond, true)
		w.start(c.now(), 0, false)
		c.add(time.Second)
		w.stop()
		w.stop()
	}); n != 0 {
		t.Fatalf("a request in and out of flight allocates %v times; want 0", n)
	}
	if len(w.seconds) != int(DefaultWindow/time.Second)+1 {
		t.Fatalf("ring of %d seconds; want %d", len(w.seconds), int(DefaultWindow/time.Second)+1)
	}
}
