package simulation

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// ErrNoHistory means the records hold no tick whose traffic can be inferred.
var ErrNoHistory = errors.New("no decision records with a dyno count and a probe to infer traffic from")

// InferTrace turns recorded decisions into traffic by inverting the model:
// a tick that saw latency L with n dynos had ρ = 1 − base/L, so n·capacity·ρ
// requests a minute. Above the model's 0.95 cap the latency is backlog,
// taken to have built up since the previous tick: n·capacity·(1 + B/(1000·Δt))
// with B the latency beyond base/0.05. A probe with no answer counts as the
// probe timeout; probe errors and unread formations tell nothing, and the
// previous minute's rate carries on through them and through gaps. The
// trace starts at the first record's minute.
func InferTrace(recs []state.Record, m Model, timeout time.Duration) (Inferred, error) {
	var ticks []state.Record
	for _, r := range recs {
		if r.Kind == state.KindDecision && r.Current > 0 && r.Verdict != "error" && r.Verdict != "" {
			ticks = append(ticks, r)
		}
	}
	if len(ticks) == 0 {
		return Inferred{}, ErrNoHistory
	}
	slices.SortStableFunc(ticks, func(a, b state.Record) int { return a.At.Compare(b.At) })
	start := ticks[0].At.UTC().Truncate(time.Minute)
	minutes := int(ticks[len(ticks)-1].At.Sub(start)/time.Minute) + 1
	if minutes > maxMinutes {
		return Inferred{}, errors.New("the history spans more than ten years")
	}
	sum := make([]float64, minutes)
	count := make([]int, minutes)
	timeoutMS := float64(timeout) / float64(time.Millisecond)
	for i, r := range ticks {
		dt := float64(m.Interval)
		if i > 0 {
			dt = cmp.Or(r.At.Sub(ticks[i-1].At).Seconds(), dt)
		}
		latency := m.recordedLatency(r)
		if r.Status == 0 {
			latency = timeoutMS
		}
		k := int(r.At.Sub(start) / time.Minute)
		sum[k] += inferRPM(m, r.Current, latency, dt)
		count[k]++
	}
	tr := make([]float64, minutes)
	for k := range tr {
		switch {
		case count[k] > 0:
			tr[k] = math.Round(sum[k] / float64(count[k]))
		case k > 0:
			tr[k] = tr[k-1]
		}
	}
	gaps := make([]time.Duration, 0, len(ticks))
	for i := 1; i < len(ticks); i++ {
		gaps = append(gaps, ticks[i].At.Sub(ticks[i-1].At))
	}
	interval := m.Interval
	if len(gaps) > 0 {
		slices.Sort(gaps)
		interval = int(gaps[len(gaps)/2].Round(time.Second) / time.Second)
	}
	return Inferred{Trace: PerMinute(tr...), Start: start, Dynos: ticks[0].Current, Ticks: len(ticks), IntervalSeconds: interval}, nil
}

// Inferred is the traffic of a recorded history.
type Inferred struct {
	Trace Trace
	Start time.Time // minute 0: the first tick's minute
	Dynos int       // the dyno count the first tick found
	Ticks int       // the decisions the traffic was inferred from
	// IntervalSeconds is the usual time between the recorded ticks (the median).
	IntervalSeconds int
}

// inferRPM is the rate that makes the model answer latencyMS with n dynos.
func inferRPM(m Model, n int, latencyMS, dt float64) float64 {
	full := float64(n) * m.CapacityRPM
	saturated := m.BaseMS / (1 - 0.95)
	switch {
	case latencyMS <= m.BaseMS:
		return 0
	case latencyMS < saturated:
		return full * (1 - m.BaseMS/latencyMS)
	default:
		return full * (1 + (latencyMS-saturated)/(1000*dt))
	}
}

// ScoreRecorded scores what really happened over the inferred trace: the
// dyno count the records show (read at each tick, changed by each
// successful scale) against the same ideal, and the recorded probe latency
// (an unanswered probe as the timeout) against the SLO, each holding until
// the next record. Notices are not recorded, so they count 0.
func ScoreRecorded(recs []state.Record, inf Inferred, m Model, timeout time.Duration) Scores {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b state.Record) int {
		// A tick writes its decision, then its scale, at the same instant.
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)))
	})
	sc := newScorer(m.DynoPrice)
	supply, latency := inf.Dynos, 0.0
	timeoutMS := float64(timeout) / float64(time.Millisecond)
	next := 0
	for minute, rpm := range inf.Trace.RPM {
		demand := m.Ideal(rpm)
		for sec := minute * 60; sec < minute*60+60; sec++ {
			now := inf.Start.Add(time.Duration(sec) * time.Second)
			for ; next < len(sorted) && !sorted[next].At.After(now); next++ {
				r := sorted[next]
				switch {
				case r.Kind == state.KindScale && r.OK:
					sc.scaled(supply, r.Target)
					supply = r.Target
				case r.Kind == state.KindDecision && r.Current > 0:
					supply = r.Current
				}
				if r.Kind == state.KindDecision && r.Verdict != "error" && r.Verdict != "" {
					latency = m.recordedLatency(r)
					if r.Status == 0 {
						latency = timeoutMS
					}
				}
			}
			sc.second(supply, demand, latency > m.SLOMS)
		}
	}
	return sc.scores(inf.Trace.Minutes() * 60)
}

// recordedLatency is a record's latency as the model's L: a queue time
// (the queue_time signal) is the model's latency less its service time, so
// the service time is added back.
func (m Model) recordedLatency(r state.Record) float64 {
	if r.Source == probe.SourceQueueP95 || r.Source == probe.SourceQueueProbe {
		return float64(r.LatencyMS) + m.BaseMS
	}
	return float64(r.LatencyMS)
}

func kindOrder(kind string) int {
	if kind == state.KindScale {
		return 1
	}
	return 0
}
