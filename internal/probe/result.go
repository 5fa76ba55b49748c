package probe

import "time"

// Verdict classifies one heartbeat.
type Verdict string

const (
	Fail  Verdict = "fail"  // too slow, 5xx, timeout, refused or reset: counts toward scaling up
	Pass  Verdict = "pass"  // a 2xx faster than the minimum: counts toward scaling down
	OK    Verdict = "ok"    // in range: resets both streaks
	Error Verdict = "error" // 4xx, DNS, TLS or redirect loop: the probe itself is broken, decide nothing
)

// Result is the outcome of one heartbeat.
type Result struct {
	Verdict Verdict
	Latency time.Duration // time to the first byte of the body; zero when none arrived
	Status  int           // HTTP status, 0 when no response
	Detail  string        // why, for humans: "HTTP 503", "timeout after 10s", "dns: no such host", …
	// Source says what Latency measured with the queue_time and
	// utilization signals (empty otherwise, and when no answer came).
	Source Source
	// Utilization is the share of the heartbeat kit's window its dyno had a
	// request in flight, 0–1, with the utilization signal; HasUtilization
	// says the answer reported it.
	Utilization    float64
	HasUtilization bool
	// Jobs is the job queues' report with the job_latency signal: the
	// queues the formation works, as the heartbeat kit reported them.
	Jobs *Jobs
}

// Jobs is what the heartbeat kit reported of the job queues a formation
// works (the job_latency signal).
type Jobs struct {
	Queues []Queue // sorted by name
}

// Queue is one job queue's reading.
type Queue struct {
	Name    string
	Latency time.Duration // age of the oldest job ready to run; 0 when none waits
	Depth   int           // jobs ready to run
	Busy    int           // jobs running now
}

// Latency is the highest of the queues' latencies: the formation's.
func (j Jobs) Latency() time.Duration {
	var out time.Duration
	for _, q := range j.Queues {
		out = max(out, q.Latency)
	}
	return out
}

// Waiting reports whether any job is ready to run.
func (j Jobs) Waiting() bool {
	for _, q := range j.Queues {
		if q.Latency > 0 || q.Depth > 0 {
			return true
		}
	}
	return false
}

// Depth and Busy are the queues' totals.
func (j Jobs) Depth() int { return j.sum(func(q Queue) int { return q.Depth }) }
func (j Jobs) Busy() int  { return j.sum(func(q Queue) int { return q.Busy }) }

func (j Jobs) sum(of func(Queue) int) int {
	n := 0
	for _, q := range j.Queues {
		n += of(q)
	}
	return n
}
