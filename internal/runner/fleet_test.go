package runner

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// sleepyTicker takes d, counting how many of its kind run at once.
type sleepyTicker struct {
	app     string
	d       time.Duration
	err     error
	running *atomic.Int32
	peak    *atomic.Int32
}

func (s sleepyTicker) Tick(ctx context.Context, _ string) (tick.Summary, error) {
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-time.After(s.d):
	case <-ctx.Done():
	}
	return tick.Summary{App: s.app}, s.err
}

func TestTickAll(t *testing.T) {
	const slow = 300 * time.Millisecond
	tests := []struct {
		name     string
		delays   []time.Duration
		parallel int
		wantPeak int32 // 0: not checked (quick ticks may not overlap)
		// quickDone: the quick tickers must all report before this.
		quickDone time.Duration
	}{
		{name: "a slow formation holds up no other", delays: []time.Duration{slow, 0, 0, 0}, parallel: 8, quickDone: slow / 2},
		{name: "the bound holds", delays: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}, parallel: 2, wantPeak: 2, quickDone: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var running, peak atomic.Int32
			tickers := make([]Ticker, len(tt.delays))
			for i, d := range tt.delays {
				var err error
				if i%2 == 1 {
					err = errors.New("boom")
				}
				tickers[i] = sleepyTicker{app: string(rune('a' + i)), d: d, err: err, running: &running, peak: &peak}
			}
			start := time.Now()
			reportedAt := make([]time.Duration, len(tickers))
			out := TickAll(context.Background(), tickers, tt.parallel, func(i int, o Outcome) {
				reportedAt[i] = time.Since(start)
			})
			if got := peak.Load(); got > int32(tt.parallel) || (tt.wantPeak > 0 && got != tt.wantPeak) {
				t.Errorf("peak concurrency %d, want %d", got, tt.wantPeak)
			}
			for i, o := range out {
				if o.Summary.App != string(rune('a'+i)) || (o.Err != nil) != (i%2 == 1) {
					t.Errorf("outcome %d = %+v, out of order or wrong", i, o)
				}
				if tt.delays[i] == 0 && reportedAt[i] > tt.quickDone {
					t.Errorf("quick formation %d reported after %s, held up by a slow one", i, reportedAt[i])
				}
			}
		})
	}
}
