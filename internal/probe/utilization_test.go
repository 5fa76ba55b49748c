package probe

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

// The probe with the utilization signal against heartbeats answering with
// the kit's headers: the verdict follows the reported utilization against
// the target (fail above it, pass below half of it), the latency is the
// queue time the answer also carries, and an answer without a usable
// header is a probe error, never a guess.
func TestProbeUtilization(t *testing.T) {
	const target = 0.7
	ms := time.Millisecond
	queue := map[string]string{heartbeat.QueueP95Header: "250", heartbeat.QueueCountHeader: "42", heartbeat.QueueTimeHeader: "3"}
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		want    Verdict
		util    float64 // want, when has
		has     bool
		latency time.Duration // the queue time read, when an answer came with one
		source  Source
		detail  string
	}{
		{"over the target fails", 200, map[string]string{heartbeat.UtilizationHeader: "85"}, Fail, 0.85, true, 0, SourceResponse,
			"HTTP 200, utilization 85% over the 70% target"},
		{"at the target is in range", 200, map[string]string{heartbeat.UtilizationHeader: "70"}, OK, 0.7, true, 0, SourceResponse,
			"HTTP 200, utilization 70%"},
		{"a fraction of a percent over fails", 200, map[string]string{heartbeat.UtilizationHeader: "70.5"}, Fail, 0.705, true, 0, SourceResponse,
			"utilization 70.5% over"},
		{"half the target is in range", 200, map[string]string{heartbeat.UtilizationHeader: "35"}, OK, 0.35, true, 0, SourceResponse,
			"utilization 35%"},
		{"under half the target passes", 200, map[string]string{heartbeat.UtilizationHeader: "34"}, Pass, 0.34, true, 0, SourceResponse,
			"HTTP 200, utilization 34% under 35% (half the target)"},
		{"idle passes", 200, map[string]string{heartbeat.UtilizationHeader: " 0 "}, Pass, 0, true, 0, SourceResponse, "utilization 0%"},
		{"saturated fails", 200, map[string]string{heartbeat.UtilizationHeader: "100"}, Fail, 1, true, 0, SourceResponse, "utilization 100%"},
		{"the queue time comes with it", 200, with(queue, heartbeat.UtilizationHeader, "20"), Pass, 0.2, true, 250 * ms, SourceQueueP95,
			"utilization 20% under 35% (half the target); queue time p95 250ms of 42 requests"},
		{"a 304 is never a pass", 304, map[string]string{heartbeat.UtilizationHeader: "10"}, OK, 0.1, true, 0, SourceResponse, "HTTP 304, utilization 10%"},
		{"no header is a probe error", 200, queue, Error, 0, false, 250 * ms, SourceQueueP95,
			"HTTP 200, no X-Utilization-Pct header: the heartbeat kit's Middleware must wrap the app"},
		{"not a number", 200, map[string]string{heartbeat.UtilizationHeader: "busy"}, Error, 0, false, 0, SourceResponse,
			`X-Utilization-Pct "busy" is not a percentage 0–100`},
		{"over 100", 200, map[string]string{heartbeat.UtilizationHeader: "101"}, Error, 0, false, 0, SourceResponse, `"101" is not a percentage`},
		{"negative", 200, map[string]string{heartbeat.UtilizationHeader: "-1"}, Error, 0, false, 0, SourceResponse, `"-1" is not a percentage`},
		{"NaN", 200, map[string]string{heartbeat.UtilizationHeader: "NaN"}, Error, 0, false, 0, SourceResponse, `"NaN" is not a percentage`},
		{"empty", 200, map[string]string{heartbeat.UtilizationHeader: ""}, Error, 0, false, 0, SourceResponse, `"" is not a percentage`},
		{"a 503 fails without the header", 503, nil, Fail, 0, false, 0, SourceResponse, "HTTP 503"},
		{"a 404 is a probe error whatever it says", 404, map[string]string{heartbeat.UtilizationHeader: "99"}, Error, 0, false, 0, SourceResponse, "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header()[k] = []string{v} // as sent, empty values too
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			p := New(srv.URL, 5*time.Second, 10*time.Millisecond, 100*time.Millisecond)
			p.Signal, p.TargetUtilization = Utilization, target
			res := p.Probe(context.Background())
			if res.Verdict != tt.want || res.HasUtilization != tt.has || res.Utilization != tt.util || res.Source != tt.source ||
				res.Status != tt.status || !strings.Contains(res.Detail, tt.detail) {
				t.Errorf("Probe = %+v\nwant %s, utilization %v (%t), source %q, detail with %q", res, tt.want, tt.util, tt.has, tt.source, tt.detail)
			}
			if tt.latency != 0 && res.Latency != tt.latency {
				t.Errorf("latency %v; want the queue time %v", res.Latency, tt.latency)
			}
		})
	}
}

func TestAnsweredUtilization(t *testing.T) {
	res := AnsweredUtilization(200, 0.7333333, 42*time.Millisecond, 0.7)
	if res.Verdict != Fail || !res.HasUtilization || res.Utilization != 0.7333333 || res.Latency != 42*time.Millisecond ||
		res.Detail != "HTTP 200, utilization 73.3% over the 70% target" {
		t.Errorf("AnsweredUtilization = %+v", res)
	}
}

func with(h map[string]string, k, v string) map[string]string {
	out := maps.Clone(h)
	out[k] = v
	return out
}
