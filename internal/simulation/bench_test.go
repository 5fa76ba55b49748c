package simulation

import (
	"context"
	"testing"
	"time"
)

// BenchmarkYearOfMinutes simulates 525,600 minutes of the diurnal profile
// with the default settings at one tick a minute: the target is
// under 5 seconds. "s/year" is the time one year takes.
func BenchmarkYearOfMinutes(b *testing.B) {
	s := loadSettings(b, map[string]string{"AUTOSCALE_MAX_DYNOS": "10"})
	tr, err := ProfileTrace("noisy", 365, 1)
	if err != nil {
		b.Fatal(err)
	}
	m := defaultModel(s)
	m.Interval = 60
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		res, err := Run(context.Background(), s, m, tr, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.ScaleUps == 0 {
			b.Fatal("a year of traffic without a scale up")
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/year")
	b.ReportMetric(float64(tr.Minutes())*float64(b.N)/time.Since(start).Seconds(), "ticks/s")
}

// BenchmarkFrontierYear: the frontier's 24 candidate runs over a year of
// minutes, which every `simulate` adds to its runs.
func BenchmarkFrontierYear(b *testing.B) {
	tr, err := ProfileTrace("noisy", 365, 1)
	if err != nil {
		b.Fatal(err)
	}
	s := loadSettings(b, map[string]string{"AUTOSCALE_MAX_DYNOS": "12"})
	m := defaultModel(s)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		f, err := FrontierOf(context.Background(), s, m, tr)
		if err != nil || f.Ratio == nil {
			b.Fatalf("%+v, %v", f, err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/year")
}

// BenchmarkJobYear simulates a year of the bursty job profile (about
// 3 million jobs, Poisson arrivals and exponential run times) through the
// job model at one tick a minute, from zero dynos. "s/year" is the time
// one year takes; "ns/job" the model's and the tick's time per job.
func BenchmarkJobYear(b *testing.B) {
	s := workerSettings(b, nil)
	tr, err := ProfileTrace("bursty", 365, 1)
	if err != nil {
		b.Fatal(err)
	}
	jobs := 0.0
	for _, n := range tr.RPM {
		jobs += n
	}
	m := defaultJobModel()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		res, err := Run(context.Background(), s, m, tr, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.ScaleUps == 0 || res.ScaleDowns == 0 {
			b.Fatal("a year of jobs without scaling both ways")
		}
	}
	elapsed := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(elapsed, "s/year")
	b.ReportMetric(elapsed*1e9/jobs, "ns/job")
}
