package lambdafn_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/heartbeat"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

// tokenBeat is a heartbeat that answers its job report only to a request
// bearing the token it accepts now (health only otherwise), and notes the
// token of every request.
type tokenBeat struct {
	srv      *httptest.Server
	mu       sync.Mutex
	accepted string
	seen     []string // the bearer token of each request, "" for none
}

func newTokenBeat(t *testing.T, accepted string) *tokenBeat {
	b := &tokenBeat{accepted: accepted}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		b.mu.Lock()
		b.seen = append(b.seen, got)
		ok := got != "" && got == b.accepted
		b.mu.Unlock()
		if ok {
			w.Header().Set(heartbeat.JobLatencyHeader, "default=0")
			w.Header().Set(heartbeat.JobDepthHeader, "default=0")
			w.Header().Set(heartbeat.JobBusyHeader, "default=1")
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *tokenBeat) accept(token string) { b.mu.Lock(); defer b.mu.Unlock(); b.accepted = token }

// since is the tokens sent from the n-th request on.
func (b *tokenBeat) since(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.seen[n:])
}

func (b *tokenBeat) count() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.seen) }

// TestWarmHandlerFollowsTokenRotation runs one handler (one warm execution
// environment) of a job_latency formation whose heartbeat token lives in
// moto's SSM through rotations of the token, with a heartbeat that answers
// its report only to the newest token, on a clock the test moves: the
// token is read once per cold start and once per secret.RefreshInterval, read
// again at once when the heartbeat withholds its report (once a tick), and
// never reaches a log line or a result.
func TestWarmHandlerFollowsTokenRotation(t *testing.T) {
	const key, app = "HRKU-token-test-key", "token-app"
	tokens := []string{"hb-token-a-5d1", "hb-token-b-77e", "hb-token-c-0fa"}
	f := newFixture(t, key, app, 0)
	f.putKey(t, key)
	f.heroku.SetFormation(app, "worker", 1, "")
	param := settings.FleetParameterPrefix + awstest.UniqueName(t, "hb-token")
	put := func(t *testing.T, value string) {
		t.Helper()
		if _, err := ssm.NewFromConfig(f.cfg).PutParameter(f.ctx, &ssm.PutParameterInput{Name: aws.String(param), Value: aws.String(value),
			Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, tokens[0])
	beat := newTokenBeat(t, tokens[0])
	s, err := f.settings(app, map[string]string{settings.EnvHeartbeatURL: beat.srv.URL, settings.EnvProcessType: "worker",
		settings.EnvSignal: "job_latency", settings.EnvHeartbeatTokenParameter: param})
	if err != nil {
		t.Fatal(err)
	}
	clock, advance := movingClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	rec := newCallRecorder(http.DefaultClient)
	cfg := f.cfg
	cfg.HTTPClient = rec
	var logs strings.Builder
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: cfg, Now: clock, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &logs})
	reads := func() int {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := 0
		for _, p := range rec.parameters {
			if p == param {
				n++
			}
		}
		return n
	}

	steps := []struct {
		name    string
		arrange func(t *testing.T)
		sent    []string      // the tokens the heartbeat got this tick
		verdict probe.Verdict // the tick's
		reads   int           // the token's SSM reads so far
	}{
		{"cold start with token a", func(*testing.T) {}, []string{tokens[0]}, probe.Pass, 1},
		{"b stored, a still accepted: not read before the interval", func(t *testing.T) {
			put(t, tokens[1])
			advance(time.Minute)
		}, []string{tokens[0]}, probe.Pass, 1},
		{"a refused: the report withheld, b read and sent at once", func(t *testing.T) {
			beat.accept(tokens[1])
			advance(time.Minute)
		}, []string{tokens[0], tokens[1]}, probe.Pass, 2},
		{"once the interval is over, read first: c sent without a refusal", func(t *testing.T) {
			put(t, tokens[2])
			beat.accept(tokens[2])
			advance(secret.RefreshInterval)
		}, []string{tokens[2]}, probe.Pass, 3},
		{"the heartbeat refuses c, c still stored: one read again, no second probe", func(t *testing.T) {
			beat.accept("another")
			advance(time.Minute)
		}, []string{tokens[2]}, probe.Error, 4},
		{"the parameter gone at the periodic read: the tick goes on with c", func(t *testing.T) {
			beat.accept(tokens[2])
			if _, err := ssm.NewFromConfig(f.cfg).DeleteParameter(f.ctx, &ssm.DeleteParameterInput{Name: aws.String(param)}); err != nil {
				t.Fatal(err)
			}
			advance(secret.RefreshInterval)
		}, []string{tokens[2]}, probe.Pass, 5},
	}
	var results []string
	for i, st := range steps {
		st.arrange(t)
		before := beat.count()
		res, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: fmt.Sprintf("ev-%d", i)})
		if err != nil || len(res.Formations) != 1 {
			t.Fatalf("%s: %+v, %v", st.name, res, err)
		}
		sum := res.Formations[0].Summary
		results = append(results, fmt.Sprintf("%+v", res))
		if got := beat.since(before); !slices.Equal(got, st.sent) || sum.Verdict != st.verdict || reads() != st.reads {
			t.Fatalf("%s: tokens sent %v, verdict %s (%s), %d reads; want %v, %s, %d reads",
				st.name, got, sum.Verdict, sum.ProbeDetail, reads(), st.sent, st.verdict, st.reads)
		}
	}
	if !strings.Contains(logs.String(), "heartbeat token not read again") || !strings.Contains(logs.String(), param) {
		t.Errorf("the failed read is not logged naming %s:\n%s", param, logs.String())
	}
	for _, tok := range tokens {
		if strings.Contains(logs.String(), tok) || strings.Contains(strings.Join(results, "\n"), tok) {
			t.Errorf("token %s is in the logs or a result", tok)
		}
	}
}

// TestMissingTokenParameter: a token parameter that cannot be read makes
// every tick a probe error naming it (one probe_error notice), which
// scales nothing, and no request reaches the heartbeat without it.
func TestMissingTokenParameter(t *testing.T) {
	const key, app = "HRKU-token-missing-key", "token-missing"
	f := newFixture(t, key, app, 0)
	f.putKey(t, key)
	beat := newTokenBeat(t, "whatever")
	missing := settings.FleetParameterPrefix + awstest.UniqueName(t, "absent-token")
	s, err := f.settings(app, map[string]string{settings.EnvHeartbeatURL: beat.srv.URL, settings.EnvHeartbeatTokenParameter: missing})
	if err != nil {
		t.Fatal(err)
	}
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: f.cfg, Log: slog.New(slog.DiscardHandler), Metrics: &strings.Builder{}})
	for i := range 2 {
		res, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: fmt.Sprintf("ev-%d", i)})
		if err != nil || len(res.Formations) != 1 {
			t.Fatalf("tick %d: %+v, %v", i, res, err)
		}
		sum := res.Formations[0].Summary
		if sum.Verdict != probe.Error || !strings.Contains(sum.ProbeDetail, missing) || sum.Scaled {
			t.Errorf("tick %d: %+v; want a probe error naming %s, no scale", i, sum, missing)
		}
		if wantNotice := i == 0; slices.Contains(sum.Notices, "probe_error") != wantNotice {
			t.Errorf("tick %d: notices %v; want probe_error on the first only", i, sum.Notices)
		}
	}
	if n := beat.count(); n != 0 {
		t.Errorf("the heartbeat got %d requests without the token", n)
	}
}
