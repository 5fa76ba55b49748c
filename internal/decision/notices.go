package decision

import (
	"fmt"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// noticer writes the notice texts. They keep the original's sentences and add
// the facts a reader needs: app, process type, counts, latency and reason.
type noticer struct{ in Input }

func newNoticer(in Input) noticer { return noticer{in: in} }

func (n noticer) notice(event notify.Event, title, text string) notify.Notice {
	s := n.in.Settings
	var flags []string
	if s.DryRun {
		flags = append(flags, "dry run")
	}
	if n.in.State.Paused {
		flags = append(flags, "paused")
	}
	prefix := ""
	if len(flags) > 0 {
		prefix = "[" + strings.Join(flags, ", ") + "] "
	}
	return notify.Notice{
		Event:       event,
		App:         s.AppName,
		ProcessType: s.ProcessType,
		Title:       prefix + fmt.Sprintf("%s/%s: %s", s.AppName, s.ProcessType, title),
		Text:        prefix + text + "\n" + n.facts(),
	}
}

// facts is the line of context every notice ends with.
func (n noticer) facts() string {
	lo, hi := n.in.Settings.Bounds(n.in.Now)
	dynos := fmt.Sprintf("%d dynos", n.in.Current)
	if n.in.Current == 0 && n.in.State.Quantity > 0 {
		dynos = fmt.Sprintf("%d dynos when last read", n.in.State.Quantity)
	}
	return fmt.Sprintf("App %s, process type %s, %s (min %d, max %d), policy %s. Last heartbeat: %s.",
		n.in.Settings.AppName, n.in.Settings.ProcessType, dynos, lo, hi, n.in.Settings.Policy, n.heartbeat())
}

func (n noticer) heartbeat() string {
	p := n.in.Probe
	if p.HasUtilization && p.Verdict != probe.Error {
		return utilizationText(p, n.in.Settings.TargetUtilizationPct)
	}
	if p.Jobs != nil && p.Verdict != probe.Error {
		lo, hi := n.in.Settings.Thresholds()
		return jobsText(p, lo, hi)
	}
	lo, hi := n.in.Settings.Thresholds()
	slower, faster, noun := "slower than", "faster than", ""
	if n.in.Settings.Signal == probe.QueueTime {
		slower, faster, noun = "over", "under", "queue time "
	}
	switch p.Verdict {
	case probe.Fail:
		if p.Latency > hi {
			return fmt.Sprintf("%s%d ms, %s %d ms", noun, p.Latency.Milliseconds(), slower, hi.Milliseconds())
		}
		return fmt.Sprintf("failed (%s)", p.Detail)
	case probe.Pass:
		return fmt.Sprintf("%s%d ms, %s %d ms", noun, p.Latency.Milliseconds(), faster, lo.Milliseconds())
	case probe.Error:
		return fmt.Sprintf("unusable (%s)", p.Detail)
	default:
		return fmt.Sprintf("%s%d ms, in range", noun, p.Latency.Milliseconds())
	}
}

func (n noticer) scaled(d Decision) notify.Notice {
	return n.notice(notify.Scaled,
		fmt.Sprintf("scaled %d → %d dynos", d.Current, d.Target),
		fmt.Sprintf("Scaled to (%d) dynos, from %d, because %s.", d.Target, d.Current, explain(d, n.in)))
}

func (n noticer) scaleFailed(d Decision, err error) notify.Notice {
	return n.notice(notify.ScaleFailed,
		fmt.Sprintf("scaling %d → %d failed", d.Current, d.Target),
		fmt.Sprintf("Just tried to scale, and it failed. We're currently at %d dynos. Tried %d → %d because %s. Error: %v. The next tick tries again.",
			d.Current, d.Current, d.Target, explain(d, n.in), err))
}

// needsAboveMax says the app is slow at the max; why is the evidence, as
// the policy in force counts it ("3 slow heartbeats in a row").
func (n noticer) needsAboveMax(why string) notify.Notice {
	return n.notice(notify.NeedsAboveMax,
		fmt.Sprintf("at the max (%d dynos) and still too slow", n.in.Current),
		fmt.Sprintf("We are at the max (%d) dynos, but the response is still too slow (%s). Raise AUTOSCALE_MAX_DYNOS to allow more.",
			n.in.Current, why))
}

func (n noticer) needsBelowMin(why string) notify.Notice {
	return n.notice(notify.NeedsBelowMin,
		fmt.Sprintf("at the minimum (%d dynos) and could go lower", n.in.Current),
		fmt.Sprintf("We are at the minimum (%d) dynos, but the response is still low enough we could scale down further (%s).",
			n.in.Current, why))
}

// streakWhy is the original's evidence: a streak of heartbeats.
func streakWhy(streak int, kind string) string {
	return fmt.Sprintf("%d %s heartbeats in a row", streak, kind)
}

func (n noticer) scaleDiff(d Decision, r quantityRange) notify.Notice {
	s := n.in.Settings
	return n.notice(notify.ScaleDiffExceeded,
		fmt.Sprintf("scaled between %d and %d dynos in %s", r.low, r.high, s.ScaleDiffPeriod),
		fmt.Sprintf("Too much scaling over too little time! We have %d dynos right now. Went between %d and %d dynos in the last %s (threshold %d).",
			d.Target, r.low, r.high, s.ScaleDiffPeriod, s.ScaleDiffThreshold))
}

func (n noticer) overPlan(d Decision, ceiling, limit int) notify.Notice {
	said := fmt.Sprintf("Heroku did not say the limit; autoscalebot assumes %d.", ceiling)
	if limit > 0 {
		said = fmt.Sprintf("Heroku says the plan allows at most %d.", limit)
	}
	most := fmt.Sprintf("no more than %d dynos", ceiling)
	if ceiling < d.Current {
		// The plan's limit never scales the app down.
		most = fmt.Sprintf("no more than the %d dynos running now", d.Current)
	}
	return n.notice(notify.NeedsAboveMax,
		fmt.Sprintf("Heroku refused %d dynos: over the plan's limit", d.Target),
		fmt.Sprintf("Heroku refused to scale to %d dynos: that is over your plan's limit for this dyno size (we are at %d). %s Until the app stops needing more, autoscalebot asks for %s. Upgrade the dyno type or plan, or lower AUTOSCALE_MAX_DYNOS (and AUTOSCALE_MIN_DYNOS).",
			d.Target, d.Current, said, most))
}

func (n noticer) refused(err error, cause Cause) notify.Notice {
	s := n.in.Settings
	if cause == CauseAccount {
		return n.notice(notify.HerokuError,
			"Heroku refused the request: the account needs attention",
			fmt.Sprintf("Heroku refused autoscalebot's request for app %q, process type %q because of the account: %v. Its billing information is missing, a payment is overdue, the payment method must be confirmed, or the account is suspended. autoscalebot will not scale until this works; check the account's billing in the Heroku Dashboard.",
				s.AppName, s.ProcessType, err))
	}
	return n.notice(notify.HerokuError,
		"Heroku refused the request",
		fmt.Sprintf("Heroku refused autoscalebot's request for app %q, process type %q: %v. Either the API key is wrong, expired or lacks access to the app, or the app or process type does not exist. autoscalebot will not scale until this works; check AUTOSCALE_HEROKU_APP_NAME, AUTOSCALE_HEROKU_PROCESS_TYPE and the API key.",
			s.AppName, s.ProcessType, err))
}

func (n noticer) ping() notify.Notice {
	p := n.in.Probe
	return n.notice(notify.Ping,
		fmt.Sprintf("ping %d ms, %s", p.Latency.Milliseconds(), p.Verdict),
		fmt.Sprintf("Ping: %dms, %s.", p.Latency.Milliseconds(), p.Verdict))
}

func (n noticer) probeError() notify.Notice {
	return n.notice(notify.ProbeError,
		"heartbeat check is broken",
		fmt.Sprintf("The heartbeat check failed in a way that says nothing about load (%s), so autoscalebot will not scale on it until it works. Check AUTOSCALE_HEARTBEAT_URL.",
			n.in.Probe.Detail))
}

// utilizationText is a beat of the utilization signal, against the target.
func utilizationText(p probe.Result, targetPct int) string {
	pct := *p.UtilizationPct()
	switch p.Verdict {
	case probe.Fail:
		return fmt.Sprintf("utilization %g%%, over the %d%% target", pct, targetPct)
	case probe.Pass:
		return fmt.Sprintf("utilization %g%%, under %g%% (half the target)", pct, float64(targetPct)/2)
	default:
		return fmt.Sprintf("utilization %g%%, in range", pct)
	}
}

// jobsText is a beat of the job_latency signal, against its thresholds.
func jobsText(p probe.Result, lo, hi time.Duration) string {
	var than string
	switch p.Verdict {
	case probe.Fail:
		than = ", over " + hi.String()
	case probe.Pass:
		than = ", under " + lo.String()
	default:
		than = ", in range"
	}
	return fmt.Sprintf("job latency %s%s (%s)", p.Jobs.Latency(), than, p.Jobs.Summary())
}

// explainJobs is explain for the reasons of a job_latency formation's rules.
func explainJobs(d Decision, in Input) (string, bool) {
	s := in.Settings
	lo, hi := s.Thresholds()
	switch d.Reason {
	case SlowStreak:
		return fmt.Sprintf("the oldest job waited over %s %d times in a row", hi, s.FailsToScaleUp), true
	case FastStreak:
		return fmt.Sprintf("the oldest job waited under %s %d times in a row", lo, s.PassesToScaleDown), true
	case JobsWaiting:
		return "jobs were waiting with no dyno to run them", true
	case JobsPerDyno:
		return fmt.Sprintf("the jobs waiting and running need %d dynos at %d a dyno", d.Target, s.JobsPerDyno), true
	case NoJobs:
		return fmt.Sprintf("no job waited or ran for %d heartbeats in a row", s.PassesToScaleDown), true
	}
	return "", false
}

// explain turns a decision's reason into the clause a notice uses.
func explain(d Decision, in Input) string {
	s := in.Settings
	if s.Signal == probe.JobLatency {
		if why, ok := explainJobs(d, in); ok {
			return why
		}
	}
	switch d.Reason {
	case OutsideBounds:
		lo, hi := s.Bounds(in.Now)
		return fmt.Sprintf("%d dynos is outside the bounds %d–%d in force now", in.Current, lo, hi)
	case SlowStreak:
		_, hi := s.Thresholds()
		if s.Signal == probe.Utilization {
			return fmt.Sprintf("the utilization was over %d%% %d times in a row", s.TargetUtilizationPct, s.FailsToScaleUp)
		}
		if s.Signal == probe.QueueTime {
			return fmt.Sprintf("the queue time was over %d ms %d times in a row", hi.Milliseconds(), s.FailsToScaleUp)
		}
		return fmt.Sprintf("the heartbeat was slower than %d ms %d times in a row", hi.Milliseconds(), s.FailsToScaleUp)
	case FastStreak:
		lo, _ := s.Thresholds()
		if s.Signal == probe.Utilization {
			return fmt.Sprintf("the utilization was under %g%% (half the target) %d times in a row", float64(s.TargetUtilizationPct)/2, s.PassesToScaleDown)
		}
		if s.Signal == probe.QueueTime {
			return fmt.Sprintf("the queue time was under %d ms %d times in a row", lo.Milliseconds(), s.PassesToScaleDown)
		}
		return fmt.Sprintf("the heartbeat was faster than %d ms %d times in a row", lo.Milliseconds(), s.PassesToScaleDown)
	case AboveTarget, BelowTarget:
		if m := d.Next.Tracking; d.Policy == settings.PolicyTracking && m != nil {
			return trackingWhy(d, in, *m)
		}
	}
	switch d.Reason {
	case AboveTarget:
		return fmt.Sprintf("the heartbeat averaged %s, over the maximum of %d ms; %d dynos should bring it to the %d ms target",
			averaged(d), s.MaxResponseTime.Milliseconds(), d.Target, s.TargetResponseTime.Milliseconds())
	case BelowTarget:
		return fmt.Sprintf("%d dynos would have kept the heartbeat within the %d ms target all through the last %s",
			d.Target, s.TargetResponseTime.Milliseconds(), s.ScaleDownWindow)
	default:
		return string(d.Reason)
	}
}

// trackingWhy is the tracking policy's reason for a scale, as a notice says it.
func trackingWhy(d Decision, in Input, m state.Tracking) string {
	target := 100 * trackTarget(in.Settings, m)
	if d.Reason == AboveTarget {
		return fmt.Sprintf("the load reads as %.1f dynos' worth (averaged), more than %d dynos run at the %.0f%% target; %d should",
			max(m.Fast, 0), d.Current, target, d.Target)
	}
	return fmt.Sprintf("%d dynos would have run the load under the %.0f%% target, with a margin, all through the last %s",
		d.Target, target, in.Settings.ScaleDownWindow)
}

// averaged is the proportional policy's smoothed latency, as a notice says it.
func averaged(d Decision) string {
	if d.Next.Proportional == nil {
		return "(unknown)"
	}
	return fmt.Sprintf("%.0f ms", d.Next.Proportional.LatencyMS)
}
