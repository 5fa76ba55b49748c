package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestAnsweredIsWhatProbeSays: the simulator's answers must be the ones a
// real probe of the same answer gives, verdict and detail alike.
func TestAnsweredIsWhatProbeSays(t *testing.T) {
	const minR, maxR = 200 * time.Millisecond, time.Second
	tests := []struct {
		name    string
		status  int
		latency time.Duration
		want    Verdict
	}{
		{"fast", 200, minR - time.Nanosecond, Pass},
		{"at min", 200, minR, OK},
		{"at max", 200, maxR, OK},
		{"slow", 200, maxR + time.Nanosecond, Fail},
		{"fast 503", 503, time.Millisecond, Fail},
		{"fast 404", 404, time.Millisecond, Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte("x"))
			}))
			defer srv.Close()
			p := New(srv.URL, 5*time.Second, minR, maxR)
			p.now = stepClock(tc.latency)
			real := p.Probe(context.Background())
			if got := Answered(tc.status, tc.latency, minR, maxR); got != real || got.Verdict != tc.want {
				t.Errorf("Answered %+v, the probe %+v, want verdict %s", got, real, tc.want)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		real := New(srv.URL, 50*time.Millisecond, minR, maxR).Probe(context.Background())
		if got := TimedOut(50 * time.Millisecond); got != real {
			t.Errorf("TimedOut %+v, the probe %+v", got, real)
		}
	})
}
