package demo

import (
	"testing"
	"time"
)

// TestAppLatencyCrossesTheDemoThresholds checks the simulated app behaves
// as the banner promises with the demo's settings (fail above 300 ms, pass
// below 100 ms): the rush is too slow for 1 and 2 dynos and in range for 3,
// and the quiet part is fast enough to come back down to 1.
func TestAppLatencyCrossesTheDemoThresholds(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration
		dynos   int
		want    string
	}{
		{name: "quiet at start, 1 dyno", elapsed: 2 * time.Second, dynos: 1, want: "pass"},
		{name: "rush, 1 dyno", elapsed: 10 * time.Second, dynos: 1, want: "fail"},
		{name: "rush, 2 dynos", elapsed: 10 * time.Second, dynos: 2, want: "fail"},
		{name: "rush, 3 dynos", elapsed: 20 * time.Second, dynos: 3, want: "ok"},
		{name: "quiet again, 3 dynos", elapsed: 40 * time.Second, dynos: 3, want: "pass"},
		{name: "quiet again, 2 dynos", elapsed: 45 * time.Second, dynos: 2, want: "pass"},
		{name: "next minute's rush", elapsed: Cycle + 10*time.Second, dynos: 1, want: "fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			app := &App{dynos: tt.dynos, start: start, now: func() time.Time { return start.Add(tt.elapsed) }}
			latency := app.Latency()
			got := "ok"
			switch {
			case latency > 300*time.Millisecond:
				got = "fail"
			case latency < 100*time.Millisecond:
				got = "pass"
			}
			if got != tt.want {
				t.Errorf("latency %s is %s, want %s", latency, got, tt.want)
			}
		})
	}
}
