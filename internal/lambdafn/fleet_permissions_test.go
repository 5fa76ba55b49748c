package lambdafn_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile/settingsfiletest"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/stacktest"
)

// TestFleetReadsOnlyTheKeysItMayRead deploys the template with a settings
// file through moto's CloudFormation and reads back what its role may read
// from SSM; then a fleet whose formations name two key parameters (the
// stack's own, outside the fleet prefix, and one under /autoscalebot/) and
// two heartbeat token parameters (likewise) runs through both paths that
// read them (the scheduled invocation and a fanned-out batch). Every
// parameter read is one the role grants, and every grant is used: the role
// is no wider than the fleet needs.
func TestFleetReadsOnlyTheKeysItMayRead(t *testing.T) {
	const key = "HRKU-fleet-permissions"
	moto := awstest.SharedMoto(t)
	f := newFixture(t, key, "unused", 0)
	own := "/team-" + awstest.UniqueName(t, "p") + "/heroku-api-key" // the stack's parameter, outside the prefix
	fleetKey := settings.FleetParameterPrefix + awstest.UniqueName(t, "shop-key")
	ownToken := "/team-" + awstest.UniqueName(t, "p") + "/heartbeat-token"
	fleetToken := settings.FleetParameterPrefix + awstest.UniqueName(t, "shop-token")
	for _, name := range []string{own, fleetKey, ownToken, fleetToken} {
		if _, err := ssm.NewFromConfig(f.cfg).PutParameter(f.ctx, &ssm.PutParameterInput{Name: aws.String(name),
			Value: aws.String(key), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
			t.Fatal(err)
		}
	}
	stack := stacktest.Deploy(f.ctx, t, moto, stacktest.Template(t), map[string]string{
		"SettingsFile": "autoscalebot.yaml", "HerokuApiKeyParameterName": own, "HeartbeatIntervalInSeconds": "60",
		"HeartbeatTokenParameterName": ownToken,
	})
	var granted []string
	for _, st := range stack.RoleStatements(f.ctx, t, "AutoscalerFunctionRole") {
		if st.Effect == "Allow" && slices.Contains(st.Action, "ssm:GetParameter") {
			granted = append(granted, st.Resource...)
		}
	}
	if len(granted) == 0 {
		t.Fatal("the fleet stack's role may read no SSM parameter")
	}

	rec := newCallRecorder(http.DefaultClient)
	cfg := f.cfg
	cfg.HTTPClient = rec
	for _, app := range []string{"shop", "blog"} {
		f.heroku.SetFormation(app, "web", 1, "")
	}
	file := fmt.Sprintf(`FAN_OUT_ABOVE: 1
FORMATIONS:
  - {HEROKU_APP_NAME: blog, HEARTBEAT_URL: %[1]q}
  - {HEROKU_APP_NAME: shop, HEARTBEAT_URL: %[1]q, HEROKU_API_KEY_PARAMETER: %[2]s, HEARTBEAT_TOKEN_PARAMETER: %[3]s}
`, f.beat.URL, fleetKey, fleetToken)
	env := getenv(map[string]string{
		settings.EnvAPIKeyParameter: own, settings.EnvAPIURL: f.heroku.URL, settings.EnvTableName: f.table,
		settings.EnvSettingsFile: "autoscalebot.yaml", settings.EnvTickQueueURL: stack.Resources["TickQueue"],
		settings.EnvHeartbeatTokenParameter: ownToken,
	})
	fleet, err := settingsfile.LoadLambda(env, settingsfiletest.Reader(t, file))
	if err != nil {
		t.Fatal(err)
	}
	h := lambdafn.New(lambdafn.Config{Formations: fleet, Fleet: true, FunctionName: "fn", AWS: cfg,
		Log: slog.New(slog.DiscardHandler), Metrics: io.Discard})
	res, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: "ev", Time: time.Now()})
	if err != nil || res.FannedOut != 2 {
		t.Fatalf("scheduled invocation: %+v, %v; want both formations fanned out", res, err)
	}
	body, _ := json.Marshal(lambdafn.Slot{Formations: []lambdafn.SlotFormation{{App: "blog", ProcessType: "web"},
		{App: "shop", ProcessType: "web"}}, Due: time.Now(), Event: "ev"})
	resp, err := h.HandleSQS(f.ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(body), EventSource: "aws:sqs"}}})
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("fanned-out batch: %+v, %v", resp, err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	read := slices.Compact(slices.Sorted(slices.Values(rec.parameters)))
	if want := slices.Sorted(slices.Values([]string{own, fleetKey, ownToken, fleetToken})); !slices.Equal(read, want) {
		t.Errorf("parameters read %v, want exactly the file's four %v", read, want)
	}
	arn := func(name string) string {
		return "arn:aws:ssm:" + cfg.Region + ":" + awstest.AccountID + ":parameter" + name
	}
	for _, name := range read {
		if !slices.ContainsFunc(granted, func(g string) bool { return iamMatch(g, arn(name)) }) {
			t.Errorf("the function read %s, which its role %v does not grant", arn(name), granted)
		}
	}
	for _, g := range granted {
		if !slices.ContainsFunc(read, func(name string) bool { return iamMatch(g, arn(name)) }) {
			t.Errorf("the role grants %s, which no formation reads", g)
		}
	}
}

// iamMatch says whether an IAM resource pattern matches arn: * is any
// run of characters (slashes too), ? any one.
func iamMatch(pattern, arn string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(arn)
}
