package decision

import (
	"errors"
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
	planMax   int   // a scale above this fails as over the plan's limit (0: no limit)
	refused   bool  // …as a bad key or unknown app
	attempts  int
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
		return Outcome{Err: errors.New("heroku: 422 invalid_params: over the plan's limit"), OverPlan: true}
	}
	return Outcome{Err: m.scaleErr, Refused: m.refused}
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
	m.planMax = 2
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
	// The slow spell ends; the next one may try the plan again (it may have been upgraded).
	m.beats(K, F, F, F)
	if m.attempts != 3 || len(m.notices) != 2 {
		t.Errorf("next episode: %d attempts and %d notices, want 3 and 2", m.attempts, len(m.notices))
	}
}

func TestPlanLimitBelowTheMinimum(t *testing.T) {
	s := originalSettings()
	s.MinDynos, s.MaxDynos = settings.Fixed(5), settings.Fixed(8)
	m := newSim(s, 1)
	m.planMax = 3
	m.beats(repeat(K, 12)...)
	if m.qty != 3 || m.attempts != 3 {
		t.Errorf("quantity %d after %d attempts; want 3 after 3 (5 and 4 refused, then no more tries)", m.qty, m.attempts)
	}
	if got := events(m.notices); !slices.Equal(got, []notify.Event{notify.NeedsAboveMax}) {
		t.Errorf("notices %v, want one needs_above_max", got)
	}
}

func TestPlanLimitWithALargeIncrement(t *testing.T) {
	s := originalSettings()
	s.MaxDynos, s.Increment = settings.Fixed(10), 2
	m := newSim(s, 1)
	m.planMax = 2
	m.beats(repeat(F, 20)...) // 1 → 3 refused, 1 → 2, then held at 2 for the rest of the slow spell
	if m.qty != 2 || m.attempts != 2 {
		t.Errorf("quantity %d after %d attempts, want 2 after 2", m.qty, m.attempts)
	}
	if got := events(m.notices); !slices.Equal(got, []notify.Event{notify.NeedsAboveMax}) {
		t.Errorf("notices %v, want the one plan notice for the whole slow spell", got)
	}
}

func TestRefusedKeyNotifiesOncePerEpisode(t *testing.T) {
	m := newSim(originalSettings(), 1)
	m.refused, m.scaleErr = true, errors.New("heroku: 401 unauthorized: Invalid credentials provided.")
	m.beats(repeat(F, 8)...)
	if got := events(m.notices); !slices.Equal(got, []notify.Event{notify.HerokuError}) {
		t.Fatalf("notices %v, want exactly one heroku_error", got)
	}
	if !strings.Contains(m.notices[0].Text, "API key") || !strings.Contains(m.notices[0].Text, "myapp") {
		t.Errorf("notice %q does not say the key or the app", m.notices[0].Text)
	}
	if m.qty != 1 || m.st.SlowStreak != 8 {
		t.Errorf("qty %d streak %d: want no scaling and the streak kept", m.qty, m.st.SlowStreak)
	}
	// Fixed: the formation is read again, so the episode ends.
	m.refused, m.scaleErr = false, nil
	m.beat(F)
	if m.qty != 2 || m.st.Episodes.HerokuError {
		t.Errorf("after the fix: qty %d, heroku error episode %t; want 2 and false", m.qty, m.st.Episodes.HerokuError)
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
