package decision

import (
	"fmt"
	"math"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Tuning of the tracking policy, chosen on the public traces and the
// built-in profiles (README, "Policies"); the knobs a user needs are
// settings.
const (
	// trackFast and trackSlow are the time constants of the two moving
	// averages of the load: the fast one decides scaling up, the slow one
	// what the hold keeps. One heartbeat's noise moves neither far.
	trackFast = 2 * time.Minute
	trackSlow = 5 * time.Minute
	// trackStale: a memory older than this is started afresh.
	trackStale = 10 * time.Minute
	// trackTolerance: no scale up while the load is within this share
	// over the target (the Kubernetes HPA's 10 %), so a count that sits
	// just above it does not flap.
	trackTolerance = 0.1
	// trackDownShare: scale down only to a count that would run the held
	// load at no more than this share of the target, so that the count
	// after a scale down is not one the next busy minute scales up again.
	trackDownShare = 0.76
	// trackSaturated: a latency of idle / (1 − this) or more means every
	// serving dyno is busy, and the load is at least what they serve.
	trackSaturated = 0.95
	// trackSustained: a saturation the heartbeat still shows after this
	// long is not a busy minute passing: scale up for how fast the
	// backlog grows.
	trackSustained = 90 * time.Second
	// trackBlind is the load, in serving dynos, a heartbeat that got no
	// answer (a timeout, a 5xx) is taken to show: more than they serve,
	// by an amount it cannot tell.
	trackBlind = 1.5
	// trackMaxGrowth caps one scale up at this many times the dynos serving.
	trackMaxGrowth = 2.0
	// trackIdleShare caps the idle latency the policy assumes, as a share
	// of the maximum response time; trackIdleRise is how fast the learnt
	// idle latency may rise again (doubling in a day), and trackIdleAvg
	// the time constant of the latency average it learns from.
	trackIdleShare = 0.1
	trackIdleRise  = 24 * time.Hour
	trackIdleAvg   = 5 * time.Minute
)

// reading is what one heartbeat shows of the load.
type reading struct {
	load      float64 // work arriving, in dynos' worth at full use
	saturated bool    // every serving dyno is busy: the load is at least load
	surge     float64 // when saturated, the load it is taken to be if it lasts
	// draining: a backlog is draining, or new capacity does not show yet:
	// no scale up on it. backlog: the latency is the backlog's, not the
	// load's, so the averages skip it.
	draining, backlog bool
}

// view is what the tracking policy makes of a heartbeat.
type view struct {
	r    reading
	want int // dynos to run now
	hold int // dynos this heartbeat wants kept through the hold
}

// tracking decides by target tracking: it reads the load from the
// heartbeat (a utilization the app reports, or one inferred from the
// latency), averages it, scales up to run it at the target utilization
// (counting dynos still booting), and scales down only to what the hold
// window's highest average would still run below the target. The
// guarantees are the original's: bounds first, pause, probe errors never
// scale, cooldown, the plan's limit, one notice per episode.
func tracking(in Input) Decision {
	s := in.Settings
	if s.Signal == probe.QueueTime {
		// Queue time says when the dynos are too few, not how much load
		// there is: the streaks decide.
		return streaks(in, settings.PolicyTracking)
	}
	d, next, n := observe(in, settings.PolicyTracking)
	var mem state.Tracking
	if in.State.Tracking != nil {
		mem = *in.State.Tracking
		mem.Wanted = append([]state.Want(nil), mem.Wanted...)
	}
	booting := bootingDynos(s, next.Recent, in.Current, in.Now)
	known := in.Probe.Verdict != probe.Error
	v := view{want: in.Current, hold: in.Current}
	if known {
		v = look(s, &mem, in.Probe, max(in.Current-booting, 1), in.Now)
		if booting > 0 || v.r.draining {
			// Not felt yet, or draining a backlog: hold them until they are.
			v.hold = max(v.hold, in.Current)
		}
		if v.want > in.Current {
			// What a scale up asks for is held as long as what the average asks.
			v.hold = max(v.hold, v.want)
		}
		mem.Wanted = remember(mem.Wanted, v.hold, in.Now, s.ScaleDownWindow)
	}
	mem.Wanted = forget(mem.Wanted, in.Now, s.ScaleDownWindow)
	next.Tracking = &mem
	held := windowMax(mem.Wanted, v.hold)
	w := wish{
		up:         known && v.want > in.Current,
		down:       known && held < in.Current,
		target:     v.want,
		upReason:   AboveTarget,
		downReason: BelowTarget,
		whyUp: func() string {
			return fmt.Sprintf("the load reads as %.1f dynos' worth; %d dynos would run it at the %.0f %% target",
				max(v.r.load, mem.Fast), v.want, 100*trackTarget(s, mem.IdleMS))
		},
		whyDown: func() string { return fmt.Sprintf("at most %d dynos wanted in the last %s", held, s.ScaleDownWindow) },
	}
	switch {
	case w.down:
		w.target = held
	case known && (booting > 0 || v.r.draining) && v.r.saturated:
		w.otherwise = Booting
	case known && v.hold < in.Current:
		w.otherwise = Stabilizing
	}
	return carry(in, d, next, n, w)
}

// look folds a heartbeat into the memory and says what it shows: the
// dynos to run now, and those to hold.
func look(s settings.Settings, mem *state.Tracking, p probe.Result, serving int, now time.Time) view {
	fresh := !mem.At.IsZero() && now.After(mem.At) && now.Sub(mem.At) <= trackStale
	gap := now.Sub(mem.At)
	r := readLatency(s, mem, p, serving, now, fresh)
	if !r.backlog {
		mem.Slow = average(mem.Slow, r.load, gap, trackSlow, fresh)
		mem.Fast = average(mem.Fast, r.load, gap, trackFast, fresh)
	}
	switch {
	case !r.saturated || r.draining:
		mem.SaturatedAt = time.Time{}
	case mem.SaturatedAt.IsZero() || !fresh:
		mem.SaturatedAt = now
	}
	mem.At, mem.Serving = now, serving

	u := trackTarget(s, mem.IdleMS)
	up := mem.Fast
	if !fresh {
		// One heartbeat is not an average.
		up = 0
	}
	sustain := trackSustained
	if blind(s, p) {
		// No answer at all: the backlog is already longer than the probe waits.
		sustain = 0
	}
	if !mem.SaturatedAt.IsZero() && now.Sub(mem.SaturatedAt) >= sustain {
		up = max(up, r.surge)
	}
	// The tolerance never reaches past the maximum response time.
	most := 1 - mem.IdleMS/millis(s.MaxResponseTime)
	v := view{r: r, want: serving}
	if up > float64(serving)*min(u*(1+trackTolerance), most) {
		v.want = dynosFor(up, u)
	}
	v.hold = dynosFor(mem.Slow, u*trackDownShare)
	return v
}

// readLatency reads the load from the heartbeat's latency, and learns
// the idle latency on the way. Latency grows as idle / (1 − utilization),
// a queue, so utilization is 1 − idle / latency; at idle / (1 − 0.95) or
// more the serving dynos are saturated and a backlog may build, whose
// wait grows by (arrivals − capacity) / capacity each second: two
// saturated heartbeats at the same capacity say how much more load
// there is than the dynos serve.
func readLatency(s settings.Settings, mem *state.Tracking, p probe.Result, serving int, now time.Time, fresh bool) reading {
	ms := effectiveLatency(s, p)
	gap := now.Sub(mem.At)
	mem.AvgMS = averageLog(mem.AvgMS, ms, gap, fresh)
	mem.IdleMS = learnIdle(s, *mem, gap)
	n := float64(serving)
	r := reading{load: n * max(0, 1-mem.IdleMS/ms)}
	sat := mem.IdleMS / (1 - trackSaturated)
	last := mem.LastMS
	mem.LastMS = ms
	if ms < sat {
		return r
	}
	r.saturated, r.surge = true, n
	switch {
	case fresh && serving > mem.Serving:
		// New capacity since the last heartbeat: it does not show yet, or
		// (the latency fell) it is draining the backlog.
		r.draining, r.backlog = true, ms < last
	case blind(s, p):
		r.surge = n * trackBlind
	case fresh && serving == mem.Serving && last >= sat:
		growth := (ms - last) / (1000 * gap.Seconds())
		r.surge = n * min(1+max(growth, 0), trackMaxGrowth)
		r.draining = growth <= 0
	}
	return r
}

// blind reports a heartbeat that got no latency: a timeout or a 5xx.
func blind(s settings.Settings, p probe.Result) bool {
	return p.Verdict == probe.Fail && p.Latency <= s.MaxResponseTime
}

// trackTarget is the utilization the policy aims for: what the target
// response time means for an app whose idle latency is idleMS.
func trackTarget(s settings.Settings, idleMS float64) float64 {
	return max(0.05, 1-idleMS/millis(s.TargetResponseTime))
}

// learnIdle is the idle latency: the least the latency's average has
// been, rising slowly so that it follows an app that became slower, and
// never more than a tenth of the maximum response time.
func learnIdle(s settings.Settings, mem state.Tracking, gap time.Duration) float64 {
	ceiling := trackIdleShare * millis(s.MaxResponseTime)
	if mem.IdleMS <= 0 {
		return min(ceiling, mem.AvgMS)
	}
	idle := mem.IdleMS
	if gap > 0 {
		idle *= math.Exp2(gap.Seconds() / trackIdleRise.Seconds())
	}
	return min(ceiling, idle, mem.AvgMS)
}

// average folds x into a moving average with time constant tau.
func average(avg, x float64, gap, tau time.Duration, fresh bool) float64 {
	if !fresh {
		return x
	}
	return avg + (1-math.Exp(-gap.Seconds()/tau.Seconds()))*(x-avg)
}

// averageLog folds a latency into a moving average in log space (the
// noise on latency is multiplicative).
func averageLog(avg, ms float64, gap time.Duration, fresh bool) float64 {
	if !fresh || avg <= 0 {
		return ms
	}
	return math.Exp(average(math.Log(avg), math.Log(ms), gap, trackIdleAvg, true))
}

// dynosFor is the least dyno count that runs load at utilization u.
func dynosFor(load, u float64) int {
	return max(1, int(math.Ceil(load/u-1e-9)))
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
