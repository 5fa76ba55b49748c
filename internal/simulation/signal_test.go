package simulation

import (
	"context"
	"math"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/probe"
)

// With the queue_time signal the probe reads the model's queue time: the
// latency less the service time, without the probe noise, so runs that
// differ only in the noise's seed decide alike; with response_time they do not.
func TestQueueTimeSignal(t *testing.T) {
	tr, err := ProfileTrace("spike", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		env          map[string]string
		sameAcross   bool // the seed changes nothing
		wantSource   probe.Source
		checkLatency bool
	}{
		{"queue time", map[string]string{"AUTOSCALE_SIGNAL": "queue_time", "AUTOSCALE_MAX_QUEUE_TIME_IN_MS": "900",
			"AUTOSCALE_MIN_QUEUE_TIME_IN_MS": "100", "AUTOSCALE_MAX_DYNOS": "12"}, true, probe.SourceQueueP95, true},
		{"response time", map[string]string{"AUTOSCALE_MAX_DYNOS": "12"}, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadSettings(t, tt.env)
			var runs [2]Result
			for i, seed := range []uint64{1, 2} {
				m := defaultModel(s)
				m.Seed, m.Interval = seed, 60
				runs[i], err = Run(context.Background(), s, m, tr, Options{Ticks: true})
				if err != nil {
					t.Fatal(err)
				}
			}
			same := true
			for i, tk := range runs[0].Ticks {
				other := runs[1].Ticks[i]
				if tk.Probe.Verdict != other.Probe.Verdict || tk.Probe.Latency != other.Probe.Latency {
					same = false
				}
				if tk.Probe.Source != tt.wantSource && tk.Probe.Status != 0 {
					t.Fatalf("tick %d: source %q; want %q", i, tk.Probe.Source, tt.wantSource)
				}
				if tt.checkLatency && tk.Probe.Status != 0 {
					want := math.Max(0, tk.LatencyMS-DefaultBaseMS)
					if got := tk.Probe.Latency.Seconds() * 1000; math.Abs(got-want) > 0.5 {
						t.Fatalf("tick %d: probe latency %.1f ms; want the queue time %.1f (latency %.1f less service %d)", i, got, want, tk.LatencyMS, DefaultBaseMS)
					}
				}
			}
			if same != tt.sameAcross {
				t.Errorf("two seeds gave the same beats: %t; want %t", same, tt.sameAcross)
			}
		})
	}
}

// Replaying recorded queue-time history infers the same traffic as
// response-time history: the model's service time is added back.
func TestInferTraceFromQueueTimeRecords(t *testing.T) {
	s := loadSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": "10", "AUTOSCALE_MIN_DYNOS": "2",
		"AUTOSCALE_SIGNAL": "queue_time", "AUTOSCALE_MAX_QUEUE_TIME_IN_MS": "900", "AUTOSCALE_MIN_QUEUE_TIME_IN_MS": "100"})
	m := defaultModel(s)
	m.Noise, m.Interval = 0, 60
	tr := PerMinute(make([]float64, 180)...)
	for i := range tr.RPM {
		tr.RPM[i] = float64(300 + 5*i)
	}
	res, err := Run(context.Background(), s, m, tr, Options{Records: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ScaleUps == 0 {
		t.Fatal("the trace should scale")
	}
	if res.Records[0].Source != probe.SourceQueueP95 {
		t.Fatalf("first record %+v: want a queue_p95 latency", res.Records[0])
	}
	inf, err := InferTrace(res.Records, m, s.HeartbeatTimeout)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tr.RPM {
		if math.Abs(inf.Trace.RPM[i]-tr.RPM[i]) > 8 {
			t.Errorf("minute %d: inferred %v rpm, replayed %v", i, inf.Trace.RPM[i], tr.RPM[i])
		}
	}
}
