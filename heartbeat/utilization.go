package heartbeat

import (
	"math"
	"strconv"
	"time"
)

const nsPerSecond = int64(time.Second)

// start counts a request in flight from now and records its queue time, if
// it has one.
func (w *Window) start(now time.Time, queue time.Duration, queued bool) {
	b := bucket(queue)
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.tick(now)
	w.inflight++
	if queued {
		w.record(t, b)
	}
}

// stop counts a request no longer in flight from now.
func (w *Window) stop() {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tick(now)
	w.inflight--
}

// resume counts a request in flight again after stop, from now.
func (w *Window) resume() { w.start(w.now(), 0, false) }

// tick brings the busy time up to now and returns now as nanoseconds on the
// window's time line: the wall clock at the window's first use, advanced by
// the monotonic clock since, so that a step of the wall clock neither
// stretches nor shrinks busy time. The time line never runs backwards: a
// caller whose clock was read before another's took the lock counts from
// the other's time. w.mu held.
func (w *Window) tick(now time.Time) int64 {
	if w.base.IsZero() {
		w.base = now
	}
	t := max(w.base.UnixNano()+int64(now.Sub(w.base)), w.last)
	from := max(w.last, (t/nsPerSecond-int64(w.length))*nsPerSecond) // older seconds have left the window
	w.last = t
	level := int64(min(w.inflight, w.concurrency()))
	for level > 0 && from < t {
		sec := from / nsPerSecond
		to := min(t, (sec+1)*nsPerSecond)
		w.slot(sec).busy += level * (to - from)
		from = to
	}
	return t
}

func (w *Window) concurrency() int { return max(w.Concurrency, 1) }

// percent renders a utilization of 0–1 as a whole percentage, rounded to
// the nearest.
func percent(u float64) string {
	return strconv.Itoa(int(math.Round(100 * min(max(u, 0), 1))))
}
