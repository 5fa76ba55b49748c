package simulation

import (
	"context"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// The frontier's candidates and its bound, as ../shared/tools/frontier.py
// defines them.
var (
	frontierUtilizations = []float64{0.95, 0.9, 0.85, 0.8, 0.75, 0.7}
	frontierHolds        = []int{0, 120, 300, 600} // seconds
)

// FrontierLimitPct is the most SLO-violation time, in percent of the run,
// a frontier policy may have.
const FrontierLimitPct = 2.0

// Frontier is the perfect-information limit of a trace under the model:
// the cheapest of the policies that know the current request rate exactly
// at each tick, ask for ⌈rate / (μ·u)⌉ dynos and keep the most asked
// within the last hold seconds, within the settings' bounds, paying the
// boot delay, for u 0.95–0.70 and hold 0–600 s, among those over the SLO
// at most FrontierLimitPct of the time. No reactive autoscaler can be
// expected to do better at that cadence and boot time. The JSON names are
// those of `simulate -json`.
type Frontier struct {
	// Ratio is the policy's dyno-hours over the ideal's (to 4 decimals)
	// and SLOPct its time over the SLO in percent (to 3); both null when
	// no candidate stays within the limit, and the rest of the policy's
	// fields are then absent.
	Ratio               *float64 `json:"ratio"`
	SLOPct              *float64 `json:"sloPct"`
	Utilization         float64  `json:"utilization,omitempty"`
	HoldSeconds         int      `json:"holdSeconds,omitempty"`
	DynoHours           float64  `json:"dynoHours,omitempty"`
	CostUSD             float64  `json:"costUSD,omitempty"`
	SLOViolationMinutes float64  `json:"sloViolationMinutes,omitempty"`
	IntervalSeconds     int      `json:"intervalSeconds"`
	// IdealMaxDynos is the most dynos the ideal needs in a minute, and
	// MaxDynos the maximum in force then: when it is lower, the maximum
	// caps every policy, the frontier's too.
	IdealMaxDynos int `json:"idealMaxDynos"`
	MaxDynos      int `json:"maxDynos"`
}

// Capped says whether the maximum is below what the ideal needs.
func (f Frontier) Capped() bool { return f.MaxDynos < f.IdealMaxDynos }

// frontierRun is one candidate's run: dyno-seconds, ideal dyno-seconds and
// seconds over the SLO.
type frontierRun struct {
	u               float64
	hold            int
	scheduled       bool // the bounds follow a schedule; else they are lo and hi
	lo, hi          int
	supply, demand  int64
	violations, all int
}

// FrontierOf runs every candidate over tr with the bounds of s, and m's
// model and cadence, and reports the best.
func FrontierOf(ctx context.Context, s settings.Settings, m Model, tr Trace) (Frontier, error) {
	if err := m.Validate(); err != nil {
		return Frontier{}, err
	}
	runs := make([]frontierRun, 0, len(frontierUtilizations)*len(frontierHolds))
	for _, u := range frontierUtilizations {
		for _, hold := range frontierHolds {
			runs = append(runs, frontierRun{u: u, hold: hold})
		}
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { runs[i].run(ctx, s, m, tr) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Frontier{}, err
	}
	f := Frontier{IntervalSeconds: m.Interval}
	f.IdealMaxDynos, f.MaxDynos = idealPeak(s, m, tr)
	best := -1.0
	for _, r := range runs {
		ratio := float64(r.supply) / float64(r.demand)
		pct := 100 * float64(r.violations) / float64(r.all)
		// As frontier.py: the best so far is kept rounded, and compared so.
		if pct <= FrontierLimitPct && (best < 0 || ratio < best) {
			best = roundTo(ratio, 4)
			sloPct := roundTo(pct, 3)
			f.Ratio, f.SLOPct, f.Utilization, f.HoldSeconds = &best, &sloPct, r.u, r.hold
			f.DynoHours = round6(float64(r.supply) / 3600)
			f.CostUSD = round6(float64(r.supply) / 3600 * m.DynoPrice)
			f.SLOViolationMinutes = round6(float64(r.violations) / 60)
		}
	}
	return f, nil
}

// roundTo rounds v to places decimals as Python's round does: the nearest
// decimal to the exact binary value.
func roundTo(v float64, places int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', places, 64), 64)
	return r
}

// idealPeak is the most dynos the ideal needs in a minute and the maximum
// in force then (the first such minute).
func idealPeak(s settings.Settings, m Model, tr Trace) (ideal, maxDynos int) {
	for minute, rpm := range tr.RPM {
		if d := m.Ideal(rpm); d > ideal {
			_, hi := s.Bounds(m.Start.Add(time.Duration(minute) * time.Minute))
			ideal, maxDynos = d, hi
		}
	}
	return ideal, maxDynos
}

// want is a tick's wish: when it was made and how many dynos.
type want struct{ at, dynos int }

// run steps the model second by second as Run does, with the candidate's
// rule in place of the tick. The rate it knows is the minute's, as the
// ideal's; the model steps with each second's. Where nothing can change
// (no backlog, no overload, no event, one rate) it takes the seconds up to
// the next event at once: the same sums, exactly.
func (r *frontierRun) run(ctx context.Context, s settings.Settings, m Model, tr Trace) {
	mu := m.CapacityRPM / 60
	timeoutMS := float64(s.HeartbeatTimeout) / float64(time.Millisecond)
	requested := m.Initial
	if requested == 0 {
		requested, _ = s.Bounds(m.Start)
	}
	r.scheduled = s.MinDynos.IsSchedule() || s.MaxDynos.IsSchedule()
	r.lo, r.hi = s.Bounds(m.Start)
	serving, backlog := requested, 0.0
	var booting []int
	var wanted []want
	for minute, rpm := range tr.RPM {
		if minute%60 == 0 && ctx.Err() != nil {
			return
		}
		known, demand := rpm/60, int64(m.Ideal(rpm))
		for sec, end := minute*60, minute*60+60; sec < end; {
			for len(booting) > 0 && booting[0] <= sec {
				booting, serving = booting[1:], serving+1
			}
			lambda := tr.lambda(sec)
			latency := timeoutMS
			if serving > 0 {
				capacity := float64(serving) * mu
				latency = m.BaseMS/(1-min(lambda/capacity, 0.95)) + 1000*backlog/capacity
			}
			if sec%m.Interval == 0 {
				target := r.want(s, m, &wanted, sec, known)
				booting, serving = rescale(booting, serving, requested, target, sec+m.BootSeconds)
				requested = target
			}
			n := 1
			if tr.RPS == nil && backlog == 0 && lambda <= float64(serving)*mu {
				next := min(end, (sec/m.Interval+1)*m.Interval)
				if len(booting) > 0 {
					next = min(next, booting[0])
				}
				n = next - sec
			}
			r.supply += int64(n * requested)
			r.demand += int64(n) * demand
			if latency > m.SLOMS {
				r.violations += n
			}
			r.all += n
			backlog = max(0, backlog+lambda-float64(serving)*mu)
			sec += n
		}
	}
}

// want is the candidate's target at second sec, knowing the rate: the
// most dynos wished for within the hold, within the bounds.
func (r *frontierRun) want(s settings.Settings, m Model, wanted *[]want, sec int, known float64) int {
	mu := m.CapacityRPM / 60
	*wanted = append(*wanted, want{sec, max(1, int(math.Ceil(known/(mu*r.u))))})
	*wanted = slices.DeleteFunc(*wanted, func(w want) bool { return w.at < sec-r.hold })
	most := 0
	for _, w := range *wanted {
		most = max(most, w.dynos)
	}
	lo, hi := r.lo, r.hi
	if r.scheduled {
		lo, hi = s.Bounds(m.Start.Add(time.Duration(sec) * time.Second))
	}
	return min(hi, max(lo, most))
}

// rescale changes a formation of requested dynos to target, as the
// simulated formation does: new dynos serve at ready; a scale down stops
// the latest to be ready first, then serving ones.
func rescale(booting []int, serving, requested, target, ready int) ([]int, int) {
	if target > requested {
		for range target - requested {
			booting = append(booting, ready)
		}
		return booting, serving
	}
	remove := requested - target
	fromBooting := min(remove, len(booting))
	return booting[:len(booting)-fromBooting], serving - (remove - fromBooting)
}
