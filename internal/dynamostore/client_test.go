package dynamostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// An answer of the fake DynamoDB below: a status and a JSON body.
type answer struct {
	status int
	body   string
}

// request is what the fake was sent: the operation and the JSON body.
type request struct {
	op   string
	body map[string]any
}

// fakeDynamoDB answers the store's nth call (from 1) with respond, checking
// that each is DynamoDB's JSON 1.0 protocol signed for dynamodb, and
// records the requests. For the answers moto does not give: throttling,
// unprocessed items, pages cut short.
func fakeDynamoDB(t *testing.T, respond func(n int, req request) answer) (*dynamostore.Store, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		if !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.0" ||
			!strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/dynamodb/aws4_request") {
			t.Errorf("request %q %q %q", r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
		}
		var req request
		req.op = op
		if err := json.Unmarshal(body, &req.body); err != nil {
			t.Errorf("%s body %s: %v", op, body, err)
		}
		mu.Lock()
		got = append(got, req)
		n := len(got)
		mu.Unlock()
		a := respond(n, req)
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return dynamostore.New(dynamostore.NewClient(testConfig(srv.URL)), "tbl", historyTTL), func() []request {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// testConfig is a configuration for eu-west-1 with test credentials.
func testConfig(endpoint string) awsjson.Config {
	return awsjson.Config{Region: "eu-west-1", BaseEndpoint: endpoint,
		Credentials: awsjson.StaticCredentials(awsjson.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"})}
}

// inTurn answers with answers in turn, the last repeating.
func inTurn(answers ...answer) func(int, request) answer {
	return func(n int, _ request) answer { return answers[min(n, len(answers))-1] }
}

func errorAnswer(status int, code, message string) answer {
	return answer{status, fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, message)}
}

// TestSaveErrors: how DynamoDB's refusals of a save come back to the tick.
func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name         string
		answers      []answer
		wantConflict bool
		wantCode     string
		wantErr      string
		wantRequests int
	}{
		{name: "condition failed is a conflict", answers: []answer{errorAnswer(400, "ConditionalCheckFailedException", "The conditional request failed")},
			wantConflict: true, wantErr: "save state myapp/web at version 3: state changed since it was loaded", wantRequests: 1},
		{name: "validation error, wrapped and not retried", answers: []answer{errorAnswer(400, "ValidationException", "One or more parameter values were invalid: An AttributeValue may not contain an empty string")},
			wantCode: "ValidationException", wantErr: "save state myapp/web: dynamodb: ValidationException (HTTP 400): One or more parameter values were invalid: An AttributeValue may not contain an empty string",
			wantRequests: 1},
		{name: "missing table", answers: []answer{errorAnswer(400, "ResourceNotFoundException", "Requested resource not found")},
			wantCode: "ResourceNotFoundException", wantErr: "save state myapp/web: dynamodb: ResourceNotFoundException (HTTP 400): Requested resource not found", wantRequests: 1},
		{name: "throttled, then saved", answers: []answer{errorAnswer(400, "ProvisionedThroughputExceededException", "slow down"), {200, `{}`}},
			wantRequests: 2},
		{name: "failing throughout, boundedly", answers: []answer{errorAnswer(500, "InternalServerError", "oops")},
			wantCode: "InternalServerError", wantErr: "save state myapp/web: dynamodb: InternalServerError (HTTP 500): oops", wantRequests: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, requests := fakeDynamoDB(t, inTurn(tt.answers...))
			saved, err := store.Save(context.Background(), web, state.State{Version: 3, Quantity: 2})
			if errors.Is(err, state.ErrConflict) != tt.wantConflict {
				t.Errorf("Save error = %v, want a conflict: %v", err, tt.wantConflict)
			}
			var apiErr *dynamostore.APIError
			if tt.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode) {
				t.Errorf("Save error = %v, want an APIError %s", err, tt.wantCode)
			}
			switch {
			case tt.wantErr == "" && (err != nil || saved.Version != 4):
				t.Errorf("Save = version %d, %v; want version 4", saved.Version, err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("Save error = %v, want %q", err, tt.wantErr)
			}
			reqs := requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			want := map[string]any{
				"TableName":                 "tbl",
				"ConditionExpression":       "#v = :v",
				"ExpressionAttributeNames":  map[string]any{"#v": "version"},
				"ExpressionAttributeValues": map[string]any{":v": map[string]any{"N": "3"}},
			}
			for k, v := range want {
				if !reflect.DeepEqual(reqs[0].body[k], v) {
					t.Errorf("PutItem %s = %v, want %v", k, reqs[0].body[k], v)
				}
			}
		})
	}
}

