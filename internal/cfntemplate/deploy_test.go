package cfntemplate

// Tests of the project's own deployment files: template.yaml (linted, and
// expanded by the SAM translator), samconfig.toml and events/scheduled.json.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/tooltest"
)

const (
	functionID = "AutoscalerFunction"
	toolWait   = 2 * time.Minute
)

// required are the parameters without a default.
var required = map[string]string{
	"HerokuAppName": "my-app",
	"HeartbeatUrl":  "https://my-app.herokuapp.com/heartbeat",
}

// pseudo are the values CloudFormation gives pseudo parameters in the tests.
var pseudo = map[string]string{
	"AWS::Partition": "aws",
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "123456789012",
	"AWS::StackName": "autoscalebot",
}

func TestCfnLint(t *testing.T) {
	bin := tooltest.Require(t, tooltest.CfnLint)
	ctx, cancel := context.WithTimeout(context.Background(), toolWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--format", "parseable", "--", "template.yaml")
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// expectation is what one set of parameters must produce once expanded.
type expectation struct {
	scheduleState string
	reserved      any // nil: ReservedConcurrentExecutions absent
	email         string
	slack         bool
	kmsKey        string
}

func TestExpandedTemplate(t *testing.T) {
	const keyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name   string
		params map[string]string
		want   expectation
	}{
		{"defaults", nil, expectation{scheduleState: "ENABLED"}},
		{"schedule disabled", map[string]string{"ScheduleEnabled": "false"}, expectation{scheduleState: "DISABLED"}},
		{"reserved concurrency", map[string]string{"ReserveConcurrency": "true"},
			expectation{scheduleState: "ENABLED", reserved: int64(1)}},
		{"email", map[string]string{"NotificationEmail": "ops@example.com"},
			expectation{scheduleState: "ENABLED", email: "ops@example.com"}},
		{"slack workspace without channel", map[string]string{"SlackWorkspaceId": "T0123ABCD"},
			expectation{scheduleState: "ENABLED"}},
		{"slack channel without workspace", map[string]string{"SlackChannelId": "C0123ABCD"},
			expectation{scheduleState: "ENABLED"}},
		{"slack", map[string]string{"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"},
			expectation{scheduleState: "ENABLED", slack: true}},
		{"customer managed key", map[string]string{"HerokuApiKeyKmsKeyArn": keyARN},
			expectation{scheduleState: "ENABLED", kmsKey: keyARN}},
		{"everything", map[string]string{
			"ScheduleEnabled": "false", "ReserveConcurrency": "true", "NotificationEmail": "ops@example.com",
			"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD", "HerokuApiKeyKmsKeyArn": keyARN,
		}, expectation{scheduleState: "DISABLED", reserved: int64(1), email: "ops@example.com", slack: true, kmsKey: keyARN}},
	}
	requireSAMTranslator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			params := withRequired(tt.params)
			doc := expand(t, params)
			checkFunction(t, doc, tt.want)
			checkSchedule(t, doc, tt.want)
			checkTable(t, doc)
			checkNotifications(t, doc, tt.want)
			checkNoWildcardResources(t, doc)
			checkFunctionPolicy(t, doc, params, tt.want)
			checkOutputs(t, doc)
		})
	}
}

