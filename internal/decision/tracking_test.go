package decision

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// trackingSettings: a 1000 ms maximum and tracking's 500 ms target, dynos
// 1–10, a 60 s boot and its 120 s window, a tick every 30 s. The idle
// latency the policy assumes is at most a tenth of the maximum, 100 ms,
// so a latency L reads as utilization 1 − 100/L: 500 ms is the target's
// 80 %, 833 ms its 10 % tolerance (88 %), 2000 ms saturation (95 %).
func trackingSettings() settings.Settings {
	s := proportionalSettings() // the same bounds, boot and timeout
	s.Policy = settings.PolicyTracking
	s.HeartbeatInterval = 30 * time.Second
	s.TargetResponseTime = 500 * time.Millisecond
	s.ScaleDownWindow = 2 * time.Minute
	return s
}

// warm is a memory read 30 s before t0 at dynos serving, with both
// averages at load, the idle latency at the ceiling, and wanted the counts
// held (at t0 − 30 s unless given).
func warm(dynos int, load, lastMS float64, wanted ...state.Want) *state.Tracking {
	return &state.Tracking{At: t0.Add(-30 * time.Second), Fast: load, Slow: load, Serving: dynos,
		LastMS: lastMS, AvgMS: 300, IdleMS: 100, Wanted: wanted}
}

// utilizationBeat is a utilization-signal answer: utilization u, the queue
// time beside it.
func utilizationBeat(u float64, queueMS int) probe.Result {
	return probe.AnsweredUtilization(200, u, time.Duration(queueMS)*time.Millisecond, 0.7)
}

