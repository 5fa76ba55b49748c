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

// jobSettings are a worker formation on job_latency: 0–5 dynos, fails 2,
// passes 3, latency thresholds 1–10 s.
func jobSettings() settings.Settings {
	s := originalSettings()
	s.ProcessType, s.Signal = "worker", probe.JobLatency
	s.MinDynos, s.MaxDynos = settings.Fixed(0), settings.Fixed(5)
	s.FailsToScaleUp, s.PassesToScaleDown = 2, 3
	s.MinJobLatency, s.MaxJobLatency = time.Second, 10*time.Second
	return s
}

// jb is one heartbeat of a job_latency formation: one queue's oldest job
// age in seconds, jobs waiting and busy; err makes it a probe error.
type jb struct {
	latency     float64
	depth, busy int
	err         bool
}

var (
	idle  = jb{}
	jbErr = jb{err: true}
)

func (b jb) result(s settings.Settings) probe.Result {
	if b.err {
		return probe.JobsOnly(probe.TimedOut(s.HeartbeatTimeout))
	}
	jobs := probe.Jobs{Queues: []probe.Queue{{Name: "default",
		Latency: time.Duration(b.latency * float64(time.Second)), Depth: b.depth, Busy: b.busy}}}
	lo, hi := s.Thresholds()
	return probe.AnsweredJobs(200, jobs, lo, hi)
}

// jobStep is one tick and what it must decide.
type jobStep struct {
	beat   jb
	qty    int    // the formation after the tick
	reason Reason // the tick's
}

// jobTicks plays steps 30 s apart through Decide and Settle, every scale
// succeeding, and returns the notices sent.
func jobTicks(t *testing.T, s settings.Settings, st state.State, start int, steps []jobStep) []notify.Notice {
	t.Helper()
	qty, now := start, t0
	var notices []notify.Notice
	for i, step := range steps {
		in := Input{Settings: s, State: st, Probe: step.beat.result(s), Current: qty, Now: now}
		d := Decide(in)
		notices = append(notices, d.Notices...)
		st = d.Next
		if d.Scales() {
			var settled []notify.Notice
			st, settled = Settle(in, d, Outcome{})
			notices = append(notices, settled...)
			qty = d.Target
		}
		if qty != step.qty || d.Reason != step.reason {
			t.Fatalf("tick %d (%+v): %d dynos for %s; want %d for %s", i+1, step.beat, qty, d.Reason, step.qty, step.reason)
		}
		now = now.Add(30 * time.Second)
	}
	return notices
}

