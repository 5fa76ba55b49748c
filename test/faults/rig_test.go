package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/snsnotify"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// apiKey is the Heroku key every rig uses. The fake Platform API is made to
// echo it back in error bodies, so a leak anywhere would show.
const apiKey = "hrku-faults-3b9d1c7e-secret"

const (
	app         = "shiny-app"
	processType = "web"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// heartbeat is the app under watch: slow, fast or failing on demand.
type heartbeat struct {
	delay  atomic.Int64 // nanoseconds
	status atomic.Int32
	hits   atomic.Int32
}

func (h *heartbeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hits.Add(1)
	select {
	case <-time.After(time.Duration(h.delay.Load())):
	case <-r.Context().Done():
		return
	}
	if s := h.status.Load(); s != 0 {
		w.WriteHeader(int(s))
	}
	w.Write([]byte("ok"))
}

func (h *heartbeat) slow()                { h.delay.Store(int64(120 * time.Millisecond)) }
func (h *heartbeat) wait(d time.Duration) { h.delay.Store(int64(d)) }

// recorder keeps every notice and passes it on to the real notifier.
type recorder struct {
	mu      sync.Mutex
	next    tick.Notifier
	notices []notify.Notice
}

func (r *recorder) Notify(ctx context.Context, n notify.Notice) error {
	r.mu.Lock()
	r.notices = append(r.notices, n)
	r.mu.Unlock()
	return r.next.Notify(ctx, n)
}

func (r *recorder) events() []notify.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notify.Event
	for _, n := range r.notices {
		out = append(out, n.Event)
	}
	return out
}

// rig is one autoscaler wired as in Lambda, against the stand-ins.
type rig struct {
	t        testing.TB
	env      map[string]string
	heroku   *herokusim.Server
	beat     *heartbeat
	db       *dynamodb.Client
	table    string
	store    tick.Store
	client   *herokuapi.Client
	notifier *recorder
	logs     *bytes.Buffer
	ticker   *tick.Ticker
	now      time.Time
	seq      int
	outputs  []string // every summary and error, for the secret scan
}

func newRig(t testing.TB) *rig {
	t.Helper()
	moto := awstest.SharedMoto(t)
	cfg := moto.Config(t)
	r := &rig{
		t:      t,
		heroku: herokusimtest.New(t, herokusim.WithToken(apiKey)),
		beat:   &heartbeat{},
		db:     dynamodb.NewFromConfig(cfg),
		table:  awstest.UniqueName(t, "faults"),
		logs:   &bytes.Buffer{},
		now:    t0,
	}
	awstest.CreateTable(context.Background(), t, r.db, r.table)
	site := httptest.NewServer(r.beat)
	t.Cleanup(site.Close)
	r.heroku.SetFormation(app, processType, 1, "")

	topic, err := sns.NewFromConfig(cfg).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(awstest.UniqueName(t, "topic"))})
	if err != nil {
		t.Fatal(err)
	}
	r.env = map[string]string{
		"AUTOSCALE_HEROKU_APP_NAME":                      app,
		"AUTOSCALE_HEROKU_API_KEY":                       apiKey,
		"AUTOSCALE_HEROKU_API_URL":                       r.heroku.URL,
		"AUTOSCALE_HEARTBEAT_URL":                        site.URL + "/heartbeat",
		"AUTOSCALE_HEARTBEAT_TIMEOUT_IN_MS":              "2000",
		"AUTOSCALE_MAX_RESPONSE_TIME_IN_MS":              "60",
		"AUTOSCALE_MIN_RESPONSE_TIME_IN_MS":              "5",
		"AUTOSCALE_POLICY":                               "original", // the faults are told as the streaks' story
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER":    "2",
		"AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER": "2",
		"AUTOSCALE_MAX_DYNOS":                            "5",
		"AUTOSCALE_NOTIFY_ON_SCALE_FAILS":                "true",
		"AUTOSCALE_NOTIFY_ON_EVERY_SCALE":                "true",
		"AUTOSCALE_TABLE_NAME":                           r.table,
		"AUTOSCALE_TOPIC_ARN":                            aws.ToString(topic.TopicArn),
		// One tick per invocation: the tick queue has tests of its own.
		"AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS": "60",
	}
	r.rewire()
	t.Cleanup(func() { scanForKey(t, r) })
	return r
}

