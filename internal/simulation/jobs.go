package simulation

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// jobShutdownSeconds is how long a stopped dyno's running jobs have to
// finish before they go back to the queue: Sidekiq's default shutdown
// timeout, inside the 30 s Heroku leaves between SIGTERM and SIGKILL.
const jobShutdownSeconds = 25

// jobQueue is the job model: one FIFO queue worked by the formation's
// dynos, each running up to JobConcurrency jobs at once. Events (arrivals,
// ends of jobs) happen at any instant; the queue is read at each whole
// second, after every event up to it.
type jobQueue struct {
	model   Model
	perMin  []float64 // jobs enqueued each minute
	waiting cohorts
	nextID  uint64 // the next arriving job's number
	ready   []int  // each dyno's ready second, nondecreasing (Heroku numbers them in order)
	serving int    // dynos ready: ready[:serving]
	// epoch is each dyno number's, moved on when that dyno stops, so that
	// its slots and jobs are told from a later dyno's of the same number.
	epoch   []uint32
	slots   slotQueue
	running runningHeap
	// arrivals is the Poisson process's stream with noise; nil: arrivals
	// spread evenly over each minute and jobs run exactly JobSeconds.
	arrivals *rand.Rand
	next     float64 // the process's next arrival
	latency  float64 // seconds, at the current second
	finished int     // jobs run to their end
}

func newJobQueue(m Model, perMin []float64, initial int) *jobQueue {
	q := &jobQueue{model: m, perMin: perMin, next: math.Inf(1)}
	if m.Noise > 0 {
		q.arrivals = rand.New(rand.NewPCG(m.Seed, 0x6a6f6273)) // "jobs"
	}
	q.scale(0, initial)
	for d := range q.ready {
		q.ready[d] = 0 // the initial dynos serve from the start
	}
	q.boot(0)
	return q
}

// step moves the queue to second s: the arrivals and ends of jobs in
// (s−1, s] in time order (an end before an arrival at the same instant),
// then the dynos whose boot ends at s, and reads the latency.
func (q *jobQueue) step(s int) {
	a := q.arrivalsUntil(s)
	for {
		tc := math.Inf(1)
		if len(q.running) > 0 && q.running[0].done <= float64(s) {
			tc = q.running[0].done
		}
		ta := math.Inf(1)
		if a.n > 0 {
			ta = a.time(0)
		}
		switch {
		case math.IsInf(tc, 1) && math.IsInf(ta, 1):
			q.boot(s)
			q.start(float64(s))
			q.latency = 0
			if q.waiting.depth > 0 {
				q.latency = float64(s) - q.waiting.front().time(0)
			}
			return
		case tc <= ta:
			q.end(tc)
			q.start(tc)
		case q.slots.live > 0:
			// A free slot means no job waits: this one starts at once.
			q.waiting.push(a.take(1))
			q.start(ta)
		default:
			// No slot frees before tc: every job arriving until then waits.
			q.waiting.push(a.take(a.before(tc)))
		}
	}
}

// arrivalsUntil is the jobs enqueued in (s−1, s], numbered in order of
// arrival. Minute m's n jobs arrive in (60m, 60m+60]: without noise job k
// at 60m + 60(k + ½)/n; with noise at a Poisson process's instants, which
// the model places evenly within their second.
func (q *jobQueue) arrivalsUntil(s int) cohort {
	if s < 1 {
		return cohort{}
	}
	m := (s - 1) / 60
	n := int(q.perMin[m])
	r := s - 60*m // 1–60
	var c cohort
	if q.arrivals == nil {
		// Jobs with 60(k + ½)/n ≤ r: k ≤ nr/60 − ½.
		upTo := func(r int) int { return min(n, (2*n*r+60)/120) }
		first := upTo(r - 1)
		c = cohort{base: float64(60 * m), gap: 60 / float64(n), first: first, n: upTo(r) - first}
	} else {
		if r == 1 {
			// A new minute, a new rate: the process is memoryless.
			q.next = math.Inf(1)
			if n > 0 {
				q.next = float64(60*m) + q.arrivals.ExpFloat64()*60/float64(n)
			}
		}
		k := 0
		for ; q.next <= float64(s); k++ {
			q.next += q.arrivals.ExpFloat64() * 60 / float64(n)
		}
		c = cohort{base: float64(s - 1), gap: 1 / float64(k), n: k}
	}
	if c.n > 0 {
		c.id = q.nextID
		q.nextID += uint64(c.n)
	}
	return c
}

