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
	f.Add([]byte{10, 0, 200, 1, 3, 2, 255, 3}, uint8(1), uint8(5), uint16(600))
	f.Add([]byte{0, 0, 0, 0, 1, 1, 1, 1}, uint8(2), uint8(2), uint16(0))
	f.Add([]byte{250, 2, 250, 2, 5, 0, 5, 0, 9, 4}, uint8(3), uint8(1), uint16(2400))
	f.Fuzz(func(t *testing.T, seq []byte, lo, hi uint8, windowSeconds uint16) {
		s := proportionalSettings()
		s.MinDynos, s.MaxDynos = settings.Fixed(int(lo%20)+1), settings.Fixed(int(hi%20)+1)
		s.ScaleDownWindow = time.Duration(windowSeconds) * time.Second
		st, qty, now := state.State{}, 1, t0
		for i := 0; i+1 < len(seq); i += 2 {
			ms, kind := int(seq[i])*40, seq[i+1]
			var p probe.Result
			switch kind % 5 {
			case 0, 1:
				p = answered(ms)
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
			if m := d.Next.Proportional; m == nil || len(m.Wanted) > wantedLimit || math.IsNaN(m.LatencyMS) || math.IsInf(m.LatencyMS, 0) {
				t.Fatalf("tick %d: memory %+v", i/2, m)
			}
			next := d.Next
			if d.Scales() {
				next, _ = Settle(in, d, Outcome{})
				qty = d.Target
			}
			st = next
			now = now.Add(time.Duration(1+int(seq[i+1])%90) * time.Second)
		}
	})
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
