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

// proportionalSettings: 200–1000 ms, a 750 ms target, dynos 1–10, a
// 60 s boot and a 40-minute scale-down window (the defaults' shape).
func proportionalSettings() settings.Settings {
	s := originalSettings()
	s.Policy = settings.PolicyProportional
	s.MinResponseTime = 200 * time.Millisecond
	s.MaxDynos = settings.Fixed(10)
	s.HeartbeatTimeout = 10 * time.Second
	s.TargetResponseTime = 750 * time.Millisecond
	s.BootTime = time.Minute
	s.ScaleDownWindow = 40 * time.Minute
	return s
}

// answered is a heartbeat answered in ms, with the verdict the probe gives it.
func answered(ms int) probe.Result {
	return probe.Answered(200, time.Duration(ms)*time.Millisecond, 200*time.Millisecond, time.Second)
}

// calm is a memory of a smoothed latency of ms at dynos serving, a minute old.
func calm(ms float64, dynos int) *state.Proportional {
	return &state.Proportional{LatencyMS: ms, At: t0.Add(-time.Minute), Dynos: dynos}
}

func TestProportional(t *testing.T) {
	for _, tt := range []struct {
		name    string
		set     func(*settings.Settings)
		st      state.State
		probe   probe.Result
		current int
		target  int
		reason  Reason
		notices []notify.Event
		check   func(t *testing.T, d Decision)
	}{
		{
			name: "over the maximum: scale up in proportion, at most doubling", probe: answered(2000), current: 3,
			// 3 × (0.85/0.8) × 2000/1000 is 6.4: capped at twice the 3 serving.
			target: 6, reason: AboveTarget,
		},
		{
			name: "a little over the maximum: the count that brings it to the target", probe: answered(1200), current: 4,
			// 4 × (0.85/0.8) × 1.2 = 5.1 → 6.
			target: 6, reason: AboveTarget,
		},
		{
			name: "between the target and the maximum: hold", probe: answered(900), current: 3,
			target: 3, reason: Steady,
		},
		{
			name: "one slow heartbeat after a calm average does not scale",
			st:   state.State{Proportional: calm(600, 3)}, probe: answered(1500), current: 3,
			target: 3, reason: Steady,
			check: func(t *testing.T, d Decision) {
				// …but the dynos it would have wanted hold a later scale down.
				if got := windowMax(d.Next.Proportional.Wanted, 0); got != 5 {
					t.Errorf("wanted %d within the window, want 5", got)
				}
			},
		},
		{
			name: "a timeout counts as the probe timeout", probe: probe.TimedOut(10 * time.Second), current: 2,
			target: 4, reason: AboveTarget,
		},
		{
			name: "a 5xx counts as the probe timeout", probe: probe.Answered(503, 40*time.Millisecond, 200*time.Millisecond, time.Second), current: 2,
			target: 4, reason: AboveTarget,
		},
		{
			name: "bounds first: below the minimum goes to it, even when fast",
			set:  func(s *settings.Settings) { s.MinDynos = settings.Fixed(3) }, probe: answered(100), current: 1,
			target: 3, reason: OutsideBounds,
		},
		{
			name: "bounds first: above the maximum goes to it, even when slow", probe: answered(5000), current: 14,
			target: 10, reason: OutsideBounds,
		},
		{
			name: "bounds follow the schedule",
			set: func(s *settings.Settings) {
				s.MinDynos = settings.Schedule([]settings.Slot{{Hour: 0, Value: 1}, {Hour: 9, Value: 4}})
			},
			probe: answered(300), current: 2, target: 4, reason: OutsideBounds,
		},
		{
			name: "paused: never scales, still remembers",
			st:   state.State{Paused: true}, probe: answered(5000), current: 3,
			target: 3, reason: Paused,
			check: func(t *testing.T, d Decision) {
				if d.Next.Proportional == nil || d.Next.Proportional.LatencyMS != 5000 {
					t.Errorf("memory %+v, want the heartbeat smoothed in", d.Next.Proportional)
				}
			},
		},
		{
			name: "a probe error never scales, leaves the memory, and notifies once",
			st:   state.State{Proportional: calm(3000, 3)}, probe: beat(probe.Error), current: 3,
			target: 3, reason: ProbeError, notices: []notify.Event{notify.ProbeError},
			check: func(t *testing.T, d Decision) {
				if got := *d.Next.Proportional; got.LatencyMS != 3000 || len(got.Wanted) != 0 {
					t.Errorf("memory %+v, want it as it was", got)
				}
			},
		},
		{
			name: "a probe error episode already notified: no second notice",
			st:   state.State{Episodes: state.Episodes{ProbeError: true}}, probe: beat(probe.Error), current: 3,
			target: 3, reason: ProbeError,
		},
		{
			name:  "at the maximum and still too slow: one notice",
			probe: answered(3000), current: 10, target: 10, reason: AtMax, notices: []notify.Event{notify.NeedsAboveMax},
			check: func(t *testing.T, d Decision) {
				if text := d.Notices[0].Text; !strings.Contains(text, "averaging 3000 ms; 20 dynos would bring it to the 750 ms target") {
					t.Errorf("notice %q does not say the policy's evidence", text)
				}
			},
		},
		{
			name: "at the maximum, episode already notified: no second notice",
			st:   state.State{Episodes: state.Episodes{AboveMax: true}}, probe: answered(3000), current: 10,
			target: 10, reason: AtMax,
		},
		{
			name: "the plan's limit caps a scale up",
			st:   state.State{PlanLimit: 4}, probe: answered(3000), current: 3,
			target: 4, reason: AboveTarget,
		},
		{
			name: "at the plan's limit: held, and the 422's notice already told",
			st:   state.State{PlanLimit: 3}, probe: answered(3000), current: 3,
			target: 3, reason: AtMax,
		},
		{
			name: "the plan's limit is forgotten once the app stops wanting more",
			st:   state.State{PlanLimit: 3}, probe: answered(500), current: 3,
			target: 3, reason: Steady,
			check: func(t *testing.T, d Decision) {
				if d.Next.PlanLimit != 0 {
					t.Errorf("plan limit %d kept, want it cleared", d.Next.PlanLimit)
				}
			},
		},
		{
			name: "cooldown holds a scale up",
			set:  func(s *settings.Settings) { s.Cooldown = 5 * time.Minute },
			st:   state.State{LastScaleAt: t0.Add(-time.Minute)}, probe: answered(3000), current: 3,
			target: 3, reason: CoolingDown,
		},
		{
			name: "dynos still booting count toward the scale up",
			st:   state.State{Recent: []state.ScaleEvent{{At: t0.Add(-30 * time.Second), From: 3, To: 6, Reason: AboveTarget, OK: true}}},
			// 3 serving at 2000 ms want 6: the 3 booting cover it.
			probe: answered(2000), current: 6, target: 6, reason: Booting,
		},
		{
			name:  "dynos booting past the boot time count as serving",
			st:    state.State{Recent: []state.ScaleEvent{{At: t0.Add(-2 * time.Minute), From: 3, To: 6, Reason: AboveTarget, OK: true}}},
			probe: answered(2000), current: 6, target: 12 - 2, reason: AboveTarget, // 6 × 2, capped at the maximum
		},
		{
			name: "capacity just arrived and the backlog is draining: hold",
			st: state.State{
				Proportional: calm(8000, 2),
				LastProbe:    &state.ProbeRecord{At: t0.Add(-time.Minute), Verdict: probe.Fail, LatencyMS: 8000, Status: 200},
			},
			probe: answered(3000), current: 4, target: 4, reason: Booting,
			check: func(t *testing.T, d Decision) {
				if !d.Next.Proportional.At.IsZero() {
					t.Error("the draining heartbeat was kept in the average; want the next one to start it")
				}
			},
		},
		{
			name: "fast, but more dynos were wanted within the window: hold",
			st: state.State{Proportional: &state.Proportional{
				LatencyMS: 300, At: t0.Add(-time.Minute), Dynos: 6,
				Wanted: []state.Want{{At: t0.Add(-10 * time.Minute), Dynos: 6}},
			}},
			probe: answered(300), current: 6, target: 6, reason: Stabilizing,
		},
		{
			name: "fast all through the window: scale down, at most half at once",
			st: state.State{Proportional: &state.Proportional{
				LatencyMS: 200, At: t0.Add(-time.Minute), Dynos: 8,
				Wanted: []state.Want{{At: t0.Add(-41 * time.Minute), Dynos: 8}},
			}},
			// 8 × (1 − 150/200) / (1 − 150/750) = 2.5 → 3 wanted; half of 8 is the step.
			probe: answered(200), current: 8, target: 4, reason: BelowTarget,
		},
		{
			name: "fast all through the window: down to the most wanted in it",
			st: state.State{Proportional: &state.Proportional{
				LatencyMS: 300, At: t0.Add(-time.Minute), Dynos: 6,
				Wanted: []state.Want{{At: t0.Add(-30 * time.Minute), Dynos: 5}},
			}},
			probe: answered(300), current: 6, target: 5, reason: BelowTarget,
		},
		// The window's edge: a count wanted exactly one window ago has left
		// it (the window is the last ScaleDownWindow, its start excluded).
		{
			name: "more wanted a second under one window ago: hold",
			st: state.State{Proportional: &state.Proportional{
				LatencyMS: 300, At: t0.Add(-time.Minute), Dynos: 6,
				Wanted: []state.Want{{At: t0.Add(-40*time.Minute + time.Second), Dynos: 6}},
			}},
			probe: answered(300), current: 6, target: 6, reason: Stabilizing,
		},
		{
			name: "more wanted exactly one window ago: forgotten, scale down",
			st: state.State{Proportional: &state.Proportional{
				LatencyMS: 300, At: t0.Add(-time.Minute), Dynos: 6,
				Wanted: []state.Want{{At: t0.Add(-40 * time.Minute), Dynos: 6}},
			}},
			// 6 × (1 − 150/300) / 0.8 = 3.75 → 4 wanted now.
			probe: answered(300), current: 6, target: 4, reason: BelowTarget,
			check: func(t *testing.T, d Decision) {
				if w := d.Next.Proportional.Wanted; len(w) != 1 || w[0].Dynos != 4 || !w[0].At.Equal(t0) {
					t.Errorf("remembered %v, want only this tick's 4", w)
				}
			},
		},
		{
			name: "no window: scale down at once",
			set:  func(s *settings.Settings) { s.ScaleDownWindow = 0 },
			st:   state.State{Proportional: calm(300, 6)}, probe: answered(300), current: 6,
			// 6 × (1 − 150/300) / 0.8 = 3.75 → 4.
			target: 4, reason: BelowTarget,
			check: func(t *testing.T, d Decision) {
				if len(d.Next.Proportional.Wanted) != 0 {
					t.Errorf("remembered %v with no window", d.Next.Proportional.Wanted)
				}
			},
		},
		{
			name: "no scale down while dynos boot",
			set:  func(s *settings.Settings) { s.ScaleDownWindow = 0 },
			st: state.State{Recent: []state.ScaleEvent{{At: t0.Add(-30 * time.Second), From: 4, To: 6, Reason: AboveTarget, OK: true}},
				Proportional: calm(300, 4)},
			probe: answered(200), current: 6, target: 6, reason: Steady,
		},
		{
			name: "cooldown holds a scale down",
			set:  func(s *settings.Settings) { s.ScaleDownWindow, s.Cooldown = 0, 5*time.Minute },
			st:   state.State{LastScaleAt: t0.Add(-time.Minute), Proportional: calm(300, 6)}, probe: answered(300), current: 6,
			target: 6, reason: CoolingDown,
		},
		{
			name: "at the minimum and could go lower: one notice, when asked",
			set: func(s *settings.Settings) {
				s.ScaleDownWindow, s.MinDynos, s.NotifyIfNeedsBelowMin = 0, settings.Fixed(3), true
			},
			st: state.State{Proportional: calm(200, 3)}, probe: answered(200), current: 3,
			target: 3, reason: AtMin, notices: []notify.Event{notify.NeedsBelowMin},
		},
		{
			name: "at the minimum, episode already notified: no second notice",
			set: func(s *settings.Settings) {
				s.ScaleDownWindow, s.MinDynos, s.NotifyIfNeedsBelowMin = 0, settings.Fixed(3), true
			},
			st: state.State{Episodes: state.Episodes{BelowMin: true}, Proportional: calm(200, 3)}, probe: answered(200), current: 3,
			target: 3, reason: AtMin,
		},
		{
			name: "a larger increment is the least step down",
			set:  func(s *settings.Settings) { s.ScaleDownWindow, s.Increment = 0, 3 },
			st:   state.State{Proportional: calm(200, 4)}, probe: answered(200), current: 4,
			// 4 × 0.25/0.8 = 1.25 → 2 wanted; the step is max(3, half of 4).
			target: 2, reason: BelowTarget,
		},
		{
			name:  "dry run decides the same, and its notices say so",
			set:   func(s *settings.Settings) { s.DryRun, s.NotifyOnEveryPing = true, true },
			probe: answered(2000), current: 3, target: 6, reason: AboveTarget, notices: []notify.Event{notify.Ping},
			check: func(t *testing.T, d Decision) {
				if !strings.HasPrefix(d.Notices[0].Title, "[dry run]") {
					t.Errorf("notice title %q, want it marked as a dry run", d.Notices[0].Title)
				}
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := proportionalSettings()
			if tt.set != nil {
				tt.set(&s)
			}
			d := Decide(Input{Settings: s, State: tt.st, Probe: tt.probe, Current: tt.current, Now: t0})
			if d.Target != tt.target || d.Reason != tt.reason {
				t.Errorf("Decide = %d (%s), want %d (%s)", d.Target, d.Reason, tt.target, tt.reason)
			}
			if d.Policy != settings.PolicyProportional {
				t.Errorf("Policy = %q, want proportional", d.Policy)
			}
			var events []notify.Event
			for _, n := range d.Notices {
				events = append(events, n.Event)
			}
			if !slices.Equal(events, tt.notices) {
				t.Errorf("notices %v, want %v", events, tt.notices)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

// TestPolicyChoice: the same heartbeats decide by the policy the settings
// name, and the decision says which decided.
func TestPolicyChoice(t *testing.T) {
	for _, tt := range []struct {
		policy settings.Policy
		target int
		reason Reason
	}{
		{policy: "", target: 3, reason: Steady}, // the zero value is the original: one slow beat is no streak
		{policy: settings.PolicyOriginal, target: 3, reason: Steady},
		{policy: settings.PolicyProportional, target: 6, reason: AboveTarget},
	} {
		t.Run(tt.policy.String(), func(t *testing.T) {
			s := proportionalSettings()
			s.Policy = tt.policy
			d := Decide(Input{Settings: s, Probe: answered(2000), Current: 3, Now: t0})
			if d.Target != tt.target || d.Reason != tt.reason || d.Policy.String() != tt.policy.String() {
				t.Errorf("Decide = %d (%s) by %q, want %d (%s) by %q", d.Target, d.Reason, d.Policy, tt.target, tt.reason, tt.policy.String())
			}
		})
	}
}

// TestProportionalOverTicks plays a rush and its end through Decide and
// Settle, a tick a minute, against an app that needs 4 dynos during the
// rush: the scale up comes within two ticks, the scale down only after the
// window, and the memory stays small.
func TestProportionalOverTicks(t *testing.T) {
	s := proportionalSettings()
	s.NotifyOnEveryScale = true
	const rushFrom, rushTo = 5, 60
	latency := func(minute, dynos int) int {
		switch {
		case minute < rushFrom:
			return 500
		case minute < rushTo && dynos < 4:
			return 4000
		case minute < rushTo:
			return 500
		}
		return 250
	}
	st, qty, now := state.State{}, 2, t0
	type scale struct{ minute, to int }
	var scales []scale
	for minute := range 180 {
		in := Input{Settings: s, State: st, Probe: answered(latency(minute, qty)), Current: qty, Now: now}
		d := Decide(in)
		next := d.Next
		if d.Scales() {
			var notices []notify.Notice
			next, notices = Settle(in, d, Outcome{})
			qty = d.Target
			scales = append(scales, scale{minute, d.Target})
			for _, n := range notices {
				if !strings.Contains(n.Text, "policy proportional") {
					t.Errorf("notice %q does not name the policy", n.Text)
				}
			}
		}
		st, now = next, now.Add(time.Minute)
		if p := st.Proportional; p != nil && len(p.Wanted) > wantedLimit {
			t.Fatalf("minute %d: %d counts remembered, more than %d", minute, len(p.Wanted), wantedLimit)
		}
	}
	t.Logf("scales (minute, to): %v", scales)
	if len(scales) == 0 || scales[0].to <= 2 || scales[0].minute > rushFrom+1 {
		t.Fatalf("first scale %v, want a scale up within two ticks of minute %d", scales, rushFrom)
	}
	ups := 0
	for i, sc := range scales {
		up := i == 0 || sc.to > scales[i-1].to
		switch {
		case up && sc.minute >= rushTo:
			t.Errorf("scaled up at minute %d, after the rush", sc.minute)
		case up:
			ups++
		case sc.minute < rushTo+40-1:
			// The rush wanted its dynos until its last minute.
			t.Errorf("scaled down at minute %d, within the 40-minute window after the rush's end at %d", sc.minute, rushTo)
		}
	}
	if ups > 2 {
		t.Errorf("%d scale ups for one rush, want at most 2", ups)
	}
	if qty >= 4 {
		t.Errorf("ended at %d dynos, want fewer than the rush needed", qty)
	}
}

// TestProportionalScaleDownWindowEdge plays the scale-down window tick by
// tick: one slow heartbeat wants more dynos, fast ones follow, and the
// policy holds the dynos on every tick while that count is younger than the
// window, then scales down on the tick it is exactly one window old.
func TestProportionalScaleDownWindowEdge(t *testing.T) {
	for _, tt := range []struct {
		name          string
		window, every time.Duration
	}{
		{name: "a 40-minute window, a tick a minute", window: 40 * time.Minute, every: time.Minute},
		{name: "a 10-minute window, a tick each 30 s", window: 10 * time.Minute, every: 30 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := proportionalSettings()
			s.ScaleDownWindow = tt.window
			st := state.State{Proportional: &state.Proportional{LatencyMS: 300, At: t0.Add(-tt.every), Dynos: 6}}
			edge := int(tt.window / tt.every)
			for tick := 0; tick <= edge; tick++ {
				now := t0.Add(time.Duration(tick) * tt.every)
				ms := 300
				if tick == 0 {
					ms = 1500 // one slow heartbeat: 10 dynos wanted, not scaled to
				}
				d := Decide(Input{Settings: s, State: st, Probe: answered(ms), Current: 6, Now: now})
				switch {
				case tick == 0 && windowMax(d.Next.Proportional.Wanted, 0) != 10:
					t.Fatalf("tick 0: remembered %v, want 10 dynos wanted", d.Next.Proportional.Wanted)
				case tick < edge && (d.Target != 6 || d.Reason != Stabilizing):
					t.Fatalf("tick %d (%s after the slow heartbeat): %d (%s), want 6 (Stabilizing): 10 were wanted within the window",
						tick, now.Sub(t0), d.Target, d.Reason)
				case tick == edge && (d.Target >= 6 || d.Reason != BelowTarget):
					t.Fatalf("tick %d (exactly the %s window after the slow heartbeat): %d (%s), want a scale down (BelowTarget)",
						tick, tt.window, d.Target, d.Reason)
				}
				st = d.Next
			}
		})
	}
}

// TestRememberKeepsTheWindowMaximum: the remembered counts stay a short
// falling sequence whose first is the window's maximum, even past the bound.
func TestRememberKeepsTheWindowMaximum(t *testing.T) {
	for _, tt := range []struct {
		name   string
		counts []int // one a minute
		want   []int // remembered after the last
	}{
		{name: "a higher count replaces the lower ones", counts: []int{3, 2, 4, 1}, want: []int{4, 1}},
		{name: "equal counts keep the latest", counts: []int{3, 3, 3}, want: []int{3}},
		{name: "a long fall keeps its top and its latest (16 in all)",
			counts: []int{40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21},
			want:   []int{40, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w []state.Want
			for i, c := range tt.counts {
				w = remember(w, c, t0.Add(time.Duration(i)*time.Minute), time.Hour)
			}
			var got []int
			for _, x := range w {
				got = append(got, x.Dynos)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("remembered %v, want %v", got, tt.want)
			}
		})
	}
}
