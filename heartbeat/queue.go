package heartbeat

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header names. RequestStartHeader is set by the router; the others are set
// on the heartbeat's answer.
const (
	RequestStartHeader = "X-Request-Start"
	QueueTimeHeader    = "X-Queue-Time-Ms"
	QueueP95Header     = "X-Queue-Time-P95-Ms"
	QueueCountHeader   = "X-Queue-Time-Count"
	QueueWindowHeader  = "X-Queue-Time-Window-S"
	// UtilizationHeader: the window's time-weighted mean of
	// min(requests in flight, Concurrency) / Concurrency, 0–100.
	UtilizationHeader = "X-Utilization-Pct"
	// The job report's headers: lists of queue=value, names sorted.
	JobLatencyHeader = "X-Job-Latency-Ms"
	JobDepthHeader   = "X-Job-Depth"
	JobBusyHeader    = "X-Job-Busy"
)

// DefaultWindow is how far back Middleware's statistics reach.
const DefaultWindow = 30 * time.Second

// maxQueueTime bounds a believable queue time: an X-Request-Start further in
// the past than this is not a router's stamp (Heroku's router gives up on a
// request after 30 s), so it is ignored rather than counted.
const maxQueueTime = time.Hour

// ParseRequestStart reads an X-Request-Start value: milliseconds since the
// epoch ("1700000000123"), or with a "t=" prefix; the unit of a whole number
// is told by its size (seconds, milliseconds, microseconds or nanoseconds
// since the epoch), and a number with a fraction is seconds ("t=1700000000.123",
// nginx's $msec). ok is false for anything else.
func ParseRequestStart(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "t=")
	if v == "" || len(v) > 40 {
		return time.Time{}, false
	}
	if strings.ContainsRune(v, '.') {
		secs, frac, _ := strings.Cut(v, ".")
		s, err := strconv.ParseInt(secs, 10, 64)
		if err != nil || s <= 0 || s >= 1e11 || frac == "" || !allDigits(frac) {
			return time.Time{}, false
		}
		if len(frac) > 9 {
			frac = frac[:9]
		}
		ns, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		return time.Unix(s, ns), true
	}
	if !allDigits(v) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	switch {
	case n >= 1e17:
		return time.Unix(0, n), true
	case n >= 1e14:
		return time.UnixMicro(n), true
	case n >= 1e11:
		return time.UnixMilli(n), true
	default:
		return time.Unix(n, 0), true
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// QueueTime is how long the request waited between the router and the app,
// by its X-Request-Start header. A stamp in the future (the router's clock
// ahead of the dyno's) counts as 0. ok is false when the header is missing,
// malformed, or more than an hour old.
func QueueTime(r *http.Request, now time.Time) (time.Duration, bool) {
	start, ok := ParseRequestStart(r.Header.Get(RequestStartHeader))
	if !ok {
		return 0, false
	}
	d := now.Sub(start)
	switch {
	case d < 0:
		return 0, true
	case d > maxQueueTime:
		return 0, false
	}
	return d, true
}

// Stats summarises a window: the queue times of its requests and how busy
// the process was.
type Stats struct {
	Count  int64         // requests with a readable X-Request-Start
	P95    time.Duration // 95th percentile, to within the histogram's resolution (see Window)
	Window time.Duration
	// Utilization is the time-weighted mean of min(requests in flight,
	// Concurrency) / Concurrency, 0–1, over the window's length in whole
	// seconds before the current second and the current second so far
	// (from the window's first use, when that is later).
	Utilization float64
}

// Window keeps the queue times of the recent past in constant memory: a ring
// of per-second histograms. A histogram's buckets are 1 ms wide up to 10 ms,
// then about 10 % wide up to a minute (one more holds anything longer), so
// P95 is the upper edge of the bucket holding the 95th percentile: at most
// 1 ms or 10 % above the exact figure. Each second also accumulates its busy
// time, min(requests in flight, Concurrency) × time, for Utilization.
// Safe for concurrent use.
type Window struct {
	// Concurrency is how many requests the process serves at once (its
	// threads or workers); ≤ 0 means 1: a single-threaded process is busy as
	// soon as one request is in flight. Set it before the window serves.
	Concurrency int

	mu       sync.Mutex
	length   int      // seconds
	seconds  []second // length+1: the seconds of the window and the one before its start
	now      func() time.Time
	base     time.Time // the window's first use: its time line starts here
	last     int64     // when the in-flight count last changed or was read, ns on the time line
	inflight int
}

type second struct {
	unix   int64 // the second this slot holds; slots of older seconds are stale
	count  int64
	busy   int64 // Σ min(in flight, Concurrency) × ns within this second
	counts [numBuckets]uint32
}

// bucketEdges are the histograms' upper edges in milliseconds.
var bucketEdges = func() []float64 {
	var edges []float64
	for ms := 1.0; ms <= 10; ms++ {
		edges = append(edges, ms)
	}
	for e := 10.0; e < 60000; {
		e = math.Ceil(e * 1.1)
		edges = append(edges, e)
	}
	return append(edges, math.Inf(1))
}()

const numBuckets = 99 // len(bucketEdges), checked at init

func init() {
	if len(bucketEdges) != numBuckets {
		panic("heartbeat: numBuckets is " + strconv.Itoa(numBuckets) + ", edges are " + strconv.Itoa(len(bucketEdges)))
	}
}

// NewWindow returns a window of the given length, rounded up to whole
// seconds (at least one); DefaultWindow when length ≤ 0.
func NewWindow(length time.Duration) *Window {
	if length <= 0 {
		length = DefaultWindow
	}
	n := int((length + time.Second - 1) / time.Second)
	return &Window{length: n, seconds: make([]second, n+1), now: time.Now}
}

// Observe records one request's queue time.
func (w *Window) Observe(d time.Duration) {
	b := bucket(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record(w.tick(w.now()), b)
}

// bucket is the histogram bucket of a queue time: the first edge ≥ d.
func bucket(d time.Duration) int {
	ms := float64(max(d, 0)) / float64(time.Millisecond)
	return min(sort.SearchFloat64s(bucketEdges, ms), numBuckets-1)
}

// record counts a queue time in bucket b at t (ns on the time line); w.mu held.
func (w *Window) record(t int64, b int) {
	s := w.slot(t / nsPerSecond)
	s.count++
	if s.counts[b] < math.MaxUint32 {
		s.counts[b]++
	}
}

// slot returns the slot of the given second, clearing it if it held an older second.
func (w *Window) slot(unix int64) *second {
	s := &w.seconds[int(uint64(unix)%uint64(len(w.seconds)))]
	if s.unix != unix {
		*s = second{unix: unix}
	}
	return s
}

// Stats returns the count and 95th percentile of the window's queue times,
// and its utilization up to now, requests still in flight included.
func (w *Window) Stats() Stats {
	var counts [numBuckets]uint64
	var total, busy int64
	w.mu.Lock()
	t := w.tick(w.now())
	now := t / nsPerSecond
	for i := range w.seconds {
		s := &w.seconds[i]
		if s.unix < now-int64(w.length) || s.unix > now {
			continue
		}
		busy += s.busy
		if s.count == 0 || s.unix == now-int64(w.length) {
			continue // the oldest second is in the utilization window only
		}
		total += s.count
		for b, c := range s.counts {
			counts[b] += uint64(c)
		}
	}
	span := t - max(w.base.UnixNano(), (now-int64(w.length))*nsPerSecond)
	conc := w.concurrency()
	w.mu.Unlock()
	st := Stats{Count: total, Window: time.Duration(w.length) * time.Second}
	if span > 0 {
		st.Utilization = min(1, float64(busy)/(float64(conc)*float64(span)))
	}
	if total == 0 {
		return st
	}
	var sum uint64
	for _, c := range counts {
		sum += uint64(c)
	}
	rank := uint64(math.Ceil(0.95 * float64(sum)))
	var seen uint64
	for b, c := range counts {
		seen += c
		if seen >= rank {
			edge := bucketEdges[b]
			if math.IsInf(edge, 1) {
				edge = bucketEdges[numBuckets-2]
			}
			st.P95 = time.Duration(edge * float64(time.Millisecond))
			break
		}
	}
	return st
}

type windowKey struct{}

// Middleware records every request's queue time and time in flight in a
// window of DefaultWindow and a Concurrency of 1, and makes the window known
// to a Handler below it.
func Middleware(next http.Handler) http.Handler {
	return NewWindow(DefaultWindow).Middleware(next)
}

// Middleware records every request's queue time and time in flight in w,
// and makes w known to a Handler below it. Requests without a readable
// X-Request-Start are not counted in the queue times; every request is
// counted in flight until next returns, but a Handler's own request is not
// (see Handler).
func (w *Window) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		now := w.now()
		d, queued := QueueTime(r, now)
		w.start(now, d, queued)
		defer w.stop()
		next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), windowKey{}, w)))
	})
}

// windowFrom returns the window a Middleware above put in ctx, or nil.
func windowFrom(ctx context.Context) *Window {
	w, _ := ctx.Value(windowKey{}).(*Window)
	return w
}

// millis renders a duration as whole milliseconds, rounded up so that a
// wait of 0.3 ms is not reported as none.
func millis(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}
