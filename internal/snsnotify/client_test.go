package snsnotify_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
	"github.com/autoscalebot/autoscalebot/internal/snsnotify"
)

// TestClientPublish: the one request is SNS's Publish in the query protocol,
// signed for sns in the region, with the attributes as String message
// attributes; busy answers are tried again (boundedly), refusals are not and
// come back with SNS's code; the service's own endpoint wins over the
// general one.
func TestClientPublish(t *testing.T) {
	const notFound = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>` +
		`<Code>NotFound</Code><Message>Topic does not exist &amp; never did</Message></Error><RequestId>r</RequestId></ErrorResponse>`
	tests := []struct {
		name     string
		statuses []int // answers in turn; the last repeats
		body     string
		wantCode string
		wantMsg  string
		calls    int64
	}{
		{"published", []int{200}, `<PublishResponse><PublishResult><MessageId>m</MessageId></PublishResult></PublishResponse>`, "", "", 1},
		{"busy, then published", []int{500, 200}, `<PublishResponse/>`, "", "", 2},
		{"always busy: bounded", []int{503}, `<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>down</Message></Error></ErrorResponse>`, "ServiceUnavailable", "down", 3},
		{"not found: not retried", []int{404}, notFound, "NotFound", "Topic does not exist & never did", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				form, _ := url.ParseQuery(string(body))
				want := url.Values{
					"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {"arn:aws:sns:eu-west-1:123456789012:t"},
					"Subject": {"hi"}, "MessageStructure": {"json"}, "Message": {`{"default":"x"}`},
					"MessageAttributes.entry.1.Name": {"app"}, "MessageAttributes.entry.1.Value.DataType": {"String"},
					"MessageAttributes.entry.1.Value.StringValue": {"myapp"},
					"MessageAttributes.entry.2.Name":              {"event"}, "MessageAttributes.entry.2.Value.DataType": {"String"},
					"MessageAttributes.entry.2.Value.StringValue": {"scaled"},
				}
				if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "/eu-west-1/sns/aws4_request") || form.Encode() != want.Encode() {
					t.Errorf("request auth %q form %s", auth, form.Encode())
				}
				status := tt.statuses[min(int(n)-1, len(tt.statuses)-1)]
				w.WriteHeader(status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			cfg := awsjson.Config{Region: "eu-west-1", BaseEndpoint: "http://127.0.0.1:1",
				ServiceEndpoint: func(id string) string { return map[string]string{"SNS": srv.URL}[id] },
				Credentials:     awsjson.StaticCredentials(awsjson.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"})}
			err := snsnotify.NewClient(cfg).Publish(context.Background(), &snsnotify.PublishInput{
				TopicARN: "arn:aws:sns:eu-west-1:123456789012:t", Subject: "hi", MessageStructure: "json",
				Message: `{"default":"x"}`, Attributes: map[string]string{"event": "scaled", "app": "myapp"},
			})
			var apiErr *snsnotify.APIError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Errorf("Publish: %v", err)
			case tt.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode || apiErr.Message != tt.wantMsg):
				t.Errorf("Publish error %#v, want code %s message %q", err, tt.wantCode, tt.wantMsg)
			}
			if calls.Load() != tt.calls {
				t.Errorf("%d requests, want %d", calls.Load(), tt.calls)
			}
		})
	}
}
