package decision

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// originalSettings are the settings the original's test suite used:
// min 400 ms, max 1000 ms, fails 3, passes 5, dynos 1–3.
func originalSettings() settings.Settings {
	return settings.Settings{
		AppName:                "myapp",
		ProcessType:            "web",
		MaxResponseTime:        1000 * time.Millisecond,
		MinResponseTime:        400 * time.Millisecond,
		FailsToScaleUp:         3,
		PassesToScaleDown:      5,
		MinDynos:               settings.Fixed(1),
		MaxDynos:               settings.Fixed(3),
		Location:               time.UTC,
		Increment:              1,
		NotifyIfNeedsExceedMax: true,
	}
}

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func beat(v probe.Verdict) probe.Result {
	switch v {
	case probe.Fail:
		return probe.Result{Verdict: v, Latency: 2 * time.Second, Status: 200}
	case probe.Pass:
		return probe.Result{Verdict: v, Latency: 100 * time.Millisecond, Status: 200}
	case probe.Error:
		return probe.Result{Verdict: v, Status: 404, Detail: "HTTP 404"}
	default:
		return probe.Result{Verdict: v, Latency: 500 * time.Millisecond, Status: 200}
	}
}

// sim plays ticks through Decide and Settle against a simulated formation,
// the way the tick orchestration does, one minute apart.
type sim struct {
	s         settings.Settings
	st        state.State
	qty       int
	now       time.Time
	scaleErr  error // every scale attempt fails with this when set
	cause     Cause // …for this cause
	planMax   int   // a scale above this fails as over the plan's limit (0: no limit)
	planSays  int   // …and the refusal says this limit, as Heroku's answers do (0: none)
	attempts  int
	targets   []int // the quantity each attempt asked for
	notices   []notify.Notice
	decisions []Decision
}

func newSim(s settings.Settings, qty int) *sim { return &sim{s: s, qty: qty, now: t0} }

func (m *sim) beat(v probe.Verdict) Decision {
	in := Input{Settings: m.s, State: m.st, Probe: beat(v), Current: m.qty, Now: m.now}
	d := Decide(in)
	m.notices = append(m.notices, d.Notices...)
	next := d.Next
	if d.Scales() {
		m.attempts++
		m.targets = append(m.targets, d.Target)
		var notices []notify.Notice
		out := m.outcome(d.Target)
		next, notices = Settle(in, d, out)
		m.notices = append(m.notices, notices...)
		if out.Err == nil {
			m.qty = d.Target
		}
	}
	m.st = next
	m.now = m.now.Add(time.Minute)
	m.decisions = append(m.decisions, d)
	return d
}

func (m *sim) outcome(target int) Outcome {
	if m.planMax > 0 && target > m.planMax {
		out := Outcome{Err: fmt.Errorf("heroku: 422 cannot_run_above_limit: Cannot run more than %d Standard-1X size dynos.", m.planMax), Cause: CauseOverPlan}
		out.PlanLimit = m.planSays
		return out
	}
	return Outcome{Err: m.scaleErr, Cause: m.cause}
}

func (m *sim) beats(vs ...probe.Verdict) {
	for _, v := range vs {
		m.beat(v)
	}
}

