package snsnotify

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

// Client makes SNS's Publish call, and only it. The SDK's SNS client links
// (and builds at start-up) a schema of every SNS operation and a table of
// every endpoint: time added to each cold start of the Lambda function,
// which publishes only when a notice is due.
type Client struct {
	api *awsjson.Client
}

// apiVersion is SNS's query API version.
const apiVersion = "2010-03-31"

// NewClient returns a client for cfg's region, credentials and HTTP client.
// Its endpoint is SNS's own (AWS_ENDPOINT_URL_SNS, see lambdafn.EnvConfig),
// else cfg.BaseEndpoint (AWS_ENDPOINT_URL), else SNS's regional endpoint.
func NewClient(cfg awsjson.Config) *Client {
	return &Client{api: awsjson.New(cfg, awsjson.Service{Name: "sns", SDKID: "SNS"})}
}

// APIError is an error answer from SNS.
type APIError = awsjson.APIError

// Publish sends in with SNS's query protocol. An answer that SNS is busy or
// failing, or a connection that failed, is tried again (awsjson.Client.Send).
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
	_, err := c.api.Send(ctx, "application/x-www-form-urlencoded; charset=utf-8", "", []byte(form.Encode()), queryError)
	return err
}

// queryError reads an error answer of SNS's query protocol.
func queryError(resp *http.Response, data []byte) error {
	code := xmlText(data, "Code")
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	return &APIError{Service: "sns", Code: code, Message: xmlText(data, "Message"), Status: resp.StatusCode}
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