func TestJobLatencyTicks(t *testing.T) {
	busy := func(n int) jb { return jb{busy: n} }
	tests := []struct {
		name  string
		tweak func(*settings.Settings)
		state state.State
		start int
		steps []jobStep
	}{
		{name: "at zero a minute's wait wakes one dyno at the first tick", start: 0, steps: []jobStep{
			{jb{latency: 60, depth: 12}, 1, JobsWaiting},
		}},
		{name: "at zero a job just enqueued wakes one too", start: 0, steps: []jobStep{
			{jb{depth: 1}, 1, JobsWaiting},
		}},
		{name: "at zero past a cooldown", tweak: func(s *settings.Settings) { s.Cooldown = time.Hour },
			state: state.State{LastScaleAt: t0.Add(-time.Minute)}, start: 0, steps: []jobStep{
				{jb{latency: 0.2, depth: 1}, 1, JobsWaiting},
			}},
		{name: "at zero, jobs another formation runs wake nothing", start: 0, steps: []jobStep{
			{busy(4), 0, Steady}, {idle, 0, Steady},
		}},
		{name: "no job waiting or running for the window returns to zero in one step", start: 3, steps: []jobStep{
			{idle, 3, Steady}, {idle, 3, Steady}, {idle, 0, NoJobs}, {idle, 0, AtMin},
		}},
		{name: "and back: zero, a job, one dyno, idle again, zero", start: 0, steps: []jobStep{
			{idle, 0, Steady}, {jb{latency: 3, depth: 2}, 1, JobsWaiting}, {busy(2), 1, Steady},
			{idle, 1, Steady}, {idle, 1, Steady}, {idle, 0, NoJobs},
		}},
		{name: "a running job restarts the window; a pass streak leaves one dyno", start: 2, steps: []jobStep{
			{idle, 2, Steady}, {idle, 2, Steady}, {busy(1), 1, FastStreak}, {idle, 1, Steady}, {idle, 1, Steady},
			{busy(1), 1, Steady}, {idle, 1, Steady}, {idle, 1, Steady}, {idle, 0, NoJobs},
		}},
		{name: "long jobs: no scale down while any runs", tweak: func(s *settings.Settings) { s.LongJobs = true }, start: 3, steps: []jobStep{
			{busy(2), 3, Steady}, {busy(2), 3, Steady}, {busy(2), 3, LongJobsBusy}, {busy(1), 3, LongJobsBusy},
			// None runs now: the pass streak goes on, the idle run starts.
			{idle, 2, FastStreak}, {idle, 2, Steady}, {idle, 0, NoJobs},
		}},
		{name: "without long jobs the same beats step down", start: 3, steps: []jobStep{
			{busy(2), 3, Steady}, {busy(2), 3, Steady}, {busy(2), 2, FastStreak},
		}},
		{name: "a slow streak adds INCREMENT", start: 1, steps: []jobStep{
			{jb{latency: 20, depth: 50, busy: 5}, 1, Steady}, {jb{latency: 25, depth: 60, busy: 5}, 2, SlowStreak},
			{jb{latency: 5, depth: 10, busy: 10}, 2, Steady},
		}},
		{name: "a slow streak at the maximum", start: 5, steps: []jobStep{
			{jb{latency: 20, depth: 50, busy: 5}, 5, Steady}, {jb{latency: 20, depth: 50, busy: 5}, 5, AtMax},
		}},
		{name: "jobs per dyno sizes at once, steps down on passes, to zero when idle", tweak: func(s *settings.Settings) { s.JobsPerDyno = 10 },
			start: 1, steps: []jobStep{
				{jb{latency: 2, depth: 31, busy: 10}, 5, JobsPerDyno}, // ⌈41/10⌉ = 5
				{jb{latency: 0.5, depth: 5, busy: 10}, 5, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 5, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 4, FastStreak},
				{jb{latency: 0.5, depth: 5, busy: 10}, 4, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 4, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 3, FastStreak},
				{jb{latency: 0.5, depth: 5, busy: 10}, 3, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 3, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 2, FastStreak},
				{jb{latency: 0.5, depth: 5, busy: 10}, 2, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 2, Steady},
				{jb{latency: 0.5, depth: 5, busy: 10}, 2, Steady}, // ⌈15/10⌉ = 2: no lower on passes
				{idle, 1, FastStreak}, {idle, 1, Steady}, {idle, 0, NoJobs},
			}},
		{name: "jobs per dyno from zero", tweak: func(s *settings.Settings) { s.JobsPerDyno = 10 }, start: 0, steps: []jobStep{
			{jb{latency: 1, depth: 30}, 3, JobsWaiting},
		}},
		{name: "jobs per dyno, capped by the maximum", tweak: func(s *settings.Settings) { s.JobsPerDyno = 1 }, start: 2, steps: []jobStep{
			{jb{latency: 1, depth: 30}, 5, JobsPerDyno}, {jb{latency: 1, depth: 30}, 5, AtMax},
		}},
		{name: "a slow streak past what jobs per dyno sizes", tweak: func(s *settings.Settings) { s.JobsPerDyno = 100 }, start: 1, steps: []jobStep{
			{jb{latency: 30, depth: 20}, 1, Steady}, {jb{latency: 30, depth: 20}, 2, SlowStreak},
		}},
		{name: "probe errors never scale, nor count, nor break the idle run", start: 2, steps: []jobStep{
			{idle, 2, Steady}, {jbErr, 2, ProbeError}, {jbErr, 2, ProbeError}, {idle, 2, Steady}, {idle, 0, NoJobs},
		}},
		{name: "at zero a probe error wakes nothing", start: 0, steps: []jobStep{
			{jbErr, 0, ProbeError}, {jbErr, 0, ProbeError},
		}},
		{name: "a minimum of one: idle goes to it, not to zero", tweak: func(s *settings.Settings) { s.MinDynos = settings.Fixed(1) }, start: 4,
			steps: []jobStep{{idle, 4, Steady}, {idle, 4, Steady}, {idle, 1, NoJobs}, {idle, 1, AtMin}}},
		{name: "a schedule's minimum lifts it from zero", tweak: func(s *settings.Settings) { s.MinDynos = settings.Fixed(2) }, start: 0,
			steps: []jobStep{{idle, 2, OutsideBounds}}},
		{name: "paused holds it at zero", state: state.State{Paused: true}, start: 0, steps: []jobStep{
			{jb{latency: 60, depth: 3}, 0, Paused},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := jobSettings()
			if tt.tweak != nil {
				tt.tweak(&s)
			}
			jobTicks(t, s, tt.state, tt.start, tt.steps)
		})
	}
}

