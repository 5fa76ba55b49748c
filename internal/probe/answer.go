package probe

import "time"

// Answered is the result Probe gives for an answer with this HTTP status
// whose first body byte came after latency: the same verdict rules, for
// callers that model an app instead of requesting one (the simulator).
func Answered(status int, latency, minResponse, maxResponse time.Duration) Result {
	v, d := classify(status, latency, minResponse, maxResponse)
	return Result{Verdict: v, Latency: latency, Status: status, Detail: d}
}

// TimedOut is the result Probe gives when no answer came within bound.
func TimedOut(bound time.Duration) Result {
	return Result{Verdict: Fail, Detail: timeoutDetail(bound)}
}

func timeoutDetail(bound time.Duration) string { return "timeout after " + bound.String() }
