// Command bootstrap is the autoscalebot Lambda function: EventBridge invokes
// it once a minute and each invocation ticks every formation (one from the
// environment, or each of AUTOSCALE_SETTINGS_FILE's); the tick queue invokes
// it for the minute's later slots and for a large fleet's batches.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"

	// provided.al2023 has no time zone database; AUTOSCALE_TIME_ZONE needs one.
	_ "time/tzdata"
)

func main() {
	log := lambdacontext.NewLogger()
	fleet, settingsErr := settingsfile.LoadLambda(os.Getenv, nil)
	// The SDK's default chain: the execution role's credentials, the region,
	// FIPS and dual-stack switches, AWS_ENDPOINT_URL(_<SERVICE>), and the
	// standard retryer (3 attempts, jittered backoff, a retry quota).
	awsCfg, awsErr := config.LoadDefaultConfig(context.Background())
	if awsErr == nil && awsCfg.Region == "" {
		awsErr = errors.New("AWS_REGION is not set")
	}
	if awsErr != nil {
		awsErr = fmt.Errorf("aws config: %w", awsErr)
	}
	h := lambdafn.New(lambdafn.Config{
		Formations:   fleet,
		Fleet:        os.Getenv(settings.EnvSettingsFile) != "",
		FunctionName: functionName(),
		SettingsErr:  errors.Join(settingsErr, awsErr),
		AWS:          awsCfg,
		Log:          log,
	})
	// The key reads start first: the log lines can wait for them.
	go h.Prepare(context.Background())
	if settingsErr == nil { // a bad configuration is logged by each invocation instead
		for _, f := range fleet {
			log.Info("settings loaded", slog.String(logkey.Formation, f.Name), slog.Any(logkey.Settings, f.Settings))
		}
	}
	lambda.Start(h.Invoke)
}

// functionName is the fleet metrics' Fleet dimension: the function's name,
// which Lambda sets and the template's dashboard knows.
func functionName() string {
	if name := os.Getenv("AWS_LAMBDA_FUNCTION_NAME"); name != "" {
		return name
	}
	return "autoscalebot"
}
