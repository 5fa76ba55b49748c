package awsjson_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

var sqs = awsjson.Service{Name: "sqs", SDKID: "SQS", TargetPrefix: "AmazonSQS", JSONVersion: "1.0"}

// TestCall: the request carries the operation, the protocol version and a
// signature for the service in the region; the answer is decoded; an error
// answer comes back as an *APIError with the service's code, from __type
// (with or without its namespace) or, failing that, X-Amzn-ErrorType.
func TestCall(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    string // X-Amzn-ErrorType
		body      string
		wantID    string
		wantCode  string
		wantError string
	}{
		{"answer", 200, "", `{"Failed":[{"Id":"slot1"}]}`, "slot1", "", ""},
		{"namespaced type", 400, "", `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no queue"}`, "", "QueueDoesNotExist",
			"sqs: QueueDoesNotExist (HTTP 400): no queue"},
		{"header only", 400, "AccessDeniedException:http://internal.amazon.com/", `{"Message":"denied"}`, "", "AccessDeniedException",
			"sqs: AccessDeniedException (HTTP 400): denied"},
		{"nothing but a status", 403, "", `not json`, "", "Forbidden", "sqs: Forbidden (HTTP 403): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch" ||
					r.Header.Get("Content-Type") != "application/x-amz-json-1.0" ||
					!strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/sqs/aws4_request") ||
					string(body) != `{"QueueUrl":"q"}` {
					t.Errorf("request %q %q %q %s", r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body)
				}
				if tt.header != "" {
					w.Header().Set("X-Amzn-ErrorType", tt.header)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			cfg := awsjson.Config{Region: "eu-west-1", BaseEndpoint: srv.URL,
				Credentials: awsjson.StaticCredentials(awsjson.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"})}
			var out struct{ Failed []struct{ Id string } }
			err := awsjson.New(cfg, sqs).Call(context.Background(), "SendMessageBatch", map[string]string{"QueueUrl": "q"}, &out)
			var apiErr *awsjson.APIError
			switch {
			case tt.wantCode == "" && (err != nil || len(out.Failed) != 1 || out.Failed[0].Id != tt.wantID):
				t.Errorf("Call = %+v, %v; want failed id %s", out, err, tt.wantID)
			case tt.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode || err.Error() != tt.wantError):
				t.Errorf("Call error %v, want %q", err, tt.wantError)
			}
		})
	}
}

// TestAnswerBound: an answer longer than the service's bound is an error
// (not a truncated answer), and asking again would not shorten it.
func TestAnswerBound(t *testing.T) {
	tests := []struct {
		name      string
		maxAnswer int64
		size      int
		wantErr   bool
	}{
		{name: "default bound, answer within", size: 1<<20 - 10},
		{name: "default bound, answer over", size: 1<<20 + 10, wantErr: true},
		{name: "service's bound, answer within", maxAnswer: 4 << 20, size: 3 << 20},
		{name: "service's bound, answer over", maxAnswer: 1 << 10, size: 2 << 10, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				_, _ = io.WriteString(w, `{"Value":"`+strings.Repeat("x", tt.size-len(`{"Value":""}`))+`"}`)
			}))
			defer srv.Close()
			cfg := awsjson.Config{Region: "eu-west-1", BaseEndpoint: srv.URL,
				Credentials: awsjson.StaticCredentials(awsjson.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"})}
			svc := sqs
			svc.MaxAnswer = tt.maxAnswer
			var out struct{ Value string }
			err := awsjson.New(cfg, svc).Call(context.Background(), "Get", struct{}{}, &out)
			switch {
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "answer over the limit")):
				t.Errorf("Call error = %v, want the answer over the limit", err)
			case !tt.wantErr && (err != nil || len(out.Value) != tt.size-len(`{"Value":""}`)):
				t.Errorf("Call = %d bytes, %v; want the whole answer", len(out.Value), err)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestEndpoint: a service's own endpoint beats the base endpoint, which
// beats the regional one (with China's partition suffix).
func TestEndpoint(t *testing.T) {
	own := func(id string) string { return map[string]string{"DynamoDB": "http://127.0.0.1:8000"}[id] }
	tests := []struct {
		name string
		cfg  awsjson.Config
		want string
	}{
		{"regional", awsjson.Config{Region: "eu-west-1"}, "https://sqs.eu-west-1.amazonaws.com"},
		{"China's partition", awsjson.Config{Region: "cn-northwest-1"}, "https://sqs.cn-northwest-1.amazonaws.com.cn"},
		{"base endpoint", awsjson.Config{Region: "eu-west-1", BaseEndpoint: "http://127.0.0.1:5000"}, "http://127.0.0.1:5000"},
		{"another service's own", awsjson.Config{Region: "eu-west-1", BaseEndpoint: "http://127.0.0.1:5000", ServiceEndpoint: own},
			"http://127.0.0.1:5000"},
		{"its own", awsjson.Config{Region: "eu-west-1", BaseEndpoint: "http://127.0.0.1:5000",
			ServiceEndpoint: func(id string) string { return map[string]string{"SQS": "http://127.0.0.1:9324"}[id] }},
			"http://127.0.0.1:9324"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := awsjson.Endpoint(tt.cfg, "sqs", "SQS"); got != tt.want {
				t.Errorf("Endpoint = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNoCredentials: a configuration without credentials fails the call
// with an error that says so, without sending anything or trying again.
func TestNoCredentials(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	start := time.Now()
	err := awsjson.New(awsjson.Config{Region: "eu-west-1", BaseEndpoint: srv.URL}, sqs).Call(context.Background(), "Get", struct{}{}, &struct{}{})
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("Call error = %v, want one about credentials", err)
	}
	if hits.Load() != 0 || time.Since(start) > 250*time.Millisecond {
		t.Errorf("%d requests in %s, want none and no retry", hits.Load(), time.Since(start))
	}
}
