package decision

import (
	"fmt"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Reasons of a job_latency formation's rules, beside the shared ones
// (OutsideBounds, AtMax, AtMin, CoolingDown, Steady, ProbeError, Paused)
// and the original's SlowStreak and FastStreak, counted on the job latency.
const (
	JobsWaiting  Reason = "JobsWaiting"  // at zero dynos a job waits: one dyno (or what JOBS_PER_DYNO sizes) at once, no streak, no cooldown
	JobsPerDyno  Reason = "JobsPerDyno"  // the jobs waiting and running need more dynos at AUTOSCALE_JOBS_PER_DYNO: that many at once
	NoJobs       Reason = "NoJobs"       // no job waited or ran for the scale-down window: to the minimum (zero, when it is)
	LongJobsBusy Reason = "LongJobsBusy" // would scale down, but AUTOSCALE_LONG_JOBS and jobs are running
)

// jobs decides a job_latency formation by the original's streaks on the
// highest queue latency, and by what the job report says beside it:
//
//   - at zero dynos, any job waiting scales to one (or to what
//     JOBS_PER_DYNO sizes) at once: no streak, no cooldown;
//   - with JOBS_PER_DYNO, ⌈(waiting + busy) / ratio⌉ dynos are added at
//     once when more than run now; on the way down, a pass streak steps
//     down by INCREMENT, never below that count nor below one dyno;
//   - only a scale-down window of heartbeats with no job waiting or
//     running (NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER in a row) takes the
//     formation to its minimum, zero when it is: nothing runs, so nothing
//     is stopped;
//   - with LONG_JOBS, no scale down while any job runs.
//
// A probe error never scales (the guard rails), and neither counts nor
// breaks the idle run.
func jobs(in Input) Decision {
	d, next, n := observe(in, settings.PolicyOriginal)
	report := in.Probe.Jobs
	switch {
	case in.Probe.Verdict == probe.Error:
	case report != nil && report.Idle():
		next.IdleBeats++
	default:
		next.IdleBeats = 0
	}
	return carry(in, d, next, n, jobWish(in, next, d.Min))
}

// jobWish is what the job report and the streaks ask for, lo being the
// minimum in force.
func jobWish(in Input, next state.State, lo int) wish {
	s, cur, report := in.Settings, in.Current, in.Probe.Jobs
	w := wish{upReason: SlowStreak, downReason: FastStreak,
		whyUp: func() string {
			return fmt.Sprintf("the oldest job waited over %s %d times in a row", s.MaxJobLatency, next.SlowStreak)
		},
		whyDown: func() string { return streakWhy(next.FastStreak, "fast") },
	}
	if report == nil {
		return w // a probe error: the guard rails decide
	}
	sized := 0
	if s.JobsPerDyno > 0 {
		sized = (report.Depth() + report.Busy() + s.JobsPerDyno - 1) / s.JobsPerDyno
	}
	slow := next.SlowStreak >= s.FailsToScaleUp
	switch {
	case cur == 0 && report.Waiting():
		w.up, w.target, w.upReason, w.urgent = true, max(1, sized), JobsWaiting, true
		w.whyUp = func() string { return "jobs are waiting and no dyno runs them" }
	case slow && cur+s.Increment >= sized:
		w.up, w.target = true, cur+s.Increment
	case sized > cur:
		w.up, w.target, w.upReason = true, sized, JobsPerDyno
		w.whyUp = func() string {
			return fmt.Sprintf("%d jobs waiting and running want %d dynos at %d a dyno", report.Depth()+report.Busy(), sized, s.JobsPerDyno)
		}
	}
	if w.up {
		return w
	}
	switch {
	case next.IdleBeats >= s.PassesToScaleDown:
		w.down, w.target, w.downReason = true, lo, NoJobs
		w.whyDown = func() string { return fmt.Sprintf("no job waiting or running for %d heartbeats", next.IdleBeats) }
	case next.FastStreak >= s.PassesToScaleDown:
		// Zero only when idle: a pass streak leaves one dyno to the jobs.
		w.target = max(cur-s.Increment, sized, 1)
		w.down = w.target < cur
	}
	if w.down && s.LongJobs && report.Busy() > 0 && cur > lo {
		w.down, w.otherwise = false, LongJobsBusy
	}
	return w
}
