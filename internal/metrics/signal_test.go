package metrics

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// With the queue_time signal the line says so, and where the latency came
// from, as properties: no further metric (the free tier holds ten).
func TestWriteSaysWhichSignal(t *testing.T) {
	tests := []struct {
		name       string
		signal     probe.Signal
		source     probe.Source
		wantSignal any // nil: absent
		wantSource any
	}{
		{"response time", "", "", nil, nil},
		{"queue p95", probe.QueueTime, probe.SourceQueueP95, "queue_time", "queue_p95"},
		{"fell back", probe.QueueTime, probe.SourceResponse, "queue_time", "response_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := tick.Summary{App: "shop", ProcessType: "web", Verdict: probe.Fail, LatencyMS: 250,
				Signal: tt.signal, LatencySource: tt.source, Reason: decision.SlowStreak, Current: 1, Target: 2}
			var buf bytes.Buffer
			if err := Write(&buf, time.Unix(1796047200, 0), sum); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line[PropertySignal] != tt.wantSignal || line[PropertyLatencySource] != tt.wantSource || line[HeartbeatLatency] != float64(250) {
				t.Errorf("line %v; want Signal %v, LatencySource %v, HeartbeatLatency 250", line, tt.wantSignal, tt.wantSource)
			}
			metrics := line["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any)
			for _, m := range metrics {
				if name := m.(map[string]any)["Name"]; name == PropertySignal || name == PropertyLatencySource {
					t.Errorf("%s is a metric; want a property", name)
				}
			}
		})
	}
}
