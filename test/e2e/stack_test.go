package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/stacktest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

func TestMain(m *testing.M) {
	lambdatest.HandleReexec()
	awstest.Main(m)
}

const (
	functionID = "AutoscalerFunction" // the template's logical ids
	tableID    = "StateTable"
	process    = "web"
)

// stack is the local twin of one deployed stack: the stack itself, created
// from template.yaml by moto's CloudFormation (function configuration, table,
// topic), an SQS queue subscribed to the topic to read notices back, and the
// API key as an SSM SecureString; a fake Heroku
// Platform API that accepts only that key and checks every request against
// heroku-go's schema; and a heartbeat with switchable latency.
type stack struct {
	ctx       context.Context
	moto      *awstest.Moto
	cfg       aws.Config
	ddb       *dynamodb.Client
	ssm       *ssm.Client
	store     *dynamostore.Store
	app       string
	table     string
	topicARN  string
	queueURL  string
	keyParam  string
	apiKey    string
	oldKeys   []string // keys rotated out, kept out of every output too
	heroku    *herokusim.Server
	beat      *heartbeat
	bootstrap string
	params    map[string]string // template parameters the function is deployed with
	fn        stacktest.Function
	deployed  *stacktest.Stack

	mu        sync.Mutex
	emulators []*lambdatest.Emulator
	responses [][]byte
	messages  []string // SQS bodies read so far
}

// heartbeat answers after a settable delay and counts its requests.
type heartbeat struct {
	srv     *httptest.Server
	latency atomic.Int64 // nanoseconds
	hits    atomic.Int64
	gaveUp  atomic.Int64 // probes that hung up before the answer
}

func newHeartbeat(t testing.TB) *heartbeat {
	t.Helper()
	h := &heartbeat{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		select {
		case <-time.After(time.Duration(h.latency.Load())):
		case <-r.Context().Done():
			h.gaveUp.Add(1)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *heartbeat) set(d time.Duration) { h.latency.Store(int64(d)) }

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newStack creates the stand-ins. params are template parameters on top of
// the ones every test needs (app, key parameter, API and heartbeat URLs).
func newStack(t testing.TB, params map[string]string) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	moto := awstest.SharedMoto(t)
	cfg := moto.Config(t)
	s := &stack{
		ctx:       ctx,
		moto:      moto,
		cfg:       cfg,
		ddb:       dynamodb.NewFromConfig(cfg),
		ssm:       ssm.NewFromConfig(cfg),
		app:       "app-" + randomHex(t, 4),
		keyParam:  "/autoscalebot/" + randomHex(t, 4) + "/heroku-api-key",
		apiKey:    "HRKU-" + randomHex(t, 16),
		beat:      newHeartbeat(t),
		bootstrap: lambdatest.BuildBootstrap(t),
	}
	if _, err := s.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name:  aws.String(s.keyParam),
		Value: aws.String(s.apiKey),
		Type:  ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatalf("put API key parameter: %v", err)
	}

	s.heroku = herokusimtest.New(t, herokusim.WithToken(s.apiKey))
	s.heroku.SetFormation(s.app, process, 1, "standard-1X")

	s.params = map[string]string{
		"HerokuAppName":             s.app,
		"HerokuApiKeyParameterName": s.keyParam,
		"HerokuApiUrl":              s.heroku.URL,
		"HeartbeatUrl":              s.beat.srv.URL + "/heartbeat",
		// The end-to-end stories are the streaks': a slow beat, then another.
		"Policy": "original",
	}
	maps.Copy(s.params, params)

	// The stack itself, created by moto's CloudFormation from template.yaml:
	// the function's configuration, the table and the topic are its own.
	deployed := stacktest.Deploy(ctx, t, moto, stacktest.Template(t), s.params)
	s.fn, s.deployed = deployed.Function(ctx, t, functionID), deployed
	s.table, s.topicARN = deployed.Outputs["TableName"], deployed.Outputs["TopicArn"]
	s.store = dynamostore.New(dynamodb.NewFromConfig(cfg), s.table, 0)
	// moto's CloudFormation does not apply the table's TimeToLiveSpecification.
	enableTTL(ctx, t, s.ddb, s.table)
	// The notices are read back through an SQS queue, with the SNS envelope
	// kept for subject and attributes.
	s.queueURL = awstest.SubscribeQueue(ctx, t, cfg, s.topicARN, "")
	return s
}

func enableTTL(ctx context.Context, t testing.TB, ddb *dynamodb.Client, table string) {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := templatetest.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := tpl.TimeToLiveInput(tableID, table)
	if err != nil || in == nil {
		t.Fatalf("template TTL of %s = %v, %v", tableID, in, err)
	}
	if _, err := ddb.UpdateTimeToLive(ctx, in); err != nil {
		t.Fatalf("enable TTL on %s: %v", table, err)
	}
}

