package simulation

import "math"

// utilizationWindow is the heartbeat kit's window, in seconds.
const utilizationWindow = 30

// busySecond is one second as the dyno a probe lands on saw it.
type busySecond struct {
	busy     float64 // the share of the second it had a request in flight
	requests float64 // the requests it was sent
}

// recordBusy notes the current second, after step 2: a dyno is busy all
// the second while requests wait (the backlog before step 5), else for
// its share of the load, min(1, λ / (serving · μ)). With no dyno serving,
// the second counts as busy if anything arrived or waits, and no dyno was
// sent a request.
func (w *world) recordBusy(lambda, mu float64) {
	b := busySecond{}
	switch {
	case w.serving == 0:
		if lambda > 0 || w.backlog > 0 {
			b.busy = 1
		}
	case w.backlog > 0:
		b.busy, b.requests = 1, lambda/float64(w.serving)
	default:
		b.busy, b.requests = min(1, lambda/(float64(w.serving)*mu)), lambda/float64(w.serving)
	}
	w.busy[w.second%utilizationWindow] = b
}

// utilization is what the heartbeat kit reports at the current second s:
// the mean busy share of the window's w = min(30, s+1) seconds. With noise
// it is a sample's, U + σ·z clamped to [0, 1], σ = √(max(U(1−U), 0.0025) / max(1, R)),
// R the requests the dyno saw in the window: a window of few requests
// tells little.
func (w *world) utilization(z float64) float64 {
	n := min(utilizationWindow, w.second+1)
	var busy, requests float64
	for i := range n {
		b := w.busy[(w.second-i)%utilizationWindow]
		busy += b.busy
		requests += b.requests
	}
	u := busy / float64(n)
	if w.rng == nil {
		return u
	}
	return noisyUtilization(u, requests, z)
}

func noisyUtilization(u, requests, z float64) float64 {
	variance := max(u*(1-u), 0.0025) / max(1, requests)
	return min(1, max(0, u+math.Sqrt(variance)*z))
}
