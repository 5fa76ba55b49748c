// Package awssdk adapts the SDK's aws.Config to awsjson's Config, for the
// local commands and the tests, which load their AWS configuration with the
// SDK (shared config files, profiles, SSO). The Lambda function does not
// import it: it reads its configuration from the environment
// (lambdafn.EnvConfig) and links no SDK package.
package awssdk

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

// From returns cfg as an awsjson.Config: its region and HTTP client, its
// credentials provider (asked before each request, so the SDK's cache
// refreshes them), its base endpoint (AWS_ENDPOINT_URL) and each service's
// own from its config sources (AWS_ENDPOINT_URL_<ID>, services.<id> in a
// profile).
func From(cfg aws.Config) awsjson.Config {
	out := awsjson.Config{
		Region:       cfg.Region,
		BaseEndpoint: aws.ToString(cfg.BaseEndpoint),
		Credentials: func(ctx context.Context) (awsjson.Credentials, error) {
			if cfg.Credentials == nil {
				return awsjson.Credentials{}, errors.New("no credentials provider in the AWS configuration")
			}
			c, err := cfg.Credentials.Retrieve(ctx)
			if err != nil {
				return awsjson.Credentials{}, err
			}
			return awsjson.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		},
		ServiceEndpoint: func(sdkID string) string { return serviceEndpoint(cfg.ConfigSources, sdkID) },
	}
	if cfg.HTTPClient != nil {
		out.HTTPClient = cfg.HTTPClient
	}
	return out
}

// serviceEndpoint is a service's own endpoint from the first config source
// that knows one, as the SDK's clients resolve it: the environment's
// (AWS_ENDPOINT_URL_<ID>) before the shared config file's.
func serviceEndpoint(sources []any, sdkID string) string {
	for _, src := range sources {
		if p, ok := src.(interface {
			GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
		}); ok {
			v, found, err := p.GetServiceBaseEndpoint(context.Background(), sdkID)
			if err != nil {
				return ""
			}
			if found {
				return v
			}
		}
	}
	return ""
}
