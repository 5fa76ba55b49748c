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
}
