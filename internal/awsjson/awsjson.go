// Package awsjson makes calls to AWS services that speak the JSON protocols
// (awsJson1_0, awsJson1_1), signed with Signature Version 4 by its own
// signer, configured by its own Config. It is what the Lambda function
// needs of DynamoDB, SSM, SNS and SQS without the SDK: each service client
// links, and builds at start-up, a schema of every operation of its service
// and a table of every endpoint, and even the SDK's core (aws.Config, its
// signer) links some 25 smithy-go packages, which cost the cold start time
// and the binary size for a few calls.
package awsjson

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
)

// Service describes one AWS service's JSON protocol.
type Service struct {
	Name         string // signing name and endpoint prefix: "ssm", "sqs"
	SDKID        string // the SDK's service id, for AWS_ENDPOINT_URL_<ID>: "SSM", "SQS"
	TargetPrefix string // X-Amz-Target before the operation: "AmazonSSM"
	JSONVersion  string // "1.0" or "1.1"
	// MaxAnswer bounds the bytes read of one answer; 0 means 1 MiB. A
	// DynamoDB page holds up to 1 MB of item data, more on the wire.
	MaxAnswer int64
}

// maxAttempts bounds the tries of one call, as the SDK's standard retryer.
const maxAttempts = 3

// defaultMaxAnswer bounds what is read of an answer unless the Service says.
const defaultMaxAnswer = 1 << 20

// errTooLong is an answer over the bound: asking again would not shorten it.
var errTooLong = errors.New("answer over the limit")

// errNoCredentials is a Config without a Credentials provider.
var errNoCredentials = errors.New("credentials: none configured")

// Client calls one service in cfg's region with cfg's credentials and HTTP
// client.
type Client struct {
	svc      Service
	cfg      Config
	endpoint string
	http     HTTPClient
}

// New returns a client for svc. Its endpoint is the service's own
// (AWS_ENDPOINT_URL_<ID>, see lambdafn.EnvConfig), else cfg.BaseEndpoint
// (AWS_ENDPOINT_URL), else the service's regional endpoint.
func New(cfg Config, svc Service) *Client {
	c := &Client{svc: svc, cfg: cfg, http: cfg.HTTPClient}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	c.endpoint = Endpoint(cfg, svc.Name, svc.SDKID)
	return c
}

// APIError is an error answer from the service.
type APIError struct {
	Service string // "ssm"
	Code    string // e.g. ParameterNotFound, ThrottlingException
	Message string
	Status  int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d): %s", e.Service, e.Code, e.Status, e.Message)
}

// Call sends operation op with the input in (JSON-encoded) and decodes the
// answer into out. An answer that the service is busy or failing, or a
// connection that failed, is tried again, up to maxAttempts.
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", op, err)
	}
	data, err := c.Send(ctx, "application/x-amz-json-"+c.svc.JSONVersion, c.svc.TargetPrefix+"."+op, body, c.apiError)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", op, err)
	}
	return nil
}

// Send signs and posts body as contentType (with X-Amz-Target when target
// is set) and returns a 200 answer's body; any other answer is the error
// failed reads from it. An answer that the service is busy or failing, or
// a connection that failed, is tried again, up to maxAttempts. Services on
// another protocol (SNS's query) use it with their own failed.
func (c *Client) Send(ctx context.Context, contentType, target string, body []byte, failed func(*http.Response, []byte) error) ([]byte, error) {
	var lastErr error
	for attempt := range maxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, errors.Join(lastErr, ctx.Err())
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		data, err := c.sendOnce(ctx, contentType, target, body, failed)
		if err == nil || !retryable(err) {
			return data, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || strings.Contains(ae.Code, "Throttl") ||
			ae.Code == "ProvisionedThroughputExceededException" || ae.Code == "RequestLimitExceeded" // DynamoDB's
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errTooLong) && !errors.Is(err, errNoCredentials)
}

func (c *Client) sendOnce(ctx context.Context, contentType, target string, body []byte, failed func(*http.Response, []byte) error) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if c.cfg.Credentials == nil {
		return nil, errNoCredentials
	}
	creds, err := c.cfg.Credentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	sign(req, hex.EncodeToString(sum[:]), creds, c.svc.Name, c.cfg.Region, time.Now())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := c.svc.MaxAnswer
	if limit <= 0 {
		limit = defaultMaxAnswer
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", errTooLong, limit)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, failed(resp, data)
	}
	return data, nil
}

// apiError reads an error answer: the code from __type
// ("com.amazonaws.ssm#ParameterNotFound" or the bare name) or the
// X-Amzn-ErrorType header, the message from message or Message.
func (c *Client) apiError(resp *http.Response, data []byte) error {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Upper   string `json:"Message"`
	}
	_ = json.Unmarshal(data, &e)
	code := e.Type
	if code == "" {
		code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	}
	code = code[strings.LastIndex(code, "#")+1:]
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return &APIError{Service: c.svc.Name, Code: code, Message: e.Message + e.Upper, Status: resp.StatusCode}
}
