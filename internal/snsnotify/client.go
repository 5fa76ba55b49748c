package snsnotify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

// Client makes SNS's Publish call, and only it. The SDK's SNS client links
// (and builds at start-up) a schema of every SNS operation and a table of
// every endpoint: time added to each cold start of the Lambda function,
// which publishes only when a notice is due.
type Client struct {
	cfg      aws.Config
	endpoint string
	http     aws.HTTPClient
	signer   *v4.Signer
}

const (
	// maxAttempts bounds the tries of one publish, as the SDK's standard retryer.
	maxAttempts = 3
	// maxAnswer bounds what is read of an answer.
	maxAnswer = 1 << 20
	// apiVersion is SNS's query API version.
	apiVersion = "2010-03-31"
)

// NewClient returns a client for cfg's region, credentials and HTTP client.
// Its endpoint is SNS's own from cfg's config sources
// (AWS_ENDPOINT_URL_SNS, see lambdafn.EnvConfig), else cfg.BaseEndpoint
// (AWS_ENDPOINT_URL), else SNS's regional endpoint.
func NewClient(cfg aws.Config) *Client {
	c := &Client{cfg: cfg, http: cfg.HTTPClient, signer: v4.NewSigner()}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	c.endpoint = awsjson.Endpoint(cfg, "sns", "SNS")
	return c
}

// APIError is an error answer from SNS.
type APIError struct {
	Code    string // e.g. NotFound, Throttling
	Message string
	Status  int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("sns: %s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Publish sends in with SNS's query protocol. An answer that SNS is busy or
// failing, or a connection that failed, is tried again, up to maxAttempts.
func (c *Client) Publish(ctx context.Context, in *PublishInput) error {
	form := url.Values{
		"Action":   {"Publish"},
		"Version":  {apiVersion},
		"TopicArn": {in.TopicARN},
		"Message":  {in.Message},
	}
	if in.Subject != "" {
		form.Set("Subject", in.Subject)
	}
	if in.MessageStructure != "" {
		form.Set("MessageStructure", in.MessageStructure)
	}
	for i, name := range slices.Sorted(maps.Keys(in.Attributes)) {
		p := "MessageAttributes.entry." + strconv.Itoa(i+1) + "."
		form.Set(p+"Name", name)
		form.Set(p+"Value.DataType", "String")
		form.Set(p+"Value.StringValue", in.Attributes[name])
	}
	body := form.Encode()
	var lastErr error
	for attempt := range maxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(lastErr, ctx.Err())
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		err := c.publishOnce(ctx, body)
		if err == nil || !retryable(err) {
			return err
		}
		lastErr = err
	}
	return lastErr
}

func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || strings.Contains(ae.Code, "Throttl")
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (c *Client) publishOnce(ctx context.Context, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sns", c.cfg.Region, time.Now()); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		code := xmlText(data, "Code")
		if code == "" {
			code = http.StatusText(resp.StatusCode)
		}
		return &APIError{Code: code, Message: xmlText(data, "Message"), Status: resp.StatusCode}
	}
	return nil
}

// xmlEntities are the escapes an XML error answer's text can hold.
var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

// xmlText returns the text of the first <tag> element of an error answer
// (<ErrorResponse><Error><Code>…</Code><Message>…</Message>), which is all
// that is read of it: encoding/xml would be linked for that alone.
func xmlText(data []byte, tag string) string {
	s := string(data)
	_, rest, ok := strings.Cut(s, "<"+tag+">")
	if !ok {
		return ""
	}
	text, _, ok := strings.Cut(rest, "</"+tag+">")
	if !ok {
		return ""
	}
	return xmlEntities.Replace(strings.TrimSpace(text))
}
