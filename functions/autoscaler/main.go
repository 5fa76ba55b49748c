// Command bootstrap is the autoscalebot Lambda function: EventBridge invokes
// it once a minute and each invocation runs one tick; under a 60 s interval
// the tick queue invokes it for the minute's later slots.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/settings"

	// provided.al2023 has no time zone database; AUTOSCALE_TIME_ZONE needs one.
	_ "time/tzdata"
)

func main() {
	log := lambdacontext.NewLogger()
	s, settingsErr := settings.LoadLambda(os.Getenv)
	if settingsErr == nil { // a bad configuration is logged by each invocation instead
		log.Info("settings loaded", slog.Any(logkey.Settings, s))
	}
	awsCfg, awsErr := lambdafn.EnvConfig(os.Getenv, lambdafn.SDKLogger(log))
	h := lambdafn.New(lambdafn.Config{
		Settings:    s,
		SettingsErr: errors.Join(settingsErr, awsErr),
		AWS:         awsCfg,
		Log:         log,
	})
	go h.Prepare(context.Background())
	lambda.Start(h.Invoke)
}
