package simulation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
)

// TestUtilizationSignal runs two minutes of the utilization model by hand,
// at -noise 0.
//
// Model: capacity 60 rpm (μ = 1 request/s a dyno), idle 100 ms, SLO 1000 ms,
// boot 20 s, a tick every 10 s. Settings: 1–3 dynos, the utilization
// signal at a 50% target (fail above 50%, pass under 25%), scale up after
// 1 fail, probe timeout 20 s. Traffic: 30 rpm, then 120 rpm.
//
//	s 0–59    λ = 0.5, 1 dyno, no backlog: busy = min(1, 0.5/1) = 0.5.
//	          The window grows from 1 second (s 0) to 30 (s 29 on):
//	          U = 0.5 at every tick, not above 50%: ok.
//	s 60      λ = 2, no backlog yet: busy = min(1, 2) = 1. Window s 31–60:
//	          U = (29·0.5 + 1)/30 = 15.5/30: fail → 1 → 2, ready at 80.
//	s 61–79   one dyno, backlog 1, 2, … 19 (grows by 2 − 1 a second): busy 1.
//	s 70      window s 41–70 (the ring has wrapped): 19 s of 0.5, 11 of 1:
//	          U = 20.5/30: fail → 2 → 3, ready at 90.
//	s 80      2 serving, backlog 20 (held: 2 arrive, 2 served): window
//	          s 51–80: U = (9·0.5 + 21)/30 = 25.5/30: fail, at max.
//	s 90      3 serving, backlog 20 falling by 1 a second: U = 1: fail.
//	s 100     backlog 10: U = 1.      s 110: backlog 0, busy = 2/3 at s 110
//	          only: U = (29 + 2/3)/30.
//
// The queue time answered beside it is the model's latency less the 100 ms
// service: s 0 L = 100/(1 − 0.5) = 200 → 100 ms; s 90 L = 100/(1 − 2/3) +
// 1000·20/3 = 300 + 6666.67 → 6866.67 ms.
func TestUtilizationSignal(t *testing.T) {
	s := loadSettings(t, map[string]string{
		"AUTOSCALE_SIGNAL": "utilization", "AUTOSCALE_TARGET_UTILIZATION_PCT": "50",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER": "1", "AUTOSCALE_HEARTBEAT_TIMEOUT_IN_MS": "20000",
		"AUTOSCALE_POLICY": "original", // hand-worked with its streaks
	})
	m := Model{CapacityRPM: 60, BaseMS: 100, BootSeconds: 20, SLOMS: 1000, Interval: 10, Start: DefaultStart, DynoPrice: 0.036}
	res, err := Run(context.Background(), s, m, PerMinute(30, 120), Options{Ticks: true})
	if err != nil {
		t.Fatal(err)
	}
	type tk struct {
		second, serving int
		utilization     float64
		verdict         probe.Verdict
		reason          string
		requested       int
	}
	want := []tk{
		{0, 1, 0.5, probe.OK, "Steady", 1},
		{10, 1, 0.5, probe.OK, "Steady", 1},
		{20, 1, 0.5, probe.OK, "Steady", 1},
		{30, 1, 0.5, probe.OK, "Steady", 1},
		{40, 1, 0.5, probe.OK, "Steady", 1},
		{50, 1, 0.5, probe.OK, "Steady", 1},
		{60, 1, 15.5 / 30, probe.Fail, "SlowStreak", 2},
		{70, 1, 20.5 / 30, probe.Fail, "SlowStreak", 3},
		{80, 2, 25.5 / 30, probe.Fail, "AtMax", 3},
		{90, 3, 1, probe.Fail, "AtMax", 3},
		{100, 3, 1, probe.Fail, "AtMax", 3},
		{110, 3, (29 + 2.0/3) / 30, probe.Fail, "AtMax", 3},
	}
	if len(res.Ticks) != len(want) {
		t.Fatalf("%d ticks, want %d", len(res.Ticks), len(want))
	}
	for i, w := range want {
		g := res.Ticks[i]
		got := tk{g.Second, g.Serving, g.Probe.Utilization, g.Probe.Verdict, fmt.Sprint(g.Summary.Reason), g.Requested}
		if got.second != w.second || got.serving != w.serving || math.Abs(got.utilization-w.utilization) > 1e-12 ||
			got.verdict != w.verdict || got.reason != w.reason || got.requested != w.requested || !g.Probe.HasUtilization {
			t.Errorf("tick %d:\n got %+v\nwant %+v", i, got, w)
		}
		if g.Probe.Source != probe.SourceQueueP95 || g.Probe.Latency != millis(g.LatencyMS-100) {
			t.Errorf("tick %d: latency %v from %q; want the queue time %v", i, g.Probe.Latency, g.Probe.Source, millis(g.LatencyMS-100))
		}
	}
	if q := res.Ticks[0].Probe.Latency; q != 100*time.Millisecond {
		t.Errorf("s 0: queue time %v; want 100ms", q)
	}
	if q := res.Ticks[9].Probe.Latency; q != millis(300+20000.0/3-100) {
		t.Errorf("s 90: queue time %v; want 6866.667ms", q)
	}
}

// With noise, a window of few requests scatters more: σ = √(max(U(1−U),
// 0.0025) / max(1, R)), clamped to [0, 1].
func TestNoisyUtilization(t *testing.T) {
	tests := []struct {
		name           string
		u, requests, z float64
		want           float64
	}{
		{"σ = √(0.25/25) = 0.1", 0.5, 25, 1, 0.6},
		{"below one request counts as one", 0.5, 0.25, -1, 0},
		{"a saturated window still scatters by the floor", 1, 4, -2, 1 - 2*0.025},
		{"clamped above", 1, 4, 2, 1},
		{"an idle window scatters by the floor: σ = 0.05", 0, 1, 1.5, 0.075},
		{"clamped below", 0, 1, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noisyUtilization(tt.u, tt.requests, tt.z); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("noisyUtilization(%v, %v, %v) = %v; want %v", tt.u, tt.requests, tt.z, got, tt.want)
			}
		})
	}
}

// The requests a window counts are those its dyno was sent: the hand-worked
// run's s 70 window saw 19 s at 0.5 and 11 s at 2 a second (one dyno), R =
// 31.5; the noise's σ is then √((20.5/30)(9.5/30)/31.5).
func TestUtilizationWindowRequests(t *testing.T) {
	w := &world{serving: 1}
	for sec := 0; sec <= 70; sec++ {
		w.second = sec
		lambda := 0.5
		if sec >= 60 {
			lambda = 2
			w.backlog = float64(sec - 60)
		}
		w.recordBusy(lambda, 1)
	}
	u := 20.5 / 30
	want := u + math.Sqrt(u*(1-u)/31.5)
	w.rng = rand.New(rand.NewPCG(1, 2)) // only switches the noise on
	if got := w.utilization(1); math.Abs(got-want) > 1e-12 {
		t.Errorf("utilization at z = 1: %v; want %v", got, want)
	}
}
