package simulation

import (
	"math"
	"slices"
)

// cohort is n jobs enqueued evenly spaced and numbered in order: job i
// (from 0) was enqueued at base + gap·(first + i + ½) and is number id + i.
// A queue holds about one a minute of backlog, not one a job.
type cohort struct {
	base, gap float64
	first, n  int
	id        uint64
}

func (c cohort) time(i int) float64 {
	if c.gap == 0 {
		return c.base
	}
	return c.base + c.gap*(float64(c.first+i)+0.5)
}

// before is how many of c's jobs were enqueued before t.
func (c cohort) before(t float64) int {
	k := c.n
	if x := (t-c.base)/c.gap - float64(c.first) - 0.5; c.gap > 0 && x < float64(c.n) {
		k = max(0, int(math.Ceil(x)))
	}
	for k > 0 && c.time(k-1) >= t {
		k--
	}
	for k < c.n && c.time(k) < t {
		k++
	}
	return k
}

// take removes the first k jobs of c and returns them.
func (c *cohort) take(k int) cohort {
	out := *c
	out.n = k
	c.first += k
	c.id += uint64(k)
	c.n -= k
	return out
}

// cohorts is the queue of waiting jobs, its front at head.
type cohorts struct {
	q     []cohort
	head  int
	depth int // jobs waiting
}

func (w *cohorts) front() cohort { return w.q[w.head] }

// push adds c at the back, as part of the last cohort when it continues it.
func (w *cohorts) push(c cohort) {
	if c.n == 0 {
		return
	}
	w.depth += c.n
	if last := len(w.q) - 1; last >= w.head {
		l := &w.q[last]
		if l.base == c.base && l.gap == c.gap && l.gap > 0 && l.first+l.n == c.first && l.id+uint64(l.n) == c.id {
			l.n += c.n
			return
		}
	}
	w.q = append(w.q, c)
}

// pushFront puts c back at the front.
func (w *cohorts) pushFront(c cohort) {
	w.depth += c.n
	if w.head > 0 {
		w.head--
		w.q[w.head] = c
		return
	}
	w.q = slices.Insert(w.q, 0, c)
}

// pop takes the front job: when it was enqueued, and its number.
func (w *cohorts) pop() (float64, uint64) {
	c := &w.q[w.head]
	at, id := c.time(0), c.id
	c.take(1)
	w.depth--
	if c.n == 0 {
		w.head++
		if w.head == len(w.q) {
			w.q, w.head = w.q[:0], 0
		} else if w.head > 64 && 2*w.head > len(w.q) {
			w.q = w.q[:copy(w.q, w.q[w.head:])]
			w.head = 0
		}
	}
	return at, id
}

// slot is one of a dyno's places for a running job; epoch tells the dyno
// from a later one of the same number.
type slot struct {
	dyno  int32
	epoch uint32
}

// slotQueue holds the free slots, the longest free first. A stopped
// dyno's slots are skipped when they come up.
type slotQueue struct {
	q    []slot
	head int
	free []int32 // free slots of each dyno number
	live int     // free slots of running dynos
}

func (f *slotQueue) push(s slot) {
	f.q = append(f.q, s)
	f.free[s.dyno]++
	f.live++
}

// pop takes the longest-free slot of a running dyno; live must be > 0.
func (f *slotQueue) pop(epoch []uint32) slot {
	for {
		s := f.q[f.head]
		f.head++
		if f.head > 64 && 2*f.head > len(f.q) {
			f.q = f.q[:copy(f.q, f.q[f.head:])]
			f.head = 0
		}
		if s.epoch == epoch[s.dyno] {
			f.free[s.dyno]--
			f.live--
			return s
		}
	}
}

// stop drops a stopped dyno's free slots (its epoch moved on) from the
// count, and the stopped dynos' slots from the queue once they outnumber
// the live ones.
func (f *slotQueue) stop(dyno int32, epoch []uint32) {
	f.live -= int(f.free[dyno])
	f.free[dyno] = 0
	if stale := len(f.q) - f.head - f.live; stale > 64 && stale > f.live {
		f.q = slices.DeleteFunc(f.q[f.head:], func(s slot) bool { return s.epoch != epoch[s.dyno] })
		f.head = 0
	}
}

// runningJob is a job in a slot, or a stopped dyno's job until it goes
// back to the queue.
type runningJob struct {
	done    float64 // when it ends, or goes back
	at      float64 // when it was enqueued
	id      uint64
	dyno    int32
	epoch   uint32
	requeue bool
}

// runningHeap orders the running jobs by end; among jobs going back at the
// same instant, the youngest first, so that the oldest ends at the front.
type runningHeap []runningJob

func (h runningHeap) Len() int { return len(h) }
func (h runningHeap) Less(i, j int) bool {
	if h[i].done != h[j].done {
		return h[i].done < h[j].done
	}
	if h[i].at != h[j].at {
		return h[i].at > h[j].at
	}
	return h[i].id > h[j].id
}
func (h runningHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runningHeap) Push(x any)   { *h = append(*h, x.(runningJob)) }
func (h *runningHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
