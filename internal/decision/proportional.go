package decision

import (
	"fmt"
	"math"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Reasons of the proportional and tracking policies (with OutsideBounds,
// AtMax, AtMin, CoolingDown, Steady, ProbeError and Paused, which mean what
// they mean under the original).
const (
	AboveTarget Reason = "AboveTarget" // the load (or latency) is over the target: scale up to what it needs
	BelowTarget Reason = "BelowTarget" // fewer dynos would still meet the target all through the window: scale down
	Booting     Reason = "Booting"     // would scale up, but the dynos still booting (or a draining backlog) cover it
	Stabilizing Reason = "Stabilizing" // would scale down, but more dynos were wanted within the window
)

// Tuning of the proportional policy, chosen on the simulator's profiles
// (docs/policies.md, "Policies"); the knobs a user needs are settings.
const (
	// smoothing is the time constant of the latency's exponential moving
	// average: long enough that a noisy heartbeat or a one-minute burst
	// does not scale, short enough that a rush's growing backlog does
	// within a few ticks.
	smoothing = 240 * time.Second
	// staleAfter: a smoothed latency older than this is started afresh.
	staleAfter = 10 * time.Minute
	// idleShare is the assumed latency of an idle app, as a share of the
	// target. Latency grows as idle/(1−utilization); any share below 1
	// keeps the equilibrium at the target, the share only sets the step.
	idleShare = 0.2
	// stepDownShare: one scale down removes at most this share of the dynos
	// (and at least INCREMENT), so scaling in is more gradual than out.
	stepDownShare = 0.5
	// maxGrowth caps one scale up at this many times the dynos serving:
	// past the maximum a backlog adds latency that more dynos drain, not
	// that more dynos need.
	maxGrowth = 2
	// wantedLimit bounds the remembered recommendations.
	wantedLimit = 16
)

// proportional decides by the proportional policy: it smooths the
// latency, turns it into a dyno count that would bring it to the target
// (counting dynos still booting), scales up at once when the smoothed
// latency is over the maximum, and scales down only to the most dynos it
// wanted within the scale-down window, a step at a time. The guarantees
// are the original's: bounds first, pause, probe errors never scale,
// cooldown, the plan's limit, one notice per episode.
func proportional(in Input) Decision {
	s := in.Settings
	// The streaks move as under the original (status shows them); this
	// policy decides on the smoothed latency instead.
	d, next, n := observe(in, settings.PolicyProportional)

	// What the heartbeat says: a broken probe says nothing, so the memory
	// stays as it was and nothing is wanted.
	var mem state.Proportional
	if in.State.Proportional != nil {
		mem = *in.State.Proportional
		mem.Wanted = append([]state.Want(nil), mem.Wanted...)
	}
	booting := bootingDynos(s, next.Recent, in.Current, in.Now)
	want, wanted, wantKnown := in.Current, in.Current, false
	draining := false
	if in.Probe.Verdict != probe.Error {
		serving := in.Current - booting
		// Capacity arrived since the last heartbeat and latency is falling:
		// the new dynos are draining the backlog; more would overshoot.
		draining = mem.Dynos > 0 && serving > mem.Dynos && in.State.LastProbe != nil &&
			effectiveLatency(s, in.Probe) < previousLatency(s, *in.State.LastProbe)
		if mem.Dynos != serving {
			// The average is of latency at one capacity: start afresh.
			mem.At = time.Time{}
		}
		mem.Dynos = serving
		mem.LatencyMS, mem.At = smooth(mem, effectiveLatency(s, in.Probe), in.Now)
		if draining {
			// A draining backlog says little about the load: the next
			// heartbeat starts the average.
			mem.At = time.Time{}
		}
		// Scale up on the smoothed latency, so that one noisy heartbeat
		// does not; size it, and remember what is wanted, by the higher
		// of that and this heartbeat's own, so that a busy minute the
		// average hides still holds the dynos it needed.
		want, wantKnown = recommend(s, mem.LatencyMS, serving), true
		wanted = max(want, recommend(s, effectiveLatency(s, in.Probe), serving))
		if want > in.Current && draining {
			want = in.Current
		}
		if booting > 0 || draining {
			// The latency does not show the new dynos yet.
			want, wanted = max(want, in.Current), max(wanted, in.Current)
		}
		mem.Wanted = remember(mem.Wanted, wanted, in.Now, s.ScaleDownWindow)
	}
	mem.Wanted = forget(mem.Wanted, in.Now, s.ScaleDownWindow)
	next.Proportional = &mem
	held := windowMax(mem.Wanted, wanted)

	upWhy := func() string {
		return fmt.Sprintf("averaging %.0f ms; %d dynos would bring it to the %d ms target",
			mem.LatencyMS, want, s.TargetResponseTime.Milliseconds())
	}
	w := wish{
		up:         wantKnown && want > in.Current,
		down:       wantKnown && held < in.Current,
		target:     want,
		upReason:   AboveTarget,
		downReason: BelowTarget,
		whyUp:      upWhy,
		whyDown:    func() string { return fmt.Sprintf("at most %d dynos wanted in the last %s", held, s.ScaleDownWindow) },
	}
	switch {
	case w.down:
		step := max(s.Increment, int(math.Ceil(float64(in.Current)*stepDownShare)))
		w.target = max(held, in.Current-step)
	case wantKnown && (booting > 0 || draining) && mem.LatencyMS > float64(s.MaxResponseTime.Milliseconds()):
		w.otherwise = Booting
	case wantKnown && want < in.Current:
		w.otherwise = Stabilizing
	}
	return carry(in, d, next, n, w)
}

// effectiveLatency is the heartbeat's latency in ms; a fail without one
// (a timeout, a 5xx, a refused connection) counts as the probe timeout:
// the app is at least that slow to whoever is waiting.
func effectiveLatency(s settings.Settings, p probe.Result) float64 {
	if p.Verdict == probe.Fail && p.Latency <= s.MaxResponseTime {
		return max(float64(s.HeartbeatTimeout), float64(s.MaxResponseTime)) / float64(time.Millisecond)
	}
	return max(float64(p.Latency)/float64(time.Millisecond), 1)
}

// previousLatency is the last tick's heartbeat latency in ms, counted as
// effectiveLatency counts this one.
func previousLatency(s settings.Settings, p state.ProbeRecord) float64 {
	return effectiveLatency(s, probe.Result{Verdict: p.Verdict, Latency: time.Duration(p.LatencyMS) * time.Millisecond})
}

// smooth folds one latency into the moving average, weighted by the time
// since the last one (an exponential moving average in log space, since
// the noise on latency is multiplicative).
func smooth(mem state.Proportional, ms float64, now time.Time) (float64, time.Time) {
	gap := now.Sub(mem.At)
	if mem.At.IsZero() || mem.LatencyMS <= 0 || gap > staleAfter || gap < 0 {
		return ms, now
	}
	alpha := 1 - math.Exp(-gap.Seconds()/smoothing.Seconds())
	return math.Exp(math.Log(mem.LatencyMS) + alpha*(math.Log(ms)-math.Log(mem.LatencyMS))), now
}

// recommend is the dyno count that would bring the smoothed latency to the
// target, given the dynos serving. Under the maximum, latency is taken to
// grow as idle/(1−utilization) (a queue), so utilization follows from it
// and the count scales with utilization over the target's; over the
// maximum the queue is saturated and a backlog builds, so the count grows
// in proportion to the latency itself, as the Kubernetes HPA's does.
// Within the band from the target to the maximum it keeps what serves:
// scaling up there would chase noise.
func recommend(s settings.Settings, latencyMS float64, serving int) int {
	target := float64(s.TargetResponseTime) / float64(time.Millisecond)
	maxMS := float64(s.MaxResponseTime) / float64(time.Millisecond)
	base := float64(max(serving, 1))
	idle := idleShare * target
	utilization := func(ms float64) float64 { return 1 - idle/ms }
	switch {
	case latencyMS > maxMS:
		ratio := min(utilization(maxMS)/utilization(target)*latencyMS/maxMS, maxGrowth)
		return max(serving+1, int(math.Ceil(base*ratio-1e-9)))
	case latencyMS >= target:
		return max(serving, 1)
	case latencyMS <= idle:
		return 1
	}
	return max(1, int(math.Ceil(base*utilization(latencyMS)/utilization(target)-1e-9)))
}

// bootingDynos counts the dynos this autoscaler added within the boot
// time: they are billed but the heartbeat does not feel them yet.
func bootingDynos(s settings.Settings, recent []state.ScaleEvent, current int, now time.Time) int {
	n := 0
	for _, e := range recent {
		if e.OK && e.To > e.From && now.Sub(e.At) < s.BootTime {
			n += e.To - e.From
		}
	}
	return min(n, current)
}

// remember adds a wanted count, dropping earlier ones it is at least as
// high as: the window's maximum is then always the first entry in force.
func remember(wanted []state.Want, dynos int, now time.Time, window time.Duration) []state.Want {
	if window <= 0 {
		return nil
	}
	for len(wanted) > 0 && wanted[len(wanted)-1].Dynos <= dynos {
		wanted = wanted[:len(wanted)-1]
	}
	wanted = append(wanted, state.Want{At: now, Dynos: dynos})
	if len(wanted) > wantedLimit {
		// Keep the highest (the first) and the latest.
		wanted = append(wanted[:1], wanted[len(wanted)-wantedLimit+1:]...)
	}
	return wanted
}

// forget drops the wanted counts at least one window old.
func forget(wanted []state.Want, now time.Time, window time.Duration) []state.Want {
	first := 0
	for first < len(wanted) && now.Sub(wanted[first].At) >= window {
		first++
	}
	return wanted[first:]
}

// windowMax is the most dynos wanted within the window, now included.
func windowMax(wanted []state.Want, now int) int {
	m := now
	for _, w := range wanted {
		m = max(m, w.Dynos)
	}
	return m
}
