package simulate

import (
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
