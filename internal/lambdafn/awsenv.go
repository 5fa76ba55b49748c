package lambdafn

import (
	"errors"
	"strings"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
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
// Lambda finds nothing more, but reads shared config files, links the SSO,
// STS and IMDS clients and the SDK's core: start-up time and binary size
// for nothing. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> work as with
// the SDK.
func EnvConfig(getenv func(string) string) (awsjson.Config, error) {
	region := getenv(envRegion)
	if region == "" {
		region = getenv(envDefaultRegion)
	}
	creds := awsjson.Credentials{
		AccessKeyID: getenv(envAccessKeyID), SecretAccessKey: getenv(envSecretKey), SessionToken: getenv(envSessionToken),
	}
	var errs []error
	if region == "" {
		errs = append(errs, errors.New(envRegion+" is not set"))
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		errs = append(errs, errors.New(envAccessKeyID+" and "+envSecretKey+" are not set (the execution role's credentials)"))
	}
	cfg := awsjson.Config{
		Region:       region,
		Credentials:  awsjson.StaticCredentials(creds),
		BaseEndpoint: getenv(envEndpoint),
		// A service's own endpoint, as the SDK's config package reads it:
		// AWS_ENDPOINT_URL_DYNAMODB for the SDK id "DynamoDB".
		ServiceEndpoint: func(sdkID string) string {
			return getenv(envEndpointOf + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
		},
	}
	return cfg, errors.Join(errs...)
}
