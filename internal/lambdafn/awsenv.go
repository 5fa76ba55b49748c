package lambdafn

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
)

// The environment variables Lambda gives every function, and the endpoint
// overrides the SDK documents (the tests point them at moto).
const (
	envRegion        = "AWS_REGION"
	envDefaultRegion = "AWS_DEFAULT_REGION"
	envAccessKeyID   = "AWS_ACCESS_KEY_ID"
	envSecretKey     = "AWS_SECRET_ACCESS_KEY"
	envSessionToken  = "AWS_SESSION_TOKEN"
	envEndpoint      = "AWS_ENDPOINT_URL"
	envEndpointOf    = "AWS_ENDPOINT_URL_" // + the service id, upper case, spaces as _
)

// EnvConfig is the AWS configuration of a Lambda function, read from the
// variables Lambda sets: region and the execution role's credentials. It
// replaces the SDK's default chain (config.LoadDefaultConfig), which in
// Lambda finds nothing more, but reads shared config files and links the
// SSO, STS and IMDS clients: start-up time and binary size for nothing.
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> work as with the SDK.
func EnvConfig(getenv func(string) string, logger logging.Logger) (aws.Config, error) {
	region := getenv(envRegion)
	if region == "" {
		region = getenv(envDefaultRegion)
	}
	creds := aws.Credentials{
		AccessKeyID: getenv(envAccessKeyID), SecretAccessKey: getenv(envSecretKey),
		SessionToken: getenv(envSessionToken), Source: "EnvConfig",
	}
	var errs []error
	if region == "" {
		errs = append(errs, errors.New(envRegion+" is not set"))
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		errs = append(errs, errors.New(envAccessKeyID+" and "+envSecretKey+" are not set (the execution role's credentials)"))
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		Logger:        logger,
		ConfigSources: []any{envEndpoints(getenv)},
	}
	if ep := getenv(envEndpoint); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	if len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	return cfg, nil
}

// envEndpoints answers the service clients' question for a service's own
// endpoint (AWS_ENDPOINT_URL_DYNAMODB and the like), as the SDK's config
// package does.
type envEndpoints func(string) string

func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e(envEndpointOf + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