func checkFunction(t *testing.T, doc map[string]any, want expectation) {
	t.Helper()
	fns := ofType(doc, "AWS::Lambda::Function")
	if len(fns) != 1 || fns[0] != functionID {
		t.Fatalf("Lambda functions = %v, want only %s", fns, functionID)
	}
	props := dig(doc, "Resources", functionID, "Properties").(map[string]any)
	for key, wantValue := range map[string]any{
		"Runtime":       "provided.al2023",
		"Handler":       "bootstrap",
		"Architectures": []any{"arm64"},
		"MemorySize":    float64(128),
		"Timeout":       "30",
		"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": map[string]any{"Ref": "AutoscalerLogGroup"}},
		"Role":          map[string]any{"Fn::GetAtt": []any{"AutoscalerFunctionRole", "Arn"}},
	} {
		if got := props[key]; !reflect.DeepEqual(got, wantValue) {
			t.Errorf("function %s = %#v, want %#v", key, got, wantValue)
		}
	}
	got, present := props["ReservedConcurrentExecutions"]
	if want.reserved == nil && present {
		t.Errorf("ReservedConcurrentExecutions = %#v, want it absent", got)
	}
	if want.reserved != nil && numberOf(got) != 1 {
		t.Errorf("ReservedConcurrentExecutions = %#v, want 1", got)
	}
	if got := dig(doc, "Resources", "AutoscalerLogGroup", "Properties", "RetentionInDays"); got != "30" {
		t.Errorf("log group RetentionInDays = %#v, want 30", got)
	}
	if got := dig(doc, "Resources", "AutoscalerLogGroup", "Type"); got != "AWS::Logs::LogGroup" {
		t.Errorf("AutoscalerLogGroup type = %#v", got)
	}
	invoke := ofType(doc, "AWS::Lambda::EventInvokeConfig")
	if len(invoke) != 1 || numberOf(dig(doc, "Resources", invoke[0], "Properties", "MaximumRetryAttempts")) != 0 {
		t.Errorf("want one EventInvokeConfig with no retries, got %v", invoke)
	}
}

func checkSchedule(t *testing.T, doc map[string]any, want expectation) {
	t.Helper()
	rules := ofType(doc, "AWS::Events::Rule")
	if len(rules) != 1 {
		t.Fatalf("events rules = %v, want one", rules)
	}
	props := dig(doc, "Resources", rules[0], "Properties").(map[string]any)
	if props["ScheduleExpression"] != "rate(1 minute)" {
		t.Errorf("ScheduleExpression = %#v, want rate(1 minute)", props["ScheduleExpression"])
	}
	if props["State"] != want.scheduleState {
		t.Errorf("State = %#v, want %s", props["State"], want.scheduleState)
	}
	targets, _ := props["Targets"].([]any)
	if len(targets) != 1 || !reflect.DeepEqual(dig(targets[0], "Arn"), getAtt(functionID, "Arn")) {
		t.Errorf("Targets = %#v, want the function", targets)
	}
	var permitted bool
	for _, id := range ofType(doc, "AWS::Lambda::Permission") {
		p := dig(doc, "Resources", id, "Properties")
		permitted = permitted || (dig(p, "Principal") == "events.amazonaws.com" &&
			reflect.DeepEqual(dig(p, "SourceArn"), getAtt(rules[0], "Arn")))
	}
	if !permitted {
		t.Error("no Lambda permission lets the rule invoke the function")
	}
}

func checkTable(t *testing.T, doc map[string]any) {
	t.Helper()
	props := dig(doc, "Resources", "StateTable", "Properties")
	for path, wantValue := range map[string]any{
		"BillingMode":                                                 "PAY_PER_REQUEST",
		"TimeToLiveSpecification.AttributeName":                       "expiresAt",
		"TimeToLiveSpecification.Enabled":                             true,
		"PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled": true,
	} {
		if got := dig(props, strings.Split(path, ".")...); got != wantValue {
			t.Errorf("table %s = %#v, want %#v", path, got, wantValue)
		}
	}
}

