// Package decision holds autoscalebot's scaling rules as pure functions: the
// settings, the stored state, one heartbeat, the formation's quantity and the
// time go in; the target quantity, a reason, notices and the next state come
// out. Nothing here reads the clock or does I/O, so every rule is testable
// tick by tick.
package decision

import (
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Reason says why a tick chose its target. The names are stable: they appear
// in logs, history and metrics. The type is state's, so that stored records
// hold it typed (state cannot import this package).
type Reason = state.Reason

const (
	OutsideBounds Reason = "OutsideBounds" // quantity outside [min, max]: go straight to the nearest bound
	SlowStreak    Reason = "SlowStreak"    // enough consecutive fails: scale up
	FastStreak    Reason = "FastStreak"    // enough consecutive passes: scale down
	AtMax         Reason = "AtMax"         // would scale up, but already at max
	AtMin         Reason = "AtMin"         // would scale down, but already at min
	CoolingDown   Reason = "CoolingDown"   // would scale, but the last scale was too recent
	Steady        Reason = "Steady"        // nothing to do
	ProbeError    Reason = "ProbeError"    // the heartbeat itself is broken: streaks untouched
	Paused        Reason = "Paused"        // scaling paused by the operator
	HerokuRefused Reason = "HerokuRefused" // Heroku refused the key or the account, or knows no such app/type: no decision
)

// Input is everything one decision depends on.
type Input struct {
	Settings settings.Settings
	State    state.State
	Probe    probe.Result
	Current  int       // formation quantity now
	Now      time.Time // the tick's time
}

// Decision is the outcome of one tick before any scale is attempted.
type Decision struct {
	Current  int
	Target   int
	Min, Max int // bounds in force now (max wins if they cross)
	Reason   Reason
	// Next is the state to commit before calling Heroku. If the decision
	// scales, Settle then moves it forward with the outcome.
	Next    state.State
	Notices []notify.Notice
	// Policy is the rules that decided, for status, history and metrics.
	Policy settings.Policy
}

// Scales reports whether the decision asks for a different quantity.
func (d Decision) Scales() bool { return d.Target != d.Current }

// recentLimit caps the scale events kept in the state item; the full history
// lives in records.
const recentLimit = 50

// Decide applies the policy the settings choose (AUTOSCALE_POLICY), or a
// job_latency formation's rules: the caller does not know which runs.
func Decide(in Input) Decision {
	if in.Settings.Signal == probe.JobLatency {
		return jobs(in)
	}
	switch in.Settings.Policy {
	case settings.PolicyProportional:
		return proportional(in)
	case settings.PolicyTracking:
		return tracking(in)
	}
	return original(in)
}

// observe starts a decision as every policy does: the state carried
// forward, the bounds in force, the streaks and the probe-error episode
// moved on by this heartbeat, and the notice for every ping.
func observe(in Input, policy settings.Policy) (Decision, state.State, noticer) {
	s := in.Settings
	next := in.State
	next.Quantity = in.Current
	next.Recent = append([]state.ScaleEvent(nil), in.State.Recent...)
	lo, hi := s.Bounds(in.Now)
	d := Decision{Current: in.Current, Target: in.Current, Min: lo, Max: hi, Reason: Steady, Policy: policy}
	n := newNoticer(in)

	switch in.Probe.Verdict {
	case probe.Fail:
		next.SlowStreak++
		next.FastStreak = 0
	case probe.Pass:
		next.FastStreak++
		next.SlowStreak = 0
	case probe.OK:
		next.SlowStreak, next.FastStreak = 0, 0
	}
	if in.Probe.Verdict == probe.Error {
		if !next.Episodes.ProbeError {
			d.Notices = append(d.Notices, n.probeError())
		}
		next.Episodes.ProbeError = true
	} else {
		next.Episodes.ProbeError = false
	}
	if s.NotifyOnEveryPing {
		d.Notices = append(d.Notices, n.ping())
	}
	return d, next, n
}

// original applies the rules in the original's order: update the streaks, pull
// the quantity inside the bounds, then scale up on a slow streak or down on a
// fast one, by INCREMENT and never past a bound.
func original(in Input) Decision { return streaks(in, settings.PolicyOriginal) }

// streaks decides by the original's rules on behalf of policy.
func streaks(in Input, policy settings.Policy) Decision {
	s := in.Settings
	d, next, n := observe(in, policy)
	slow := next.SlowStreak >= s.FailsToScaleUp
	step := s.Increment
	if !slow {
		step = -step
	}
	return carry(in, d, next, n, wish{
		up:         slow,
		down:       next.FastStreak >= s.PassesToScaleDown,
		target:     in.Current + step,
		upReason:   SlowStreak,
		downReason: FastStreak,
		whyUp:      func() string { return streakWhy(next.SlowStreak, "slow") },
		whyDown:    func() string { return streakWhy(next.FastStreak, "fast") },
	})
}

// Cause is why a Heroku call failed, as far as the rules care.
type Cause int

const (
	// CauseTransient is any failure the next tick may get past (a 5xx, a
	// timeout, a 429, an invalid request): the streaks stay, the next tick retries.
	CauseTransient Cause = iota
	// CauseOverPlan: Heroku refused the quantity as beyond what the plan
	// allows for the dyno size (422 cannot_run_above_limit).
	CauseOverPlan
	// CauseRefused: Heroku refused the key (401/403) or knows no such app
	// or process type (404).
	CauseRefused
	// CauseAccount: the account needs attention: billing missing or
	// overdue (402, 422 verification_needed) or the account suspended.
	CauseAccount
)

// NeedsPerson reports whether nothing will work until a person acts.
func (c Cause) NeedsPerson() bool { return c == CauseRefused || c == CauseAccount }

// ceilingNow is the most dynos to ask for now: the maximum, or the plan's
// limit while Heroku's refusal holds. The limit is forgotten once the app
// stops wanting more, and the at-max episode ends once the app is no
// longer slow at the ceiling.
func ceilingNow(next *state.State, hi, current int, wantsMore, slow bool) (ceiling int, heldByPlan bool) {
	if !wantsMore {
		next.PlanLimit = 0
	}
	ceiling = hi
	if next.PlanLimit > 0 {
		ceiling = min(hi, next.PlanLimit)
	}
	if !slow || current < ceiling {
		next.Episodes.AboveMax = false
	}
	return ceiling, ceiling < hi
}

// coolingDown reports whether the last scale is too recent for a
// streak-driven one (bound corrections ignore it).
func coolingDown(s settings.Settings, next state.State, now time.Time) bool {
	return s.Cooldown > 0 && !next.LastScaleAt.IsZero() && now.Sub(next.LastScaleAt) < s.Cooldown
}

// Outcome is what became of the scale a decision asked for.
type Outcome struct {
	Err   error // nil: the formation now runs the target quantity
	Cause Cause // with Err, which rule applies
	// PlanLimit is, with CauseOverPlan, the most dynos Heroku said the plan
	// allows (its answer's "limit"); 0 when it did not say.
	PlanLimit int
}

// Settle moves the committed state forward with the outcome of the scale the
// decision asked for. A success resets the streaks and the max/min episodes;
// a failure keeps the streaks, so the next tick tries again, except past a
// plan limit, which holds until the slow episode ends.
func Settle(in Input, d Decision, out Outcome) (state.State, []notify.Notice) {
	s := in.Settings
	next := d.Next
	n := newNoticer(in)
	var notices []notify.Notice
	switch {
	case out.Err != nil && out.Cause == CauseOverPlan && d.Target > d.Current:
		ceiling := planCeiling(d.Target, out.PlanLimit)
		// One notice for the first refusal while the app wants more; a
		// lower quantity refused next is the same story.
		if s.NotifyIfNeedsExceedMax && next.PlanLimit == 0 && !next.Episodes.AboveMax {
			notices = append(notices, n.overPlan(d, ceiling, out.PlanLimit))
		}
		next.PlanLimit = ceiling
		next.Episodes.AboveMax = true
		return next, notices
	case out.Err != nil && out.Cause.NeedsPerson():
		return Refused(Input{Settings: s, State: next, Probe: in.Probe, Current: in.Current, Now: in.Now}, out.Err, out.Cause)
	case out.Err != nil:
		if s.NotifyOnScaleFails {
			notices = append(notices, n.scaleFailed(d, out.Err))
		}
		return next, notices
	}
	next.SlowStreak, next.FastStreak = 0, 0
	next.Episodes.AboveMax, next.Episodes.BelowMin, next.Episodes.HerokuError = false, false, false
	next.Quantity = d.Target
	next.LastScaleAt = in.Now
	next.Recent = pruneRecent(append(next.Recent, state.ScaleEvent{
		At: in.Now, From: d.Current, To: d.Target, Reason: d.Reason, OK: true,
	}), s, in.Now)
	if s.NotifyOnEveryScale {
		notices = append(notices, n.scaled(d))
	}
	if scaleDiffExceeded(s, next.Recent, d.Target, in.Now) {
		if !next.Episodes.ScaleDiff {
			notices = append(notices, n.scaleDiff(d, spread(next.Recent, d.Target, in.Now.Add(-s.ScaleDiffPeriod))))
		}
		next.Episodes.ScaleDiff = true
	}
	return next, notices
}

// planCeiling is the most dynos to ask for after target was refused as
// over the plan: Heroku's stated limit when it gave one below target, else
// the guess that one fewer may work (a further refusal lowers it again).
func planCeiling(target, limit int) int {
	if limit > 0 && limit < target {
		return limit
	}
	return target - 1
}

// Refused is the state and notices for a tick on which Heroku refused the
// key or the account, or did not know the app or process type (a cause
// that needs a person): no decision can be made, so the streaks stay as
// they are, and one notice goes out per episode.
func Refused(in Input, err error, cause Cause) (state.State, []notify.Notice) {
	next := in.State
	var notices []notify.Notice
	if !next.Episodes.HerokuError {
		notices = append(notices, newNoticer(in).refused(err, cause))
	}
	next.Episodes.HerokuError = true
	return next, notices
}

// scaleDiffExceeded reports whether the highest minus the lowest dyno count
// within the scale-diff period exceeds the threshold.
func scaleDiffExceeded(s settings.Settings, recent []state.ScaleEvent, current int, now time.Time) bool {
	if s.ScaleDiffThreshold <= 0 || s.ScaleDiffPeriod <= 0 {
		return false
	}
	r := spread(recent, current, now.Add(-s.ScaleDiffPeriod))
	return r.high-r.low > s.ScaleDiffThreshold
}

type quantityRange struct{ low, high int }

// spread is the range of dyno counts held at any time since start: the
// quantity each scale in the window started from and went to, and the current one.
func spread(recent []state.ScaleEvent, current int, start time.Time) quantityRange {
	r := quantityRange{low: current, high: current}
	for _, e := range recent {
		if !e.OK || e.At.Before(start) {
			continue
		}
		r.low, r.high = min(r.low, e.From, e.To), max(r.high, e.From, e.To)
	}
	return r
}

// pruneRecent keeps the scale events the scale-diff window can still see,
// and never more than recentLimit, so the state item stays small.
func pruneRecent(events []state.ScaleEvent, s settings.Settings, now time.Time) []state.ScaleEvent {
	keep := time.Hour
	if s.ScaleDiffPeriod > keep {
		keep = s.ScaleDiffPeriod
	}
	first := 0
	for first < len(events) && now.Sub(events[first].At) > keep {
		first++
	}
	if len(events)-first > recentLimit {
		first = len(events) - recentLimit
	}
	return append([]state.ScaleEvent(nil), events[first:]...)
}
