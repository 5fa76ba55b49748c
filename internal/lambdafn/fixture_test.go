package lambdafn_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// fixture is what a handler test against moto needs: a table, an SSM
// parameter name for the key, the fake Platform API with one formation, and
// a heartbeat that answers after delay.
type fixture struct {
	ctx    context.Context
	cfg    aws.Config // the function's, and to make the resources
	table  string
	param  string
	heroku *herokusim.Server
	beat   *httptest.Server
}

func newFixture(t *testing.T, key, app string, delay time.Duration) *fixture {
	t.Helper()
	tooltest.Require(t, tooltest.Moto)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	f := &fixture{
		ctx:    ctx,
		cfg:    awstest.SharedMoto(t).Config(t),
		table:  awstest.UniqueName(t, "state"),
		param:  "/autoscalebot/" + awstest.UniqueName(t, "key"),
		heroku: herokusimtest.New(t, herokusim.WithToken(key)),
	}
	awstest.CreateTable(ctx, t, dynamodb.NewFromConfig(f.cfg), f.table)
	f.heroku.SetFormation(app, "web", 1, "")
	f.beat = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(f.beat.Close)
	return f
}

// putKey stores value as the SecureString the handler reads.
func (f *fixture) putKey(t *testing.T, value string) {
	t.Helper()
	if _, err := ssm.NewFromConfig(f.cfg).PutParameter(f.ctx, &ssm.PutParameterInput{
		Name: aws.String(f.param), Value: aws.String(value),
		Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatalf("put parameter: %v", err)
	}
}

// movingClock is a clock at start that only advance moves, safe for the
// handler's goroutines to read.
func movingClock(start time.Time) (clock func() time.Time, advance func(time.Duration)) {
	var mu sync.Mutex
	now := start
	clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance = func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	return clock, advance
}

func ddb(f *fixture) *dynamodb.Client { return dynamodb.NewFromConfig(f.cfg) }

// oneFormation is s as main hands over a single formation from the
// environment: a fleet of one.
func oneFormation(s settings.Settings) []settingsfile.Formation {
	return []settingsfile.Formation{{Name: s.AppName + "/" + s.ProcessType, Settings: s}}
}

// settings loads a formation of app against the fixture (its key parameter,
// API, heartbeat and table) with the extra settings given.
func (f *fixture) settings(app string, extra map[string]string) (settings.Settings, error) {
	vars := map[string]string{
		settings.EnvAppName:         app,
		settings.EnvAPIKeyParameter: f.param,
		settings.EnvAPIURL:          f.heroku.URL,
		settings.EnvHeartbeatURL:    f.beat.URL,
		settings.EnvTableName:       f.table,
	}
	maps.Copy(vars, extra)
	return settings.LoadLambda(getenv(vars))
}
