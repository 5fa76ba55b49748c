package lambdafn_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile/settingsfiletest"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

// fleetRig is a fleet of formations from a settings file against moto and
// the fake Platform API: the file's text is given, the environment holds
// the stack's settings as the template sets them.
type fleetRig struct {
	*fixture
	env  map[string]string
	logs *safeBuilder
	emf  *safeBuilder
}

func newFleetRig(t *testing.T, key string, env map[string]string) *fleetRig {
	t.Helper()
	f := newFixture(t, key, "unused-app", 0)
	f.putKey(t, key)
	base := map[string]string{
		settings.EnvAPIKeyParameter: f.param,
		settings.EnvAPIURL:          f.heroku.URL,
		settings.EnvTableName:       f.table,
		settings.EnvSettingsFile:    "autoscalebot.yaml",
	}
	for k, v := range env {
		base[k] = v
	}
	return &fleetRig{fixture: f, env: base, logs: &safeBuilder{}, emf: &safeBuilder{}}
}

// handler loads file as the settings file and returns the fleet's handler.
func (r *fleetRig) handler(t *testing.T, file string) *lambdafn.Handler {
	t.Helper()
	fleet, err := settingsfile.LoadLambda(getenv(r.env), settingsfiletest.Reader(t, file))
	if err != nil {
		t.Fatalf("settings file: %v", err)
	}
	return lambdafn.New(lambdafn.Config{Formations: fleet, Fleet: true, FunctionName: "autoscalebot-fleet",
		AWS: r.cfg, Log: slog.New(slog.NewJSONHandler(r.logs, nil)), Metrics: r.emf})
}

func (r *fleetRig) state(t *testing.T, app, processType string) state.State {
	t.Helper()
	st, err := dynamostore.New(ddb(r.fixture), r.table, 0).Load(r.ctx, state.Key{App: app, ProcessType: processType})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// scaleOnASlowBeat is a settings file's top: a heartbeat slower than 200 ms
// scales up at once.
const scaleOnASlowBeat = `
POLICY: original
MAX_RESPONSE_TIME_IN_MS: 200
MIN_RESPONSE_TIME_IN_MS: 10
NUMBER_OF_FAILS_TO_SCALE_UP_AFTER: 1
`

// slowBeat is a heartbeat that answers in 300 ms: slow under scaleOnASlowBeat.
func slowBeat(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s
}

// TestFleetIsolation ticks three formations in one scheduled invocation:
// one app Heroku does not know, one heartbeat that hangs until its timeout
// and one that scales up. The scale is not held up by the hanging probe
// (it has landed when the probe gives up), the invocation fails naming only
// the unknown app, and its result lists all three.
func TestFleetIsolation(t *testing.T) {
	const key = "HRKU-fleet-isolation"
	r := newFleetRig(t, key, map[string]string{settings.EnvHeartbeatInterval: "60"})
	r.heroku.SetFormation("shop", "web", 1, "")
	r.heroku.SetFormation("blog", "web", 1, "")
	var scaledFirst atomic.Bool // shop had scaled when the hanging probe gave up
	slow := slowBeat(t)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
			scaledFirst.Store(r.heroku.Quantity("shop", "web") == 2)
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()
	file := fmt.Sprintf(scaleOnASlowBeat+`FORMATIONS:
  - HEROKU_APP_NAME: shop
    HEARTBEAT_URL: %s
  - HEROKU_APP_NAME: ghost
    HEARTBEAT_URL: %s
  - HEROKU_APP_NAME: blog
    HEARTBEAT_URL: %s
    HEARTBEAT_TIMEOUT_IN_MS: 2000
`, slow.URL, slow.URL, hang.URL)
	h := r.handler(t, file)

	res, err := h.Handle(r.ctx, events.EventBridgeEvent{ID: "ev-1", Time: time.Now()})

	var fe *lambdafn.FleetError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a FleetError", err, err)
	}
	if fe.Of != 3 || len(fe.Failed) != 1 || fe.Failed[0].Formation != "FORMATIONS[1] (ghost/web)" {
		t.Errorf("failed formations %+v of %d, want only FORMATIONS[1] (ghost/web) of 3", fe.Failed, fe.Of)
	}
	if !strings.Contains(err.Error(), "FORMATIONS[1] (ghost/web)") || strings.Contains(err.Error(), key) {
		t.Errorf("error %q: want it to name the unknown app's formation, and never the key", err)
	}
	byName := map[string]lambdafn.FormationResult{}
	for _, f := range res.Formations {
		byName[f.Formation] = f
	}
	if len(res.Formations) != 3 {
		t.Fatalf("result lists %d formations, want 3: %+v", len(res.Formations), res.Formations)
	}
	shop, blog, ghost := byName["FORMATIONS[0] (shop/web)"], byName["FORMATIONS[2] (blog/web)"], byName["FORMATIONS[1] (ghost/web)"]
	if !shop.Scaled || shop.Target != 2 || shop.Reason != decision.SlowStreak {
		t.Errorf("shop: %+v, want scaled 1 → 2 for SlowStreak", shop)
	}
	if blog.Verdict != probe.Fail || blog.Error != "" {
		t.Errorf("blog (hanging heartbeat): %+v, want a fail verdict (timeout) and no error", blog)
	}
	if ghost.Error == "" || !ghost.HerokuRefused {
		t.Errorf("ghost (unknown app): %+v, want Heroku's refusal as its error", ghost)
	}
	if got := r.heroku.Quantity("shop", "web"); got != 2 {
		t.Errorf("shop's quantity at Heroku = %d, want 2", got)
	}
	if !scaledFirst.Load() {
		t.Error("shop had not scaled when the hanging probe gave up: its tick waited for another formation's")
	}

	// The fleet's metrics: every line under the Fleet dimension, the failed
	// tick counted by FailedTicks, App and ProcessType on each line.
	failedTicks := map[string]float64{}
	for line := range strings.Lines(r.emf.String()) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		if doc[metrics.DimensionFleet] != "autoscalebot-fleet" {
			t.Errorf("metrics line without the Fleet dimension: %s", line)
		}
		failedTicks[doc[metrics.DimensionApp].(string)] = doc[metrics.FailedTicks].(float64)
	}
	if want := map[string]float64{"shop": 0, "ghost": 1, "blog": 0}; !sameCounts(failedTicks, want) {
		t.Errorf("FailedTicks by app %v, want %v", failedTicks, want)
	}
	if !strings.Contains(r.logs.String(), `"formation":"FORMATIONS[1] (ghost/web)"`) {
		t.Errorf("no log line names the failed formation:\n%s", r.logs.String())
	}
}