func repeat(v probe.Verdict, n int) []probe.Verdict {
	out := make([]probe.Verdict, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func events(ns []notify.Notice) []notify.Event {
	var out []notify.Event
	for _, n := range ns {
		out = append(out, n.Event)
	}
	return out
}

const (
	F = probe.Fail
	P = probe.Pass
	K = probe.OK
	E = probe.Error
)

func TestScalingSequences(t *testing.T) {
	tests := []struct {
		name    string
		tweak   func(*settings.Settings)
		start   int
		beats   []probe.Verdict
		wantQty []int // quantity after each beat
	}{
		{name: "three slow beats scale up once", start: 1, beats: repeat(F, 3), wantQty: []int{1, 1, 2}},
		{name: "rounds of five slow beats go 1→2→3→3", start: 1, beats: repeat(F, 15),
			wantQty: []int{1, 1, 2, 2, 2 /* round 1 */, 3, 3, 3, 3, 3 /* round 2 */, 3, 3, 3, 3, 3}},
		{name: "rounds of fast beats go 3→2→1→1", start: 3, beats: repeat(P, 15),
			wantQty: []int{3, 3, 3, 3, 2 /* round 1 */, 2, 2, 2, 2, 1 /* round 2 */, 1, 1, 1, 1, 1}},
		{name: "scale up stops at max", start: 3, beats: repeat(F, 6), wantQty: []int{3, 3, 3, 3, 3, 3}},
		{name: "scale down stops at min", start: 1, beats: repeat(P, 10), wantQty: repeat1(1, 10)},
		{name: "one opposite verdict then slow beats triggers", start: 1,
			beats: []probe.Verdict{P, F, F, F, F, F, F}, wantQty: []int{1, 1, 1, 2, 2, 2, 3}},
		{name: "one opposite verdict then fast beats triggers", start: 3,
			beats: []probe.Verdict{F, P, P, P, P, P, P}, wantQty: []int{3, 3, 3, 3, 3, 2, 2}},
		{name: "low low low high high high scales up", start: 2,
			beats: []probe.Verdict{P, P, P, F, F, F}, wantQty: []int{2, 2, 2, 2, 2, 3}},
		{name: "an in-range beat breaks a slow streak", start: 1,
			beats: []probe.Verdict{F, F, K, F, F, F}, wantQty: []int{1, 1, 1, 1, 1, 2}},
		{name: "an in-range app never scales down", start: 3, beats: repeat(K, 20), wantQty: repeat1(3, 20)},
		{name: "INCREMENT 2 goes 1→3", tweak: func(s *settings.Settings) { s.Increment = 2 },
			start: 1, beats: repeat(F, 3), wantQty: []int{1, 1, 3}},
		{name: "an increment past max is clamped to max", tweak: func(s *settings.Settings) { s.Increment = 5 },
			start: 1, beats: repeat(F, 3), wantQty: []int{1, 1, 3}},
		{name: "a decrement past min is clamped to min", tweak: func(s *settings.Settings) { s.Increment = 5 },
			start: 3, beats: repeat(P, 5), wantQty: []int{3, 3, 3, 3, 1}},
		{name: "raising MIN to 2 moves 1→2 at once", tweak: func(s *settings.Settings) { s.MinDynos = settings.Fixed(2) },
			start: 1, beats: []probe.Verdict{K}, wantQty: []int{2}},
		{name: "lowering MAX to 2 moves 4→2 in one step", tweak: func(s *settings.Settings) { s.MaxDynos = settings.Fixed(2) },
			start: 4, beats: []probe.Verdict{K}, wantQty: []int{2}},
		{name: "a bound correction ignores increment and streaks", tweak: func(s *settings.Settings) {
			s.MinDynos, s.MaxDynos = settings.Fixed(5), settings.Fixed(8)
		}, start: 1, beats: []probe.Verdict{P}, wantQty: []int{5}},
		{name: "max wins when min and max cross", tweak: func(s *settings.Settings) {
			s.MinDynos, s.MaxDynos = settings.Fixed(4), settings.Fixed(2)
		}, start: 1, beats: []probe.Verdict{K, F, F, F}, wantQty: []int{2, 2, 2, 2}},
		{name: "cooldown holds a second streak scale", tweak: func(s *settings.Settings) { s.Cooldown = 5 * time.Minute },
			start: 1, beats: repeat(F, 9), wantQty: []int{1, 1, 2, 2, 2, 2, 2, 3, 3}},
		{name: "cooldown does not hold a bound correction", tweak: func(s *settings.Settings) {
			s.Cooldown = time.Hour
			s.MaxDynos = settings.Fixed(2)
		}, start: 1, beats: []probe.Verdict{F, F, F, K}, wantQty: []int{1, 1, 2, 2}},
		{name: "probe errors neither count nor break a streak", start: 1,
			beats: []probe.Verdict{F, F, E, E, F}, wantQty: []int{1, 1, 1, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := originalSettings()
			if tt.tweak != nil {
				tt.tweak(&s)
			}
			m := newSim(s, tt.start)
			var got []int
			for _, v := range tt.beats {
				m.beat(v)
				got = append(got, m.qty)
			}
			if !slices.Equal(got, tt.wantQty) {
				t.Errorf("quantities = %v, want %v", got, tt.wantQty)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	tests := []struct {
		name    string
		tweak   func(*settings.Settings)
		state   state.State
		current int
		probe   probe.Verdict
		want    Reason
		target  int
	}{
		{name: "below min", tweak: func(s *settings.Settings) { s.MinDynos = settings.Fixed(2) }, current: 1, probe: K, want: OutsideBounds, target: 2},
		{name: "above max", current: 5, probe: K, want: OutsideBounds, target: 3},
		{name: "slow streak", state: state.State{SlowStreak: 2}, current: 1, probe: F, want: SlowStreak, target: 2},
		{name: "fast streak", state: state.State{FastStreak: 4}, current: 2, probe: P, want: FastStreak, target: 1},
		{name: "at max", state: state.State{SlowStreak: 2}, current: 3, probe: F, want: AtMax, target: 3},
		{name: "at min", state: state.State{FastStreak: 4}, current: 1, probe: P, want: AtMin, target: 1},
		{name: "cooling down", tweak: func(s *settings.Settings) { s.Cooldown = 10 * time.Minute },
			state: state.State{SlowStreak: 2, LastScaleAt: t0.Add(-9 * time.Minute)}, current: 1, probe: F, want: CoolingDown, target: 1},
		{name: "cooldown over", tweak: func(s *settings.Settings) { s.Cooldown = 10 * time.Minute },
			state: state.State{SlowStreak: 2, LastScaleAt: t0.Add(-10 * time.Minute)}, current: 1, probe: F, want: SlowStreak, target: 2},
		{name: "steady", current: 2, probe: K, want: Steady, target: 2},
		{name: "probe error", state: state.State{SlowStreak: 2}, current: 1, probe: E, want: ProbeError, target: 1},
		{name: "probe error still enforces bounds", current: 5, probe: E, want: OutsideBounds, target: 3},
		{name: "paused holds a slow streak", state: state.State{SlowStreak: 5, Paused: true}, current: 1, probe: F, want: Paused, target: 1},
		{name: "paused holds a bound correction", state: state.State{Paused: true}, current: 5, probe: K, want: Paused, target: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := originalSettings()
			if tt.tweak != nil {
				tt.tweak(&s)
			}
			d := Decide(Input{Settings: s, State: tt.state, Probe: beat(tt.probe), Current: tt.current, Now: t0})
			if d.Reason != tt.want || d.Target != tt.target {
				t.Errorf("got %s → %d, want %s → %d", d.Reason, d.Target, tt.want, tt.target)
			}
		})
	}
}

func TestStreaks(t *testing.T) {
	tests := []struct {
		name             string
		beats            []probe.Verdict
		wantSlow, wantFa int
	}{
		{name: "fails count up", beats: []probe.Verdict{F, F}, wantSlow: 2},
		{name: "a pass resets the slow streak", beats: []probe.Verdict{F, F, P}, wantFa: 1},
		{name: "a fail resets the fast streak", beats: []probe.Verdict{P, P, P, F}, wantSlow: 1},
		{name: "ok resets both", beats: []probe.Verdict{P, P, K}},
		{name: "an error keeps both", beats: []probe.Verdict{F, F, E}, wantSlow: 2},
		{name: "a scale clears the streak", beats: []probe.Verdict{F, F, F}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newSim(originalSettings(), 1)
			m.beats(tt.beats...)
			if m.st.SlowStreak != tt.wantSlow || m.st.FastStreak != tt.wantFa {
				t.Errorf("streaks slow=%d fast=%d, want slow=%d fast=%d", m.st.SlowStreak, m.st.FastStreak, tt.wantSlow, tt.wantFa)
			}
		})
	}
}

func TestSchedules(t *testing.T) {
	vancouver, err := time.LoadLocation("America/Vancouver")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	s := originalSettings()
	s.MinDynos = settings.Schedule([]settings.Slot{{Hour: 0, Value: 2}, {Hour: 9, Value: 5}, {Hour: 17, Value: 3}})
	s.MaxDynos = settings.Fixed(10)
	s.Location = vancouver
	tests := []struct {
		name    string
		local   string // wall time in Vancouver
		current int
		target  int
	}{
		{name: "01:00 uses the 0:00 slot", local: "01:00", current: 1, target: 2},
		{name: "09:00 uses the 9:00 slot", local: "09:00", current: 2, target: 5},
		{name: "09:05 still 9:00", local: "09:05", current: 2, target: 5},
		{name: "12:00 still 9:00", local: "12:00", current: 5, target: 5},
		{name: "18:00 uses the 17:00 slot", local: "18:00", current: 1, target: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock, _ := time.Parse("15:04", tt.local)
			now := time.Date(2026, 7, 1, clock.Hour(), clock.Minute(), 0, 0, vancouver).UTC()
			d := Decide(Input{Settings: s, Probe: beat(K), Current: tt.current, Now: now})
			if d.Target != tt.target {
				t.Errorf("target %d at %s Vancouver, want %d", d.Target, tt.local, tt.target)
			}
		})
	}
}

func TestNotices(t *testing.T) {
	tests := []struct {
		name     string
		tweak    func(*settings.Settings)
		start    int
		beats    []probe.Verdict
		scaleErr error
		want     []notify.Event
		contains string // in the one notice's text, case-insensitive
	}{
		{name: "at max with slow beats sends one message about max", start: 3, beats: repeat(F, 10),
			want: []notify.Event{notify.NeedsAboveMax}, contains: "max"},
		{name: "at max notice can be turned off", tweak: func(s *settings.Settings) { s.NotifyIfNeedsExceedMax = false },
			start: 3, beats: repeat(F, 10)},
		{name: "at one dyno below-min sends nothing", tweak: func(s *settings.Settings) { s.NotifyIfNeedsBelowMin = true },
			start: 1, beats: repeat(P, 10)},
		{name: "min 2 scales to 2, then one message about min",
			tweak: func(s *settings.Settings) { s.MinDynos = settings.Fixed(2); s.NotifyIfNeedsBelowMin = true },
			start: 1, beats: repeat(P, 12), want: []notify.Event{notify.NeedsBelowMin}, contains: "min"},
		{name: "below-min notice is off by default", tweak: func(s *settings.Settings) { s.MinDynos = settings.Fixed(2) },
			start: 2, beats: repeat(P, 12)},
		{name: "a failed scale sends one message about the failure", tweak: func(s *settings.Settings) { s.NotifyOnScaleFails = true },
			start: 1, beats: repeat(F, 3), scaleErr: errors.New("heroku: 503"), want: []notify.Event{notify.ScaleFailed}, contains: "fail"},
		{name: "a failed scale is silent unless NOTIFY_ON_SCALE_FAILS", start: 1, beats: repeat(F, 3), scaleErr: errors.New("heroku: 503")},
		{name: "every scale sends a message", tweak: func(s *settings.Settings) { s.NotifyOnEveryScale = true },
			start: 1, beats: repeat(F, 6), want: []notify.Event{notify.Scaled, notify.Scaled}, contains: "scaled to"},
		{name: "scales are silent unless NOTIFY_ON_EVERY_SCALE", start: 1, beats: repeat(F, 6)},
		{name: "every ping sends a message", tweak: func(s *settings.Settings) { s.NotifyOnEveryPing = true },
			start: 2, beats: []probe.Verdict{K, K}, want: []notify.Event{notify.Ping, notify.Ping}, contains: "ping: 500ms"},
		{name: "probe errors send one notice per episode", start: 1, beats: []probe.Verdict{E, E, E, K, E, E},
			want: []notify.Event{notify.ProbeError, notify.ProbeError}, contains: "HTTP 404"},
		{name: "max notice again after the episode clears", start: 3, beats: append(append(repeat(F, 4), K), repeat(F, 4)...),
			want: []notify.Event{notify.NeedsAboveMax, notify.NeedsAboveMax}},
		{name: "too much scaling over too little time, once per episode",
			tweak: func(s *settings.Settings) {
				s.MaxDynos = settings.Fixed(10)
				s.ScaleDiffThreshold, s.ScaleDiffPeriod = 2, 30*time.Minute
			},
			start: 1, beats: repeat(F, 15), want: []notify.Event{notify.ScaleDiffExceeded}, contains: "too much scaling"},
		{name: "scale diff within threshold is silent",
			tweak: func(s *settings.Settings) {
				s.MaxDynos = settings.Fixed(10)
				s.ScaleDiffThreshold, s.ScaleDiffPeriod = 2, 30*time.Minute
			},
			start: 1, beats: repeat(F, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := originalSettings()
			if tt.tweak != nil {
				tt.tweak(&s)
			}
			m := newSim(s, tt.start)
			m.scaleErr = tt.scaleErr
			m.beats(tt.beats...)
			if got := events(m.notices); !slices.Equal(got, tt.want) {
				t.Fatalf("notices %v, want %v", got, tt.want)
			}
			if tt.contains != "" && !strings.Contains(strings.ToLower(m.notices[0].Text), strings.ToLower(tt.contains)) {
				t.Errorf("notice text %q does not contain %q", m.notices[0].Text, tt.contains)
			}
			for _, n := range m.notices {
				if n.App != "myapp" || n.ProcessType != "web" || !strings.Contains(n.Text, "myapp") {
					t.Errorf("notice %+v does not name the app and process type", n)
				}
			}
		})
	}
}

func TestFailedScaleKeepsStreakAndRetries(t *testing.T) {
	m := newSim(originalSettings(), 1)
	m.scaleErr = errors.New("heroku: 429 rate_limit")
	m.beats(F, F, F)
	if m.qty != 1 || m.st.SlowStreak != 3 {
		t.Fatalf("after a failed scale: qty %d streak %d, want 1 and 3", m.qty, m.st.SlowStreak)
	}
	m.scaleErr = nil
	m.beat(F)
	if m.attempts != 2 || m.qty != 2 || m.st.SlowStreak != 0 {
		t.Errorf("retry: attempts %d qty %d streak %d, want 2, 2, 0", m.attempts, m.qty, m.st.SlowStreak)
	}
}

func TestPlanLimitActsAsMaxForTheEpisode(t *testing.T) {
	s := originalSettings()
	s.MaxDynos = settings.Fixed(10)
	m := newSim(s, 1)
	m.planMax, m.planSays = 2, 2
	m.beats(repeat(F, 3+3+10)...) // 1 → 2, then 3 is refused, then ten more slow beats
	if m.qty != 2 || m.attempts != 2 {
		t.Errorf("quantity %d after %d scale attempts, want 2 after 2 (no retry each minute)", m.qty, m.attempts)
	}
	if got := events(m.notices); !slices.Equal(got, []notify.Event{notify.NeedsAboveMax}) || !strings.Contains(m.notices[0].Text, "plan") {
		t.Errorf("notices %v (%+v), want one needs_above_max about the plan", got, m.notices)
	}
	if last := m.decisions[len(m.decisions)-1]; last.Reason != AtMax {
		t.Errorf("reason %s while held by the plan, want AtMax", last.Reason)
	}
	if m.st.PlanLimit != 2 {
		t.Errorf("stored plan limit %d, want Heroku's 2", m.st.PlanLimit)
	}
	// The slow spell ends; the next one may try the plan again (it may have been upgraded).
	m.beats(K, F, F, F)
	if m.attempts != 3 || len(m.notices) != 2 {
		t.Errorf("next episode: %d attempts and %d notices, want 3 and 2", m.attempts, len(m.notices))
	}
}

// TestPlanLimit plays slow or in-range spells against a plan that allows
// fewer dynos than the settings: the answer's limit is the ceiling when it
// has one, one fewer than the refused quantity when not, and the plan's
// limit never scales the app down.
func TestPlanLimit(t *testing.T) {
	tests := []struct {
		name         string
		min, max     int
		increment    int
		start        int
		planMax      int
		planSays     int // the limit the refusal says (0: none)
		storedLimit  int // a ceiling left in the state by an earlier refusal
		beats        []probe.Verdict
		wantTargets  []int
		wantQty      int
		wantLimit    int // stored at the end
		wantReason   Reason
		wantInNotice string
	}{
		{name: "large increment, limit said", max: 10, increment: 4, start: 1, planMax: 3, planSays: 3,
			beats: repeat(F, 12), wantTargets: []int{5, 3}, wantQty: 3, wantLimit: 3, wantReason: AtMax, wantInNotice: "at most 3"},
		{name: "large increment, limit not said", max: 10, increment: 4, start: 1, planMax: 3,
			beats: repeat(F, 12), wantTargets: []int{5, 4, 3}, wantQty: 3, wantLimit: 3, wantReason: AtMax, wantInNotice: "assumes 4"},
		{name: "increment 2, limit said", max: 10, increment: 2, start: 1, planMax: 2, planSays: 2,
			beats: repeat(F, 20), wantTargets: []int{3, 2}, wantQty: 2, wantLimit: 2, wantReason: AtMax},
		{name: "minimum above the plan, limit said", min: 5, max: 8, increment: 1, start: 1, planMax: 3, planSays: 3,
			beats: repeat(K, 12), wantTargets: []int{5, 3}, wantQty: 3, wantLimit: 3, wantReason: AtMax},
		{name: "minimum above the plan, limit not said", min: 5, max: 8, increment: 1, start: 1, planMax: 3,
			beats: repeat(K, 12), wantTargets: []int{5, 4, 3}, wantQty: 3, wantLimit: 3, wantReason: AtMax},
		// Heroku runs 4 but says 3 (the size changed, or the plan): hold, never scale down.
		{name: "limit below the current quantity", max: 10, increment: 1, start: 4, planMax: 3, planSays: 3,
			beats: repeat(F, 12), wantTargets: []int{5}, wantQty: 4, wantLimit: 3, wantReason: AtMax, wantInNotice: "the 4 dynos running now"},
		{name: "limit below the current quantity and the minimum", min: 5, max: 8, increment: 1, start: 2, planMax: 1, planSays: 1,
			beats: repeat(K, 12), wantTargets: []int{5}, wantQty: 2, wantLimit: 1, wantReason: AtMax},
		{name: "limit said at or above the refused quantity is not believed", max: 10, increment: 1, start: 2, planMax: 2, planSays: 5,
			beats: repeat(F, 9), wantTargets: []int{3}, wantQty: 2, wantLimit: 2, wantReason: AtMax},
		// A ceiling from the slow spell does not stop a correction down to max.
		{name: "above max with a plan limit comes down to max", max: 4, increment: 1, start: 6, storedLimit: 2,
			beats: repeat(F, 1), wantTargets: []int{4}, wantQty: 4, wantLimit: 2, wantReason: OutsideBounds},
		// The episode ends with an in-range heartbeat at or above the minimum.
		{name: "ceiling forgotten when the app stops wanting more", max: 10, increment: 1, start: 2, storedLimit: 2,
			beats: repeat(K, 1), wantQty: 2, wantLimit: 0, wantReason: Steady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := originalSettings()
			s.MinDynos, s.MaxDynos, s.Increment = settings.Fixed(max(tt.min, 1)), settings.Fixed(tt.max), tt.increment
			m := newSim(s, tt.start)
			m.planMax, m.planSays = tt.planMax, tt.planSays
			m.st.PlanLimit = tt.storedLimit
			m.beats(tt.beats...)
			if !slices.Equal(m.targets, tt.wantTargets) || m.qty != tt.wantQty {
				t.Errorf("asked for %v and ended at %d; want %v and %d", m.targets, m.qty, tt.wantTargets, tt.wantQty)
			}
			if m.st.PlanLimit != tt.wantLimit {
				t.Errorf("stored plan limit %d, want %d", m.st.PlanLimit, tt.wantLimit)
			}
			if last := m.decisions[len(m.decisions)-1]; last.Reason != tt.wantReason {
				t.Errorf("last reason %s, want %s", last.Reason, tt.wantReason)
			}
			wantNotices := []notify.Event(nil)
			if tt.planMax > 0 {
				wantNotices = []notify.Event{notify.NeedsAboveMax} // one for the whole episode
			}
			if got := events(m.notices); !slices.Equal(got, wantNotices) {
				t.Fatalf("notices %v, want %v", got, wantNotices)
			}
			if tt.wantInNotice != "" && !strings.Contains(m.notices[0].Text, tt.wantInNotice) {
				t.Errorf("notice %q does not say %q", m.notices[0].Text, tt.wantInNotice)
			}
		})
	}
}

func TestPersonNeededNotifiesOncePerEpisode(t *testing.T) {
	tests := []struct {
		name   string
		cause  Cause
		err    error
		wantIn string
	}{
		{name: "key refused", cause: CauseRefused, err: errors.New("heroku: 401 unauthorized: Invalid credentials provided."), wantIn: "API key"},
		{name: "payment required", cause: CauseAccount, err: errors.New("heroku: 402 delinquent: This account is delinquent."), wantIn: "billing"},
		{name: "verification needed", cause: CauseAccount, err: errors.New("heroku: 422 verification_needed: Please verify your account."), wantIn: "billing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newSim(originalSettings(), 1)
			m.cause, m.scaleErr = tt.cause, tt.err
			m.beats(repeat(F, 8)...)
			if got := events(m.notices); !slices.Equal(got, []notify.Event{notify.HerokuError}) {
				t.Fatalf("notices %v, want exactly one heroku_error", got)
			}
			if !strings.Contains(m.notices[0].Text, tt.wantIn) || !strings.Contains(m.notices[0].Text, "myapp") {
				t.Errorf("notice %q does not say %q or the app", m.notices[0].Text, tt.wantIn)
			}
			if m.qty != 1 || m.st.SlowStreak != 8 || m.st.PlanLimit != 0 {
				t.Errorf("qty %d streak %d plan limit %d: want no scaling, the streak kept, no plan limit", m.qty, m.st.SlowStreak, m.st.PlanLimit)
			}
			// Fixed: the scale goes through, so the episode ends.
			m.cause, m.scaleErr = CauseTransient, nil
			m.beat(F)
			if m.qty != 2 || m.st.Episodes.HerokuError {
				t.Errorf("after the fix: qty %d, heroku error episode %t; want 2 and false", m.qty, m.st.Episodes.HerokuError)
			}
		})
	}
}

func TestManualScalingIsNoticed(t *testing.T) {
	m := newSim(originalSettings(), 1)
	m.beats(F, F)
	m.qty = 3 // someone ran `heroku ps:scale web=3`
	d := m.beat(F)
	if d.Current != 3 || d.Reason != AtMax || m.st.Quantity != 3 {
		t.Errorf("decision %+v, state quantity %d: want current 3, AtMax, quantity 3", d, m.st.Quantity)
	}
}

func TestDecideDoesNotMutateInput(t *testing.T) {
	st := state.State{Recent: []state.ScaleEvent{{At: t0, From: 1, To: 2, OK: true}}, SlowStreak: 2}
	in := Input{Settings: originalSettings(), State: st, Probe: beat(F), Current: 2, Now: t0.Add(time.Minute)}
	d := Decide(in)
	Settle(in, d, Outcome{})
	if in.State.SlowStreak != 2 || len(in.State.Recent) != 1 {
		t.Errorf("input state changed: %+v", in.State)
	}
}

func TestRecentStaysBounded(t *testing.T) {
	s := originalSettings()
	s.MaxDynos = settings.Fixed(2)
	s.FailsToScaleUp, s.PassesToScaleDown = 1, 1
	s.ScaleDiffThreshold, s.ScaleDiffPeriod = 100, 24*time.Hour
	m := newSim(s, 1)
	for range 500 {
		m.beats(F, P)
	}
	if len(m.st.Recent) > recentLimit {
		t.Errorf("recent has %d events, want at most %d", len(m.st.Recent), recentLimit)
	}
}

func TestNoticesFlagDryRunAndPause(t *testing.T) {
	s := originalSettings()
	s.DryRun, s.NotifyOnEveryPing = true, true
	d := Decide(Input{Settings: s, State: state.State{Paused: true}, Probe: beat(K), Current: 1, Now: t0})
	if len(d.Notices) != 1 || !strings.Contains(d.Notices[0].Title, "[dry run, paused]") {
		t.Errorf("notices %+v: want one ping flagged dry run and paused", d.Notices)
	}
}

func repeat1(n, count int) []int {
	out := make([]int, count)
	for i := range out {
		out[i] = n
	}
	return out
}