// rewire builds the ticker from r.env, like a cold start.
func (r *rig) rewire() {
	r.t.Helper()
	s, err := settings.LoadLambda(func(k string) string { return r.env[k] })
	if err != nil {
		r.t.Fatal(err)
	}
	cfg := awstest.SharedMoto(r.t).Config(r.t)
	r.client = herokuapi.New(s.APIURL, s.APIKey, herokuapi.WithTimeout(500*time.Millisecond))
	r.store = dynamostore.New(dynamodb.NewFromConfig(cfg), s.TableName, s.HistoryTTL)
	// SNS gets its own connections. In AWS every service has its own host,
	// so no connection is ever shared between them; against one moto they
	// would be, and a DynamoDB request on a connection an SNS publish had
	// used was seen answered by a stray "{}" (a history item lost without an
	// error, 1 in ~3,000 ticks).
	snsCfg := cfg
	snsCfg.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	r.notifier = &recorder{next: snsnotify.New(sns.NewFromConfig(snsCfg), s.TopicARN), notices: r.notices()}
	// As the Lambda handler wires it: a dry run reads through the real client.
	var formation tick.Formation = r.client
	if s.DryRun {
		formation = herokuapi.NewDryRun(r.client, 0)
	}
	r.ticker = &tick.Ticker{
		Settings:  s,
		Store:     r.store,
		Formation: formation,
		Prober:    probe.New(s.HeartbeatURL, s.HeartbeatTimeout, s.MinResponseTime, s.MaxResponseTime),
		Notifier:  r.notifier,
		Log:       slog.New(slog.NewJSONHandler(r.logs, nil)),
		Now:       func() time.Time { return r.now },
	}
}

func (r *rig) notices() []notify.Notice {
	if r.notifier == nil {
		return nil
	}
	return r.notifier.notices
}

// tick runs one scheduled invocation a minute after the last.
func (r *rig) tick() (tick.Summary, error) {
	r.t.Helper()
	r.seq++
	r.now = r.now.Add(time.Minute)
	return r.tickCtx(context.Background(), "event-"+strconv.Itoa(r.seq))
}

func (r *rig) tickCtx(ctx context.Context, eventID string) (tick.Summary, error) {
	r.t.Helper()
	sum, err := r.ticker.Tick(ctx, eventID)
	raw, _ := json.Marshal(sum)
	r.outputs = append(r.outputs, string(raw))
	if err != nil {
		r.outputs = append(r.outputs, err.Error())
	}
	return sum, err
}

func (r *rig) mustTick() tick.Summary {
	r.t.Helper()
	sum, err := r.tick()
	if err != nil {
		r.t.Fatalf("tick: %v", err)
	}
	return sum
}

func (r *rig) state() state.State {
	r.t.Helper()
	s, err := r.store.(*dynamostore.Store).Load(context.Background(), state.Key{App: app, ProcessType: processType})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) requests(method string) int { return r.heroku.Count(method) }

// scanForKey fails the test if the API key reached a log line, an error,
// a summary or a notice.
func scanForKey(t testing.TB, r *rig) {
	t.Helper()
	var all strings.Builder
	all.WriteString(r.logs.String())
	for _, o := range r.outputs {
		all.WriteString(o)
	}
	for _, n := range r.notices() {
		all.WriteString(n.Title + n.Text)
	}
	if strings.Contains(all.String(), apiKey) {
		t.Errorf("the Heroku API key leaked into logs, errors, summaries or notices:\n%s", all.String())
	}
}