func checkNotifications(t *testing.T, doc map[string]any, want expectation) {
	t.Helper()
	if got := ofType(doc, "AWS::SNS::Topic"); !reflect.DeepEqual(got, []string{"NotificationTopic"}) {
		t.Errorf("topics = %v, want NotificationTopic", got)
	}
	subs := ofType(doc, "AWS::SNS::Subscription")
	switch {
	case want.email == "" && len(subs) > 0:
		t.Errorf("subscriptions = %v, want none without NotificationEmail", subs)
	case want.email != "":
		if len(subs) != 1 {
			t.Fatalf("subscriptions = %v, want one", subs)
		}
		p := dig(doc, "Resources", subs[0], "Properties")
		if dig(p, "Protocol") != "email" || dig(p, "Endpoint") != want.email ||
			!reflect.DeepEqual(dig(p, "TopicArn"), ref("NotificationTopic")) {
			t.Errorf("subscription = %#v", p)
		}
	}

	channels := ofType(doc, "AWS::Chatbot::SlackChannelConfiguration")
	chatbotRoles := rolesTrusting(doc, "chatbot.amazonaws.com")
	if !want.slack {
		if len(channels) > 0 || len(chatbotRoles) > 0 {
			t.Errorf("chatbot channels %v, roles %v: want none", channels, chatbotRoles)
		}
		return
	}
	if len(channels) != 1 || len(chatbotRoles) != 1 {
		t.Fatalf("chatbot channels %v, roles %v: want one of each", channels, chatbotRoles)
	}
	p := dig(doc, "Resources", channels[0], "Properties")
	if dig(p, "SlackWorkspaceId") != "T0123ABCD" || dig(p, "SlackChannelId") != "C0123ABCD" {
		t.Errorf("channel ids = %v / %v", dig(p, "SlackWorkspaceId"), dig(p, "SlackChannelId"))
	}
	if !reflect.DeepEqual(dig(p, "SnsTopicArns"), []any{ref("NotificationTopic")}) {
		t.Errorf("SnsTopicArns = %#v, want the notification topic", dig(p, "SnsTopicArns"))
	}
	if !reflect.DeepEqual(dig(p, "IamRoleArn"), getAtt(chatbotRoles[0], "Arn")) {
		t.Errorf("IamRoleArn = %#v, want its own role %s", dig(p, "IamRoleArn"), chatbotRoles[0])
	}
	// Without guardrails Chatbot applies AdministratorAccess to channel commands.
	guard, err := text(firstOf(asList(dig(p, "GuardrailPolicies"))), pseudo)
	if err != nil || guard != "arn:aws:iam::aws:policy/AWSDenyAll" {
		t.Errorf("GuardrailPolicies = %#v (%v), want AWSDenyAll", dig(p, "GuardrailPolicies"), err)
	}
	role := dig(doc, "Resources", chatbotRoles[0], "Properties")
	if dig(role, "Policies") != nil || dig(role, "ManagedPolicyArns") != nil {
		t.Errorf("chatbot role has permissions, want none: %#v", role)
	}
}

// checkNoWildcardResources looks at every IAM statement in the expansion.
func checkNoWildcardResources(t *testing.T, doc map[string]any) {
	t.Helper()
	for id, statements := range allStatements(t, doc) {
		for i, s := range statements {
			if dig(s, "Effect") != "Allow" {
				continue
			}
			if dig(s, "NotResource") != nil || dig(s, "NotAction") != nil {
				t.Errorf("%s statement %d uses NotResource/NotAction", id, i)
			}
			for _, a := range asList(dig(s, "Action")) {
				if str, _ := a.(string); strings.Contains(str, "*") {
					t.Errorf("%s statement %d: wildcard action %q", id, i, str)
				}
			}
			resources := asList(dig(s, "Resource"))
			if len(resources) == 0 {
				t.Errorf("%s statement %d names no resource", id, i)
			}
			for _, r := range resources {
				if str, err := text(r, rendering(doc)); err != nil || !specific(str) {
					t.Errorf("%s statement %d: resource %#v (%q, %v) is not specific", id, i, r, str, err)
				}
			}
		}
	}
}

// specific reports whether an ARN names one resource: no "*", except the log
// streams of one named log group, whose names Lambda picks at run time.
func specific(arn string) bool {
	if head, ok := strings.CutSuffix(arn, ":log-stream:*"); ok {
		return strings.Contains(head, ":log-group:") && !strings.Contains(head, "*")
	}
	return arn != "" && !strings.Contains(arn, "*")
}

