package template

// Tests of template.yaml as deployed: the SAM translator expands it and
// moto's CloudFormation creates the stack for each set of parameters (its
// own evaluation of conditions and intrinsic functions), then the resources
// are read back through their services' APIs. What moto does not create
// (alarms, the topic policy, subscriptions, the Chatbot channel) is checked
// on the expanded template, as text, without evaluating it.

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/stacktest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	functionID  = "AutoscalerFunction"
	dashboardID = "Dashboard"
	recoveredID = "AlarmRecoveredRule"
	stackWait   = 3 * time.Minute
)

func withRequired(params map[string]string) map[string]string {
	out := maps.Clone(required)
	maps.Copy(out, params)
	return out
}

func deploy(t *testing.T, params map[string]string) (context.Context, *awstest.Moto, *stacktest.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stackWait)
	t.Cleanup(cancel)
	moto := awstest.SharedMoto(t)
	return ctx, moto, stacktest.Deploy(ctx, t, moto, stacktest.Template(t), withRequired(params))
}

func TestStack(t *testing.T) {
	const errorsAlarm, throttlesAlarm, downAlarm = "FunctionErrorsAlarm", "FunctionThrottlesAlarm", "AutoscalerDownAlarm"
	all := []string{downAlarm, errorsAlarm, throttlesAlarm}
	tests := []struct {
		name      string
		params    map[string]string
		schedule  ebtypes.RuleState
		timeout   int
		dashboard bool
		recovered bool     // the ALARM -> OK notice rule
		alarms    []string // sorted
		email     bool
		slack     bool
	}{
		{"defaults", nil, ebtypes.RuleStateEnabled, 30, true, true, all, false, false},
		{"schedule paused: not down, just paused", map[string]string{"ScheduleEnabled": "false"}, ebtypes.RuleStateDisabled, 30,
			true, true, []string{errorsAlarm, throttlesAlarm}, false, false},
		{"longer timeout", map[string]string{"FunctionTimeoutInSeconds": "45"}, ebtypes.RuleStateEnabled, 45, true, true, all, false, false},
		{"dashboard off", map[string]string{"EnableDashboard": "false"}, ebtypes.RuleStateEnabled, 30, false, true, all, false, false},
		{"every alarm off", map[string]string{"EnableErrorAlarm": "false", "EnableThrottleAlarm": "false",
			"EnableDownAlarm": "false"}, ebtypes.RuleStateEnabled, 30, true, false, nil, false, false},
		{"only the down alarm", map[string]string{"EnableErrorAlarm": "false", "EnableThrottleAlarm": "false"},
			ebtypes.RuleStateEnabled, 30, true, true, []string{downAlarm}, false, false},
		{"slack workspace without channel", map[string]string{"SlackWorkspaceId": "T0123ABCD"}, ebtypes.RuleStateEnabled, 30,
			true, true, all, false, false},
		{"everything on", map[string]string{"ReserveConcurrency": "true", "NotificationEmail": "ops@example.com",
			"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD",
			"HerokuApiKeyKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			ebtypes.RuleStateEnabled, 30, true, true, all, true, true},
		// A fleet needs no app or heartbeat of its own: its file names them.
		{"fleet", map[string]string{"SettingsFile": "autoscalebot.yaml", "PerFormationMetrics": "true",
			"HerokuAppName": "", "HeartbeatUrl": ""}, ebtypes.RuleStateEnabled, 30, true, true, all, false, false},
	}
	// moto skips the types it does not implement (alarms, subscriptions,
	// the Chatbot channel), so whether one would exist is read from an
	// output per condition, which moto evaluates.
	tmpl := stacktest.Template(t)
	outputs := tmpl["Outputs"].(map[string]any)
	for name := range tmpl["Conditions"].(map[string]any) {
		outputs["Condition"+name] = map[string]any{"Condition": name, "Value": "true"}
	}
	exists := func(stack *stacktest.Stack, id string) bool {
		if _, ok := stack.Resources[id]; ok {
			return true
		}
		cond, _ := templatetest.Dig(tmpl, "Resources", id, "Condition").(string)
		return cond == "" || stack.Outputs["Condition"+cond] == "true"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), stackWait)
			defer cancel()
			moto := awstest.SharedMoto(t)
			stack := stacktest.Deploy(ctx, t, moto, tmpl, withRequired(tt.params))
			cfg := moto.Config(t)

			var alarms []string
			for _, id := range all {
				if exists(stack, id) {
					alarms = append(alarms, id)
				}
			}
			if !slices.Equal(alarms, tt.alarms) {
				t.Errorf("alarms %v, want %v", alarms, tt.alarms)
			}
			if got := exists(stack, "NotificationEmailSubscription"); got != tt.email {
				t.Errorf("email subscription %v, want %v", got, tt.email)
			}
			if got := []bool{exists(stack, "SlackChannel"), exists(stack, "SlackChannelRole")}; !reflect.DeepEqual(got, []bool{tt.slack, tt.slack}) {
				t.Errorf("Slack channel and its role %v, want %v", got, tt.slack)
			}

			fn := stack.Function(ctx, t, functionID)
			// moto ignores Architectures: TestExpandedTemplate reads it.
			reserved := 0
			if tt.params["ReserveConcurrency"] == "true" {
				reserved = 1
			}
			got := []any{fn.Runtime, fn.Handler, fn.MemorySize, fn.Timeout, fn.ReservedConcurrency}
			want := []any{"provided.al2023", "bootstrap", 128, tt.timeout, reserved}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("function runtime, handler, memory, timeout, reserved concurrency = %v, want %v", got, want)
			}
			if fn.Env[settings.EnvFunctionTimeout] != fmtInt(tt.timeout) {
				t.Errorf("%s = %q, want the function's timeout %d", settings.EnvFunctionTimeout, fn.Env[settings.EnvFunctionTimeout], tt.timeout)
			}
			for name, output := range map[string]string{
				settings.EnvTableName: "TableName",
				settings.EnvTopicARN:  "TopicArn",
			} {
				if fn.Env[name] == "" || fn.Env[name] != stack.Outputs[output] {
					t.Errorf("%s = %q, want the stack's %s %q", name, fn.Env[name], output, stack.Outputs[output])
				}
			}
			fleet := tt.params["SettingsFile"] != ""
			wantFile, wantPerFormation := "", "false"
			if fleet {
				wantFile, wantPerFormation = "/var/task/autoscalebot.yaml", "true"
			}
			if got := []string{fn.Env[settings.EnvSettingsFile], fn.Env[settings.EnvPerFormationMetrics]}; !slices.Equal(got, []string{wantFile, wantPerFormation}) {
				t.Errorf("%s, %s = %q, want %q (Lambda unpacks the package in /var/task)", settings.EnvSettingsFile,
					settings.EnvPerFormationMetrics, got, []string{wantFile, wantPerFormation})
			}
			if stack.Outputs["FunctionName"] != fn.Name {
				t.Errorf("FunctionName output = %q, want %q", stack.Outputs["FunctionName"], fn.Name)
			}

			events := eventbridge.NewFromConfig(cfg)
			rule, err := events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(stack.Resources["AutoscalerFunctionTick"])})
			if err != nil {
				t.Fatalf("schedule rule: %v", err)
			}
			if aws.ToString(rule.ScheduleExpression) != "rate(1 minute)" || rule.State != tt.schedule {
				t.Errorf("schedule %q %s, want rate(1 minute) %s", aws.ToString(rule.ScheduleExpression), rule.State, tt.schedule)
			}
			targets, err := events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: rule.Name})
			if err != nil || len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].Arn) != stack.Outputs["FunctionArn"] {
				t.Errorf("schedule targets = %+v (%v), want the function", targets, err)
			}
			if _, ok := stack.Resources[recoveredID]; ok != tt.recovered {
				t.Errorf("%s created: %v, want %v (only with an alarm)", recoveredID, ok, tt.recovered)
			}

			table, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(stack.Outputs["TableName"])})
			if err != nil {
				t.Fatalf("describe table: %v", err)
			}
			tpl, err := templatetest.Load(repoFile(t, "template.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			in, err := tpl.TableInput("StateTable", "x")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(table.Table.KeySchema, in.KeySchema) || table.Table.BillingModeSummary == nil ||
				table.Table.BillingModeSummary.BillingMode != in.BillingMode {
				t.Errorf("deployed table keys %+v, billing %+v; TableInput (the tests' local tables) %+v, %s",
					table.Table.KeySchema, table.Table.BillingModeSummary, in.KeySchema, in.BillingMode)
			}

			_, hasURL := stack.Outputs["DashboardUrl"]
			body, hasDashboard := stack.Dashboard(ctx, t, dashboardID)
			if tt.dashboard != hasDashboard || tt.dashboard != hasURL {
				t.Errorf("dashboard %v, DashboardUrl output %v; want both only with the dashboard", hasDashboard, hasURL)
			}
			if hasDashboard {
				checkDashboard(t, body, fn.Name, stack.Outputs["LogGroupName"], fleet)
			}
		})
	}
}

func fmtInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestFunctionEnvironment: the variables the deployed function gets, and
// that the template's defaults are the core's.
func TestFunctionEnvironment(t *testing.T) {
	ctx, _, stack := deploy(t, nil)
	env := stack.Function(ctx, t, functionID).Env
	want := map[string]string{
		"AUTOSCALE_HEROKU_APP_NAME":                                "my-app",
		"AUTOSCALE_HEROKU_API_KEY_PARAMETER":                       "/autoscalebot/heroku-api-key",
		"AUTOSCALE_HEROKU_API_URL":                                 "https://api.heroku.com",
		"AUTOSCALE_HEROKU_PROCESS_TYPE":                            "web",
		"AUTOSCALE_HEARTBEAT_URL":                                  "https://my-app.herokuapp.com/heartbeat",
		"AUTOSCALE_HEARTBEAT_TOKEN_PARAMETER":                      "",
		"AUTOSCALE_HEARTBEAT_TIMEOUT_IN_MS":                        "10000",
		"AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS":                  "30",
		"AUTOSCALE_MAX_RESPONSE_TIME_IN_MS":                        "1000",
		"AUTOSCALE_MIN_RESPONSE_TIME_IN_MS":                        "200",
		"AUTOSCALE_SIGNAL":                                         "response_time",
		"AUTOSCALE_MAX_QUEUE_TIME_IN_MS":                           "100",
		"AUTOSCALE_MIN_QUEUE_TIME_IN_MS":                           "10",
		"AUTOSCALE_TARGET_UTILIZATION_PCT":                         "70",
		"AUTOSCALE_JOB_QUEUES":                                     "",
		"AUTOSCALE_MAX_JOB_LATENCY_IN_MS":                          "10000",
		"AUTOSCALE_MIN_JOB_LATENCY_IN_MS":                          "1000",
		"AUTOSCALE_JOBS_PER_DYNO":                                  "",
		"AUTOSCALE_LONG_JOBS":                                      "false",
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
		"AUTOSCALE_POLICY":                                         "tracking",
		"AUTOSCALE_TARGET_RESPONSE_TIME_IN_MS":                     "",
		"AUTOSCALE_BOOT_TIME_IN_SECONDS":                           "60",
		"AUTOSCALE_SCALE_DOWN_WINDOW_IN_SECONDS":                   "",
		"AUTOSCALE_HISTORY_TTL_IN_DAYS":                            "30",
		"AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS":                    "30",
		"AUTOSCALE_TABLE_NAME":                                     stack.Outputs["TableName"],
		"AUTOSCALE_TOPIC_ARN":                                      stack.Outputs["TopicArn"],
		"AUTOSCALE_TICK_QUEUE_URL":                                 stack.Resources["TickQueue"],
		"AUTOSCALE_SETTINGS_FILE":                                  "",
		"AUTOSCALE_PER_FORMATION_METRICS":                          "false",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("environment:\n%v\nwant\n%v", env, want)
	}

	fromTemplate, err := settings.LoadLambda(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the core rejects the template's defaults: %v", err)
	}
	minimal := map[string]string{}
	for _, name := range []string{settings.EnvAppName, settings.EnvHeartbeatURL, settings.EnvAPIKeyParameter,
		settings.EnvTableName, settings.EnvTopicARN, settings.EnvFunctionTimeout, settings.EnvTickQueueURL} {
		minimal[name] = env[name]
	}
	fromCore, err := settings.LoadLambda(func(k string) string { return minimal[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromTemplate, fromCore) {
		t.Errorf("template defaults differ from the core's:\ntemplate %+v\ncore     %+v", fromTemplate, fromCore)
	}
}

// checkDashboard reads the dashboard body CloudFormation rendered: every
// metric is one the function writes, with the stack's app and process
// type; in a fleet, by Fleet (the function's name), FailedTicks too, and
// each formation's detail from Logs Insights queries of the function's own
// log group over the properties the function writes on its EMF line.
func checkDashboard(t *testing.T, raw, function, logGroup string, fleet bool) {
	t.Helper()
	var body struct {
		Widgets []struct {
			Type       string
			Properties struct {
				Region      string
				Metrics     [][]any
				Annotations struct{ Horizontal []struct{ Value float64 } }
				Query, View string
			}
		}
	}
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, raw)
	}
	used := map[string]bool{}
	var lines []float64
	var queries []string
	for i, w := range body.Widgets {
		if w.Properties.Region != awstest.Region {
			t.Errorf("widget %d: region %q, want the stack's", i, w.Properties.Region)
		}
		for _, a := range w.Properties.Annotations.Horizontal {
			lines = append(lines, a.Value)
		}
		switch w.Type {
		case "metric":
		case "log":
			// Logs Insights: the query names its log group with SOURCE.
			source := "SOURCE '" + logGroup + "' | "
			if !fleet || !strings.HasPrefix(w.Properties.Query, source) || !slices.Contains([]string{"table", "timeSeries"}, w.Properties.View) {
				t.Errorf("widget %d: log widget %q (%s) in a dashboard with settings file %v; want a fleet's query starting %q",
					i, w.Properties.Query, w.Properties.View, fleet, source)
			}
			queries = append(queries, w.Properties.Query)
		default:
			t.Errorf("widget %d: type %q", i, w.Type)
		}
		for _, row := range w.Properties.Metrics {
			var s []string
			for _, v := range row {
				if str, ok := v.(string); ok {
					s = append(s, str)
				}
			}
			switch {
			case !fleet && len(s) == 6 && s[0] == metrics.Namespace:
				used[s[1]] = true
				if s[2] != metrics.DimensionApp || s[3] != "my-app" || s[4] != metrics.DimensionProcessType || s[5] != "web" {
					t.Errorf("widget %d: %v, want App my-app, ProcessType web", i, s)
				}
			case fleet && len(s) == 4 && s[0] == metrics.Namespace:
				used[s[1]] = true
				if s[2] != metrics.DimensionFleet || s[3] != function {
					t.Errorf("widget %d: %v, want %s %s", i, s, metrics.DimensionFleet, function)
				}
			case len(s) == 4 && s[0] == "AWS/Lambda":
				if s[2] != "FunctionName" || s[3] != function {
					t.Errorf("widget %d: %v, want the function %s", i, s, function)
				}
			default:
				t.Errorf("widget %d: unexpected metric row %v", i, row)
			}
		}
	}
	got := slices.Sorted(maps.Keys(used))
	want := metrics.Names()
	if fleet {
		want = append(want, metrics.FailedTicks)
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("the dashboard shows %v\nthe function writes %v", got, want)
	}
	if !fleet {
		sort.Float64s(lines)
		if !slices.Equal(lines, []float64{200, 1000}) {
			t.Errorf("threshold lines %v, want MinResponseTimeInMs and MaxResponseTimeInMs (200, 1000)", lines)
		}
		return
	}
	// Each formation's latency and dynos over time, and its latest verdict,
	// reason, dynos and bounds.
	all := strings.Join(queries, "\n")
	for _, field := range []string{metrics.DimensionApp, metrics.DimensionProcessType, metrics.HeartbeatLatency, metrics.Dynos,
		metrics.TargetDynos, metrics.PropertyVerdict, metrics.PropertyReason, metrics.PropertyMinDynos, metrics.PropertyMaxDynos, metrics.FailedTicks} {
		if !regexp.MustCompile(`\b` + field + `\b`).MatchString(all) {
			t.Errorf("no query of the fleet dashboard reads %s:\n%s", field, all)
		}
	}
	if len(lines) != 0 {
		t.Errorf("threshold lines %v in a fleet, whose formations each have their own", lines)
	}
}

