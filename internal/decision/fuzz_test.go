package decision

import (
	"math"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// FuzzProportional plays any sequence of heartbeats, gaps and manual
// changes of the formation through the proportional policy, and checks the
// guarantees every tick: a target inside the bounds (or straight to them),
// no scaling on a probe error or while paused, and a small, finite memory.
func FuzzProportional(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, seq []byte, lo, hi uint8, windowSeconds uint16) {
		s := proportionalSettings()
		playFuzzed(t, s, seq, lo, hi, windowSeconds, func(d Decision) bool {
			m := d.Next.Proportional
			return m != nil && len(m.Wanted) <= wantedLimit && finite(m.LatencyMS)
		})
	})
}

// FuzzTracking is FuzzProportional for the tracking policy, on the
// response-time signal and on utilization.
func FuzzTracking(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, seq []byte, lo, hi uint8, windowSeconds uint16) {
		s := trackingSettings()
		if windowSeconds%2 == 1 {
			s.Signal, s.TargetUtilizationPct = probe.Utilization, 70
		}
		playFuzzed(t, s, seq, lo, hi, windowSeconds, func(d Decision) bool {
			m := d.Next.Tracking
			return m != nil && len(m.Wanted) <= wantedLimit && finite(m.Fast) && finite(m.Slow) &&
				finite(m.LastMS) && finite(m.AvgMS) && finite(m.IdleMS) && finite(m.Load) && m.Fast >= 0 && m.Slow >= 0
		})
	})
}

func addSeeds(f *testing.F) {
	f.Add([]byte{10, 0, 200, 1, 3, 2, 255, 3}, uint8(1), uint8(5), uint16(600))
	f.Add([]byte{0, 0, 0, 0, 1, 1, 1, 1}, uint8(2), uint8(2), uint16(0))
	f.Add([]byte{250, 2, 250, 2, 5, 0, 5, 0, 9, 4}, uint8(3), uint8(1), uint16(2400))
	f.Add([]byte{60, 0, 120, 1, 250, 2, 250, 2, 30, 0, 9, 4}, uint8(1), uint8(9), uint16(121))
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// playFuzzed plays seq (pairs of latency/40 ms and kind) through the
// settings' policy with bounds lo, hi and the window, checking every tick.
func playFuzzed(t *testing.T, s settings.Settings, seq []byte, lo, hi uint8, windowSeconds uint16, memoryOK func(Decision) bool) {
	t.Helper()
	s.MinDynos, s.MaxDynos = settings.Fixed(int(lo%20)+1), settings.Fixed(int(hi%20)+1)
	s.ScaleDownWindow = time.Duration(windowSeconds) * time.Second
	st, qty, now := state.State{}, 1, t0
	for i := 0; i+1 < len(seq); i += 2 {
		ms, kind := int(seq[i])*40, seq[i+1]
		var p probe.Result
		switch kind % 5 {
		case 0, 1:
			p = answered(ms)
			if s.Signal == probe.Utilization {
				p = probe.AnsweredUtilization(200, float64(seq[i])/255, time.Duration(ms)*time.Millisecond, 0.7)
			}
		case 2:
			p = probe.TimedOut(s.HeartbeatTimeout)
		case 3:
			p = beat(probe.Error)
		case 4:
			qty = int(seq[i]%25) + 1 // someone scaled by hand
			p = answered(ms)
		}
		st.Paused = kind%7 == 6
		in := Input{Settings: s, State: st, Probe: p, Current: qty, Now: now}
		d := Decide(in)
		checkGuardRails(t, i/2, in, d)
		if !memoryOK(d) {
			t.Fatalf("tick %d: memory %+v %+v", i/2, d.Next.Proportional, d.Next.Tracking)
		}
		next := d.Next
		if d.Scales() {
			next, _ = Settle(in, d, Outcome{})
			qty = d.Target
		}
		st = next
		now = now.Add(time.Duration(1+int(seq[i+1])%90) * time.Second)
	}
}

// checkGuardRails fails t when a decision breaks what every policy
// guarantees: a quantity outside the bounds goes straight to the nearest
// (but while paused), nothing scales while paused or on a probe error, and
// a target stays inside the bounds. It reports whether the tick was none
// of those cases, so the caller may check its policy's own.
func checkGuardRails(t *testing.T, tick int, in Input, d Decision) bool {
	t.Helper()
	bmin, bmax := in.Settings.Bounds(in.Now)
	qty, paused := in.Current, in.State.Paused
	switch {
	case qty < bmin || qty > bmax:
		if !paused && d.Target != min(max(qty, bmin), bmax) {
			t.Fatalf("tick %d: %d outside %d–%d went to %d", tick, qty, bmin, bmax, d.Target)
		}
	case paused || in.Probe.Verdict == probe.Error:
		if d.Scales() {
			t.Fatalf("tick %d: scaled %d → %d (%s) while paused or on a probe error", tick, qty, d.Target, d.Reason)
		}
	case d.Target < bmin || d.Target > bmax:
		t.Fatalf("tick %d: target %d outside %d–%d", tick, d.Target, bmin, bmax)
	default:
		return true
	}
	return false
}
