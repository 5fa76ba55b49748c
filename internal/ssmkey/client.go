package ssmkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client makes SSM's GetParameter call, and only it. The SDK's SSM client
// links (and builds at start-up) a schema of every SSM operation: about a
// third of the function's binary and a noticeable part of its cold start,
// for one call per cold start.
type Client struct {
	cfg      aws.Config
	endpoint string
	http     aws.HTTPClient
	signer   *v4.Signer
}

// maxAttempts bounds the tries of one read, as the SDK's standard retryer.
const maxAttempts = 3

// NewClient returns a client for cfg's region, credentials and HTTP client;
// its endpoint is AWS_ENDPOINT_URL_SSM or AWS_ENDPOINT_URL when cfg carries
// them (see lambdafn.EnvConfig), else SSM's regional endpoint.
func NewClient(cfg aws.Config) *Client {
	c := &Client{cfg: cfg, http: cfg.HTTPClient, signer: v4.NewSigner()}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	c.endpoint = "https://ssm." + cfg.Region + ".amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		c.endpoint += ".cn"
	}
	if cfg.BaseEndpoint != nil {
		c.endpoint = *cfg.BaseEndpoint
	}
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(interface {
			GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
		}); ok {
			if v, found, err := p.GetServiceBaseEndpoint(context.Background(), "SSM"); found && err == nil {
				c.endpoint = v
			}
		}
	}
	return c
}

// APIError is an error answer from SSM.
type APIError struct {
	Code    string // e.g. ParameterNotFound, ThrottlingException
	Message string
	Status  int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("ssm: %s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// GetParameter returns the decrypted value of the parameter called name.
// An answer that SSM is busy or failing is tried again, up to maxAttempts.
func (c *Client) GetParameter(ctx context.Context, name string) (string, error) {
	body, err := json.Marshal(struct {
		Name           string
		WithDecryption bool
	}{name, true})
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := range maxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", errors.Join(lastErr, ctx.Err())
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		value, err := c.getOnce(ctx, body)
		if err == nil || !retryable(err) {
			return value, err
		}
		lastErr = err
	}
	return "", lastErr
}

func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || strings.Contains(ae.Code, "Throttling")
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (c *Client) getOnce(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.cfg.Region, time.Now()); err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Upper   string `json:"Message"`
		}
		_ = json.Unmarshal(data, &e)
		code := e.Type[strings.LastIndex(e.Type, "#")+1:] // "com.amazonaws.ssm#ParameterNotFound" or the bare name
		if code == "" {
			code = http.StatusText(resp.StatusCode)
		}
		return "", &APIError{Code: code, Message: e.Message + e.Upper, Status: resp.StatusCode}
	}
	var out struct {
		Parameter *struct{ Value string }
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return "", fmt.Errorf("decode answer: %w", err)
	}
	if out.Parameter == nil {
		return "", nil
	}
	return out.Parameter.Value, nil
}
