// Package ssmkey reads the Heroku API key, and the heartbeat token, from
// SSM SecureString parameters.
package ssmkey

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// API lists the SSM call made.
type API interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ API = (*ssm.Client)(nil)

// Read returns the decrypted value of the parameter called name, the
// Heroku API key. Errors name the parameter and never carry its value.
func Read(ctx context.Context, client API, name string) (secret.Value, error) {
	return ReadAs(ctx, client, name, "API key")
}

// ReadAs is Read for another secret, which the errors call what
// ("heartbeat token").
func ReadAs(ctx context.Context, client API, name, what string) (secret.Value, error) {
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var notFound *types.ParameterNotFound
	switch {
	case errors.As(err, &notFound):
		return secret.Value{}, fmt.Errorf("read %s: SSM parameter %q does not exist (create it with aws ssm put-parameter --type SecureString)", what, name)
	case err != nil:
		return secret.Value{}, fmt.Errorf("read %s from SSM parameter %q: %w", what, name, err)
	case out.Parameter == nil || aws.ToString(out.Parameter.Value) == "":
		return secret.Value{}, fmt.Errorf("read %s: SSM parameter %q is empty", what, name)
	}
	return secret.New(aws.ToString(out.Parameter.Value)), nil
}
