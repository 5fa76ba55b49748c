package tick

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// With the queue_time signal, the tick says which signal and which source
// its latency came from: in the summary, the log line, the history, the
// last probe, and the settings snapshot that status and the chart read.
func TestTickSaysWhichSignal(t *testing.T) {
	tests := []struct {
		name       string
		signal     probe.Signal
		source     probe.Source
		wantSignal probe.Signal // on the summary and the snapshot; "" for the default
		wantLog    string
		util       *float64 // reported with the utilization signal
	}{
		{"queue time from the window's p95", probe.QueueTime, probe.SourceQueueP95, probe.QueueTime, `"latencySource":"queue_p95"`, nil},
		{"queue time fell back to the response time", probe.QueueTime, probe.SourceResponse, probe.QueueTime, `"latencySource":"response_time"`, nil},
		// The default signal's line has no source at all.
		{"response time", probe.ResponseTime, "", "", `"latencyMs":250`, nil},
		// Utilization beside the queue time it came with, everywhere.
		{"utilization", probe.Utilization, probe.SourceQueueP95, probe.Utilization, `"utilizationPct":85.5`, ptr(85.5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := slowAtStreak2(t)
			h.ticker.Settings.Signal = tt.signal
			h.ticker.Settings.MaxQueueTime, h.ticker.Settings.MinQueueTime = 100*time.Millisecond, 10*time.Millisecond
			h.ticker.Settings.TargetUtilizationPct = 70
			h.prober.result = probe.Result{Verdict: probe.Fail, Latency: 250 * time.Millisecond, Status: 200, Source: tt.source}
			if tt.util != nil {
				h.prober.result.Utilization, h.prober.result.HasUtilization = *tt.util/100, true
			}
			sum, err := h.ticker.Tick(context.Background(), "evt-1")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Signal != tt.wantSignal || sum.LatencySource != tt.source || !sum.Scaled || !samePct(sum.UtilizationPct, tt.util) {
				t.Errorf("summary %+v; want signal %q, source %q, utilization %v, scaled", sum, tt.wantSignal, tt.source, show(tt.util))
			}
			if rec := h.store.record[0]; rec.Source != tt.source || rec.LatencyMS != 250 || !samePct(rec.UtilizationPct, tt.util) {
				t.Errorf("history record %+v; want source %q, 250 ms, utilization %v", rec, tt.source, show(tt.util))
			}
			final := h.store.saved[len(h.store.saved)-1]
			if final.LastProbe.Source != tt.source || final.Config.Signal != tt.wantSignal || !samePct(final.LastProbe.UtilizationPct, tt.util) {
				t.Errorf("state: last probe %+v, config %+v", final.LastProbe, final.Config)
			}
			if wantTarget := targetIf(tt.util != nil); final.Config.TargetUtilizationPct != wantTarget {
				t.Errorf("snapshot target utilization %d; want %d", final.Config.TargetUtilizationPct, wantTarget)
			}
			if lo, hi := final.Config.Thresholds(); tt.signal != probe.ResponseTime && (lo != 10 || hi != 100) {
				t.Errorf("snapshot thresholds %d–%d; want the queue ones, 10–100", lo, hi)
			}
			if !strings.Contains(h.logs.String(), tt.wantLog) {
				t.Errorf("tick log lacks %s: %s", tt.wantLog, h.logs)
			}
			if tt.source == "" && strings.Contains(h.logs.String(), `"latencySource"`) {
				t.Errorf("tick log of the response-time signal names a source: %s", h.logs)
			}
		})
	}
}

func TestNewProberFollowsTheSignal(t *testing.T) {
	tests := []struct {
		name   string
		signal probe.Signal
		lo, hi time.Duration
	}{
		{"response time", probe.ResponseTime, 200 * time.Millisecond, time.Second},
		{"queue time", probe.QueueTime, 10 * time.Millisecond, 100 * time.Millisecond},
		{"utilization", probe.Utilization, 10 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settings.Settings{
				HeartbeatURL: "http://127.0.0.1:9/hb", HeartbeatTimeout: time.Second, Signal: tt.signal,
				MinResponseTime: 200 * time.Millisecond, MaxResponseTime: time.Second,
				MinQueueTime: 10 * time.Millisecond, MaxQueueTime: 100 * time.Millisecond, TargetUtilizationPct: 65,
			}
			p := NewProber(s)
			if p.Signal != tt.signal || p.MinResponse != tt.lo || p.MaxResponse != tt.hi || p.URL != s.HeartbeatURL || p.Timeout != time.Second ||
				p.TargetUtilization != 0.65 {
				t.Errorf("prober %+v; want signal %s, thresholds %v–%v", p, tt.signal, tt.lo, tt.hi)
			}
		})
	}
}

func ptr(v float64) *float64 { return &v }

func samePct(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}

// targetIf is the snapshot's target: the 70 set, with the utilization signal only.
func targetIf(utilization bool) int {
	if utilization {
		return 70
	}
	return 0
}