func checkFunctionPolicy(t *testing.T, doc map[string]any, params map[string]string, want expectation) {
	t.Helper()
	if got := rolesTrusting(doc, "lambda.amazonaws.com"); !reflect.DeepEqual(got, []string{"AutoscalerFunctionRole"}) {
		t.Fatalf("roles Lambda can assume = %v, want AutoscalerFunctionRole only", got)
	}
	if arns := dig(doc, "Resources", "AutoscalerFunctionRole", "Properties", "ManagedPolicyArns"); arns != nil {
		t.Errorf("function role has managed policies %v (AWSLambdaBasicExecutionRole grants logs on *)", arns)
	}
	values := rendering(doc)
	logStreams := "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/autoscalebot-AutoscalerFunction:log-stream:*"
	wantGrants := map[string]string{
		"logs:CreateLogStream":    logStreams,
		"logs:PutLogEvents":       logStreams,
		"dynamodb:GetItem":        "StateTable.Arn",
		"dynamodb:PutItem":        "StateTable.Arn",
		"dynamodb:BatchWriteItem": "StateTable.Arn",
		"sns:Publish":             "NotificationTopic",
		"ssm:GetParameter":        "arn:aws:ssm:us-east-1:123456789012:parameter" + valueOr(params, "HerokuApiKeyParameterName", "/autoscalebot/heroku-api-key"),
	}
	if want.kmsKey != "" {
		wantGrants["kms:Decrypt"] = want.kmsKey
	}
	got := map[string]string{}
	for i, s := range allStatements(t, doc)["AutoscalerFunctionRole"] {
		resources := asList(dig(s, "Resource"))
		if len(resources) != 1 {
			t.Errorf("statement %d: want exactly one resource, got %#v", i, resources)
			continue
		}
		r, err := text(resources[0], values)
		if err != nil {
			t.Errorf("statement %d: %v", i, err)
		}
		for _, a := range asList(dig(s, "Action")) {
			got[a.(string)] = r
		}
		if reflect.DeepEqual(asList(dig(s, "Action")), []any{"kms:Decrypt"}) {
			via := dig(s, "Condition", "StringEquals", "kms:ViaService")
			if v, err := text(via, values); err != nil || v != "ssm.us-east-1.amazonaws.com" {
				t.Errorf("kms:Decrypt condition kms:ViaService = %#v, want ssm only", via)
			}
		}
	}
	if !reflect.DeepEqual(got, wantGrants) {
		t.Errorf("function grants (action -> resource):\n%v\nwant\n%v", got, wantGrants)
	}
}

func checkOutputs(t *testing.T, doc map[string]any) {
	t.Helper()
	want := map[string]any{
		"FunctionName": ref(functionID),
		"FunctionArn":  getAtt(functionID, "Arn"),
		"TableName":    ref("StateTable"),
		"TopicArn":     ref("NotificationTopic"),
		"LogGroupName": ref("AutoscalerLogGroup"),
	}
	for name, value := range want {
		if got := dig(doc, "Outputs", name, "Value"); !reflect.DeepEqual(got, value) {
			t.Errorf("output %s = %#v, want %#v", name, got, value)
		}
	}
}

func TestSSMParameterName(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"default", "/autoscalebot/heroku-api-key", true},
		{"one level", "/heroku-key", true},
		{"deep", "/teams/web/prod/heroku.api_key", true},
		{"no leading slash", "heroku-key", false},
		{"trailing slash", "/autoscalebot/", false},
		{"double slash", "/a//b", false},
		{"wildcard", "/autoscalebot/*", false},
	}
	tmpl := loadRepoTemplate(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tmpl.Doc, withRequired(map[string]string{"HerokuApiKeyParameterName": tt.value}))
			if (err == nil) != tt.ok {
				t.Fatalf("HerokuApiKeyParameterName=%q: err = %v, want ok=%v", tt.value, err, tt.ok)
			}
		})
	}
}

