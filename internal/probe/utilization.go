package probe

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

// utilizationHeader is the heartbeat kit's share of its window with a
// request in flight, in percent.
const utilizationHeader = heartbeat.UtilizationHeader

// noUtilization is the detail of an answer that should carry the header and does not.
const noUtilization = "no " + utilizationHeader + " header: the heartbeat kit's Middleware must wrap the app"

// headerUtilization reads the header as a share, 0–1. A value that is not a
// percentage 0–100 is refused with the detail saying so.
func headerUtilization(h http.Header) (float64, string) {
	raw, ok := h[http.CanonicalHeaderKey(utilizationHeader)]
	if !ok || len(raw) == 0 {
		return 0, noUtilization
	}
	v := strings.TrimSpace(raw[0])
	pct, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(pct) || pct < 0 || pct > 100 {
		return 0, fmt.Sprintf("%s %q is not a percentage 0–100", utilizationHeader, printable(v))
	}
	return pct / 100, ""
}

// AnsweredUtilization is the result Probe gives with the utilization signal
// for an answer with this status that reported utilization u (0–1), its
// latency being the queue time the answer also carried: the same verdict
// rules, for callers that model an app (the simulator).
func AnsweredUtilization(status int, u float64, latency time.Duration, target float64) Result {
	v, d := classifyUtilization(status, u, target)
	return Result{Verdict: v, Latency: latency, Status: status, Detail: d, Utilization: u, HasUtilization: true}
}

// classifyUtilization is classify with utilization in place of latency. A
// beat above the target fails; a 2xx below half of it passes: removing one
// of n ≥ 2 dynos raises the others' utilization by n/(n−1) ≤ 2, so a scale
// down on passes never lands above the target, and the original's streaks
// cannot flap on this signal.
func classifyUtilization(status int, u, target float64) (Verdict, string) {
	if v, d, decided := classifyStatus(status); decided {
		return v, d
	}
	d := httpPrefix(status)
	switch {
	case u > target:
		return Fail, fmt.Sprintf("%s, utilization %s over the %s target", d, percent(u), percent(target))
	case status >= 200 && status < 300 && u < target/2:
		return Pass, fmt.Sprintf("%s, utilization %s under %s (half the target)", d, percent(u), percent(target/2))
	default:
		return OK, fmt.Sprintf("%s, utilization %s", d, percent(u))
	}
}

// utilizationResult classifies an answer with the utilization signal.
// Only the status decides a 4xx or 5xx (the router's own error pages carry
// no header); any other answer without a usable header is a probe error:
// the tick never guesses.
func (p *Prober) utilizationResult(status int, h http.Header, latency time.Duration) Result {
	if v, d, decided := classifyStatus(status); decided {
		return Result{Verdict: v, Latency: latency, Status: status, Detail: d}
	}
	u, bad := headerUtilization(h)
	if bad != "" {
		return Result{Verdict: Error, Latency: latency, Status: status, Detail: httpPrefix(status) + ", " + bad}
	}
	return AnsweredUtilization(status, u, latency, p.TargetUtilization)
}

// UtilizationPct is the reported utilization in percent, to a tenth, for
// records and displays; nil when the answer reported none.
func (r Result) UtilizationPct() *float64 {
	if !r.HasUtilization {
		return nil
	}
	pct := math.Round(r.Utilization*1000) / 10
	return &pct
}

// percent is a share as a percentage, to a tenth: "70%", "73.3%".
func percent(u float64) string {
	return strconv.FormatFloat(math.Round(u*1000)/10, 'f', -1, 64) + "%"
}

// printable keeps a header value short and printable for a detail.
func printable(v string) string {
	const limit = 40
	r := []rune(v)
	if len(r) > limit {
		r = append(r[:limit], '…')
	}
	for i, c := range r {
		if !unicode.IsPrint(c) {
			r[i] = '?'
		}
	}
	return string(r)
}
