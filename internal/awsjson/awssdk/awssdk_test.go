package awssdk_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
	"github.com/autoscalebot/autoscalebot/internal/awsjson/awssdk"
)

// TestFromLoadedConfig: a configuration the SDK loads from a profile of a
// shared config file and the environment gives our clients the profile's
// region and keys, and each service the endpoint the SDK's own client
// would call: the environment's AWS_ENDPOINT_URL_<ID> first, then the
// profile's services section, then AWS_ENDPOINT_URL, then the region's.
func TestFromLoadedConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		endpoints map[string]string // SDK id → endpoint
	}{
		{"profile only", nil, map[string]string{
			"DynamoDB": "http://127.0.0.1:8000", "SQS": "http://127.0.0.1:9999", "SSM": "https://ssm.eu-north-1.amazonaws.com"}},
		{"environment and profile", map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"},
			map[string]string{"DynamoDB": "http://127.0.0.1:8000", "SQS": "http://127.0.0.1:9324", "SSM": "http://127.0.0.1:5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
				"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SSM",
				"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(k, tt.env[k])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sdk, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile("ops"),
				config.WithSharedConfigFiles([]string{filepath.Join("testdata", "config")}),
				config.WithSharedCredentialsFiles([]string{}))
			if err != nil {
				t.Fatal(err)
			}
			cfg := awssdk.From(sdk)
			creds, err := cfg.Credentials(ctx)
			want := awsjson.Credentials{AccessKeyID: "AKIDPROFILE", SecretAccessKey: "profile/secret", SessionToken: "profile-token"}
			if err != nil || creds != want || cfg.Region != "eu-north-1" {
				t.Errorf("region %q, credentials %+v, %v; want eu-north-1, the profile's keys", cfg.Region, creds, err)
			}
			if cfg.HTTPClient == nil {
				t.Error("the SDK's HTTP client is not passed on")
			}
			for id, want := range tt.endpoints {
				if got := awsjson.Endpoint(cfg, map[string]string{"DynamoDB": "dynamodb", "SQS": "sqs", "SSM": "ssm"}[id], id); got != want {
					t.Errorf("%s endpoint %q, want %q", id, got, want)
				}
			}
		})
	}
}

// TestFromCredentialsError: a provider's failure, or none at all, comes
// back from the credentials the clients ask for.
func TestFromCredentialsError(t *testing.T) {
	failing := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{}, errors.New("sso session expired")
	})
	tests := []struct {
		name     string
		provider aws.CredentialsProvider
		want     string
	}{
		{"failing provider", failing, "sso session expired"},
		{"no provider", nil, "no credentials provider in the AWS configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := awssdk.From(aws.Config{Region: "eu-west-1", Credentials: tt.provider, HTTPClient: http.DefaultClient})
			if _, err := cfg.Credentials(context.Background()); err == nil || err.Error() != tt.want {
				t.Errorf("credentials error %v, want %q", err, tt.want)
			}
		})
	}
}
