package probe

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

// The heartbeat kit's job report: three headers, each a list
// "queue=value, queue=value" with the queues' names sorted.
const (
	jobLatencyHeader = heartbeat.JobLatencyHeader // age of the oldest job ready to run, ms
	jobDepthHeader   = heartbeat.JobDepthHeader   // jobs ready to run
	jobBusyHeader    = heartbeat.JobBusyHeader    // jobs running now
)

// Bounds of a believable report: a queue may wait for days (a stopped
// worker over a weekend), not for years; a count fits any queue.
const (
	maxJobMillis = 366 * 24 * 3600 * 1000
	maxJobCount  = 1<<31 - 1
)

// maxJobQueues is the most queues the heartbeat kit reports.
const maxJobQueues = 50

// noJobReport ends the detail of a job_latency beat that failed: a 5xx,
// a timeout or a refused connection says nothing about the jobs waiting.
const noJobReport = ": no job report"

// IsQueueName reports whether name is a job queue's name as the heartbeat
// kit reports it: letters, digits, '_', '.', ':' and '-'.
func IsQueueName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// AnsweredJobs is the result Probe gives with the job_latency signal for an
// answer with this status that carried this job report: the same verdict
// rules, for callers that model an app (the simulator).
func AnsweredJobs(status int, jobs Jobs, minLatency, maxLatency time.Duration) Result {
	v, d := classifyJobs(status, jobs, minLatency, maxLatency)
	return Result{Verdict: v, Latency: jobs.Latency(), Status: status, Detail: d, Source: SourceJobLatency, Jobs: &jobs}
}

// JobsOnly is what the job_latency signal makes of a result: a fail
// without a job report (a 5xx, a timeout, a refused connection) says
// nothing about the jobs waiting, however slow or down the heartbeat is,
// so it is a probe error, which never scales.
func JobsOnly(r Result) Result {
	if r.Verdict == Fail && r.Jobs == nil {
		r.Verdict, r.Detail = Error, r.Detail+noJobReport
	}
	return r
}

// classifyJobs is classify with the highest queue latency in place of the
// response time. A 2xx passes when the oldest job waiting is younger than
// the minimum: a job that starts that soon found a worker free.
func classifyJobs(status int, jobs Jobs, minLatency, maxLatency time.Duration) (Verdict, string) {
	if v, d, decided := classifyStatus(status); decided {
		return v, d
	}
	lat := jobs.Latency()
	d := httpPrefix(status)
	var v Verdict
	switch {
	case lat > maxLatency:
		v, d = Fail, fmt.Sprintf("%s, job latency %s over %s", d, lat, maxLatency)
	case status >= 200 && status < 300 && lat < minLatency:
		v, d = Pass, fmt.Sprintf("%s, job latency %s under %s", d, lat, minLatency)
	default:
		v, d = OK, fmt.Sprintf("%s, job latency %s", d, lat)
	}
	return v, d + "; " + jobs.Summary()
}

// Summary says what the report holds: "oldest in default; 12 waiting, 3
// busy in 2 queues".
func (j Jobs) Summary() string {
	where := ""
	if q := j.Oldest(); q != "" {
		where = "oldest in " + q + "; "
	}
	return fmt.Sprintf("%s%d waiting, %d busy in %d queues", where, j.Depth(), j.Busy(), len(j.Queues))
}

// Oldest names the queue whose job has waited longest; "" when none waits.
func (j Jobs) Oldest() string {
	name, oldest := "", time.Duration(0)
	for _, q := range j.Queues {
		if q.Latency > oldest {
			name, oldest = q.Name, q.Latency
		}
	}
	return name
}

// Idle reports whether no job waits and none runs.
func (j Jobs) Idle() bool { return !j.Waiting() && j.Busy() == 0 }

// jobResult classifies an answer with the job_latency signal. Only the
// status decides a 4xx or 5xx; any other answer without a complete report
// of the queues wanted is a probe error naming the header and the queue.
func (p *Prober) jobResult(status int, h http.Header) Result {
	if v, d, decided := classifyStatus(status); decided {
		return Result{Verdict: v, Status: status, Detail: d}
	}
	jobs, bad := jobReport(h, p.JobQueues)
	if bad != "" {
		return Result{Verdict: Error, Status: status, Detail: httpPrefix(status) + ", " + bad}
	}
	return AnsweredJobs(status, jobs, p.MinResponse, p.MaxResponse)
}

// jobReport reads the report of the queues wanted (every queue reported,
// when none is named). Each must be in each of the three headers.
func jobReport(h http.Header, want []string) (Jobs, string) {
	type list struct {
		header string
		values map[string]int64
	}
	lists := []list{{header: jobLatencyHeader}, {header: jobDepthHeader}, {header: jobBusyHeader}}
	names := want
	if len(want) == 0 {
		names = make([]string, 0, 3*maxJobQueues)
	}
	for i := range lists {
		limit := int64(maxJobCount)
		if i == 0 {
			limit = maxJobMillis
		}
		values, bad := jobList(h, lists[i].header, limit)
		if bad != "" {
			return Jobs{}, bad
		}
		lists[i].values = values
		if len(want) == 0 {
			for q := range values {
				names = append(names, q)
			}
		}
	}
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	queues := make([]Queue, 0, len(names))
	for _, q := range names {
		for _, l := range lists {
			if _, ok := l.values[q]; !ok {
				return Jobs{}, fmt.Sprintf("%s does not report queue %q", l.header, q)
			}
		}
		queues = append(queues, Queue{Name: q, Latency: time.Duration(lists[0].values[q]) * time.Millisecond,
			Depth: int(lists[1].values[q]), Busy: int(lists[2].values[q])})
	}
	return Jobs{Queues: queues}, ""
}

// jobList reads one header of the report: queue → value. An empty header
// reports no queue; a missing one is said as such.
func jobList(h http.Header, header string, limit int64) (map[string]int64, string) {
	raw, ok := h[http.CanonicalHeaderKey(header)]
	if !ok {
		return nil, "no " + header + " header: the heartbeat kit's job report must be installed, and answers it only to a request with its token"
	}
	n := 0
	for _, line := range raw {
		n += strings.Count(line, ",") + 1
	}
	out := make(map[string]int64, n)
	for _, line := range raw {
		for item := range strings.SplitSeq(line, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			q, v, found := strings.Cut(item, "=")
			q, v = strings.TrimSpace(q), strings.TrimSpace(v)
			if !found || !IsQueueName(q) {
				return nil, fmt.Sprintf("%s: %q is not queue=value", header, printable(item))
			}
			if _, dup := out[q]; dup {
				return nil, fmt.Sprintf("%s names queue %q twice", header, q)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > limit {
				return nil, fmt.Sprintf("%s: queue %q: %q is not a whole number 0–%d", header, q, printable(v), limit)
			}
			out[q] = n
		}
	}
	return out, ""
}
