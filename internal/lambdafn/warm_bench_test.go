package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/tick"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// memoryAWS answers the function's AWS calls from memory, as the services
// would when nothing is stored yet: what is left of an invocation's time is
// the function's own work (encoding, signing, deciding, logging).
type memoryAWS struct{}

func (memoryAWS) Do(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	answer, contentType := "{}", "application/x-amz-json-1.0"
	switch {
	case strings.HasSuffix(target, ".BatchWriteItem"):
		answer = `{"UnprocessedItems":{}}`
	case strings.HasSuffix(target, ".SendMessageBatch"):
		answer = `{"Successful":[],"Failed":[]}`
	case strings.HasSuffix(target, ".GetParameter"):
		answer, contentType = `{"Parameter":{"Value":"HRKU-bench-key"}}`, "application/x-amz-json-1.1"
	case target == "":
		if form, _ := url.ParseQuery(string(body)); form.Get("Action") == "Publish" {
			answer, contentType = `<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>`, "text/xml"
		}
	}
	return respond(r, answer, contentType, nil), nil
}

// memoryHTTP is Heroku's formation list and an instant heartbeat.
type memoryHTTP struct{}

func (memoryHTTP) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/formation") {
		return respond(r, `[{"quantity":1,"size":"standard-1X","type":"web"}]`, "application/json",
			http.Header{"Ratelimit-Remaining": {"4000"}}), nil
	}
	if strings.Contains(r.URL.Path, "/formation/") {
		return respond(r, `{"quantity":1,"size":"standard-1X","type":"web"}`, "application/json",
			http.Header{"Ratelimit-Remaining": {"4000"}}), nil
	}
	return respond(r, "ok", "text/plain", nil), nil
}

func respond(r *http.Request, body, contentType string, h http.Header) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", contentType)
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// BenchmarkWarmInvocationOwnWork times one warm scheduled invocation at the
// default 30 s interval (the tick, its DynamoDB, SNS and Heroku calls, the
// heartbeat and the slot sent to the tick queue) with every answer given
// from memory: the function's own work, without waiting on a network. The
// target is under 2 ms.
func BenchmarkWarmInvocationOwnWork(b *testing.B) {
	s, err := settings.LoadLambda(func(k string) string {
		return map[string]string{
			settings.EnvAppName:         "bench-app",
			settings.EnvAPIKeyParameter: "/autoscalebot/heroku-api-key",
			settings.EnvHeartbeatURL:    "https://bench-app.example.com/heartbeat",
			settings.EnvTableName:       "table",
			settings.EnvTopicARN:        "arn:aws:sns:us-east-1:123456789012:topic",
			settings.EnvTickQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/ticks",
		}[k]
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg := aws.Config{Region: "us-east-1", HTTPClient: memoryAWS{},
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: cfg, Transport: memoryHTTP{},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: io.Discard})
	event, _ := json.Marshal(map[string]any{"id": "e", "source": "aws.events", "detail-type": "Scheduled Event",
		"time": time.Now().UTC().Format(time.RFC3339)})
	ctx := context.Background()
	out, err := h.Invoke(ctx, event) // the cold start: the key read
	if sum, ok := out.(tick.Summary); err != nil || !ok || sum.Verdict != probe.Pass || sum.Current != 1 {
		b.Fatalf("first invocation: %+v, %v; want a pass at one dyno", out, err)
	}
	for b.Loop() {
		if _, err := h.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "own-work-ms")
}
