package lambdafn_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

// iamAction maps the operations whose IAM action has another name.
var iamAction = map[string]string{"sqs:SendMessageBatch": "sqs:SendMessage"}

// mappingSid is the role statement of the tick queue's event source
// mapping, which Lambda's pollers use, not the function's code.
const mappingSid = "TickQueueMappingPolls"

// callRecorder notes the IAM action of every AWS request sent through it, as
// it goes over the wire: the service from the signature's credential scope,
// the operation from the JSON protocols' X-Amz-Target or the query
// protocol's Action. Whatever makes the call (an SDK client or one of the
// function's own small SSM, SQS and SNS clients) is seen. It also notes the
// name of every SSM parameter read.
type callRecorder struct {
	next       aws.HTTPClient
	mu         sync.Mutex
	calls      map[string]int // by action
	bytes      map[string]int64
	parameters []string // SSM GetParameter's Name, in order
}

func newCallRecorder(next aws.HTTPClient) *callRecorder {
	return &callRecorder{next: next, calls: map[string]int{}, bytes: map[string]int64{}}
}

func (r *callRecorder) Do(req *http.Request) (*http.Response, error) {
	auth := req.Header.Get("Authorization")
	scope := strings.Split(auth[strings.Index(auth, "Credential=")+len("Credential="):], "/") // KEY/DATE/REGION/SERVICE/aws4_request
	service := ""
	if len(scope) >= 4 {
		service = scope[3]
	}
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	if op == "" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		op = form.Get("Action")
	}
	action := service + ":" + op
	if alias, ok := iamAction[action]; ok {
		action = alias
	}
	var param struct{ Name string }
	if action == "ssm:GetParameter" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		_ = json.Unmarshal(body, &param)
	}
	r.mu.Lock()
	r.calls[action]++
	r.bytes[action] += max(req.ContentLength, 0)
	if param.Name != "" {
		r.parameters = append(r.parameters, param.Name)
	}
	r.mu.Unlock()
	return r.next.Do(req)
}

func (r *callRecorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.calls {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// TestFunctionUsesExactlyItsPermissions runs the handler through the
// paths that touch AWS (key from SSM, the minute's slots sent to the tick
// queue, a slot delivered from it, a scale that is committed, recorded and
// announced) and compares the AWS actions it really called with those
// the template grants its role: nothing used may be missing from the role,
// and nothing granted may go unused.
func TestFunctionUsesExactlyItsPermissions(t *testing.T) {
	const key, app = "HRKU-permissions-test-key", "perm-app"
	f := newFixture(t, key, app, 120*time.Millisecond) // too slow: every beat is a fail
	ctx, base, heroku := f.ctx, f.cfg, f.heroku
	topic := awstest.CreateTopic(ctx, t, base)
	queue, err := sqs.NewFromConfig(base).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(t, "ticks"))})
	if err != nil {
		t.Fatal(err)
	}
	f.putKey(t, key)

	s, err := settings.LoadLambda(getenv(map[string]string{
		settings.EnvHeartbeatInterval:  "30",
		settings.EnvTickQueueURL:       aws.ToString(queue.QueueUrl),
		settings.EnvAppName:            app,
		settings.EnvAPIKeyParameter:    f.param,
		settings.EnvAPIURL:             heroku.URL,
		settings.EnvHeartbeatURL:       f.beat.URL,
		settings.EnvMaxResponseTime:    "60",
		settings.EnvMinResponseTime:    "5",
		settings.EnvFailsToScaleUp:     "2",
		settings.EnvNotifyOnEveryScale: "true",
		settings.EnvTableName:          f.table,
		settings.EnvTopicARN:           topic,
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg
	rec := newCallRecorder(http.DefaultClient)
	if cfg.HTTPClient != nil {
		rec.next = cfg.HTTPClient
	}
	cfg.HTTPClient = rec
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: cfg, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: io.Discard})
	if _, err := h.Handle(ctx, events.EventBridgeEvent{ID: "scheduled", Time: time.Now()}); err != nil {
		t.Fatalf("scheduled invocation: %v", err)
	}
	slot, _ := json.Marshal(lambdafn.Slot{Formations: []lambdafn.SlotFormation{{App: app, ProcessType: "web"}}, Slot: 1, Due: time.Now(), Event: "scheduled"})
	resp, err := h.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(slot), EventSource: "aws:sqs"}}})
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("slot invocation: %v %+v", err, resp)
	}
	if heroku.Quantity(app, "web") != 2 {
		t.Fatal("the run did not scale, so it did not walk every path")
	}

	granted := grantedActions(t)
	used := rec.actions()
	if !slices.Equal(used, granted) {
		t.Errorf("AWS actions used %v, granted by template.yaml %v: they must match", used, granted)
	}
}

// grantedActions lists the DynamoDB, SNS, SSM and SQS actions the
// template's function role allows, conditional statements included (logs,
// the optional KMS grant and the event source mapping's polling are
// Lambda's and SSM's own business).
func grantedActions(t *testing.T) []string {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templatetest.Load(root + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	role, err := tmpl.Resource("AutoscalerFunctionRole")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range role.Properties["Policies"].([]any) {
		doc := p.(map[string]any)["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			stmt, ok := st.(map[string]any)
			if !ok {
				continue
			}
			if branches, ok := stmt["Fn::If"].([]any); ok && len(branches) == 3 {
				stmt, _ = branches[1].(map[string]any) // the statement when its condition holds
			}
			if stmt["Sid"] == mappingSid {
				continue
			}
			var actions []any
			switch a := stmt["Action"].(type) {
			case string:
				actions = []any{a}
			case []any:
				actions = a
			}
			for _, a := range actions {
				name := a.(string)
				if prefix, _, _ := strings.Cut(name, ":"); prefix == "dynamodb" || prefix == "sns" || prefix == "ssm" || prefix == "sqs" {
					out = append(out, name)
				}
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out) // an action may be granted twice (the key's parameter, the heartbeat token's)
}