// TestAppendUnprocessed: writes DynamoDB leaves unprocessed are sent again,
// those alone, a bounded number of times, and then reported.
func TestAppendUnprocessed(t *testing.T) {
	tests := []struct {
		name         string
		leftTimes    int // answers that leave the last write unprocessed
		wantErr      string
		wantRequests int
	}{
		{name: "all processed", leftTimes: 0, wantRequests: 1},
		{name: "resent once", leftTimes: 1, wantRequests: 2},
		{name: "resent twice", leftTimes: 2, wantRequests: 3},
		{name: "still unprocessed", leftTimes: 3, wantErr: "append history myapp/web: 1 of 2 items unprocessed after 3 attempts", wantRequests: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, requests := fakeDynamoDB(t, func(n int, req request) answer {
				if n > tt.leftTimes {
					return answer{200, `{"UnprocessedItems":{}}`}
				}
				writes := writesOf(req)
				return answer{200, mustJSON(t, map[string]any{"UnprocessedItems": map[string]any{"tbl": writes[len(writes)-1:]}})}
			})
			err := store.Append(context.Background(), web, record(web, at(1, 0), state.KindDecision, 2), record(web, at(2, 0), state.KindScale, 3))
			if (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr)) {
				t.Errorf("Append error = %v, want %q", err, tt.wantErr)
			}
			reqs := requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			first := writesOf(reqs[0])
			if len(first) != 2 {
				t.Fatalf("first batch has %d writes, want 2", len(first))
			}
			for i, req := range reqs[1:] {
				if got := writesOf(req); !reflect.DeepEqual(got, first[1:]) {
					t.Errorf("resend %d = %v, want the unprocessed write only", i+1, got)
				}
			}
		})
	}
}

// writesOf is a BatchWriteItem request's writes to table tbl.
func writesOf(req request) []any {
	items, _ := req.body["RequestItems"].(map[string]any)
	writes, _ := items["tbl"].([]any)
	return writes
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPaging: History and Keys read on from LastEvaluatedKey until there is
// none (or History has its limit), asking each page for what is still wanted.
func TestPaging(t *testing.T) {
	recItem := func(sec int) string {
		item, err := dynamostore.MarshalItem(record(web, at(sec, 0), state.KindDecision, 2))
		if err != nil {
			t.Fatal(err)
		}
		return mustJSON(t, item)
	}
	lastKey := `{"pk":{"S":"myapp#web"},"sk":{"S":"rec#x"}}`

	t.Run("history", func(t *testing.T) {
		store, requests := fakeDynamoDB(t, inTurn(
			answer{200, `{"Items":[` + recItem(9) + `,` + recItem(8) + `],"LastEvaluatedKey":` + lastKey + `}`},
			answer{200, `{"Items":[` + recItem(7) + `],"LastEvaluatedKey":` + lastKey + `}`},
			answer{200, `{"Items":[` + recItem(6) + `]}`},
		))
		recs, err := store.History(context.Background(), web, time.Time{}, 10)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		if len(recs) != 4 || recs[0].At != at(9, 0) || recs[3].At != at(6, 0) {
			t.Errorf("History =\n%s\nwant the four records of the three pages", summary(recs))
		}
		reqs := requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		for i, want := range []struct {
			limit    float64
			startKey bool
		}{{10, false}, {8, true}, {7, true}} {
			body := reqs[i].body
			if reqs[i].op != "Query" || body["Limit"] != want.limit || body["ScanIndexForward"] != false || body["ConsistentRead"] != true {
				t.Errorf("request %d = %s %v, want a consistent Query newest first for %v", i, reqs[i].op, body, want.limit)
			}
			if _, ok := body["ExclusiveStartKey"]; ok != want.startKey ||
				(ok && !sameJSON(t, mustJSON(t, body["ExclusiveStartKey"]), lastKey)) {
				t.Errorf("request %d ExclusiveStartKey = %v, want it: %v", i, body["ExclusiveStartKey"], want.startKey)
			}
		}
	})

	t.Run("history stops at its limit", func(t *testing.T) {
		store, requests := fakeDynamoDB(t, inTurn(answer{200, `{"Items":[` + recItem(9) + `,` + recItem(8) + `],"LastEvaluatedKey":` + lastKey + `}`}))
		recs, err := store.History(context.Background(), web, time.Time{}, 2)
		if err != nil || len(recs) != 2 {
			t.Fatalf("History = %d records, %v; want 2", len(recs), err)
		}
		if n := len(requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})

	t.Run("keys", func(t *testing.T) {
		store, requests := fakeDynamoDB(t, inTurn(
			answer{200, `{"Items":[{"app":{"S":"b"},"processType":{"S":"web"}}],"LastEvaluatedKey":` + lastKey + `}`},
			answer{200, `{"Items":[],"LastEvaluatedKey":` + lastKey + `}`},
			answer{200, `{"Items":[{"app":{"S":"a"},"processType":{"S":"worker"}},{"app":{"S":"a"},"processType":{"S":"web"}}]}`},
		))
		keys, err := store.Keys(context.Background())
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		want := []state.Key{{App: "a", ProcessType: "web"}, {App: "a", ProcessType: "worker"}, {App: "b", ProcessType: "web"}}
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("Keys = %v, want %v", keys, want)
		}
		reqs := requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		for i, req := range reqs {
			_, ok := req.body["ExclusiveStartKey"]
			if req.op != "Scan" || ok != (i > 0) {
				t.Errorf("request %d = %s %v", i, req.op, req.body)
			}
		}
	})
}

// TestEndpoint: AWS_ENDPOINT_URL_DYNAMODB wins over AWS_ENDPOINT_URL.
func TestEndpoint(t *testing.T) {
	hits := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.Header.Get("X-Amz-Target")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	cfg := testConfig("http://127.0.0.1:1")
	cfg.ServiceEndpoint = func(id string) string { return map[string]string{"DynamoDB": srv.URL}[id] }
	st, err := dynamostore.New(dynamostore.NewClient(cfg), "tbl", 0).Load(context.Background(), web)
	if err != nil || st.Version != 0 {
		t.Fatalf("Load = %+v, %v; want the zero state", st, err)
	}
	if got := <-hits; got != "DynamoDB_20120810.GetItem" {
		t.Errorf("target %q, want GetItem", got)
	}
}