// TestAlarmRecoveredNotice sends CloudWatch's alarm state change events
// through the stack's rule in moto's EventBridge: only this stack's alarms
// going from ALARM to OK make a notice. moto's EventBridge does not deliver
// to SNS, so the rule's topic target is swapped for an SQS queue with the
// same input transformer.
func TestAlarmRecoveredNotice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stackWait)
	defer cancel()
	// A moto of its own: moto sends every put event to schedule rules too,
	// and fails on their Lambda targets, so the schedule's target is removed.
	moto := awstest.StartMoto(t)
	stack := stacktest.Deploy(ctx, t, moto, stacktest.Template(t), withRequired(nil))
	cfg := moto.Config(t)
	events := eventbridge.NewFromConfig(cfg)
	tick := stack.Resources["AutoscalerFunctionTick"]
	if _, err := events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(tick), Ids: tickTargets(ctx, t, events, tick)}); err != nil {
		t.Fatal(err)
	}
	rule := stack.Resources[recoveredID]
	targets, err := events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule)})
	if err != nil || len(targets.Targets) != 1 {
		t.Fatalf("targets of %s: %+v, %v", recoveredID, targets, err)
	}
	topic := targets.Targets[0]
	if aws.ToString(topic.Arn) != stack.Outputs["TopicArn"] || topic.InputTransformer == nil {
		t.Fatalf("target %+v: want the notification topic, with a message", topic)
	}
	q := sqs.NewFromConfig(cfg)
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(t, "recovered"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: created.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: []string{aws.ToString(topic.Id)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{
		Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"]), InputTransformer: topic.InputTransformer,
	}}}); err != nil {
		t.Fatal(err)
	}

	alarm := stack.Name + "-autoscaler-down"
	change := func(name, from, to string) ebtypes.PutEventsRequestEntry {
		detail, _ := json.Marshal(map[string]any{
			"alarmName":     name,
			"previousState": map[string]any{"value": from, "reason": "r"},
			"state":         map[string]any{"value": to, "reason": "r"},
		})
		return ebtypes.PutEventsRequestEntry{Source: aws.String("aws.cloudwatch"), DetailType: aws.String("CloudWatch Alarm State Change"),
			Detail: aws.String(string(detail)), Time: aws.Time(time.Date(2026, 3, 2, 17, 25, 0, 0, time.UTC))}
	}
	if _, err := events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		change(alarm, "INSUFFICIENT_DATA", "OK"), // every new alarm, on every deploy
		change(alarm, "OK", "ALARM"),             // CloudWatch's own AlarmActions tell this one
		change("someone-elses-alarm", "ALARM", "OK"),
		change(alarm, "ALARM", "OK"),
	}}); err != nil {
		t.Fatal(err)
	}

	var bodies []string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	if len(bodies) != 1 {
		t.Fatalf("got %d notices, want one, for %s going from ALARM to OK: %q", len(bodies), alarm, bodies)
	}
	var notice struct {
		Version, Source string
		Content         struct{ TextType, Title, Description string }
	}
	if err := json.Unmarshal([]byte(bodies[0]), &notice); err != nil {
		t.Fatalf("notice is not JSON: %v\n%s", err, bodies[0])
	}
	if notice.Version != "1.0" || notice.Source != "custom" || notice.Content.TextType != "client-markdown" ||
		!strings.Contains(notice.Content.Title, alarm) || !strings.Contains(notice.Content.Title, "OK") {
		t.Errorf("notice = %+v, want a Chatbot custom notification naming %s back to OK", notice, alarm)
	}
}