// A job formation that cannot wake (a maximum of zero tonight) says so
// once, and a scale says why in the job report's terms.
func TestJobLatencyNotices(t *testing.T) {
	s := jobSettings()
	s.MaxDynos = settings.Fixed(0)
	notices := jobTicks(t, s, state.State{}, 0, []jobStep{
		{jb{latency: 60, depth: 3}, 0, AtMax}, {jb{latency: 90, depth: 3}, 0, AtMax},
	})
	if got := events(notices); !slices.Equal(got, []notify.Event{notify.NeedsAboveMax}) {
		t.Fatalf("notices %v, want one needs_above_max", got)
	}
	if text := notices[0].Text; !strings.Contains(text, "jobs are waiting and no dyno runs them") ||
		!strings.Contains(text, "Last heartbeat: job latency 1m0s, over 10s (oldest in default; 3 waiting, 0 busy in 1 queues).") {
		t.Errorf("needs_above_max text:\n%s", text)
	}

	s = jobSettings()
	s.NotifyOnEveryScale = true
	tests := []struct {
		start int
		steps []jobStep
		want  string
	}{
		{0, []jobStep{{jb{latency: 60, depth: 12}, 1, JobsWaiting}}, "Scaled to (1) dynos, from 0, because jobs were waiting with no dyno to run them."},
		{1, []jobStep{{jb{latency: 20, depth: 12}, 1, Steady}, {jb{latency: 20, depth: 12}, 2, SlowStreak}},
			"because the oldest job waited over 10s 2 times in a row."},
		{2, []jobStep{{idle, 2, Steady}, {idle, 2, Steady}, {idle, 0, NoJobs}},
			"Scaled to (0) dynos, from 2, because no job waited or ran for 3 heartbeats in a row."},
		{2, []jobStep{{busy1, 2, Steady}, {busy1, 2, Steady}, {busy1, 1, FastStreak}},
			"because the oldest job waited under 1s 3 times in a row."},
	}
	for _, tt := range tests {
		notices := jobTicks(t, s, state.State{}, tt.start, tt.steps)
		if len(notices) != 1 || notices[0].Event != notify.Scaled || !strings.Contains(notices[0].Text, tt.want) {
			t.Errorf("notices %+v; want one scaled notice with %q", notices, tt.want)
		}
	}
}

var busy1 = jb{busy: 1}

// FuzzJobLatency plays any sequence of job reports, probe errors, pauses
// and manual changes through a job_latency formation's rules and checks
// the guarantees every tick: bounds first; no scaling while paused or on a
// probe error; zero only after a beat with no job waiting or running;
// from zero, a waiting job always scales; with LONG_JOBS, no scale down
// while a job runs.
func FuzzJobLatency(f *testing.F) {
	f.Add([]byte{10, 0, 200, 1, 3, 2, 255, 3, 0, 0, 0, 0}, uint8(0), uint8(5), uint8(0), true)
	f.Add([]byte{0, 4, 0, 4, 0, 4, 90, 9, 1, 1}, uint8(1), uint8(3), uint8(7), false)
	f.Fuzz(func(t *testing.T, seq []byte, lo, hi, ratio uint8, long bool) {
		s := jobSettings()
		s.MinDynos, s.MaxDynos = settings.Fixed(int(lo%4)), settings.Fixed(int(hi%8))
		s.JobsPerDyno, s.LongJobs = int(ratio%20), long
		st, qty, now := state.State{}, 0, t0
		for i := 0; i+1 < len(seq); i += 2 {
			b := jb{latency: float64(seq[i]%64) / 2, depth: int(seq[i+1] % 8), busy: int(seq[i+1]/8) % 4}
			switch seq[i+1] % 11 {
			case 9:
				b = jbErr
			case 10:
				qty = int(seq[i] % 9) // someone scaled by hand
			}
			st.Paused = seq[i]%13 == 12
			p := b.result(s)
			_, bmax := s.Bounds(now)
			in := Input{Settings: s, State: st, Probe: p, Current: qty, Now: now}
			d := Decide(in)
			switch {
			case !checkGuardRails(t, i/2, in, d):
			case d.Target == 0 && qty > 0 && !p.Jobs.Idle():
				t.Fatalf("tick %d: to zero (%s) with jobs waiting or running: %s", i/2, d.Reason, p.Detail)
			case qty == 0 && bmax > 0 && p.Jobs.Waiting() && d.Target == 0:
				t.Fatalf("tick %d: jobs wait at zero and it stays (%s)", i/2, d.Reason)
			case long && d.Target < qty && p.Jobs.Busy() > 0:
				t.Fatalf("tick %d: long jobs running, scaled down %d → %d (%s)", i/2, qty, d.Target, d.Reason)
			}
			st = d.Next
			if d.Scales() {
				st, _ = Settle(in, d, Outcome{})
				qty = d.Target
			}
			now = now.Add(30 * time.Second)
		}
	})
}
