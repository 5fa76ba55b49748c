package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

func TestLine(t *testing.T) {
	at := time.Date(2026, 11, 27, 7, 11, 0, 0, time.UTC)
	base := tick.Summary{App: "myapp", ProcessType: "web", Verdict: "fail", LatencyMS: 802, Current: 1, Target: 2, Min: 1, Max: 4, Reason: "SlowStreak"}
	tests := []struct {
		name string
		sum  tick.Summary
		err  error
		want []string
	}{
		{name: "a scale", sum: base, want: []string{"07:11:00", "myapp/web", "fail", "802 ms", "dynos 1 → 2 (bounds 1–4)", "SlowStreak"}},
		{name: "an error", sum: tick.Summary{App: "myapp", ProcessType: "web"}, err: errors.New("read formation: heroku: 503"), want: []string{"error: read formation: heroku: 503"}},
		{name: "a duplicate", sum: tick.Summary{App: "myapp", ProcessType: "web", Duplicate: true}, want: []string{"duplicate event, ignored"}},
		{name: "a lost race", sum: tick.Summary{App: "myapp", ProcessType: "web", Conflict: true}, want: []string{"another run acted first"}},
		{name: "a failed scale", sum: func() tick.Summary { s := base; s.ScaleError = "heroku: 429"; return s }(), want: []string{"scale failed: heroku: 429"}},
		{name: "switches", sum: func() tick.Summary { s := base; s.DryRun, s.Paused = true, true; return s }(), want: []string{"[dry run, paused]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := Line(at, tt.sum, tt.err)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("line %q lacks %q", line, w)
				}
			}
		})
	}
}

type countingTicker struct{ n atomic.Int32 }

func (c *countingTicker) Tick(context.Context, string) (tick.Summary, error) {
	if c.n.Add(1)%2 == 0 {
		return tick.Summary{}, errors.New("boom")
	}
	return tick.Summary{}, nil
}

func TestRunGoesOnAfterFailuresAndStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var reports, failures int
	ticker := &countingTicker{}
	Run(ctx, nil, ticker, time.Millisecond, func(_ tick.Summary, err error) {
		reports++
		if err != nil {
			failures++
		}
		if reports == 5 {
			cancel()
		}
	})
	if reports != 5 || failures != 2 {
		t.Errorf("%d reports with %d failures, want 5 with 2: a failed tick must not stop the loop", reports, failures)
	}
}

// interruptedTicker is interrupted while its tick is in flight, then needs a
// moment more to finish it (the scale call's answer, the state write).
type interruptedTicker struct {
	interrupt func()
	calls     atomic.Int32
}

func (it *interruptedTicker) Tick(ctx context.Context, _ string) (tick.Summary, error) {
	it.calls.Add(1)
	it.interrupt()
	select {
	case <-ctx.Done():
		return tick.Summary{}, fmt.Errorf("scale call made, not recorded: %w", ctx.Err())
	case <-time.After(20 * time.Millisecond):
		return tick.Summary{App: "myapp", Scaled: true}, nil
	}
}

func TestRunInterrupted(t *testing.T) {
	tests := []struct {
		name      string
		interrupt func(cancel func(), stop chan struct{})
		wantErr   error
	}{
		// The first Ctrl-C: the tick in flight runs to its end, is reported,
		// and no other tick starts.
		{name: "stop finishes the tick in flight", interrupt: func(_ func(), stop chan struct{}) { close(stop) }},
		// A second Ctrl-C: the tick in flight is abandoned at once.
		{name: "the context's end aborts it", interrupt: func(cancel func(), _ chan struct{}) { cancel() }, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			ticker := &interruptedTicker{interrupt: func() { tt.interrupt(cancel, stop) }}
			var reports []error
			var last tick.Summary
			Run(ctx, stop, ticker, time.Millisecond, func(sum tick.Summary, err error) {
				reports = append(reports, err)
				last = sum
			})
			if n := ticker.calls.Load(); n != 1 || len(reports) != 1 {
				t.Fatalf("%d ticks and %d reports, want 1 and 1: no tick starts after an interrupt, and the one in flight is reported", n, len(reports))
			}
			if !errors.Is(reports[0], tt.wantErr) {
				t.Errorf("the tick in flight ended with %v, want %v", reports[0], tt.wantErr)
			}
			if tt.wantErr == nil && !last.Scaled {
				t.Errorf("the tick in flight did not finish: %+v", last)
			}
		})
	}
}