func tickTargets(ctx context.Context, t *testing.T, events *eventbridge.Client, rule string) []string {
	t.Helper()
	out, err := events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, target := range out.Targets {
		ids = append(ids, aws.ToString(target.Id))
	}
	return ids
}

// TestChatbotNameIsUniquePerAccount: channel configurations are global to
// the account, so the same stack name deployed in two regions must give two
// names, each within Chatbot's limits. moto does not create the channel;
// the name's expression is copied into an output for moto to evaluate.
func TestChatbotNameIsUniquePerAccount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stackWait)
	defer cancel()
	moto := awstest.SharedMoto(t)
	tmpl := stacktest.Template(t)
	name := templatetest.Dig(tmpl, "Resources", "SlackChannel", "Properties", "ConfigurationName")
	if name == nil {
		t.Fatal("SlackChannel has no ConfigurationName")
	}
	outputs := tmpl["Outputs"].(map[string]any)
	outputs["ChannelName"] = map[string]any{"Condition": templatetest.Dig(tmpl, "Resources", "SlackChannel", "Condition"), "Value": name}
	params := withRequired(map[string]string{"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"})
	// CloudFormation's longest stack name.
	stackName := "a" + strings.Repeat("b", 127)
	valid := regexp.MustCompile(`^[A-Za-z0-9-_]{1,128}$`) // CreateSlackChannelConfiguration's ConfigurationName
	var names []string
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		s := stacktest.DeployNamed(ctx, t, moto, region, stackName, tmpl, params)
		got := s.Outputs["ChannelName"]
		if !valid.MatchString(got) {
			t.Errorf("%s: channel name %q (%d characters) breaks Chatbot's %s", region, got, len(got), valid)
		}
		names = append(names, got)
	}
	if names[0] == names[1] {
		t.Errorf("stack %s in two regions: both channels are named %q", stackName, names[0])
	}
}

