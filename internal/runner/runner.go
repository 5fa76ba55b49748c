// Package runner drives ticks on a fixed interval, for running autoscalebot
// on any computer as the original did.
package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Ticker runs one beat.
type Ticker interface {
	Tick(ctx context.Context, eventID string) (tick.Summary, error)
}

// Run ticks at once and then every interval until stop is closed. A failed
// tick is reported and the loop goes on: the next tick is the retry.
//
// A tick in flight when stop closes runs to its end and is reported: cutting
// it short could leave a scale call made and not recorded. Each step of a
// tick is bounded by its own timeout (the probe's, the Heroku client's), so
// that end comes. Only ctx's end aborts the tick in flight.
func Run(ctx context.Context, stop <-chan struct{}, t Ticker, interval time.Duration, report func(tick.Summary, error)) {
	Every(ctx, stop, interval, func() { report(t.Tick(ctx, "")) })
}

// Every calls beat at once and then every interval until stop is closed or
// ctx ends, with Run's rules: a beat in flight when stop closes runs to its end.
func Every(ctx context.Context, stop <-chan struct{}, interval time.Duration, beat func()) {
	timer := time.NewTicker(interval)
	defer timer.Stop()
	for !ended(ctx, stop) {
		beat()
		select {
		case <-ctx.Done():
		case <-stop:
		case <-timer.C:
		}
	}
}

// ended says whether the loop must stop, so that a stop arriving together
// with the timer still wins.
func ended(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return true
	case <-stop:
		return true
	default:
		return false
	}
}

// Line renders a tick summary as one line for a terminal.
func Line(at time.Time, s tick.Summary, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s/%s  ", at.Format("15:04:05"), s.App, s.ProcessType)
	if s.Verdict != "" {
		fmt.Fprintf(&b, "heartbeat %-5s %5d ms  ", s.Verdict, s.LatencyMS)
		if s.LatencySource != "" {
			fmt.Fprintf(&b, "(%s)  ", s.LatencySource)
		}
		if s.UtilizationPct != nil {
			fmt.Fprintf(&b, "utilization %g%%  ", *s.UtilizationPct)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintf(&b, "error: %v", err)
	case s.Duplicate:
		b.WriteString("duplicate event, ignored")
	case s.Conflict:
		b.WriteString("another run acted first; nothing done")
	default:
		fmt.Fprintf(&b, "dynos %d → %d (bounds %d–%d)  %-13s streaks slow %d fast %d", s.Current, s.Target, s.Min, s.Max, s.Reason, s.SlowStreak, s.FastStreak)
		if s.ScaleError != "" {
			fmt.Fprintf(&b, "  scale failed: %s", s.ScaleError)
		}
	}
	var flags []string
	if s.DryRun {
		flags = append(flags, "dry run")
	}
	if s.Paused {
		flags = append(flags, "paused")
	}
	if len(flags) > 0 {
		fmt.Fprintf(&b, "  [%s]", strings.Join(flags, ", "))
	}
	return b.String()
}