// TestFunctionEnvironment checks the variables the deployed function gets,
// and that the template's defaults are the core's defaults.
func TestFunctionEnvironment(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	refs := map[string]string{
		"StateTable":        "autoscalebot-StateTable-1ABC",
		"NotificationTopic": "arn:aws:sns:us-east-1:123456789012:autoscalebot-NotificationTopic-1ABC",
	}
	env, err := tmpl.Environment(functionID, required, refs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AUTOSCALE_HEROKU_APP_NAME":                                "my-app",
		"AUTOSCALE_HEROKU_API_KEY_PARAMETER":                       "/autoscalebot/heroku-api-key",
		"AUTOSCALE_HEROKU_API_URL":                                 "https://api.heroku.com",
		"AUTOSCALE_HEROKU_PROCESS_TYPE":                            "web",
		"AUTOSCALE_HEARTBEAT_URL":                                  "https://my-app.herokuapp.com/heartbeat",
		"AUTOSCALE_HEARTBEAT_TIMEOUT_IN_MS":                        "10000",
		"AUTOSCALE_MAX_RESPONSE_TIME_IN_MS":                        "1000",
		"AUTOSCALE_MIN_RESPONSE_TIME_IN_MS":                        "200",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER":              "3",
		"AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER":           "5",
		"AUTOSCALE_MAX_DYNOS":                                      "3",
		"AUTOSCALE_MIN_DYNOS":                                      "1",
		"AUTOSCALE_TIME_ZONE":                                      "UTC",
		"AUTOSCALE_INCREMENT":                                      "1",
		"AUTOSCALE_COOLDOWN_IN_SECONDS":                            "0",
		"AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD":         "",
		"AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES": "",
		"AUTOSCALE_NOTIFY_IF_NEEDS_EXCEED_MAX":                     "true",
		"AUTOSCALE_NOTIFY_IF_NEEDS_BELOW_MIN":                      "false",
		"AUTOSCALE_NOTIFY_ON_SCALE_FAILS":                          "false",
		"AUTOSCALE_NOTIFY_ON_EVERY_SCALE":                          "false",
		"AUTOSCALE_NOTIFY_ON_EVERY_PING":                           "false",
		"AUTOSCALE_DRY_RUN":                                        "false",
		"AUTOSCALE_HISTORY_TTL_IN_DAYS":                            "30",
		"AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS":                    "30",
		"AUTOSCALE_TABLE_NAME":                                     refs["StateTable"],
		"AUTOSCALE_TOPIC_ARN":                                      refs["NotificationTopic"],
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("environment:\n%s", mapDiff(env, want))
	}

	t.Run("function timeout follows its parameter", func(t *testing.T) {
		env, err := tmpl.Environment(functionID, withRequired(map[string]string{"FunctionTimeoutInSeconds": "45"}), refs)
		if err != nil {
			t.Fatal(err)
		}
		if env["AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS"] != "45" {
			t.Errorf("AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS = %q, want 45", env["AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS"])
		}
	})

	t.Run("required parameters have no default", func(t *testing.T) {
		_, err := tmpl.Environment(functionID, nil, refs)
		for name := range required {
			if err == nil || !strings.Contains(err.Error(), name+": no value") {
				t.Errorf("err = %v, want it to name %s", err, name)
			}
		}
	})

	t.Run("defaults are the core's", func(t *testing.T) {
		fromTemplate, err := settings.LoadLambda(lookup(env))
		if err != nil {
			t.Fatalf("the core rejects the template's defaults: %v", err)
		}
		minimal := map[string]string{}
		for _, name := range []string{
			settings.EnvAppName, settings.EnvHeartbeatURL, settings.EnvAPIKeyParameter,
			settings.EnvTableName, settings.EnvTopicARN, settings.EnvFunctionTimeout,
		} {
			minimal[name] = env[name]
		}
		fromCore, err := settings.LoadLambda(lookup(minimal))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromTemplate, fromCore) {
			t.Errorf("template defaults differ from the core's:\ntemplate %+v\ncore     %+v", fromTemplate, fromCore)
		}
	})
}