// TestTrackingRules decides one tick from a given memory, rule by rule.
func TestTrackingRules(t *testing.T) {
	utilization := func(s *settings.Settings) { s.Signal, s.TargetUtilizationPct = probe.Utilization, 70 }
	for _, tt := range []struct {
		name    string
		set     func(*settings.Settings)
		mem     *state.Tracking
		st      state.State // Tracking is set from mem
		probe   probe.Result
		current int
		now     time.Duration // after t0
		target  int
		reason  Reason
		notices []notify.Event
	}{
		{
			name: "one heartbeat is not an average: no scale up on the first", probe: answered(900), current: 2,
			target: 2, reason: Steady,
		},
		{
			// 4 × (1 − 100/830) = 3.52, not over 4 × 80 % × 1.1.
			name: "within the tolerance over the target: steady", mem: warm(4, 3.52, 830), probe: answered(830), current: 4,
			target: 4, reason: Steady,
		},
		{
			// 4 × (1 − 100/840) = 3.52 + : 5 dynos run it at 70 %.
			name: "past the tolerance: to the count that runs it at the target", mem: warm(4, 3.53, 840), probe: answered(840), current: 4,
			target: 5, reason: AboveTarget,
		},
		{
			// The load 4 × (1 − 100/7000) averages 3.2; the backlog's wait grew
			// 3000 ms in 30 s: the arrivals are 1.1 × what 4 dynos serve, 4.4,
			// which 6 run at 80 %.
			name: "a saturation lasting 90 s: scale up by how fast the backlog grows",
			mem:  withSaturation(warm(4, 3.0, 4000), -90*time.Second), probe: answered(7000), current: 4,
			target: 6, reason: AboveTarget,
		},
		{
			name: "a saturation of 60 s is a busy minute passing: steady",
			mem:  withSaturation(warm(4, 3.0, 4000), -60*time.Second), probe: answered(7000), current: 4,
			target: 4, reason: Steady,
		},
		{
			name: "a saturated backlog that shrinks is draining: no scale up",
			mem:  withSaturation(warm(4, 3.0, 8000), -90*time.Second), probe: answered(7000), current: 4,
			target: 4, reason: Booting,
		},
		{
			// 4 × 1.5 = 6 dynos' worth, which 8 run at 80 %.
			name: "no answer where the last one got one: 1.5 times the serving dynos' load, at once",
			mem:  warm(4, 3.0, 900), probe: probe.TimedOut(10 * time.Second), current: 4,
			target: 8, reason: AboveTarget,
		},
		{
			// 2 serving, 2 booting: 2 × 1.5 = 3 dynos' worth wants 4, which 4 cover.
			name: "booting dynos count toward a scale up", mem: warm(2, 1.6, 900), probe: probe.TimedOut(10 * time.Second), current: 4,
			st:     state.State{Recent: []state.ScaleEvent{{At: t0.Add(-30 * time.Second), From: 2, To: 4, OK: true}}},
			target: 4, reason: Booting,
		},
		{
			name: "one booting dyno does not cover it", mem: warm(2, 1.6, 900), probe: probe.TimedOut(10 * time.Second), current: 3,
			st:     state.State{Recent: []state.ScaleEvent{{At: t0.Add(-30 * time.Second), From: 2, To: 3, OK: true}}},
			target: 4, reason: AboveTarget,
		},
		{
			name: "a dyno is booting no longer after the boot time", mem: warm(2, 1.6, 900), probe: probe.TimedOut(10 * time.Second), current: 4,
			st: state.State{Recent: []state.ScaleEvent{{At: t0.Add(-60 * time.Second), From: 2, To: 4, OK: true}}},
			// 4 serving now where 2 served: new capacity, which does not show yet.
			target: 4, reason: Booting,
		},
		{
			// The held 4 is 119 s old: the load 4 × (1 − 100/133) ≈ 1 wants 2.
			name: "the hold keeps the most wanted within the window", mem: warm(4, 1.0, 133, state.Want{At: t0.Add(-119 * time.Second), Dynos: 4}),
			probe: answered(133), current: 4,
			target: 4, reason: Stabilizing,
		},
		{
			name: "at the window's edge the hold lets go, in one step", mem: warm(4, 1.0, 133, state.Want{At: t0.Add(-120 * time.Second), Dynos: 4}),
			probe: answered(133), current: 4,
			target: 2, reason: BelowTarget,
		},
		{
			name: "scaled down only to a margin below the target", mem: warm(4, 2.5, 267), probe: answered(267), current: 4,
			// 2.5 dynos' worth runs at 80 % on 4, at 76 % of the target's on 5.
			target: 4, reason: Steady,
		},
		{
			// 10 × (1 − 100/182) = 4.5 dynos' worth runs at 76 % of the
			// target's on 8: two dynos fewer, not the quarter of ten (3).
			name: "a scale down gives up a quarter of the count at least: held", mem: warm(10, 4.5, 182), probe: answered(182), current: 10,
			target: 10, reason: Stabilizing,
		},
		{
			// 10 × (1 − 100/167) = 4.0 dynos' worth: 7 at 76 % of the target's.
			name: "a scale down gives up a quarter of the count at least: down", mem: warm(10, 4.0, 167), probe: answered(167), current: 10,
			target: 7, reason: BelowTarget,
		},
		{
			// Capacity added during a saturated run drains its backlog
			// until 30 s from now.
			name: "no answer while added capacity drains the backlog: no scale up",
			mem:  withDrain(warm(4, 3.0, 900), t0.Add(30*time.Second)), probe: probe.TimedOut(10 * time.Second), current: 4,
			target: 4, reason: Booting,
		},
		{
			name: "no answer once the backlog should have drained: 1.5 times the load again",
			mem:  withDrain(warm(4, 3.0, 900), t0), probe: probe.TimedOut(10 * time.Second), current: 4,
			target: 8, reason: AboveTarget,
		},
		{
			name: "a broken probe never scales", mem: warm(4, 3.0, 900), probe: beat(probe.Error), current: 4,
			target: 4, reason: ProbeError, notices: []notify.Event{notify.ProbeError},
		},
		{
			name: "paused", mem: warm(4, 3.0, 900), st: state.State{Paused: true}, probe: probe.TimedOut(10 * time.Second), current: 4,
			target: 4, reason: Paused,
		},
		{
			name: "over the maximum: straight to it", mem: warm(4, 1.0, 133), probe: answered(133), current: 12,
			target: 10, reason: OutsideBounds,
		},
		{
			name: "at the maximum: held there, one notice", mem: warm(10, 9.0, 900), probe: probe.TimedOut(10 * time.Second), current: 10,
			target: 10, reason: AtMax, notices: []notify.Event{notify.NeedsAboveMax},
		},
		{
			name: "at the minimum: held there", set: func(s *settings.Settings) { s.MinDynos = settings.Fixed(4) },
			mem: warm(4, 1.0, 133), probe: answered(133), current: 4,
			target: 4, reason: AtMin,
		},
		{
			name: "at zero, a quiet heartbeat reads no load: stays", set: func(s *settings.Settings) { s.MinDynos = settings.Fixed(0) },
			probe: answered(150), current: 0,
			target: 0, reason: Steady,
		},
		{
			name: "at zero, a heartbeat that fails asks for one", set: func(s *settings.Settings) { s.MinDynos = settings.Fixed(0) },
			probe: probe.TimedOut(10 * time.Second), current: 0,
			target: 1, reason: AboveTarget,
		},
		{
			name: "cooling down", set: func(s *settings.Settings) { s.Cooldown = 5 * time.Minute },
			st: state.State{LastScaleAt: t0.Add(-time.Minute)}, mem: warm(4, 3.0, 900), probe: probe.TimedOut(10 * time.Second), current: 4,
			target: 4, reason: CoolingDown,
		},
		{
			// 4 × 0.73 = 2.92 is within 5 % over 4 × 70 %.
			name: "utilization: within the tolerance, steady", set: utilization,
			mem: warm(4, 2.92, 20), probe: utilizationBeat(0.73, 20), current: 4,
			target: 4, reason: Steady,
		},
		{
			// 4 × 0.8 = 3.2 dynos' worth: 5 run it at 64 %.
			name: "utilization: over the tolerance, to the target", set: utilization,
			mem: warm(4, 3.2, 20), probe: utilizationBeat(0.8, 20), current: 4,
			target: 5, reason: AboveTarget,
		},
		{
			// The queue grew 3000 ms in 30 s: 4 × 1.1 = 4.4 dynos' worth, 7 at 70 %.
			name: "utilization: a busy window whose queue grows says how much more", set: utilization,
			mem: withUtil(withSaturation(warm(4, 3.6, 2000), -30*time.Second), 1), probe: utilizationBeat(1, 5000), current: 4,
			target: 7, reason: AboveTarget,
		},
		{
			name: "utilization: a busy window whose queue shrinks is the backlog's", set: utilization,
			mem: withUtil(withSaturation(warm(4, 2.4, 5000), -30*time.Second), 1), probe: utilizationBeat(1, 2000), current: 4,
			target: 4, reason: Booting,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := trackingSettings()
			if tt.set != nil {
				tt.set(&s)
			}
			st := tt.st
			st.Tracking = tt.mem
			in := Input{Settings: s, State: st, Probe: tt.probe, Current: tt.current, Now: t0.Add(tt.now)}
			d := Decide(in)
			if d.Target != tt.target || d.Reason != tt.reason {
				t.Errorf("Decide = %d (%s), want %d (%s)", d.Target, d.Reason, tt.target, tt.reason)
			}
			var events []notify.Event
			for _, n := range d.Notices {
				events = append(events, n.Event)
			}
			if !slices.Equal(events, tt.notices) {
				t.Errorf("notices %v, want %v", events, tt.notices)
			}
			if d.Policy != settings.PolicyTracking {
				t.Errorf("decided by %q", d.Policy)
			}
			if tt.probe.Verdict == probe.Error && tt.mem != nil && !trackingEqual(*d.Next.Tracking, *tt.mem) {
				t.Errorf("a broken probe changed the memory: %+v, was %+v", *d.Next.Tracking, *tt.mem)
			}
		})
	}
}

