package simulation

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// loadSettings loads the real settings from env, with the app and
// heartbeat the simulator does not need filled in.
func loadSettings(t testing.TB, env map[string]string) settings.Settings {
	t.Helper()
	s, err := settings.Load(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case settings.EnvAppName:
			return "sim"
		case settings.EnvHeartbeatURL:
			return "https://sim.example.com/heartbeat"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func defaultModel(s settings.Settings) Model {
	return Model{
		CapacityRPM: DefaultCapacityRPM, BaseMS: DefaultBaseMS, BootSeconds: DefaultBootSeconds,
		Noise: DefaultNoise, Seed: DefaultSeed, SLOMS: float64(s.MaxResponseTime / time.Millisecond),
		Interval: int(s.HeartbeatInterval / time.Second), Start: DefaultStart, DynoPrice: DefaultDynoPrice,
	}
}

// workerSettings are a worker formation's on its queue's latency, from
// zero to ten dynos (its latency failing over 10 s and passing under 1 s,
// the defaults), with env's changes.
func workerSettings(t testing.TB, env map[string]string) settings.Settings {
	t.Helper()
	all := map[string]string{
		settings.EnvProcessType: "worker", settings.EnvSignal: "job_latency", settings.EnvMinDynos: "0", settings.EnvMaxDynos: "10",
	}
	maps.Copy(all, env)
	return loadSettings(t, all)
}

// defaultJobModel is the job model at its defaults, a tick a minute, an SLO of 60 s.
func defaultJobModel() Model {
	return Model{JobSeconds: DefaultJobSeconds, JobConcurrency: DefaultJobConcurrency, BootSeconds: DefaultBootSeconds,
		Noise: DefaultNoise, Seed: DefaultSeed, SLOMS: 60000, Interval: 60, Start: DefaultStart, DynoPrice: DefaultDynoPrice}
}

// runner runs tr with s, keeping the ticks and a series, for the model given.
func runner(t *testing.T, s settings.Settings, tr Trace) func(Model) Result {
	return func(m Model) Result {
		t.Helper()
		res, err := Run(context.Background(), s, m, tr, Options{Ticks: true, Points: 100})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
}
