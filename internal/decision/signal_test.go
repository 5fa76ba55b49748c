package decision

import (
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// A scale notice says what the beats were and against which threshold: the
// response time, or with the queue_time signal the queue time.
func TestScaleNoticeNamesTheSignal(t *testing.T) {
	tests := []struct {
		name    string
		queue   bool
		verdict probe.Verdict
		want    []string
	}{
		{"response time up", false, probe.Fail, []string{"the heartbeat was slower than 1000 ms 3 times in a row", "Last heartbeat: 2000 ms, slower than 1000 ms."}},
		{"queue time up", true, probe.Fail, []string{"the queue time was over 300 ms 3 times in a row", "Last heartbeat: queue time 2000 ms, over 300 ms."}},
		{"response time down", false, probe.Pass, []string{"the heartbeat was faster than 400 ms 5 times in a row", "Last heartbeat: 100 ms, faster than 400 ms."}},
		{"queue time down", true, probe.Pass, []string{"the queue time was under 150 ms 5 times in a row", "Last heartbeat: queue time 100 ms, under 150 ms."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := originalSettings()
			s.NotifyOnEveryScale = true
			if tt.queue {
				s.Signal, s.MaxQueueTime, s.MinQueueTime = probe.QueueTime, 300*time.Millisecond, 150*time.Millisecond
			}
			qty, n := 1, 3
			if tt.verdict == probe.Pass {
				qty, n = 3, 5
			}
			m := newSim(s, qty)
			m.beats(repeat(tt.verdict, n)...)
			var text string
			for _, nt := range m.notices {
				if nt.Event == notify.Scaled {
					text = nt.Text
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("scaled notice lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

// With the utilization signal a scale notice names the utilization and the
// target, not a latency.
func TestScaleNoticeNamesUtilization(t *testing.T) {
	tests := []struct {
		name    string
		verdict probe.Verdict
		pct     float64
		want    []string
	}{
		{"up", probe.Fail, 85, []string{"the utilization was over 70% 3 times in a row", "Last heartbeat: utilization 85%, over the 70% target."}},
		{"down", probe.Pass, 12.5, []string{"the utilization was under 35% (half the target) 5 times in a row", "Last heartbeat: utilization 12.5%, under 35% (half the target)."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := originalSettings()
			s.NotifyOnEveryScale, s.Signal, s.TargetUtilizationPct = true, probe.Utilization, 70
			qty, n := 1, 3
			if tt.verdict == probe.Pass {
				qty, n = 3, 5
			}
			beat := probe.Result{Verdict: tt.verdict, Status: 200, Latency: 40 * time.Millisecond, Source: probe.SourceQueueP95,
				Utilization: tt.pct / 100, HasUtilization: true}
			var st state.State
			var text string
			for range n {
				in := Input{Settings: s, State: st, Probe: beat, Current: qty, Now: t0}
				d := Decide(in)
				st = d.Next
				if d.Scales() {
					_, notices := Settle(in, d, Outcome{})
					for _, nt := range notices {
						if nt.Event == notify.Scaled {
							text = nt.Text
						}
					}
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("scaled notice lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