func sameCounts(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestFleetFanOut: a fleet larger than FanOutAbove is not ticked by the
// scheduled invocation. It sends the minute's first slot (due at once) and
// its later slots (delayed) to the tick queue in batches; delivering the
// first slot's messages ticks every formation, once even when delivered twice.
func TestFleetFanOut(t *testing.T) {
	const key = "HRKU-fleet-fan-out"
	r := newFleetRig(t, key, nil)
	sq := sqs.NewFromConfig(r.cfg)
	q, err := sq.CreateQueue(r.ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(t, "ticks"))})
	if err != nil {
		t.Fatal(err)
	}
	r.env[settings.EnvTickQueueURL] = aws.ToString(q.QueueUrl)
	r.env[settings.EnvHeartbeatInterval] = "30"
	var b strings.Builder
	b.WriteString("FAN_OUT_ABOVE: 5\nFORMATIONS:\n")
	// Six apps with a web and a worker formation each: two messages per
	// slot (ten formations to a message), each app's two in the same one.
	const apps, formations = 6, 12
	for i := range apps {
		app := fmt.Sprintf("fan-%02d", i)
		for _, typ := range []string{"web", "worker"} {
			r.heroku.SetFormation(app, typ, 1, "")
			fmt.Fprintf(&b, "  - {HEROKU_APP_NAME: %s, HEROKU_PROCESS_TYPE: %s, HEARTBEAT_URL: %q}\n", app, typ, r.beat.URL)
		}
	}
	h := r.handler(t, b.String())

	start := time.Now()
	res, err := h.Handle(r.ctx, events.EventBridgeEvent{ID: "ev-fan", Time: start})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Formations) != 0 || res.FannedOut != formations || res.Messages != 4 {
		t.Fatalf("scheduled invocation: ticked %d, fanned out %d, sent %d messages; want 0, %d, 4 (2 slots × 2 batches)",
			len(res.Formations), res.FannedOut, res.Messages, formations)
	}
	if n := r.heroku.Count(http.MethodGet); n != 0 {
		t.Errorf("the scheduled invocation made %d Heroku reads, want none", n)
	}

	// Slot 0 is visible at once: two messages of ten and two formations.
	var records []events.SQSMessage
	for len(records) < 2 && time.Since(start) < 10*time.Second {
		out, err := sq.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			records = append(records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), EventSource: "aws:sqs"})
		}
	}
	if len(records) != 2 {
		t.Fatalf("slot 0: %d messages visible, want 2", len(records))
	}
	attrs, err := sq.GetQueueAttributes(r.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["ApproximateNumberOfMessagesDelayed"]; got != "2" {
		t.Errorf("delayed messages (slot 1) = %s, want 2", got)
	}

	for round := range 2 { // the second delivery is a duplicate: processed once
		resp, err := h.HandleSQS(r.ctx, events.SQSEvent{Records: records})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d: failures %+v, err %v", round+1, resp.BatchItemFailures, err)
		}
	}
	for i := range apps {
		for _, typ := range []string{"web", "worker"} {
			app := fmt.Sprintf("fan-%02d", i)
			st := r.state(t, app, typ)
			if len(st.EventIDs) != 1 || !st.Handled("ev-fan") || st.LastDecision == nil {
				t.Errorf("%s/%s: event ids %v, decision %v; want one tick of ev-fan", app, typ, st.EventIDs, st.LastDecision)
			}
		}
	}
	// One formation list read per app (its web and worker share it), and
	// none for the duplicate delivery.
	if n := r.heroku.Count(http.MethodGet); n != apps {
		t.Errorf("%d Heroku reads for %d apps of two formations each, delivered twice; want %d", n, apps, apps)
	}
}
