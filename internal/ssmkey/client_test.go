package ssmkey_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
	"github.com/autoscalebot/autoscalebot/internal/ssmkey"
)

// TestClientCall: the one request is SSM's GetParameter, signed for ssm in
// the region, with decryption; busy answers are tried again (boundedly),
// refusals are not; the service's own endpoint wins over the general one.
func TestClientCall(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int // answers in turn; the last repeats
		body     string
		want     string
		wantCode string
		calls    int64
	}{
		{"value", []int{200}, `{"Parameter":{"Name":"/k","Value":"HRKU-x"}}`, "HRKU-x", "", 1},
		{"busy, then the value", []int{500, 200}, `{"Parameter":{"Value":"HRKU-x"}}`, "HRKU-x", "", 2},
		{"always busy: bounded", []int{503}, `{"__type":"InternalServerError","message":"down"}`, "", "InternalServerError", 3},
		{"not found: not retried", []int{400}, `{"__type":"com.amazonaws.ssm#ParameterNotFound","message":""}`, "", "ParameterNotFound", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				auth := r.Header.Get("Authorization")
				if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || !strings.Contains(auth, "/eu-west-1/ssm/aws4_request") ||
					string(body) != `{"Name":"/k","WithDecryption":true}` {
					t.Errorf("request %s %q auth %q body %s", r.Method, r.Header.Get("X-Amz-Target"), auth, body)
				}
				status := tt.statuses[min(int(n)-1, len(tt.statuses)-1)]
				w.WriteHeader(status)
				if status == 200 || n >= int64(len(tt.statuses)) {
					_, _ = io.WriteString(w, tt.body)
				}
			}))
			defer srv.Close()
			cfg := awsjson.Config{Region: "eu-west-1", BaseEndpoint: "http://127.0.0.1:1",
				ServiceEndpoint: func(id string) string { return map[string]string{"SSM": srv.URL}[id] },
				Credentials:     awsjson.StaticCredentials(awsjson.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"})}
			got, err := ssmkey.NewClient(cfg).GetParameter(context.Background(), "/k")
			var apiErr *ssmkey.APIError
			switch {
			case tt.wantCode == "" && (err != nil || got != tt.want):
				t.Errorf("GetParameter = %q, %v; want %q", got, err, tt.want)
			case tt.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode):
				t.Errorf("GetParameter error %v, want code %s", err, tt.wantCode)
			}
			if calls.Load() != tt.calls {
				t.Errorf("%d requests, want %d", calls.Load(), tt.calls)
			}
		})
	}
}
