package heartbeat

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMiddleware is the cost the middleware adds to every request,
// from many goroutines at once.
func BenchmarkMiddleware(b *testing.B) {
	h := NewWindow(0).Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	stamp := strconv.FormatInt(time.Now().UnixMilli(), 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/page", nil)
		r.Header.Set(RequestStartHeader, stamp)
		w := httptest.NewRecorder()
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkWindowRequest is the window's own part of that cost: a request
// counted into flight with its queue time, and out again.
func BenchmarkWindowRequest(b *testing.B) {
	w := NewWindow(0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.start(w.now(), 20*time.Millisecond, true)
			w.stop()
		}
	})
}

// BenchmarkStats is the cost of the window's figures on each heartbeat.
func BenchmarkStats(b *testing.B) {
	w := NewWindow(0)
	for i := range 100000 {
		w.Observe(time.Duration(i%2000) * time.Millisecond)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.Stats()
	}
}