func withSaturation(m *state.Tracking, since time.Duration) *state.Tracking {
	m.SaturatedAt = t0.Add(since)
	return m
}

func withDrain(m *state.Tracking, until time.Time) *state.Tracking {
	m.BusySince, m.DrainUntil = t0.Add(-150*time.Second), until
	return m
}

// TestTrackingDrainTime: capacity that starts serving during a run of
// saturated heartbeats is given 0.3 of the run's length to drain the
// backlog; a run that ends forgets it.
func TestTrackingDrainTime(t *testing.T) {
	for _, tt := range []struct {
		name             string
		busy             time.Duration // the run's first heartbeat, before t0
		probe            probe.Result
		serving          int
		busySince, drain time.Duration // want, after t0 (0: zero time)
	}{
		{name: "2 to 4 serving, 100 s into the run: 30 s", busy: 100 * time.Second, probe: probe.TimedOut(10 * time.Second), serving: 4,
			busySince: -100 * time.Second, drain: 30 * time.Second},
		{name: "the same dynos serving: none", busy: 120 * time.Second, probe: probe.TimedOut(10 * time.Second), serving: 2,
			busySince: -120 * time.Second},
		{name: "an answer under saturation ends the run", busy: 120 * time.Second, probe: answered(150), serving: 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mem := warm(2, 1.6, 2500)
			mem.BusySince = t0.Add(-tt.busy)
			in := Input{Settings: trackingSettings(), State: state.State{Tracking: mem}, Probe: tt.probe, Current: tt.serving, Now: t0}
			got := Decide(in).Next.Tracking
			at := func(d time.Duration) time.Time {
				if d == 0 {
					return time.Time{}
				}
				return t0.Add(d)
			}
			if !got.BusySince.Equal(at(tt.busySince)) || !got.DrainUntil.Equal(at(tt.drain)) {
				t.Errorf("busy since %v, drained at %v; want %v, %v", got.BusySince, got.DrainUntil, at(tt.busySince), at(tt.drain))
			}
		})
	}
}

func withUtil(m *state.Tracking, u float64) *state.Tracking {
	m.LastUtil = u
	return m
}

