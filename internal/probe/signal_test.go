package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

func TestQueueLatency(t *testing.T) {
	const response = 700 * time.Millisecond
	ms := time.Millisecond
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
		source  Source
	}{
		{"the window's p95 first", map[string]string{heartbeat.QueueP95Header: "250", heartbeat.QueueCountHeader: "42", heartbeat.QueueTimeHeader: "3"}, 250 * ms, SourceQueueP95},
		{"p95 without a count", map[string]string{heartbeat.QueueP95Header: "250"}, 250 * ms, SourceQueueP95},
		{"an empty window: the probe's own", map[string]string{heartbeat.QueueP95Header: "250", heartbeat.QueueCountHeader: "0", heartbeat.QueueTimeHeader: "3"}, 3 * ms, SourceQueueProbe},
		{"the probe's own without a window", map[string]string{heartbeat.QueueTimeHeader: "17"}, 17 * ms, SourceQueueProbe},
		{"zero is a value", map[string]string{heartbeat.QueueTimeHeader: "0"}, 0, SourceQueueProbe},
		{"no header: the response time", nil, response, SourceResponse},
		{"malformed p95 falls back", map[string]string{heartbeat.QueueP95Header: "fast", heartbeat.QueueTimeHeader: "9"}, 9 * ms, SourceQueueProbe},
		{"negative falls back", map[string]string{heartbeat.QueueP95Header: "-5", heartbeat.QueueTimeHeader: "-1"}, response, SourceResponse},
		{"fraction falls back", map[string]string{heartbeat.QueueTimeHeader: "2.5"}, response, SourceResponse},
		{"absurd falls back", map[string]string{heartbeat.QueueTimeHeader: "99999999999"}, response, SourceResponse},
		{"malformed count ignores nothing", map[string]string{heartbeat.QueueP95Header: "40", heartbeat.QueueCountHeader: "many"}, 40 * ms, SourceQueueP95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			got, src := queueLatency(h, response)
			if got != tt.want || src != tt.source {
				t.Errorf("queueLatency = %v, %s; want %v, %s", got, src, tt.want, tt.source)
			}
		})
	}
}

// The probe with the queue_time signal against an app using the heartbeat
// package: its verdict follows the queue time, not the response time, and a
// 5xx or a timeout still fails.
func TestProbeQueueTime(t *testing.T) {
	type app struct {
		queue  time.Duration // the router's stamp is this far in the past
		stamp  bool
		delay  time.Duration // the handler's own time
		status int
	}
	tests := []struct {
		name    string
		app     app
		signal  Signal
		want    Verdict
		source  Source
		latency [2]time.Duration // bounds
		detail  string
	}{
		{"long queue fails though the answer is fast", app{queue: 300 * time.Millisecond, stamp: true, status: 200}, QueueTime, Fail, SourceQueueP95,
			[2]time.Duration{300 * time.Millisecond, 400 * time.Millisecond}, "slower than 100ms; queue time p95"},
		{"short queue passes though the answer is slow", app{queue: 2 * time.Millisecond, stamp: true, delay: 400 * time.Millisecond, status: 200}, QueueTime, Pass, SourceQueueP95,
			[2]time.Duration{0, 9 * time.Millisecond}, "faster than 10ms"},
		{"the same slow answer fails on response time", app{queue: 2 * time.Millisecond, stamp: true, delay: 400 * time.Millisecond, status: 200}, ResponseTime, Fail, "",
			[2]time.Duration{400 * time.Millisecond, 5 * time.Second}, "slower than"},
		{"a 503 fails whatever the queue", app{queue: 0, stamp: true, status: 503}, QueueTime, Fail, SourceQueueP95,
			[2]time.Duration{0, 9 * time.Millisecond}, "HTTP 503"},
		{"no router stamp: the response time stands in", app{delay: 150 * time.Millisecond, status: 200}, QueueTime, Fail, SourceResponse,
			[2]time.Duration{150 * time.Millisecond, 5 * time.Second}, "no queue-time header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hb := heartbeat.Handler(heartbeat.Func("slow", time.Second, func(ctx context.Context) error {
				time.Sleep(tt.app.delay)
				return nil
			}))
			inner := heartbeat.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.app.status != 200 {
					w.Header().Set(heartbeat.QueueTimeHeader, "0")
					w.Header().Set(heartbeat.QueueP95Header, "1")
					w.Header().Set(heartbeat.QueueCountHeader, "1")
					w.WriteHeader(tt.app.status)
					return
				}
				hb.ServeHTTP(w, r)
			}))
			// The router: stamps the request as if it had waited.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.app.stamp {
					r.Header.Set(heartbeat.RequestStartHeader, strconv.FormatInt(time.Now().Add(-tt.app.queue).UnixMilli(), 10))
				}
				inner.ServeHTTP(w, r)
			}))
			defer srv.Close()
			p := New(srv.URL, 5*time.Second, 10*time.Millisecond, 100*time.Millisecond)
			p.Signal = tt.signal
			res := p.Probe(context.Background())
			if res.Verdict != tt.want || res.Source != tt.source || res.Latency < tt.latency[0] || res.Latency > tt.latency[1] ||
				!strings.Contains(res.Detail, tt.detail) {
				t.Errorf("Probe = %+v; want %s from %q, latency in %v, detail with %q", res, tt.want, tt.source, tt.latency, tt.detail)
			}
		})
	}
}

// A heartbeat whose headers come in time but whose body does not fails,
// whatever its headers say, with every signal that reads them.
func TestProbeHeaderSignalTimeoutFails(t *testing.T) {
	for _, signal := range []Signal{QueueTime, Utilization} {
		t.Run(string(signal), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(heartbeat.QueueTimeHeader, "0")
				w.Header().Set(heartbeat.UtilizationHeader, "10")
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			}))
			defer srv.Close()
			p := New(srv.URL, 200*time.Millisecond, 10*time.Millisecond, 100*time.Millisecond)
			p.Signal, p.TargetUtilization = signal, 0.7
			if res := p.Probe(context.Background()); res.Verdict != Fail || !strings.Contains(res.Detail, "timeout") || res.HasUtilization {
				t.Fatalf("Probe = %+v; want a timeout fail even though the headers came", res)
			}
		})
	}
}
