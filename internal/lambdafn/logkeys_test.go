package lambdafn_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/logkey/logkeytest"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

// jsonLog is the function's log format: Lambda's JSON handler options
// (timestamp, message) on a buffer instead of stdout.
func jsonLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
}

// TestHandlerLogKeys: the lines the handler logs, on a configuration error,
// a start-up failure (an AWS error answer: the key parameter is missing) and
// a tick (with its notices), use only camelCase keys from package logkey.
func TestHandlerLogKeys(t *testing.T) {
	t.Run("configuration error", func(t *testing.T) {
		var logs bytes.Buffer
		s, err := settings.LoadLambda(getenv(nil))
		h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), SettingsErr: err, AWS: aws.Config{Region: awstest.Region, Credentials: testCredentials, HTTPClient: &refusingClient{}},
			Log: jsonLog(&logs), Metrics: io.Discard})
		if _, err := h.Handle(context.Background(), events.EventBridgeEvent{ID: "1"}); err == nil {
			t.Fatal("invocation succeeded without settings")
		}
		if logkeytest.Check(t, logs.Bytes()) == 0 {
			t.Error("nothing logged")
		}
	})

	t.Run("start-up failure and ticks", func(t *testing.T) {
		const key, app = "HRKU-logkeys-test-key", "logkeys-app"
		f := newFixture(t, key, app, 0)
		s, err := f.settings(app, map[string]string{
			settings.EnvNotifyOnEveryPing:  "true", // a notice every tick, logged without a topic
			settings.EnvMinResponseTime:    "0",
			settings.EnvFailsToScaleUp:     "1",
			settings.EnvNotifyOnEveryScale: "true",
		})
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: f.cfg, Log: jsonLog(&logs), Metrics: io.Discard})
		if _, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: "1"}); err == nil {
			t.Fatal("invocation succeeded before the key parameter exists")
		}
		f.putKey(t, key)
		for _, id := range []string{"2", "2"} { // the second is a duplicate delivery
			if _, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: id}); err != nil {
				t.Fatalf("invocation %s: %v", id, err)
			}
		}
		if n := logkeytest.Check(t, logs.Bytes()); n < 4 {
			t.Errorf("%d lines logged, want a start-up failure, a notice, a tick and a duplicate:\n%s", n, logs.Bytes())
		}
	})
}
