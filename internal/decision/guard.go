package decision

import (
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// wish is what a policy wants this tick, in its own terms; carry turns it
// into the decision by the rules every policy shares.
type wish struct {
	// up and down: the policy wants more, or fewer, dynos than now.
	up, down bool
	// target is how many, with up or down (carry keeps it within the
	// bounds and the plan's limit).
	target               int
	upReason, downReason Reason
	// whyUp and whyDown are the evidence the at-max and at-min notices
	// give, as the policy counts it; called only when one is sent.
	whyUp, whyDown func() string
	// otherwise is the reason when the policy wants neither (Steady when empty).
	otherwise Reason
}

// carry decides by the guard rails every policy shares, in the original's
// order: a pause holds everything; a quantity outside the bounds goes
// straight to the nearest one (within the plan's limit); a broken probe
// never scales; then the policy's wish, up to the maximum or the plan's
// limit (AtMax, one notice an episode) and down to the minimum (AtMin,
// likewise), either held by the cooldown.
func carry(in Input, d Decision, next state.State, n noticer, w wish) Decision {
	s := in.Settings
	lo, hi := d.Min, d.Max
	if next.Episodes.ScaleDiff && !scaleDiffExceeded(s, next.Recent, in.Current, in.Now) {
		next.Episodes.ScaleDiff = false
	}
	// An episode ends when its condition clears, so the next one notifies again.
	if !w.down || in.Current > lo {
		next.Episodes.BelowMin = false
	}
	// Heroku refused a quantity as over the plan while the app wanted more:
	// until it stops wanting more (an in-range or fast heartbeat, with the
	// minimum met), PlanLimit is the most to ask for, so one refusal does
	// not become one a minute. The ceiling only stops moves up: one below
	// the current quantity holds it where it is, never scales it down.
	wantsMore := in.Current < lo || in.Probe.Verdict == probe.Fail || in.Probe.Verdict == probe.Error || w.up
	capHi, heldByPlan := ceilingNow(&next, hi, in.Current, wantsMore, w.up)

	cooling := coolingDown(s, next, in.Now)
	switch {
	case next.Paused:
		d.Reason = Paused
	case in.Current < lo && in.Current < capHi:
		d.Target, d.Reason = min(lo, capHi), OutsideBounds
	case in.Current < lo:
		d.Reason = AtMax // the minimum is more than the plan allows; said when Heroku refused it
	case in.Current > hi:
		d.Target, d.Reason = hi, OutsideBounds
	case in.Probe.Verdict == probe.Error:
		d.Reason = ProbeError
	case w.up && in.Current >= capHi:
		d.Reason = AtMax
		// Held below max by the plan: the 422's notice already said so.
		if s.NotifyIfNeedsExceedMax && !next.Episodes.AboveMax && !heldByPlan {
			d.Notices = append(d.Notices, n.needsAboveMax(w.whyUp()))
		}
		next.Episodes.AboveMax = true
	case w.up && cooling:
		d.Reason = CoolingDown
	case w.up:
		d.Target, d.Reason = min(w.target, capHi), w.upReason
	case w.down && in.Current <= lo:
		d.Reason = AtMin
		// At one dyno there is nowhere lower to go, so there is nothing to tell.
		if s.NotifyIfNeedsBelowMin && !next.Episodes.BelowMin && in.Current > 1 {
			d.Notices = append(d.Notices, n.needsBelowMin(w.whyDown()))
		}
		next.Episodes.BelowMin = true
	case w.down && cooling:
		d.Reason = CoolingDown
	case w.down:
		d.Target, d.Reason = max(w.target, lo), w.downReason
	case w.otherwise != "":
		d.Reason = w.otherwise
	}
	if !d.Scales() {
		// The formation was read and nothing needs writing: Heroku answers
		// again. (A refused write ends its episode only when a write succeeds.)
		next.Episodes.HerokuError = false
	}
	d.Next = next
	return d
}
