package ssmkey

import (
	"context"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

// Client makes SSM's GetParameter call, and only it. The SDK's SSM client
// links (and builds at start-up) a schema of every SSM operation: about a
// third of the function's binary and a noticeable part of its cold start,
// for one call per cold start.
type Client struct{ c *awsjson.Client }

// ssm is SSM's JSON protocol.
var ssm = awsjson.Service{Name: "ssm", SDKID: "SSM", TargetPrefix: "AmazonSSM", JSONVersion: "1.1"}

// NewClient returns a client for cfg's region, credentials and HTTP client;
// its endpoint is AWS_ENDPOINT_URL_SSM or AWS_ENDPOINT_URL when cfg carries
// them (see lambdafn.EnvConfig), else SSM's regional endpoint.
func NewClient(cfg awsjson.Config) *Client { return &Client{c: awsjson.New(cfg, ssm)} }

// APIError is an error answer from SSM.
type APIError = awsjson.APIError

// GetParameter returns the decrypted value of the parameter called name.
// An answer that SSM is busy or failing is tried again, a bounded number
// of times.
func (c *Client) GetParameter(ctx context.Context, name string) (string, error) {
	in := struct {
		Name           string
		WithDecryption bool
	}{name, true}
	var out struct {
		Parameter *struct{ Value string }
	}
	if err := c.c.Call(ctx, "GetParameter", in, &out); err != nil {
		return "", err
	}
	if out.Parameter == nil {
		return "", nil
	}
	return out.Parameter.Value, nil
}
