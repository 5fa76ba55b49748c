package tick

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
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

// With the job_latency signal the job report's totals go everywhere the
// utilization does: summary, log line, history, last probe; the snapshot
// keeps the signal's settings; and a waiting job at zero dynos scales.
func TestTickCarriesTheJobReport(t *testing.T) {
	h := slowAtStreak2(t)
	s := &h.ticker.Settings
	s.ProcessType, s.Signal, s.MinDynos = "worker", probe.JobLatency, settings.Fixed(0)
	s.MinJobLatency, s.MaxJobLatency, s.JobQueues, s.JobsPerDyno, s.LongJobs = time.Second, 10*time.Second, []string{"default", "mailers"}, 20, true
	h.formation.qty = 0
	jobs := probe.Jobs{Queues: []probe.Queue{{Name: "default", Latency: time.Minute, Depth: 12}, {Name: "mailers", Busy: 2}}}
	h.prober.result = probe.AnsweredJobs(200, jobs, time.Second, 10*time.Second)
	sum, err := h.ticker.Tick(context.Background(), "evt-1")
	if err != nil {
		t.Fatal(err)
	}
	want := state.JobCounts{Waiting: 12, Busy: 2, Queues: 2, Oldest: "default"}
	if sum.Jobs == nil || *sum.Jobs != want || sum.LatencyMS != 60000 || sum.LatencySource != probe.SourceJobLatency ||
		sum.Signal != probe.JobLatency || !sum.Scaled || sum.Target != 1 || sum.Reason != decision.JobsWaiting {
		t.Errorf("summary %+v (jobs %v); want %v, 60000 ms, scaled 0 → 1 for JobsWaiting", sum, sum.Jobs, want)
	}
	if rec := h.store.record[0]; rec.Jobs == nil || *rec.Jobs != want {
		t.Errorf("history record %+v; want jobs %v", rec, want)
	}
	final := h.store.saved[len(h.store.saved)-1]
	if p := final.LastProbe; p.Jobs == nil || *p.Jobs != want {
		t.Errorf("last probe %+v; want jobs %v", p, want)
	}
	c := final.Config
	if lo, hi := c.Thresholds(); lo != 1000 || hi != 10000 || c.JobQueues != "default,mailers" || c.JobsPerDyno != 20 || !c.LongJobs ||
		c.MaxQueueMS != 0 || c.TargetUtilizationPct != 0 {
		t.Errorf("snapshot %+v; want the job settings and thresholds 1000–10000 ms only", c)
	}
	for _, w := range []string{`"jobsWaiting":12`, `"jobsBusy":2`, `"oldestQueue":"default"`, `"latencyMs":60000`} {
		if !strings.Contains(h.logs.String(), w) {
			t.Errorf("log line lacks %s:\n%s", w, h.logs)
		}
	}
}

// The prober of a job_latency formation reads its queues and sends its token.
func TestNewProberTakesTheJobSettings(t *testing.T) {
	s := settings.Settings{HeartbeatURL: "http://127.0.0.1:9/hb", HeartbeatTimeout: time.Second, Signal: probe.JobLatency,
		MinJobLatency: time.Second, MaxJobLatency: time.Minute, JobQueues: []string{"a", "b"}, HeartbeatToken: secret.New("tok")}
	p := NewProber(s)
	if p.Signal != probe.JobLatency || p.MinResponse != time.Second || p.MaxResponse != time.Minute ||
		strings.Join(p.JobQueues, ",") != "a,b" || p.Token.Reveal() != "tok" {
		t.Errorf("prober %+v", p)
	}
}
