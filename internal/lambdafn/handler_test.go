package lambdafn_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// testCredentials let a request get as far as the HTTP client.
var testCredentials = credentials.NewStaticCredentialsProvider("AKID", "secret", "")

// refusingClient fails every request: an AWS configuration that must not be used.
type refusingClient struct{ calls atomic.Int64 }

func (c *refusingClient) Do(r *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return nil, errors.New("no AWS call expected: " + r.URL.String())
}

// getenv serves vars. The interval is 60 s unless vars set it: one tick
// per scheduled event, no tick queue (cadence_test.go tests the queue).
func getenv(vars map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := vars[name]; ok || name != settings.EnvHeartbeatInterval {
			return v
		}
		return "60"
	}
}

func TestConfigurationErrorFailsEveryInvocation(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // variables the error must name
	}{
		{
			name: "nothing set",
			env:  map[string]string{},
			want: []string{settings.EnvAppName, settings.EnvHeartbeatURL, settings.EnvTableName, settings.EnvAPIKeyParameter},
		},
		{
			name: "bad values",
			env: map[string]string{
				settings.EnvAppName:         "app",
				settings.EnvAPIKeyParameter: "/autoscalebot/key",
				settings.EnvTableName:       "table",
				settings.EnvHeartbeatURL:    "/heartbeat",
				settings.EnvIncrement:       "0",
				settings.EnvFailsToScaleUp:  "-1",
			},
			want: []string{settings.EnvHeartbeatURL, settings.EnvIncrement, settings.EnvFailsToScaleUp},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := settings.LoadLambda(getenv(tt.env))
			if err == nil {
				t.Fatal("LoadLambda accepted the settings")
			}
			client := &refusingClient{}
			h := lambdafn.New(lambdafn.Config{
				Formations:  oneFormation(s),
				SettingsErr: err,
				AWS:         aws.Config{Region: awstest.Region, Credentials: testCredentials, HTTPClient: client},
				Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
				Metrics:     io.Discard,
			})
			for i := range 3 {
				sum, err := h.Handle(context.Background(), events.EventBridgeEvent{ID: "ev-" + string(rune('a'+i))})
				if err == nil {
					t.Fatalf("invocation %d succeeded: %+v", i+1, sum)
				}
				for _, name := range tt.want {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("invocation %d: error %q does not name %s", i+1, err, name)
					}
				}
			}
			if n := client.calls.Load(); n > 0 {
				t.Errorf("%d AWS requests made with a bad configuration", n)
			}
		})
	}
}

// TestKeyReadFailureIsRetried: a failed SSM read fails that invocation only;
// the next one reads again. Once read, the key is kept for the process.
func TestKeyReadFailureIsRetried(t *testing.T) {
	const key, app = "HRKU-lambdafn-test-key", "retry-app"
	f := newFixture(t, key, app, 0)
	ctx, heroku, param := f.ctx, f.heroku, f.param
	s, err := settings.LoadLambda(getenv(map[string]string{
		settings.EnvAppName:         app,
		settings.EnvAPIKeyParameter: param,
		settings.EnvAPIURL:          heroku.URL,
		settings.EnvHeartbeatURL:    f.beat.URL,
		settings.EnvTableName:       f.table,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder // the decision log and the metrics lines
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: f.cfg, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &logs})
	put := func(value string) { t.Helper(); f.putKey(t, value) }

	if _, err := h.Handle(ctx, events.EventBridgeEvent{ID: "1"}); err == nil || !strings.Contains(err.Error(), param) {
		t.Fatalf("before the parameter exists: error %v, want one naming %s", err, param)
	}
	if n := len(heroku.Requests()); n > 0 {
		t.Errorf("%d Heroku requests without a key", n)
	}

	put(key)
	res, err := h.Handle(ctx, events.EventBridgeEvent{ID: "2"})
	if err != nil {
		t.Fatalf("after the parameter was created: %v", err)
	}
	sum := res.Formations[0].Summary
	if sum.Current != 1 || sum.Verdict == "" {
		t.Errorf("summary %+v, want a probe and the formation read", sum)
	}

	// Within secret.RefreshInterval of the read, and while Heroku
	// accepts it, the key in use is kept: a changed parameter is not read yet.
	put("HRKU-rotated-key")
	if _, err := h.Handle(ctx, events.EventBridgeEvent{ID: "3"}); err != nil {
		t.Fatalf("after the parameter changed: %v", err)
	}
	for _, r := range heroku.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("Heroku refused %s %s: the key was read again", r.Method, r.Path)
		}
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the key is in the logs:\n%s", logs.String())
	}
}

// slowCalls holds the AWS calls it names for a while before sending them
// on, and counts how many of them were held at once.
type slowCalls struct {
	targets map[string]bool // X-Amz-Target suffixes: ".GetParameter"
	delay   time.Duration
	next    *http.Client

	mu        *sync.Mutex
	now, peak *int
}

func (c slowCalls) Do(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	if c.targets[target[strings.LastIndex(target, "."):]] {
		c.mu.Lock()
		*c.now++
		*c.peak = max(*c.peak, *c.now)
		c.mu.Unlock()
		time.Sleep(c.delay)
		c.mu.Lock()
		*c.now--
		c.mu.Unlock()
	}
	return c.next.Do(r)
}

// TestKeyReadOverlapsTheStateRead: on a cold start the SSM read of the key
// runs while the tick reads its state (and probes); only the Heroku read
// waits for the key. A 300 ms key read and a 300 ms state read are in
// flight together (one after the other they would take 600 ms), and the
// tick reads the formation as usual.
func TestKeyReadOverlapsTheStateRead(t *testing.T) {
	const key, app = "HRKU-overlap-key", "overlap-app"
	f := newFixture(t, key, app, 0)
	f.putKey(t, key)
	s, err := f.settings(app, nil)
	if err != nil {
		t.Fatal(err)
	}
	var now, peak int
	slow := slowCalls{targets: map[string]bool{".GetParameter": true, ".GetItem": true}, delay: 300 * time.Millisecond,
		next: &http.Client{}, mu: &sync.Mutex{}, now: &now, peak: &peak}
	cfg := f.cfg
	cfg.HTTPClient = slow
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: cfg, Log: slog.New(slog.DiscardHandler), Metrics: io.Discard})

	start := time.Now()
	res, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: "cold"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first invocation took %s", time.Since(start))
	if sum := res.Formations[0].Summary; sum.Current != 1 || sum.Verdict == "" {
		t.Errorf("summary %+v, want the probe and the formation read", sum)
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if peak != 2 {
		t.Errorf("the key read and the state read: at most %d in flight at once, want 2", peak)
	}
}
