package heartbeat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Queue is one job queue's part of a job report.
type Queue struct {
	Name string
	// Latency is the age of the oldest job ready to run; 0 when none waits.
	Latency time.Duration
	// Depth is how many jobs are ready to run; Busy how many run now.
	Depth, Busy int
}

// MaxJobQueues bounds the queues one answer reports, so that its headers
// stay well inside what routers accept.
const MaxJobQueues = 50

// maxQueueName bounds a queue's name: 50 of them stay under 5 KB a header.
const maxQueueName = 64

// Jobs returns a check that reports the app's job queues: report lists them,
// read from the job library (Sidekiq's, River's tables, …). Like any check
// it runs bounded by timeout, and its failure makes the answer 503 naming
// it; unlike the others it runs only for a probe carrying the Token, and its
// figures go to the answer's JobLatencyHeader, JobDepthHeader and
// JobBusyHeader.
//
// Several Jobs checks are merged into one report: a queue named by more
// than one counts its oldest job's latency and the sum of its depths and of
// its busy jobs (give queues of different libraries distinct names, say
// "river:default"). When any of them fails, the answer has no job headers at
// all: a partial report would read as queues with nothing to do.
//
// A queue whose name is not 1 to 64 characters of [A-Za-z0-9_.:-] is left
// out, not escaped. Past MaxJobQueues, the queues kept are the ones with the
// oldest jobs (then the most busy, then the deepest, then by name), so the
// highest latency is always reported. Negative figures count as 0. Either
// way OnFailure is told which queues were left out, and the answer still
// passes.
func Jobs(name string, timeout time.Duration, report func(ctx context.Context) ([]Queue, error)) Check {
	return Check{Name: name, Timeout: timeout, jobs: report}
}

// ValidQueueName tells whether a queue's name can be reported: 1 to 64
// characters of [A-Za-z0-9_.:-].
func ValidQueueName(name string) bool {
	if name == "" || len(name) > maxQueueName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return true
}

// mergedQueue is a queue of the answer and the first report that named it.
type mergedQueue struct {
	Queue
	from int
}

// setJobHeaders merges the reports (by the index of their check) into the
// answer's headers; it returns, by report, the queues it left out and why.
func setJobHeaders(hdr http.Header, reports map[int][]Queue) map[int]error {
	left := map[int][]error{}
	byName := map[string]*mergedQueue{}
	for _, ri := range slices.Sorted(maps.Keys(reports)) {
		var bad []string
		for _, q := range reports[ri] {
			if !ValidQueueName(q.Name) {
				bad = append(bad, strconv.Quote(q.Name))
				continue
			}
			m := byName[q.Name]
			if m == nil {
				m = &mergedQueue{Queue: Queue{Name: q.Name}, from: ri}
				byName[q.Name] = m
			}
			m.Latency = max(m.Latency, q.Latency)
			m.Depth += max(q.Depth, 0)
			m.Busy += max(q.Busy, 0)
		}
		if len(bad) > 0 {
			left[ri] = append(left[ri], fmt.Errorf("queues left out of the answer, their names not 1 to %d characters of [A-Za-z0-9_.:-]: %s",
				maxQueueName, strings.Join(bad, ", ")))
		}
	}
	queues := make([]*mergedQueue, 0, len(byName))
	for _, m := range byName {
		queues = append(queues, m)
	}
	slices.SortFunc(queues, func(a, b *mergedQueue) int {
		return cmp.Or(cmp.Compare(b.Latency, a.Latency), cmp.Compare(b.Busy, a.Busy), cmp.Compare(b.Depth, a.Depth), strings.Compare(a.Name, b.Name))
	})
	if len(queues) > MaxJobQueues {
		over := map[int][]string{}
		for _, m := range queues[MaxJobQueues:] {
			over[m.from] = append(over[m.from], m.Name)
		}
		for ri, names := range over {
			slices.Sort(names)
			left[ri] = append(left[ri], fmt.Errorf("queues left out of the answer, past its limit of %d: %s", MaxJobQueues, strings.Join(names, ", ")))
		}
		queues = queues[:MaxJobQueues]
	}
	slices.SortFunc(queues, func(a, b *mergedQueue) int { return strings.Compare(a.Name, b.Name) })
	var lat, depth, busy strings.Builder
	for i, q := range queues {
		if i > 0 {
			lat.WriteString(", ")
			depth.WriteString(", ")
			busy.WriteString(", ")
		}
		lat.WriteString(q.Name + "=" + millis(max(q.Latency, 0)))
		depth.WriteString(q.Name + "=" + strconv.Itoa(q.Depth))
		busy.WriteString(q.Name + "=" + strconv.Itoa(q.Busy))
	}
	hdr.Set(JobLatencyHeader, lat.String())
	hdr.Set(JobDepthHeader, depth.String())
	hdr.Set(JobBusyHeader, busy.String())
	out := make(map[int]error, len(left))
	for ri, errs := range left {
		out[ri] = errors.Join(errs...)
	}
	return out
}