// runSeconds is how long job id runs: JobSeconds, or with noise an
// exponential draw of that mean taken from the job's number (SplitMix64 at
// position id), so that a job runs as long in every run of a trace and
// when it runs again.
func (q *jobQueue) runSeconds(id uint64) float64 {
	if q.arrivals == nil {
		return q.model.JobSeconds
	}
	z := q.model.Seed + (id+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	u := (float64(z>>11) + 1) / (1 << 53) // (0, 1]
	return -math.Log(u) * q.model.JobSeconds
}

// start gives waiting jobs the free slots at time t, the slot free
// longest first (Redis serves blocked fetches in order), so that work
// spreads over the dynos.
func (q *jobQueue) start(t float64) {
	for q.slots.live > 0 && q.waiting.depth > 0 {
		sl := q.slots.pop(q.epoch)
		at, id := q.waiting.pop()
		heap.Push(&q.running, runningJob{done: t + q.runSeconds(id), at: at, id: id, dyno: sl.dyno, epoch: sl.epoch})
	}
}

// end takes every job ending at t off the running set: a finished job's
// slot is free again if its dyno still runs; a job whose dyno stopped
// under it goes back to the queue's front, with its enqueue time, the
// oldest foremost.
func (q *jobQueue) end(t float64) {
	for len(q.running) > 0 && q.running[0].done == t {
		j := heap.Pop(&q.running).(runningJob)
		switch {
		case j.requeue:
			q.waiting.pushFront(cohort{base: j.at, n: 1, id: j.id})
		case q.epoch[j.dyno] == j.epoch:
			q.slots.push(slot{dyno: j.dyno, epoch: j.epoch})
			q.finished++
		default:
			q.finished++ // within its stopped dyno's shutdown time
		}
	}
}

// boot adds the slots of the dynos ready by s, taking turns among them.
func (q *jobQueue) boot(s int) {
	from := q.serving
	for q.serving < len(q.ready) && q.ready[q.serving] <= s {
		q.serving++
	}
	for range q.model.JobConcurrency {
		for d := from; d < q.serving; d++ {
			q.slots.push(slot{dyno: int32(d), epoch: q.epoch[d]})
		}
	}
}

// scale sets the formation to quantity at second s. New dynos serve
// after the boot delay. A scale down stops the highest-numbered dynos, as
// Heroku does: those still booting, then serving ones; a stopped dyno's
// jobs finish if they can within jobShutdownSeconds and go back to the
// queue's front then if not.
func (q *jobQueue) scale(s, quantity int) {
	for len(q.ready) < quantity {
		q.ready = append(q.ready, s+q.model.BootSeconds)
		if len(q.epoch) < len(q.ready) {
			q.epoch = append(q.epoch, 0)
			q.slots.free = append(q.slots.free, 0)
		}
	}
	if quantity >= len(q.ready) {
		return
	}
	for d := quantity; d < q.serving; d++ {
		q.epoch[d]++
		q.slots.stop(int32(d), q.epoch)
	}
	stopped := q.serving > quantity
	q.ready, q.serving = q.ready[:quantity], min(q.serving, quantity)
	if !stopped {
		return
	}
	deadline := float64(s + jobShutdownSeconds)
	for i, j := range q.running {
		if int(j.dyno) >= quantity && j.epoch != q.epoch[j.dyno] && !j.requeue && j.done > deadline {
			q.running[i].done, q.running[i].requeue = deadline, true
		}
	}
	heap.Init(&q.running)
}

// busy is the jobs running now, those of stopping dynos included.
func (q *jobQueue) busy() int { return len(q.running) }

// jobQueueName is the model's one queue, named as Sidekiq's default is.
const jobQueueName = "default"

// jobsAnswer is the heartbeat's answer about the job model's queue, as
// the job_latency probe reads it. The heartbeat is the web app's, so it
// answers whether or not a worker runs, and reports the queue exactly, in
// whole milliseconds as its header does: the job libraries count their
// queues, nothing is sampled.
func (p *prober) jobsAnswer() probe.Result {
	q := p.world.jobs
	latency := time.Duration(math.Round(1000*q.latency)) * time.Millisecond
	report := probe.Jobs{Queues: []probe.Queue{{Name: jobQueueName, Latency: latency, Depth: q.waiting.depth, Busy: q.busy()}}}
	p.last = probe.AnsweredJobs(200, report, p.minResponse, p.maxResponse)
	p.response = latency
	return p.last
}

// SignalFits says whether settings s can run a trace of jobs (jobs true)
// or of requests: the job model answers the job_latency signal's report,
// and that signal reads nothing else.
func SignalFits(s settings.Settings, jobs bool) error {
	switch {
	case jobs && s.Signal != probe.JobLatency:
		return fmt.Errorf("a trace of jobs runs a worker formation on its queue: set %s=%s (it is %s)", settings.EnvSignal, probe.JobLatency, s.Signal)
	case !jobs && s.Signal == probe.JobLatency:
		return fmt.Errorf("%s=%s scales on a job queue: replay a trace of jobs (minute,jobs) or a job profile", settings.EnvSignal, probe.JobLatency)
	}
	return nil
}
