package simulation

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
)

// TestStepLoadWithBootDelay runs a three-minute step by hand.
//
// Model: capacity 60 rpm (μ = 1 request/s a dyno), idle 100 ms, SLO 1000 ms,
// boot 20 s, a tick every 10 s, no noise. Settings: 1–3 dynos, scale up
// after 1 fail, down after 5 passes (under 200 ms), probe timeout 10 s.
// Traffic: 30 rpm, then 120 rpm, then nothing. Demand ⌈rpm/54⌉: 1, 3, 1.
//
//	s 0–59    λ = 0.5, 1 dyno: ρ = 0.5, L = 100/0.5 = 200 ms (not < 200: ok).
//	s 60      λ = 2: ρ capped at 0.95, L = 2000 ms: fail → 1 → 2, ready at 80.
//	s 60+k    one dyno serving, backlog k: L = 2000 + 1000k.
//	s 70      L = 12000 > 10000: timeout → 2 → 3, ready at 90.
//	s 80      2 serving, backlog 20: L = 2000 + 1000·20/2 = 12000: timeout, at max.
//	s 90+k    3 serving (ρ = 2/3), backlog 20 − k: L = 300 + 1000(20−k)/3.
//	s 90      L = 6966.67: fail, at max.      s 100: L = 3633.33: fail, at max.
//	s 110     backlog drained: L = 300: ok.
//	s 120–159 λ = 0: L = 100: passes 1…4; s 160 the 5th: 3 → 2.
//
// Supply: 1×60 + 2×10 + 3×90 + 2×20 = 390 dyno-seconds; demand 60 + 180 + 60 = 300.
// Under: s 60–69 one short = 10 (one episode of 10 s). Over: s 120–159
// two extra, s 160–179 one extra = 100, over 60 s. SLO misses: s 60–89 (30)
// and s 90–107 (300 + 1000(20−k)/3 > 1000 ⇔ k ≤ 17: 18) = 48 s = 0.8 min.
// Jitter: (3 scales − 2 demand changes) per 180 s = 20 an hour. Notices:
// one "needs more than max" at s 80.
func TestStepLoadWithBootDelay(t *testing.T) {
	s := loadSettings(t, map[string]string{
		"AUTOSCALE_POLICY": "original", // hand-worked with its streaks
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER":    "1",
		"AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER": "5",
	})
	m := Model{CapacityRPM: 60, BaseMS: 100, BootSeconds: 20, SLOMS: 1000, Interval: 10, Start: DefaultStart, DynoPrice: 0.036}
	res, err := Run(context.Background(), s, m, PerMinute(30, 120, 0), Options{Ticks: true})
	if err != nil {
		t.Fatal(err)
	}
	type tk struct {
		second, serving  int
		backlog, latency float64
		verdict          probe.Verdict
		reason           string
		requested        int
	}
	want := []tk{
		{0, 1, 0, 200, probe.OK, "Steady", 1},
		{10, 1, 0, 200, probe.OK, "Steady", 1},
		{20, 1, 0, 200, probe.OK, "Steady", 1},
		{30, 1, 0, 200, probe.OK, "Steady", 1},
		{40, 1, 0, 200, probe.OK, "Steady", 1},
		{50, 1, 0, 200, probe.OK, "Steady", 1},
		{60, 1, 0, 2000, probe.Fail, "SlowStreak", 2},
		{70, 1, 10, 12000, probe.Fail, "SlowStreak", 3},
		{80, 2, 20, 12000, probe.Fail, "AtMax", 3},
		{90, 3, 20, 300 + 20000.0/3, probe.Fail, "AtMax", 3},
		{100, 3, 10, 300 + 10000.0/3, probe.Fail, "AtMax", 3},
		{110, 3, 0, 300, probe.OK, "Steady", 3},
		{120, 3, 0, 100, probe.Pass, "Steady", 3},
		{130, 3, 0, 100, probe.Pass, "Steady", 3},
		{140, 3, 0, 100, probe.Pass, "Steady", 3},
		{150, 3, 0, 100, probe.Pass, "Steady", 3},
		{160, 3, 0, 100, probe.Pass, "FastStreak", 2},
		{170, 2, 0, 100, probe.Pass, "Steady", 2},
	}
	if len(res.Ticks) != len(want) {
		t.Fatalf("%d ticks, want %d", len(res.Ticks), len(want))
	}
	for i, w := range want {
		g := res.Ticks[i]
		got := tk{g.Second, g.Serving, g.Backlog, g.LatencyMS, g.Probe.Verdict, fmt.Sprint(g.Summary.Reason), g.Requested}
		if got.second != w.second || got.serving != w.serving || got.verdict != w.verdict || got.reason != w.reason ||
			got.requested != w.requested || math.Abs(got.backlog-w.backlog) > 1e-9 || math.Abs(got.latency-w.latency) > 1e-9 {
			t.Errorf("tick %d:\n got %+v\nwant %+v", i, got, w)
		}
		if at := DefaultStart.Add(time.Duration(w.second) * time.Second); !g.At.Equal(at) {
			t.Errorf("tick %d ran at %s, want %s (the ticker's clock is the model's)", i, g.At, at)
		}
	}
	// The timeouts answered nothing.
	if p := res.Ticks[7].Probe; p.Status != 0 || p.Detail != "timeout after 10s" {
		t.Errorf("s 70 probe %+v, want a timeout", p)
	}
	wantScores := Scores{
		DynoHours: 390.0 / 3600, IdealDynoHours: 300.0 / 3600, CostUSD: 390.0 / 3600 * 0.036,
		SLOViolationMinutes: 0.8, ScaleUps: 2, ScaleDowns: 1,
		AccuracyU: 10.0 / 180, AccuracyO: 100.0 / 180, TimeshareU: 10.0 / 180, TimeshareO: 60.0 / 180,
		Jitter: 20, UnderProvisionedEpisodes: 1, MeanUnderProvisionedSeconds: 10, Notices: 1,
	}
	assertScores(t, res.Scores, wantScores)
}

