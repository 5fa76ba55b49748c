package awsjson

import (
	"context"
	"net/http"
	"strings"
)

// Credentials sign the requests: an access key, and the session token that
// comes with temporary ones (a Lambda execution role's).
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // "" for long-term keys
}

// HTTPClient sends the requests; *http.Client is one.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Config is where and as whom the clients call AWS. It is the little the
// Lambda function needs of the SDK's aws.Config, without linking the SDK
// (see lambdafn.EnvConfig; awssdk.From adapts an aws.Config for local
// commands and tests).
type Config struct {
	Region string
	// Credentials is asked before each request, so a provider may refresh
	// them; nil fails the calls.
	Credentials func(context.Context) (Credentials, error)
	// BaseEndpoint replaces every service's regional endpoint
	// (AWS_ENDPOINT_URL); "" keeps them.
	BaseEndpoint string
	// ServiceEndpoint returns a service's own endpoint given its SDK id
	// (AWS_ENDPOINT_URL_<ID>), "" when it has none; nil: none has one.
	ServiceEndpoint func(sdkID string) string
	// HTTPClient sends the requests; nil: an http.Client with a 30 s timeout.
	HTTPClient HTTPClient
}

// StaticCredentials returns a Credentials provider that always gives c.
func StaticCredentials(c Credentials) func(context.Context) (Credentials, error) {
	return func(context.Context) (Credentials, error) { return c, nil }
}

// Endpoint is the base URL of the service called name (its SDK id sdkID):
// its own (cfg.ServiceEndpoint), else cfg.BaseEndpoint, else the service's
// regional endpoint.
func Endpoint(cfg Config, name, sdkID string) string {
	if cfg.ServiceEndpoint != nil {
		if v := cfg.ServiceEndpoint(sdkID); v != "" {
			return v
		}
	}
	if cfg.BaseEndpoint != "" {
		return cfg.BaseEndpoint
	}
	endpoint := "https://" + name + "." + cfg.Region + ".amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		endpoint += ".cn"
	}
	return endpoint
}