// TestDashboardFollowsTheSignal: with AutoscaleSignal=queue_time the
// latency widget is the queue time against the queue-time thresholds; with
// job_latency, the oldest job's wait against the job latency ones.
func TestDashboardFollowsTheSignal(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		lines  []float64
		title  string
	}{
		{"response time", nil, []float64{200, 1000}, "Heartbeat latency against the thresholds"},
		{"queue time", map[string]string{"AutoscaleSignal": "queue_time", "MaxQueueTimeInMs": "150"}, []float64{10, 150}, "Queue time (heartbeat) against the thresholds"},
		{"job latency", map[string]string{"AutoscaleSignal": "job_latency", "HerokuProcessType": "worker", "MinDynos": "0", "MaxJobLatencyInMs": "30000"},
			[]float64{1000, 30000}, "Job latency (oldest job waiting) against the thresholds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, _, stack := deploy(t, tt.params)
			raw, ok := stack.Dashboard(ctx, t, dashboardID)
			if !ok {
				t.Fatal("no dashboard")
			}
			var body struct {
				Widgets []struct {
					Properties struct {
						Title       string
						Annotations struct{ Horizontal []struct{ Value float64 } }
					}
				}
			}
			if err := json.Unmarshal([]byte(raw), &body); err != nil {
				t.Fatalf("dashboard body is not JSON: %v\n%s", err, raw)
			}
			w := body.Widgets[0].Properties
			var lines []float64
			for _, a := range w.Annotations.Horizontal {
				lines = append(lines, a.Value)
			}
			sort.Float64s(lines)
			if w.Title != tt.title || !slices.Equal(lines, tt.lines) {
				t.Errorf("latency widget %q with lines %v; want %q with %v", w.Title, lines, tt.title, tt.lines)
			}
		})
	}
}
