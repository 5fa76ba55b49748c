// Package ssmkey reads the Heroku API key from an SSM SecureString parameter.
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

// Read returns the decrypted value of the parameter called name. Errors name
// the parameter and never carry its value.
func Read(ctx context.Context, client API, name string) (secret.Value, error) {
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var notFound *types.ParameterNotFound
	switch {
	case errors.As(err, &notFound):
		return secret.Value{}, fmt.Errorf("read API key: SSM parameter %q does not exist (create it with aws ssm put-parameter --type SecureString)", name)
	case err != nil:
		return secret.Value{}, fmt.Errorf("read API key from SSM parameter %q: %w", name, err)
	case out.Parameter == nil || aws.ToString(out.Parameter.Value) == "":
		return secret.Value{}, fmt.Errorf("read API key: SSM parameter %q is empty", name)
	}
	return secret.New(aws.ToString(out.Parameter.Value)), nil
}
