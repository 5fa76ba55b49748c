package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signedHeaders are what a signature adds to a request.
var signedHeaders = []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"}

// TestSignLikeTheSDK: for the requests these clients make, sign adds the
// very headers the SDK's own signer adds, byte for byte.
func TestSignLikeTheSDK(t *testing.T) {
	key := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	withToken := key
	withToken.SessionToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQ+token/with=odd+chars"
	jsonBody := `{"Name":"/autoscalebot/key","WithDecryption":true}`
	formBody := "Action=Publish&Message=%7B%22default%22%3A%22hi%22%7D&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3At&Version=2010-03-31"
	at := time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name            string
		url             string
		contentType     string
		target          string
		body            string
		creds           Credentials
		service, region string
		at              time.Time
		extra           map[string]string // headers set before signing
	}{
		{name: "JSON with a target", url: "https://ssm.eu-west-1.amazonaws.com/", contentType: "application/x-amz-json-1.1",
			target: "AmazonSSM.GetParameter", body: jsonBody, creds: key, service: "ssm", region: "eu-west-1", at: at},
		{name: "JSON with a session token", url: "https://dynamodb.us-east-1.amazonaws.com/", contentType: "application/x-amz-json-1.0",
			target: "DynamoDB_20120810.GetItem", body: `{"TableName":"t","Key":{"pk":{"S":"app#web"}},"ConsistentRead":true}`,
			creds: withToken, service: "dynamodb", region: "us-east-1", at: at.Add(-36 * time.Hour)},
		{name: "form without a target", url: "https://sns.eu-west-1.amazonaws.com/", contentType: "application/x-www-form-urlencoded",
			body: formBody, creds: withToken, service: "sns", region: "eu-west-1", at: at},
		{name: "a host with a port", url: "http://127.0.0.1:5000/", contentType: "application/x-amz-json-1.0",
			target: "AmazonSQS.SendMessageBatch", body: `{"QueueUrl":"q","Entries":[]}`, creds: key, service: "sqs", region: "ap-southeast-2",
			at: time.Date(2027, 2, 28, 0, 0, 0, 0, time.FixedZone("UTC+10", 10*3600))},
		{name: "the default port", url: "https://sqs.cn-north-1.amazonaws.com.cn:443/", contentType: "application/x-amz-json-1.0",
			target: "AmazonSQS.SendMessageBatch", body: `{}`, creds: withToken, service: "sqs", region: "cn-north-1", at: at},
		{name: "an empty body", url: "http://localhost:4566/", contentType: "application/x-amz-json-1.1",
			target: "AmazonSSM.DescribeParameters", creds: key, service: "ssm", region: "us-west-2", at: at},
		{name: "headers the SDK ignores, and spaces", url: "https://dynamodb.eu-central-1.amazonaws.com/", contentType: "application/x-amz-json-1.0",
			target: "DynamoDB_20120810.Query", body: jsonBody, creds: key, service: "dynamodb", region: "eu-central-1", at: at,
			extra: map[string]string{"User-Agent": "autoscalebot", "X-Amzn-Trace-Id": "Root=1-abc", "Expect": "100-continue",
				"X-Custom": "  two  spaces   inside  "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newRequest := func() *http.Request {
				req, err := http.NewRequest(http.MethodPost, tt.url, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", tt.contentType)
				if tt.target != "" {
					req.Header.Set("X-Amz-Target", tt.target)
				}
				for k, v := range tt.extra {
					req.Header.Set(k, v)
				}
				return req
			}
			sum := sha256.Sum256([]byte(tt.body))
			hash := hex.EncodeToString(sum[:])
			want, got := newRequest(), newRequest()
			sdkCreds := aws.Credentials{AccessKeyID: tt.creds.AccessKeyID, SecretAccessKey: tt.creds.SecretAccessKey, SessionToken: tt.creds.SessionToken}
			if err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds, want, hash, tt.service, tt.region, tt.at); err != nil {
				t.Fatal(err)
			}
			sign(got, hash, tt.creds, tt.service, tt.region, tt.at)
			for _, h := range signedHeaders {
				if got.Header.Get(h) != want.Header.Get(h) {
					t.Errorf("%s:\n got %q\nwant %q", h, got.Header.Get(h), want.Header.Get(h))
				}
			}
			if got.Host != want.Host {
				t.Errorf("Host %q, want %q", got.Host, want.Host)
			}
			if want.Header.Get("Authorization") == "" {
				t.Error("the SDK signed nothing")
			}
		})
	}
}

// TestSentRequestVerifies: what a client puts on the wire verifies as AWS
// checks it: every x-amz-* header sent is signed, and the SDK's signer,
// given the headers the request says it signed and the body as received,
// at the request's own X-Amz-Date, comes to the same signature. Moto does
// not check signatures; this test does.
func TestSentRequestVerifies(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		form    bool // SNS's query protocol rather than a JSON call
		service Service
	}{
		{"JSON call", "", false, Service{Name: "ssm", SDKID: "SSM", TargetPrefix: "AmazonSSM", JSONVersion: "1.1"}},
		{"JSON call with a session token", "session/token+=", false, Service{Name: "dynamodb", SDKID: "DynamoDB", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0"}},
		{"form post with a session token", "session/token+=", true, Service{Name: "sns", SDKID: "SNS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret/key", SessionToken: tt.token}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if err := verify(r, body, creds); err != "" {
					t.Error(err)
					w.WriteHeader(http.StatusForbidden)
					return
				}
				_, _ = io.WriteString(w, `{}`)
			}))
			defer srv.Close()
			c := New(Config{Region: "eu-west-3", BaseEndpoint: srv.URL, Credentials: StaticCredentials(creds)}, tt.service)
			var err error
			if tt.form {
				_, err = c.Send(context.Background(), "application/x-www-form-urlencoded", "", []byte("Action=Publish&Message=hi"), c.apiError)
			} else {
				err = c.Call(context.Background(), "GetParameter", map[string]string{"Name": "/k"}, &struct{}{})
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// verify signs a copy of the received request, holding only the headers
// its Authorization lists, with the SDK, and compares; "" when they agree.
func verify(r *http.Request, body []byte, creds Credentials) string {
	auth := r.Header.Get("Authorization")
	_, list, _ := strings.Cut(auth, "SignedHeaders=")
	list, _, _ = strings.Cut(list, ",")
	_, scope, _ := strings.Cut(auth, "Credential=")
	parts := strings.Split(scope, "/") // KEY/DATE/REGION/SERVICE/aws4_request,...
	if len(parts) < 5 {
		return "no credential scope in " + auth
	}
	at, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "X-Amz-Date: " + err.Error()
	}
	check, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for name := range strings.SplitSeq(list, ";") {
		switch name {
		case "host", "content-length":
		default:
			check.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	// AWS asks host and every x-amz-* header sent to be signed; these
	// clients sign the length and type of their bodies too.
	for name := range r.Header {
		if lk := strings.ToLower(name); strings.HasPrefix(lk, "x-amz-") && !strings.Contains(";"+list+";", ";"+lk+";") {
			return name + " sent but not signed: " + list
		}
	}
	for _, name := range []string{"host", "content-length", "content-type"} {
		if !strings.Contains(";"+list+";", ";"+name+";") {
			return name + " not signed: " + list
		}
	}
	sum := sha256.Sum256(body)
	sdkCreds := aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds, check, hex.EncodeToString(sum[:]), parts[3], parts[2], at); err != nil {
		return err.Error()
	}
	if got := check.Header.Get("Authorization"); got != auth {
		return "signature sent\n" + auth + "\ndoes not verify:\n" + got
	}
	return ""
}
