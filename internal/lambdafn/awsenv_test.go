package lambdafn

import (
	"context"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

func TestEnvConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantErr   []string // fragments; none: no error
		region    string
		base      string            // BaseEndpoint, "" when unset
		endpoints map[string]string // service id → the endpoint its clients call
	}{
		{"Lambda's variables", map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID",
			"AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}, nil, "eu-west-1", "",
			map[string]string{"DynamoDB": "https://dynamodb.eu-west-1.amazonaws.com"}},
		{"default region and endpoints", map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID",
			"AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"},
			nil, "us-east-1", "http://127.0.0.1:5000", map[string]string{"DynamoDB": "http://127.0.0.1:8000", "SNS": "http://127.0.0.1:5000"}},
		{"a service id with a space", map[string]string{"AWS_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "AKID",
			"AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:8001"},
			nil, "cn-north-1", "", map[string]string{"DynamoDB Streams": "http://127.0.0.1:8001", "SQS": "https://sqs.cn-north-1.amazonaws.com.cn"}},
		{"nothing set", map[string]string{}, []string{"AWS_REGION", "AWS_ACCESS_KEY_ID"}, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := EnvConfig(func(k string) string { return tt.env[k] })
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("EnvConfig error %v, want one: %t", err, tt.wantErr != nil)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if err != nil {
				return
			}
			creds, _ := cfg.Credentials(context.Background())
			if cfg.Region != tt.region || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "s" ||
				creds.SessionToken != tt.env["AWS_SESSION_TOKEN"] || cfg.BaseEndpoint != tt.base {
				t.Errorf("region %q, key %q, token %q, endpoint %q", cfg.Region, creds.AccessKeyID, creds.SessionToken, cfg.BaseEndpoint)
			}
			for id, want := range tt.endpoints {
				name := strings.ToLower(strings.Fields(id)[0])
				if got := awsjson.Endpoint(cfg, name, id); got != want {
					t.Errorf("%s endpoint %q, want %q", id, got, want)
				}
			}
		})
	}
}