// TestParameters checks every parameter is documented and grouped for the
// console, and that yes/no parameters only take "true" or "false".
func TestParameters(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	params := tmpl.Parameters()
	grouped := map[string]int{}
	groups, _ := dig(tmpl.Doc, "Metadata", "AWS::CloudFormation::Interface", "ParameterGroups").([]any)
	for _, g := range groups {
		for _, name := range asList(dig(g, "Parameters")) {
			grouped[name.(string)]++
		}
	}
	for name := range grouped {
		if _, ok := params[name]; !ok {
			t.Errorf("interface groups name %s, which is not a parameter", name)
		}
	}
	for name, p := range params {
		if p.Description == "" {
			t.Errorf("%s has no Description", name)
		}
		if grouped[name] != 1 {
			t.Errorf("%s is in %d parameter groups, want 1", name, grouped[name])
		}
		if p.Default == "true" || p.Default == "false" {
			if !reflect.DeepEqual(p.AllowedValues, []string{"true", "false"}) {
				t.Errorf("%s: AllowedValues = %v, want [true false]", name, p.AllowedValues)
			}
		}
	}
}

func TestSamconfig(t *testing.T) {
	python := tooltest.Require(t, tooltest.Tool{Name: "python3", Install: "Python 3.11 or later"})
	ctx, cancel := context.WithTimeout(context.Background(), toolWait)
	defer cancel()
	script := `import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))`
	out, err := exec.CommandContext(ctx, python, "-c", script, filepath.Join(repoRoot(t), "samconfig.toml")).Output()
	if err != nil {
		t.Fatalf("parse samconfig.toml: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"version":                                     0.1,
		"default.global.parameters.stack_name":        "autoscalebot",
		"default.deploy.parameters.resolve_s3":        true,
		"default.deploy.parameters.capabilities":      "CAPABILITY_IAM",
		"default.deploy.parameters.confirm_changeset": true,
	} {
		if got := dig(cfg, strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	overrides, _ := dig(cfg, "default", "deploy", "parameters", "parameter_overrides").(string)
	params, err := splitOverrides(overrides)
	if err != nil {
		t.Fatal(err)
	}
	for name := range required {
		if params[name] == "" {
			t.Errorf("parameter_overrides lacks the required %s", name)
		}
	}
	if _, err := Resolve(loadRepoTemplate(t).Doc, params); err != nil {
		t.Errorf("the template rejects samconfig's parameter_overrides: %v", err)
	}
}

func TestSplitOverrides(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{`A="x y" B=z C=""`, map[string]string{"A": "x y", "B": "z", "C": ""}, true},
		{`MaxDynos="{\"0:00\":2}"`, map[string]string{"MaxDynos": `{"0:00":2}`}, true},
		{`A="open`, nil, false},
		{`novalue`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitOverrides(tt.in)
			if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("splitOverrides(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestScheduledEvent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       time.Time       `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID == "" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Account == "" ||
		ev.Time.IsZero() || ev.Region == "" || string(ev.Detail) != "{}" {
		t.Errorf("not an EventBridge scheduled event: %+v", ev)
	}
	if len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], "arn:aws:events:"+ev.Region+":"+ev.Account+":rule/") {
		t.Errorf("resources = %v, want the rule's ARN", ev.Resources)
	}
}

// splitOverrides parses SAM's parameter_overrides string: Key=Value pairs
// separated by spaces, values optionally double-quoted with \" escapes.
func splitOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		key, rest, ok := strings.Cut(s, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return nil, fmt.Errorf("parameter_overrides: %q is not Key=Value", s)
		}
		var value strings.Builder
		if strings.HasPrefix(rest, `"`) {
			i, closed := 1, false
			for ; i < len(rest); i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
					value.WriteByte(rest[i])
					continue
				}
				if rest[i] == '"' {
					closed = true
					break
				}
				value.WriteByte(rest[i])
			}
			if !closed {
				return nil, fmt.Errorf("parameter_overrides: unterminated quote after %s=", key)
			}
			s = rest[i+1:]
		} else {
			v, after, _ := strings.Cut(rest, " ")
			value.WriteString(v)
			s = after
		}
		out[key] = value.String()
	}
	return out, nil
}

