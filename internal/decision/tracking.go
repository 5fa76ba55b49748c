package decision

import (
	"fmt"
	"math"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// tuning is what the tracking policy makes of one kind of reading,
// chosen on the public traces and the built-in profiles (docs/policies.md,
// "Policies"); the knobs a user needs are settings.
type tuning struct {
	// fast and slow are the time constants of the two moving averages of
	// the load: the fast one decides scaling up, the slow one what the
	// hold keeps.
	fast, slow time.Duration
	// tolerance: no scale up while the load is within this share over
	// the target (the Kubernetes HPA's is 10 %), so that a count sitting
	// just above it does not flap.
	tolerance float64
	// downShare: scale down only to a count that would run the held load
	// at no more than this share of the target, so that the count after
	// a scale down is not one the next busy minute scales up again.
	downShare float64
	// sustained: a saturation the heartbeat still shows after this long
	// is not a busy minute passing: scale up for how fast the backlog grows.
	sustained time.Duration
	// downStep: scale down only by at least this share of the current
	// count (one dyno at least), so that a count is not given up for one
	// a dyno lower that the load's minute-to-minute scatter reverses.
	downStep float64
	// blind is the load, in serving dynos, a heartbeat that got no answer
	// (a timeout, a 5xx) is taken to show where the last one got one:
	// more than they serve, by an amount it cannot tell.
	blind float64
}

var (
	// latencyTuning: a latency read once every tick scatters by a quarter
	// (the simulator's noise), and the load inferred from it by as much
	// again at low utilization; it is averaged over minutes, trusted to
	// say "saturated" after a minute and a half, and held with a wide margin.
	latencyTuning = tuning{fast: 2 * time.Minute, slow: 5 * time.Minute, tolerance: 0.1,
		downShare: 0.76, downStep: 0.25, sustained: 90 * time.Second, blind: 1.5}
	// utilizationTuning: the kit's utilization is already a 30-second
	// mean, off by a few points at most; it is used nearly as read, and a
	// window busy throughout is a saturation at once.
	utilizationTuning = tuning{fast: 30 * time.Second, slow: 2 * time.Minute, tolerance: 0.05,
		downShare: 0.91, sustained: 30 * time.Second, blind: 2}
)

// Constants of the tracking policy whatever the reading.
const (
	// trackStale: a memory older than this is started afresh.
	trackStale = 10 * time.Minute
	// trackSaturated: a latency of idle / (1 − this) or more means every
	// serving dyno is busy, and the load is at least what they serve.
	trackSaturated = 0.95
	// trackBusy: a utilization this high means a window busy throughout.
	trackBusy = 0.98
	// trackMaxGrowth caps a backlog's growth at doubling the dynos serving.
	trackMaxGrowth = 2.0
	// trackIdleShare caps the idle latency the policy assumes, as a share
	// of the maximum response time; trackIdleRise is how fast the learnt
	// idle latency may rise again (doubling in a day), and trackIdleAvg
	// the time constant of the latency average it learns from.
	trackIdleShare = 0.1
	trackIdleRise  = 24 * time.Hour
	trackIdleAvg   = 5 * time.Minute
	// trackDrain: capacity added during a run of saturated heartbeats is
	// given this share of the run's length to drain the backlog the run
	// built, before a heartbeat that gets no answer means more load.
	trackDrain = 0.3
)

// tuningFor is the tuning of the settings' signal.
func tuningFor(s settings.Settings) tuning {
	if s.Signal == probe.Utilization {
		return utilizationTuning
	}
	return latencyTuning
}

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
	keep int // dynos this heartbeat and the last say the load needs now
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
	// With no dyno serving there is no load to read (a formation at zero,
	// or all of it booting): only a heartbeat that fails asks for one.
	serving := in.Current - booting
	known := in.Probe.Verdict != probe.Error && serving > 0
	v := view{want: in.Current, hold: in.Current}
	if serving <= 0 && in.Probe.Verdict == probe.Fail {
		v.want = max(in.Current, 1)
	}
	if known {
		v = look(s, &mem, in.Probe, serving, in.Now)
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
	// Never below what the last two heartbeats say the load needs: the
	// averages lag a rise.
	held := max(windowMax(mem.Wanted, v.hold), v.keep)
	w := wish{
		up:         in.Probe.Verdict != probe.Error && v.want > in.Current,
		down:       known && held <= in.Current-downStep(s, in.Current),
		target:     v.want,
		upReason:   AboveTarget,
		downReason: BelowTarget,
		whyUp: func() string {
			return fmt.Sprintf("the load reads as %.1f dynos' worth; %d dynos would run it at the %.0f %% target",
				max(v.r.load, mem.Fast), v.want, 100*trackTarget(s, mem))
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
	tn := tuningFor(s)
	at := moment{serving: serving, now: now, fresh: fresh}
	var r reading
	if s.Signal == probe.Utilization {
		r = readUtilization(s, mem, p, at)
	} else {
		r = readLatency(s, mem, p, at)
	}
	if !r.backlog {
		mem.Slow = average(mem.Slow, r.load, gap, tn.slow, fresh)
		mem.Fast = average(mem.Fast, r.load, gap, tn.fast, fresh)
	}
	drain(mem, &r, at, blind(s, p))
	switch {
	case !r.saturated || r.draining:
		mem.SaturatedAt = time.Time{}
	case mem.SaturatedAt.IsZero() || !fresh:
		mem.SaturatedAt = now
	}
	last := mem.Load
	if !fresh || r.backlog {
		last = 0
	}
	mem.At, mem.Serving, mem.Load = now, serving, r.load

	u := trackTarget(s, *mem)
	up := mem.Fast
	if !fresh {
		// One heartbeat is not an average.
		up = 0
	}
	sustain := tn.sustained
	if blind(s, p) {
		// No answer at all: the backlog is already longer than the probe waits.
		sustain = 0
	}
	if !mem.SaturatedAt.IsZero() && now.Sub(mem.SaturatedAt) >= sustain {
		up = max(up, r.surge)
	}
	// The tolerance never reaches past the maximum response time, nor
	// saturation.
	most := trackSaturated
	if s.Signal != probe.Utilization {
		most = 1 - mem.IdleMS/millis(s.MaxResponseTime)
	}
	v := view{r: r, want: serving}
	if up > float64(serving)*min(u*(1+tn.tolerance), most) {
		v.want = dynosFor(up, u)
	}
	// Never below what the recent load needs at the target: the slow
	// average lags a rise.
	v.hold = max(dynosFor(mem.Slow, u*tn.downShare), dynosFor(mem.Fast, u))
	// Two heartbeats in a row, not one's noise.
	v.keep = dynosFor(min(r.load, last), u)
	return v
}

// moment is when a heartbeat is read: the dynos serving, the time, and
// whether the memory is fresh enough to compare against.
type moment struct {
	serving int
	now     time.Time
	fresh   bool
}

// drain follows runs of saturated heartbeats. A heartbeat that gets no
// answer while capacity added during the run is still draining the
// backlog the run built is that backlog's, not more load: a blind scale
// up from a guess (the cold start) does not double again before the
// backlog could show whether the guess was enough.
func drain(mem *state.Tracking, r *reading, at moment, noAnswer bool) {
	serving, now, fresh := at.serving, at.now, at.fresh
	switch {
	case !r.saturated || !fresh:
		mem.BusySince = time.Time{}
		if r.saturated {
			mem.BusySince = now
		}
	case mem.BusySince.IsZero():
		mem.BusySince = now
	}
	if r.saturated && fresh && serving > mem.Serving {
		mem.DrainUntil = now.Add(time.Duration(trackDrain * float64(now.Sub(mem.BusySince))))
	}
	if r.saturated && noAnswer && now.Before(mem.DrainUntil) {
		r.draining = true
	}
}

// downStep is the fewest dynos a scale down from current gives up.
func downStep(s settings.Settings, current int) int {
	return max(1, int(math.Round(tuningFor(s).downStep*float64(current))))
}

// readLatency reads the load from the heartbeat's latency, and learns
// the idle latency on the way. Latency grows as idle / (1 − utilization),
// a queue, so utilization is 1 − idle / latency; at idle / (1 − 0.95) or
// more the serving dynos are saturated and a backlog may build, whose
// wait grows by (arrivals − capacity) / capacity each second: two
// saturated heartbeats at the same capacity say how much more load
// there is than the dynos serve.
func readLatency(s settings.Settings, mem *state.Tracking, p probe.Result, at moment) reading {
	serving, now, fresh := at.serving, at.now, at.fresh
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
		r.surge = n * latencyTuning.blind
	case fresh && serving == mem.Serving && last >= sat:
		growth := (ms - last) / (1000 * gap.Seconds())
		r.surge = n * min(1+max(growth, 0), trackMaxGrowth)
		r.draining = growth <= 0
	}
	return r
}

// readUtilization reads the load from the utilization the heartbeat kit
// reports: the serving dynos' share of its window with a request in
// flight. A window busy throughout is saturated, and the queue time
// answered beside it grows as a backlog's does.
func readUtilization(s settings.Settings, mem *state.Tracking, p probe.Result, at moment) reading {
	serving, now, fresh := at.serving, at.now, at.fresh
	n := float64(serving)
	last, lastBusy := mem.LastMS, mem.LastUtil >= trackBusy
	mem.LastMS, mem.LastUtil = millis(p.Latency), p.Utilization
	if blind(s, p) {
		mem.LastUtil = 1
		return reading{load: n, saturated: true, surge: n * utilizationTuning.blind, draining: fresh && serving > mem.Serving}
	}
	r := reading{load: n * p.Utilization}
	if p.Utilization < trackBusy {
		return r
	}
	r.saturated, r.surge = true, n
	switch {
	case fresh && serving > mem.Serving:
		r.draining, r.backlog = true, mem.LastMS < last
	case fresh && serving == mem.Serving && lastBusy:
		growth := (mem.LastMS - last) / (1000 * now.Sub(mem.At).Seconds())
		r.surge = n * min(1+max(growth, 0), trackMaxGrowth)
		// A window busy throughout while the backlog shrinks is the
		// backlog's, not the load's.
		r.draining, r.backlog = growth <= 0, growth <= 0
	}
	return r
}

// blind reports a heartbeat that got no reading: a timeout or a 5xx.
func blind(s settings.Settings, p probe.Result) bool {
	if s.Signal == probe.Utilization {
		return p.Verdict == probe.Fail && !p.HasUtilization
	}
	return p.Verdict == probe.Fail && p.Latency <= s.MaxResponseTime
}

// trackTarget is the utilization the policy aims for: the target the
// settings give with the utilization signal, else what the target
// response time means for an app as fast when idle as mem learnt.
func trackTarget(s settings.Settings, mem state.Tracking) float64 {
	if s.Signal == probe.Utilization {
		return s.TargetUtilization()
	}
	return max(0.05, 1-mem.IdleMS/millis(s.TargetResponseTime))
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
