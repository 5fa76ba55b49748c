package probe

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

// The heartbeat kit's answer headers, named where the kit writes them.
const (
	queueTimeHeader  = heartbeat.QueueTimeHeader
	queueP95Header   = heartbeat.QueueP95Header
	queueCountHeader = heartbeat.QueueCountHeader
)

// Signal is what a beat's latency measures.
type Signal string

const (
	// ResponseTime: from the request to the first body byte (the original's).
	ResponseTime Signal = "response_time"
	// QueueTime: how long requests waited for a dyno, as the heartbeat
	// reports it in the heartbeat package's headers.
	QueueTime Signal = "queue_time"
	// Utilization: the share of time the app's dyno had a request in
	// flight, as the heartbeat kit's Middleware reports it; the latency is
	// then the queue time, as with QueueTime.
	Utilization Signal = "utilization"
)

// Signals lists the valid signals, the default first.
func Signals() []Signal { return []Signal{ResponseTime, QueueTime, Utilization} }

// Source says where a queue_time beat's latency came from. Empty with the
// response_time signal.
type Source string

const (
	// SourceQueueP95: the heartbeat's 95th percentile of recent requests.
	SourceQueueP95 Source = "queue_p95"
	// SourceQueueProbe: the heartbeat request's own queue time (an app
	// without the window, or with no traffic counted in it).
	SourceQueueProbe Source = "queue_probe"
	// SourceResponse: neither header came back (an app without the kit, or
	// no X-Request-Start), so the response time stands in.
	SourceResponse Source = "response_time"
)

// maxHeaderMillis bounds a believable queue-time header, as the heartbeat
// package bounds X-Request-Start.
const maxHeaderMillis = 3600 * 1000

// queueLatency picks the queue_time signal's latency from an answer's
// headers: the window's p95, else the probe's own queue time, else the
// response time. A header that is not a whole number of milliseconds in
// range is ignored, as is a p95 over an empty window.
func queueLatency(h http.Header, response time.Duration) (time.Duration, Source) {
	if count, ok := headerMillis(h, queueCountHeader); !ok || count > 0 {
		if p95, ok := headerMillis(h, queueP95Header); ok {
			return time.Duration(p95) * time.Millisecond, SourceQueueP95
		}
	}
	if own, ok := headerMillis(h, queueTimeHeader); ok {
		return time.Duration(own) * time.Millisecond, SourceQueueProbe
	}
	return response, SourceResponse
}

func headerMillis(h http.Header, name string) (int64, bool) {
	v := strings.TrimSpace(h.Get(name))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > maxHeaderMillis {
		return 0, false
	}
	return n, true
}

// sourceDetail is appended to a queue_time beat's detail.
func sourceDetail(src Source, latency time.Duration, h http.Header) string {
	switch src {
	case SourceQueueP95:
		return fmt.Sprintf("queue time p95 %s of %s requests", latency, h.Get(queueCountHeader))
	case SourceQueueProbe:
		return fmt.Sprintf("queue time %s (the probe's own)", latency)
	default:
		return fmt.Sprintf("no queue-time header: response time %s", latency)
	}
}