func assertScores(t *testing.T, got, want Scores) {
	t.Helper()
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }
	if !close(got.DynoHours, want.DynoHours) || !close(got.IdealDynoHours, want.IdealDynoHours) || !close(got.CostUSD, want.CostUSD) ||
		!close(got.SLOViolationMinutes, want.SLOViolationMinutes) || got.ScaleUps != want.ScaleUps || got.ScaleDowns != want.ScaleDowns ||
		!close(got.AccuracyU, want.AccuracyU) || !close(got.AccuracyO, want.AccuracyO) ||
		!close(got.TimeshareU, want.TimeshareU) || !close(got.TimeshareO, want.TimeshareO) || !close(got.Jitter, want.Jitter) ||
		got.UnderProvisionedEpisodes != want.UnderProvisionedEpisodes ||
		!close(got.MeanUnderProvisionedSeconds, want.MeanUnderProvisionedSeconds) || got.Notices != want.Notices {
		t.Errorf("scores\n got %+v\nwant %+v", got, want)
	}
}

// TestScoresByHand feeds the scorer six seconds directly.
//
//	second   0  1  2  3  4  5
//	supply   1  1  3  3  2  2     (scaled 1 → 3, then 3 → 2)
//	demand   2  2  2  2  1  3     (changes at 4 and 5)
//	SLO      ✗  ✗  ✓  ✓  ✓  ✗
//
// Under: 1+1+1 = 3 dynos over 3 s, in two episodes (0–1, 5): accuracyU
// 3/6, timeshareU 3/6, mean episode 1.5 s. Over: 1+1+1 over 3 s: 3/6, 3/6.
// Jitter: (2 supply changes − 2 demand changes) per hour = 0. SLO: 3 s = 0.05 min.
// Supply and demand are both 12 dyno-seconds: the same cost, badly placed.
func TestScoresByHand(t *testing.T) {
	sc := newScorer(0.05)
	sc.scaled(1, 3)
	sc.scaled(3, 2)
	supply := []int{1, 1, 3, 3, 2, 2}
	demand := []int{2, 2, 2, 2, 1, 3}
	violated := []bool{true, true, false, false, false, true}
	for i := range supply {
		sc.second(supply[i], demand[i], violated[i])
	}
	assertScores(t, sc.scores(6), Scores{
		DynoHours: 12.0 / 3600, IdealDynoHours: 12.0 / 3600, CostUSD: 12.0 / 3600 * 0.05, SLOViolationMinutes: 0.05,
		ScaleUps: 1, ScaleDowns: 1, AccuracyU: 0.5, AccuracyO: 0.5, TimeshareU: 0.5, TimeshareO: 0.5,
		Jitter: 0, UnderProvisionedEpisodes: 2, MeanUnderProvisionedSeconds: 1.5,
	})
	// A flapping run: four supply changes against none of demand in 6 s is +2400 an hour.
	flap := newScorer(0)
	for range 4 {
		flap.scaled(1, 2)
	}
	for range 6 {
		flap.second(2, 2, false)
	}
	if j := flap.scores(6).Jitter; j != 2400 {
		t.Errorf("flapping jitter %v, want +2400 an hour", j)
	}
}

