package heartbeat

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestParseRequestStart(t *testing.T) {
	at := time.Date(2026, 11, 30, 14, 0, 0, 123456789, time.UTC)
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	us := strconv.FormatInt(at.UnixMicro(), 10)
	tests := []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		{"heroku milliseconds", ms, time.UnixMilli(at.UnixMilli()), true},
		{"t= microseconds", "t=" + us, time.UnixMicro(at.UnixMicro()), true},
		{"t= milliseconds", "t=" + ms, time.UnixMilli(at.UnixMilli()), true},
		{"nginx seconds with a fraction", "t=1796047200.123", time.Unix(1796047200, 123000000), true},
		{"nanoseconds", strconv.FormatInt(at.UnixNano(), 10), at, true},
		{"whole seconds", "1796047200", time.Unix(1796047200, 0), true},
		{"surrounding spaces", " " + ms + " ", time.UnixMilli(at.UnixMilli()), true},
		{"empty", "", time.Time{}, false},
		{"t= alone", "t=", time.Time{}, false},
		{"words", "yesterday", time.Time{}, false},
		{"negative", "-" + ms, time.Time{}, false},
		{"zero", "0", time.Time{}, false},
		{"hex", "0x18c", time.Time{}, false},
		{"trailing junk", ms + "ms", time.Time{}, false},
		{"two prefixes", "t=t=" + ms, time.Time{}, false},
		{"fraction without digits", "1796047200.", time.Time{}, false},
		{"fraction with junk", "1796047200.1e3", time.Time{}, false},
		{"overflow", "99999999999999999999999", time.Time{}, false},
		{"seconds with a fraction, too big", "999999999999.5", time.Time{}, false},
		{"very long", "t=" + string(make([]byte, 100)), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRequestStart(tt.in)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ParseRequestStart(%q) = %v, %t; want %v, %t", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestQueueTime(t *testing.T) {
	now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	stamp := func(d time.Duration) string { return strconv.FormatInt(now.Add(-d).UnixMilli(), 10) }
	tests := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{"waited 250 ms", stamp(250 * time.Millisecond), 250 * time.Millisecond, true},
		{"no wait", stamp(0), 0, true},
		{"router clock ahead: counts as 0", stamp(-2 * time.Second), 0, true},
		{"an hour and more: not a router's stamp", stamp(2 * time.Hour), 0, false},
		{"missing", "", 0, false},
		{"malformed", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.header != "" {
				r.Header.Set(RequestStartHeader, tt.header)
			}
			got, ok := QueueTime(r, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("QueueTime = %v, %t; want %v, %t", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// clock is a settable time source for windows and handlers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestWindowStats(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		samples   []time.Duration
		wantCount int64
		lo, hi    time.Duration // the P95 must fall in [lo, hi]: the histogram's resolution
	}{
		{"empty", nil, 0, 0, 0},
		{"one sample", []time.Duration{37 * ms}, 1, 37 * ms, 41 * ms},
		{"sub-millisecond waits", repeat(100, 300*time.Microsecond), 100, 1 * ms, 1 * ms},
		{"zero waits", repeat(10, 0), 10, 0, 1 * ms},
		{"95 fast, 5 slow: the 95th is fast", append(repeat(95, 10*ms), repeat(5, 900*ms)...), 100, 10 * ms, 10 * ms},
		{"90 fast, 10 slow: the 95th is slow", append(repeat(90, 10*ms), repeat(10, 900*ms)...), 100, 900 * ms, 990 * ms},
		{"a spread 1..1000 ms", spread(1000), 1000, 950 * ms, 1045 * ms},
		{"beyond a minute is reported as the last edge", repeat(3, 10*time.Minute), 3, 64322 * ms, 64322 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1796047200, 0)}
			w := NewWindow(30 * time.Second)
			w.now = c.now
			for _, d := range tt.samples {
				w.Observe(d)
			}
			st := w.Stats()
			if st.Count != tt.wantCount || st.P95 < tt.lo || st.P95 > tt.hi || st.Window != 30*time.Second {
				t.Errorf("Stats = %+v; want count %d, P95 in [%v, %v], window 30s", st, tt.wantCount, tt.lo, tt.hi)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func spread(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

// The window forgets what is older than its length, second by second, and
// old slow requests stop weighing on the P95.
func TestWindowForgets(t *testing.T) {
	c := &clock{t: time.Unix(1796047200, 0)}
	w := NewWindow(30 * time.Second)
	w.now = c.now
	for range 50 {
		w.Observe(2 * time.Second) // a burst of slow requests
	}
	c.add(10 * time.Second)
	for range 50 {
		w.Observe(5 * time.Millisecond)
	}
	if st := w.Stats(); st.Count != 100 || st.P95 < 2*time.Second {
		t.Fatalf("10 s after the burst: %+v; want 100 requests and a P95 of at least 2s", st)
	}
	c.add(21 * time.Second) // the burst is now 31 s old
	if st := w.Stats(); st.Count != 50 || st.P95 != 5*time.Millisecond {
		t.Fatalf("31 s after the burst: %+v; want 50 requests and a P95 of 5ms", st)
	}
	c.add(time.Hour) // no traffic since
	if st := w.Stats(); st.Count != 0 || st.P95 != 0 {
		t.Fatalf("an hour later: %+v; want nothing", st)
	}
	// A slot reused after a full turn of the ring holds only its new second.
	w.Observe(time.Millisecond)
	if st := w.Stats(); st.Count != 1 {
		t.Fatalf("after one new request: %+v; want 1", st)
	}
}

// The edge of Middleware's window, as the heartbeat's answer reports it: a
// request counts until it is DefaultWindow old, and not at that age. The
// window moves a whole second at a time, so a request of the second that
// began DefaultWindow before the current one is gone, even a little younger.
func TestMiddlewareWindowEdge(t *testing.T) {
	tests := []struct {
		name      string
		seen, age float64 // seconds: when the request passed, after a whole second; its age at the probe
		wantCount string
	}{
		{"29 s old: counted", 0, 29, "1"},
		{"a nanosecond under 30 s old: counted", 0, 30 - 1e-9, "1"},
		{"exactly 30 s old: forgotten", 0, 30, "0"},
		{"exactly 30 s old, seen within a second: forgotten", 0.5, 30, "0"},
		{"a minute old: forgotten", 0, 60, "0"},
		{"29.5 s old, seen in the second 29 s before: counted", 1, 29.5, "1"},
		{"29.5 s old, seen in the second 30 s before: forgotten", 0.5, 29.5, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Unix(1796047200, 0)
			c := &clock{t: t0}
			w := NewWindow(DefaultWindow)
			w.now = c.now
			hb := Handler()
			hb.now = c.now
			mux := http.NewServeMux()
			mux.Handle("/heartbeat", hb)
			mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
			app := w.Middleware(mux)

			c.set(t0.Add(seconds(tt.seen)))
			page := httptest.NewRequest("GET", "/", nil)
			page.Header.Set(RequestStartHeader, strconv.FormatInt(c.now().Add(-40*time.Millisecond).UnixMilli(), 10))
			app.ServeHTTP(httptest.NewRecorder(), page)
			if st := w.Stats(); st.Count != 1 {
				t.Fatalf("just after the request: %+v; want it counted", st)
			}

			c.set(t0.Add(seconds(tt.seen + tt.age)))
			rec, _ := get(t, app, "")
			if got := rec.Header().Get(QueueCountHeader); got != tt.wantCount {
				t.Errorf("%s %q at %.9g s old; want %q", QueueCountHeader, got, tt.age, tt.wantCount)
			}
			if got, want := rec.Header().Get(QueueWindowHeader), "30"; got != want {
				t.Errorf("%s %q; want %q", QueueWindowHeader, got, want)
			}
		})
	}
}

// Memory stays constant: observing allocates nothing, whatever the traffic.
func TestWindowObserveAllocatesNothing(t *testing.T) {
	w := NewWindow(0)
	var i time.Duration
	if n := testing.AllocsPerRun(10000, func() { i++; w.Observe(i * time.Microsecond) }); n != 0 {
		t.Fatalf("Observe allocates %v times per call; want 0", n)
	}
	if want := int(DefaultWindow/time.Second) + 1; len(w.seconds) != want {
		t.Fatalf("ring of %d seconds; want %d (the window's and the one before it)", len(w.seconds), want)
	}
}

func TestNewWindowRounds(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want int
	}{
		{"default", 0, 30},
		{"negative", -time.Second, 30},
		{"rounded up", 1500 * time.Millisecond, 2},
		{"sub-second", time.Millisecond, 1},
		{"a minute", time.Minute, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWindow(tt.in)
			if w.length != tt.want || len(w.seconds) != tt.want+1 {
				t.Errorf("NewWindow(%v): %d seconds in a ring of %d; want %d in %d", tt.in, w.length, len(w.seconds), tt.want, tt.want+1)
			}
		})
	}
}

func FuzzParseRequestStart(f *testing.F) {
	for _, s := range []string{"1796047200123", "t=1796047200123456", "t=1796047200.123", "", "t=", "-1", "1.2.3", "t=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseRequestStart(s)
		if !ok {
			if !got.IsZero() {
				t.Fatalf("ParseRequestStart(%q) = %v, false; want the zero time", s, got)
			}
			return
		}
		if got.Before(time.Unix(0, 0)) || got.After(time.Unix(1e11, 0)) {
			t.Fatalf("ParseRequestStart(%q) = %v: outside any plausible stamp", s, got)
		}
		// A millisecond stamp reads back as itself.
		ms := strconv.FormatInt(got.UnixMilli(), 10)
		if back, ok := ParseRequestStart(ms); got.UnixMilli() >= 1e11 && (!ok || back.UnixMilli() != got.UnixMilli()) {
			t.Fatalf("%q → %v → %q → %v, %t", s, got, ms, back, ok)
		}
	})
}