func trackingEqual(a, b state.Tracking) bool {
	return a.At.Equal(b.At) && a.Fast == b.Fast && a.Slow == b.Slow && a.Serving == b.Serving &&
		a.LastMS == b.LastMS && a.IdleMS == b.IdleMS && a.AvgMS == b.AvgMS && slices.Equal(a.Wanted, b.Wanted)
}

// With the queue_time signal the tracking policy has no load to read and
// decides by the original's streaks, in its own name.
func TestTrackingOnQueueTimeUsesTheStreaks(t *testing.T) {
	s := trackingSettings()
	s.Signal = probe.QueueTime
	st, qty := state.State{}, 2
	var d Decision
	for i := range 3 {
		in := Input{Settings: s, State: st, Probe: beat(probe.Fail), Current: qty, Now: t0.Add(time.Duration(i) * 30 * time.Second)}
		d = Decide(in)
		st = d.Next
	}
	if d.Target != 3 || d.Reason != SlowStreak || d.Policy != settings.PolicyTracking {
		t.Errorf("third fail: %d (%s) by %s, want 3 (SlowStreak) by tracking", d.Target, d.Reason, d.Policy)
	}
}

// TestTrackingOverTicks plays a rush and its end through Decide and Settle,
// a tick every 30 s, against an app whose latency is a queue's: 100 ms
// idle, 600 rpm a dyno, new dynos serving after the 60 s boot, the rush 4
// times the load. The first scale up comes at once, the rush has the
// dynos that keep it under the maximum response time (6) within two
// minutes and keeps them while it lasts, the scale down comes only after
// the hold, and the memory stays small.
func TestTrackingOverTicks(t *testing.T) {
	s := trackingSettings()
	s.NotifyOnEveryScale = true
	const rushFrom, rushTo = 10 * time.Minute, 40 * time.Minute
	latency := func(at time.Duration, dynos int) probe.Result {
		rpm := 700.0
		if at >= rushFrom && at < rushTo {
			rpm = 2800
		}
		rho := rpm / (600 * float64(dynos))
		if rho >= 1 {
			return probe.TimedOut(s.HeartbeatTimeout)
		}
		return answered(int(100 / (1 - min(rho, 0.95))))
	}
	st, qty := state.State{}, 2
	type scale struct {
		at time.Duration
		to int
	}
	var scales []scale
	// serving is the dynos requested a boot time ago, or fewer if fewer now.
	serving := func(at time.Duration) int {
		n := 2
		for _, sc := range scales {
			if sc.at <= at-s.BootTime {
				n = sc.to
			}
		}
		return min(n, qty)
	}
	for at := time.Duration(0); at < time.Hour; at += 30 * time.Second {
		in := Input{Settings: s, State: st, Probe: latency(at, serving(at)), Current: qty, Now: t0.Add(at)}
		d := Decide(in)
		next := d.Next
		if d.Scales() {
			var notices []notify.Notice
			next, notices = Settle(in, d, Outcome{})
			qty = d.Target
			scales = append(scales, scale{at, d.Target})
			for _, n := range notices {
				if !strings.Contains(n.Text, "policy tracking") {
					t.Errorf("notice %q does not name the policy", n.Text)
				}
				// Why, in the policy's terms: the load against the 80 % target.
				if !strings.Contains(n.Text, "the 80% target") || strings.Contains(n.Text, "(unknown)") {
					t.Errorf("notice %q does not say why in the policy's terms", n.Text)
				}
			}
		}
		st = next
		if m := st.Tracking; m == nil || len(m.Wanted) > wantedLimit {
			t.Fatalf("%s: memory %+v", at, m)
		}
	}
	t.Logf("scales: %v", scales)
	if len(scales) == 0 || scales[0].at > rushFrom+30*time.Second {
		t.Fatalf("scales %v, want the first within a tick of %s", scales, rushFrom)
	}
	covered := time.Duration(-1)
	for i, sc := range scales {
		if sc.to >= 6 && covered < 0 {
			covered = sc.at
		}
		if covered >= 0 && sc.at < rushTo && sc.to < 6 {
			t.Errorf("scaled to %d at %s, below the rush's 6", sc.to, sc.at)
		}
		if i > 0 && sc.to < scales[i-1].to && sc.at >= rushTo && sc.at < rushTo+s.ScaleDownWindow {
			t.Errorf("scaled down to %d at %s, within the hold after the rush", sc.to, sc.at)
		}
	}
	if covered < 0 || covered > rushFrom+2*time.Minute {
		t.Errorf("the rush had 6 dynos at %s, want within two minutes of %s", covered, rushFrom)
	}
	if qty > 3 || len(scales) > 6 {
		t.Errorf("ended at %d dynos after %d scales, want back to at most 3 within six", qty, len(scales))
	}
}