// TestScaleDownStopsBootingDynosFirst checks the formation stand-in: a
// scale down removes the dynos not serving yet, the latest to be ready first.
func TestScaleDownStopsBootingDynosFirst(t *testing.T) {
	tests := []struct {
		name        string
		serving     int
		booting     []int
		to          int
		wantServing int
		wantBooting []int
	}{
		{name: "up adds booting dynos", serving: 1, to: 3, wantServing: 1, wantBooting: []int{130, 130}},
		{name: "down takes the latest booting", serving: 1, booting: []int{110, 120}, to: 2, wantServing: 1, wantBooting: []int{110}},
		{name: "down past the booting ones stops serving ones", serving: 2, booting: []int{120}, to: 1, wantServing: 1, wantBooting: []int{}},
		{name: "down with none booting", serving: 3, to: 1, wantServing: 1, wantBooting: []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{model: Model{BootSeconds: 30}, second: 100, serving: tt.serving, booting: append([]int{}, tt.booting...)}
			w.formation = formation{world: w, requested: tt.serving + len(tt.booting)}
			if err := w.formation.Scale(context.Background(), "a", "web", tt.to); err != nil {
				t.Fatal(err)
			}
			if w.serving != tt.wantServing || len(w.booting) != len(tt.wantBooting) || w.formation.requested != tt.to {
				t.Fatalf("serving %d, booting %v, requested %d; want %d, %v, %d", w.serving, w.booting, w.formation.requested, tt.wantServing, tt.wantBooting, tt.to)
			}
			for i := range w.booting {
				if w.booting[i] != tt.wantBooting[i] {
					t.Errorf("booting %v, want %v", w.booting, tt.wantBooting)
				}
			}
		})
	}
}

func TestIdeal(t *testing.T) {
	m := Model{CapacityRPM: 600, BaseMS: 100, SLOMS: 1000}
	tests := []struct {
		rpm  float64
		want int
	}{
		{0, 1}, {1, 1}, {540, 1}, {540.001, 2}, {1080, 2}, {1500, 3}, {6000, 12},
	}
	for _, tt := range tests {
		if got := m.Ideal(tt.rpm); got != tt.want {
			t.Errorf("Ideal(%v) = %d, want %d (one dyno per 540 rpm)", tt.rpm, got, tt.want)
		}
	}
}

// TestJobIdeal: the dynos whose slots run a minute's work within the
// minute, ⌈jobs × job-seconds / 60 / concurrency⌉, none for a quiet minute.
func TestJobIdeal(t *testing.T) {
	tests := []struct {
		name        string
		jobs        float64
		seconds     float64
		concurrency int
		want        int
	}{
		{"no job, no dyno", 0, 30, 5, 0},
		{"one job wants a dyno", 1, 30, 5, 1},
		{"ten 30 s jobs fill 5 slots for a minute", 10, 30, 5, 1},
		{"one more needs another dyno", 11, 30, 5, 2},
		{"a batch", 1200, 30, 5, 120},
		{"sub-second jobs", 600, 0.1, 1, 1},
		{"1,800 jobs of 1.1 s are 33 dyno-minutes, not 34", 1800, 1.1, 1, 33},
		{"1,801 are more", 1801, 1.1, 1, 34},
		{"long jobs, one at a time", 3, 600, 1, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Model{JobSeconds: tt.seconds, JobConcurrency: tt.concurrency}
			if got := m.JobIdeal(tt.jobs); got != tt.want {
				t.Errorf("JobIdeal(%v) = %d, want %d", tt.jobs, got, tt.want)
			}
		})
	}
}

// TestValidateJobs names the job model's flags, and not the request
// model's, which a job trace does not use.
func TestValidateJobs(t *testing.T) {
	m := Model{JobSeconds: 0, JobConcurrency: 0, SLOMS: -1, Interval: 60, Noise: 6}
	err := m.ValidateJobs()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"-job-seconds 0: must be more than 0, up to 86400", "-job-concurrency 0: must be 1 to 1000",
		"-slo-ms -1: must be more than 0", "-noise 6: must be 0 to 5",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "capacity-rpm") || strings.Contains(err.Error(), "base-ms") {
		t.Errorf("the job model's errors name the request model's flags:\n%v", err)
	}
	good := Model{JobSeconds: DefaultJobSeconds, JobConcurrency: DefaultJobConcurrency, SLOMS: 60000, Interval: 60}
	if err := good.ValidateJobs(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
	if err := (Model{JobSeconds: math.Inf(1), JobConcurrency: 1001, SLOMS: 1, Interval: 1}).ValidateJobs(); err == nil ||
		!strings.Contains(err.Error(), "-job-seconds +Inf") || !strings.Contains(err.Error(), "-job-concurrency 1001") {
		t.Errorf("infinite run time, 1001 at once: %v", err)
	}
}
