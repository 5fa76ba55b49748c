package lambdafn_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// TestSingleFormationAnswersAsBeforeFleets: without a settings file the
// invocation returns the formation's summary and fails with its tick's own
// error, as it always did; with one, a FleetResult and a FleetError naming
// the formation.
func TestSingleFormationAnswersAsBeforeFleets(t *testing.T) {
	const key, app = "HRKU-single-test-key", "single-app"
	tests := []struct {
		name      string
		fleet     bool
		keyStored bool
		extra     map[string]string
		check     func(t *testing.T, res any, err error, param string)
	}{
		{name: "one formation, ticked: its summary", keyStored: true, check: func(t *testing.T, res any, err error, _ string) {
			if sum, ok := res.(tick.Summary); err != nil || !ok || sum.Current != 1 {
				t.Errorf("result %#v, %v; want the formation's tick.Summary", res, err)
			}
		}},
		{name: "one formation, failed: its own error", check: func(t *testing.T, _ any, err error, param string) {
			var fleetErr *lambdafn.FleetError
			if err == nil || errors.As(err, &fleetErr) || !strings.HasPrefix(err.Error(), "read formation: read API key") || !strings.Contains(err.Error(), param) {
				t.Errorf("error %v (%T), want the key read's own error naming %s", err, err, param)
			}
		}},
		{name: "one formation, failed, tick queue unusable: its own error and the queue's",
			extra: map[string]string{
				settings.EnvHeartbeatInterval: "30",
				settings.EnvTickQueueURL:      "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue",
			},
			check: func(t *testing.T, _ any, err error, param string) {
				var fleetErr *lambdafn.FleetError
				if err == nil || errors.As(err, &fleetErr) || !strings.HasPrefix(err.Error(), "read formation: read API key") ||
					!strings.Contains(err.Error(), param) || !strings.Contains(err.Error(), "\ntick queue: ") {
					t.Errorf("error %q (%T), want the key read's own error naming %s, then the tick queue's", err, err, param)
				}
			}},
		{name: "a settings file of one, ticked: a FleetResult", fleet: true, keyStored: true, check: func(t *testing.T, res any, err error, _ string) {
			if r, ok := res.(lambdafn.FleetResult); err != nil || !ok || len(r.Formations) != 1 {
				t.Errorf("result %#v, %v; want a FleetResult of one", res, err)
			}
		}},
		{name: "a settings file of one, failed: a FleetError", fleet: true, check: func(t *testing.T, _ any, err error, param string) {
			var fleetErr *lambdafn.FleetError
			if !errors.As(err, &fleetErr) || !strings.HasPrefix(err.Error(), "1 of 1 formations failed: "+app+"/web: ") || !strings.Contains(err.Error(), param) {
				t.Errorf("error %v, want a FleetError naming %s/web and %s", err, app, param)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, key, app, 0)
			if tt.keyStored {
				f.putKey(t, key)
			}
			s, err := f.settings(app, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), Fleet: tt.fleet, AWS: f.cfg,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: io.Discard})
			event, _ := json.Marshal(map[string]string{"id": "ev-single", "detail-type": "Scheduled Event"})
			res, err := h.Invoke(f.ctx, event)
			tt.check(t, res, err, f.param)
		})
	}
}