// env is the environment of the stack's function as moto's CloudFormation
// created it, with overrides applied last; the Lambda runtime settings the
// stack gives the function (timeout, memory; the log format, which moto does
// not keep, from the expanded template); and moto's endpoint and
// credentials. With params, the function is that of a second stack deployed
// with s.params plus params, pointed at this stack's table and topic, which
// the test reads.
func (s *stack) env(t testing.TB, params, overrides map[string]string) []string {
	t.Helper()
	tmpl := stacktest.Template(t)
	fn := s.fn
	if len(params) > 0 {
		all := maps.Clone(s.params)
		maps.Copy(all, params)
		fn = stacktest.Deploy(s.ctx, t, s.moto, tmpl, all).Function(s.ctx, t, functionID)
	}
	vars := maps.Clone(fn.Env)
	vars[settings.EnvTableName] = s.table
	vars[settings.EnvTopicARN] = s.topicARN
	maps.Copy(vars, overrides)

	format, _ := templatetest.Dig(tmpl, "Resources", functionID, "Properties", "LoggingConfig", "LogFormat").(string)
	if format == "" || fn.Timeout == 0 || fn.MemorySize == 0 {
		t.Fatalf("stack: function timeout %d, memory %d, log format %q", fn.Timeout, fn.MemorySize, format)
	}
	vars[lambdatest.EnvFunctionTimeout] = strconv.Itoa(fn.Timeout)
	vars[lambdatest.EnvFunctionMemory] = strconv.Itoa(fn.MemorySize)
	vars["AWS_LAMBDA_LOG_FORMAT"] = format

	env := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return append(env, s.moto.Env()...)
}

// start runs the bootstrap under the emulator; its output is kept for the
// secret check.
func (s *stack) start(t testing.TB, env []string, opts lambdatest.Options) *lambdatest.Emulator {
	t.Helper()
	e := lambdatest.StartWith(t, s.bootstrap, env, opts)
	s.mu.Lock()
	s.emulators = append(s.emulators, e)
	s.mu.Unlock()
	return e
}

// invoke sends ev and keeps the response for the secret check.
func (s *stack) invoke(t testing.TB, e *lambdatest.Emulator, ev any) []byte {
	t.Helper()
	raw := e.Invoke(t, ev)
	s.mu.Lock()
	s.responses = append(s.responses, raw)
	s.mu.Unlock()
	return raw
}

func (s *stack) key() state.Key { return state.Key{App: s.app, ProcessType: process} }

// stateItem returns the raw state item, as a generic map for comparisons.
func (s *stack) stateItem(t testing.TB) map[string]any {
	t.Helper()
	out, err := s.ddb.GetItem(s.ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: s.app + "#" + process},
			"sk": &ddbtypes.AttributeValueMemberS{Value: "state"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get state item: %v", err)
	}
	var item map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &item); err != nil {
		t.Fatalf("decode state item: %v", err)
	}
	return item
}

// untouched notes the heartbeat's probes, Heroku's requests and the state
// item now; the check it returns fails t if any of them has changed since.
func (s *stack) untouched(t testing.TB) (check func()) {
	t.Helper()
	hits, unchanged := s.beat.hits.Load(), s.unchanged(t)
	return func() {
		t.Helper()
		if got := s.beat.hits.Load(); got != hits {
			t.Errorf("heartbeat probed %d more times", got-hits)
		}
		unchanged()
	}
}

// unchanged is untouched without the heartbeat: no Heroku call and the
// same state item, whether or not the heartbeat was probed.
func (s *stack) unchanged(t testing.TB) (check func()) {
	t.Helper()
	calls, before := len(s.heroku.Requests()), s.stateItem(t)
	return func() {
		t.Helper()
		if got := len(s.heroku.Requests()); got != calls {
			t.Errorf("Heroku got %d more requests", got-calls)
		}
		if after := s.stateItem(t); !reflect.DeepEqual(after, before) {
			t.Errorf("state item changed:\nbefore %v\nafter  %v", before, after)
		}
	}
}

// loadState reads the state item through the store, as the function does.
func (s *stack) loadState(t testing.TB) state.State {
	t.Helper()
	st, err := s.store.Load(s.ctx, s.key())
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	return st
}

// receive reads notices until n have arrived or wait has passed; the bodies
// are kept for the secret check.
func (s *stack) receive(t testing.TB, n int, wait time.Duration) []awstest.Envelope {
	t.Helper()
	got := awstest.ReceiveEnvelopes(s.ctx, t, s.cfg, s.queueURL, wait, func(got []awstest.Envelope) bool { return len(got) >= n })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, env := range got {
		s.messages = append(s.messages, env.Body)
	}
	return got
}

// herokuCalls counts the fake's requests by method.
func (s *stack) herokuCalls(method string) int { return s.heroku.Count(method) }

// leaks returns where an API key, current or rotated out, appears among
// everything the function produced: emulator and bootstrap output,
// responses, notices and the table's items.
func (s *stack) leaks(t testing.TB) []string {
	t.Helper()
	scan, err := s.ddb.Scan(s.ctx, &dynamodb.ScanInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatalf("scan table: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []string
	for _, key := range append([]string{s.apiKey}, s.oldKeys...) {
		for i, e := range s.emulators {
			if strings.Contains(e.Output(), key) {
				found = append(found, fmt.Sprintf("output of emulator %d", i))
			}
		}
		for i, r := range s.responses {
			if strings.Contains(string(r), key) {
				found = append(found, fmt.Sprintf("response %d: %s", i, r))
			}
		}
		for i, m := range s.messages {
			if strings.Contains(m, key) {
				found = append(found, fmt.Sprintf("notice %d", i))
			}
		}
		for _, item := range scan.Items {
			var m map[string]any
			_ = attributevalue.UnmarshalMap(item, &m)
			if b, _ := json.Marshal(m); strings.Contains(string(b), key) {
				found = append(found, fmt.Sprintf("table item %v/%v", m["pk"], m["sk"]))
			}
		}
	}
	return found
}
