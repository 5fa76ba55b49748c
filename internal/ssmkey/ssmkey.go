// Package ssmkey reads the Heroku API key from an SSM SecureString parameter.
package ssmkey

import (
	"context"
	"errors"
	"fmt"

	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// API lists the SSM call made: the decrypted value of a parameter ("" when
// the answer has none), or an *APIError.
type API interface {
	GetParameter(ctx context.Context, name string) (string, error)
}

var _ API = (*Client)(nil)

// Read returns the decrypted value of the parameter called name. Errors name
// the parameter and never carry its value.
func Read(ctx context.Context, client API, name string) (secret.Value, error) {
	value, err := client.GetParameter(ctx, name)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == "ParameterNotFound":
		return secret.Value{}, fmt.Errorf("read API key: SSM parameter %q does not exist (create it with aws ssm put-parameter --type SecureString)", name)
	case err != nil:
		return secret.Value{}, fmt.Errorf("read API key from SSM parameter %q: %w", name, err)
	case value == "":
		return secret.Value{}, fmt.Errorf("read API key: SSM parameter %q is empty", name)
	}
	return secret.New(value), nil
}