// expand runs the SAM translator on template.yaml with params, then resolves
// the result as CloudFormation would for those parameter values.
func expand(t *testing.T, params map[string]string) map[string]any {
	t.Helper()
	root := repoRoot(t)
	arg, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), toolWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", filepath.Join("testdata", "expand.py"),
		filepath.Join(root, "template.yaml"), string(arg))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("expand template: %v\n%s", err, stderr.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("expanded template is not JSON: %v", err)
	}
	if got := ofType(doc, "AWS::Serverless::Function"); len(got) > 0 {
		t.Fatalf("expansion left SAM resources: %v", got)
	}
	resolved, err := Resolve(doc, params)
	if err != nil {
		t.Fatal(err)
	}
	return resolved
}

// allStatements returns the IAM policy statements of every role and policy.
func allStatements(t *testing.T, doc map[string]any) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	resources, _ := doc["Resources"].(map[string]any)
	for id, r := range resources {
		props := dig(r, "Properties")
		switch dig(r, "Type") {
		case "AWS::IAM::Role":
			for _, p := range asList(dig(props, "Policies")) {
				out[id] = append(out[id], asList(dig(p, "PolicyDocument", "Statement"))...)
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy":
			out[id] = append(out[id], asList(dig(props, "PolicyDocument", "Statement"))...)
		case "AWS::IAM::User", "AWS::IAM::Group":
			t.Errorf("%s: unexpected %s", id, dig(r, "Type"))
		}
	}
	return out
}

// rolesTrusting lists the roles whose trust policy names service.
func rolesTrusting(doc map[string]any, service string) []string {
	var out []string
	for _, id := range ofType(doc, "AWS::IAM::Role") {
		for _, s := range asList(dig(doc, "Resources", id, "Properties", "AssumeRolePolicyDocument", "Statement")) {
			for _, p := range asList(dig(s, "Principal", "Service")) {
				if p == service {
					out = append(out, id)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// rendering gives deploy-time values for the references in ARNs: resources
// stand for themselves, the log group for the name the template gives it.
func rendering(doc map[string]any) map[string]string {
	values := map[string]string{
		"StateTable.Arn":         "StateTable.Arn",
		"NotificationTopic":      "NotificationTopic",
		"AutoscalerFunction.Arn": "AutoscalerFunction.Arn",
	}
	for k, v := range pseudo {
		values[k] = v
	}
	if name, err := text(dig(doc, "Resources", "AutoscalerLogGroup", "Properties", "LogGroupName"), pseudo); err == nil {
		values["AutoscalerLogGroup"] = name
	}
	return values
}

func ofType(doc map[string]any, typ string) []string {
	var out []string
	resources, _ := doc["Resources"].(map[string]any)
	for id, r := range resources {
		if dig(r, "Type") == typ {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

func numberOf(v any) float64 {
	n, _ := number(v)
	return n
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func withRequired(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range required {
		out[k] = v
	}
	for k, v := range params {
		out[k] = v
	}
	return out
}

func valueOr(m map[string]string, key, def string) string {
	if v, ok := m[key]; ok {
		return v
	}
	return def
}

func lookup(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func mapDiff(got, want map[string]string) string {
	var b strings.Builder
	names := map[string]bool{}
	for k := range got {
		names[k] = true
	}
	for k := range want {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			b.WriteString("missing " + k + "=" + w + "\n")
		case !wok:
			b.WriteString("unexpected " + k + "=" + g + "\n")
		case g != w:
			b.WriteString(k + " = " + g + ", want " + w + "\n")
		}
	}
	return b.String()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadRepoTemplate(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func requireSAMTranslator(t *testing.T) string {
	t.Helper()
	return tooltest.Require(t, tooltest.SAMTranslator)
}
