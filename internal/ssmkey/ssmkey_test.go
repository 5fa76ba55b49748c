package ssmkey_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/internal/ssmkey"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const apiKey = "HRKU-0123456789abcdef-secret"

// putKey stores apiKey as a SecureString under a fresh name in the shared moto.
func putKey(ctx context.Context, t *testing.T, client *ssm.Client) string {
	t.Helper()
	name := "/autoscalebot/" + awstest.UniqueName(t, "key")
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{
		Name:  aws.String(name),
		Value: aws.String(apiKey),
		Type:  types.ParameterTypeSecureString,
	}); err != nil {
		t.Fatalf("put parameter: %v", err)
	}
	return name
}

func TestReadFromMoto(t *testing.T) {
	tooltest.Require(t, tooltest.Moto)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := ssm.NewFromConfig(awstest.SharedMoto(t).Config(t))
	stored := putKey(ctx, t, client)

	tests := []struct {
		name    string
		param   string
		wantErr []string // fragments of the error; none: success
	}{
		{"SecureString is decrypted", stored, nil},
		{"missing parameter is named", stored + "-missing", []string{stored + "-missing", "does not exist", "put-parameter"}},
		// The parameter and its secret exist, but this version does not.
		{"failed read of an existing secret", stored + ":7", []string{stored + ":7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ssmkey.Read(ctx, client, tt.param)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if got.Reveal() != apiKey {
					t.Errorf("Read revealed %q, want the stored key", got.Reveal())
				}
				var logged strings.Builder
				slog.New(slog.NewJSONHandler(&logged, nil)).Info("read", "key", got)
				for _, shown := range []string{fmt.Sprint(got), fmt.Sprintf("%+v %#v", got, got), logged.String()} {
					if strings.Contains(shown, apiKey) {
						t.Errorf("the key is shown: %s", shown)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("Read = %v, want an error", got)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), apiKey) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

// fakeSSM answers GetParameter with get.
type fakeSSM struct {
	get func(in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error)
}

func (f fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return f.get(in)
}

var _ ssmkey.API = fakeSSM{}

func TestReadAnswers(t *testing.T) {
	const name = "/autoscalebot/heroku-api-key"
	throttled := errors.New("ThrottlingException: rate exceeded")
	tests := []struct {
		name    string
		out     *ssm.GetParameterOutput
		err     error
		want    string
		wantErr []string
		wrapped error
	}{
		{"value", &ssm.GetParameterOutput{Parameter: &types.Parameter{Value: aws.String(apiKey)}}, nil, apiKey, nil, nil},
		{"empty value", &ssm.GetParameterOutput{Parameter: &types.Parameter{Value: aws.String("")}}, nil, "", []string{name, "empty"}, nil},
		{"no parameter in the answer", &ssm.GetParameterOutput{}, nil, "", []string{name, "empty"}, nil},
		{"not found", nil, &types.ParameterNotFound{Message: aws.String("not found")}, "", []string{name, "does not exist"}, nil},
		{"other failure is wrapped", nil, throttled, "", []string{name, "rate exceeded"}, throttled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked *ssm.GetParameterInput
			client := fakeSSM{get: func(in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error) {
				asked = in
				return tt.out, tt.err
			}}
			got, err := ssmkey.Read(context.Background(), client, name)
			if asked == nil || aws.ToString(asked.Name) != name || !aws.ToBool(asked.WithDecryption) {
				t.Errorf("GetParameter input = %+v, want %s with decryption", asked, name)
			}
			if got.Reveal() != tt.want {
				t.Errorf("Read revealed %q, want %q", got.Reveal(), tt.want)
			}
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("Read error = %v, want one: %t", err, tt.wantErr != nil)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if tt.wrapped != nil && !errors.Is(err, tt.wrapped) {
				t.Errorf("error %v does not wrap %v", err, tt.wrapped)
			}
		})
	}
}
