package template

// Checks of the expanded template for what moto does not create or does not
// enforce: IAM statements, alarms, the topic policy. They read the template
// as text; nothing here evaluates it.

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/stacktest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

var alarmIDs = []string{"AutoscalerDownAlarm", "FunctionErrorsAlarm", "FunctionThrottlesAlarm"}

func TestExpandedTemplate(t *testing.T) {
	doc := stacktest.Template(t)
	t.Run("no wildcard resources", func(t *testing.T) { checkNoWildcardResources(t, doc) })
	t.Run("function grants", func(t *testing.T) { checkFunctionGrants(t, doc) })
	t.Run("function architecture", func(t *testing.T) {
		if got := templatetest.Dig(doc, "Resources", "AutoscalerFunction", "Properties", "Architectures"); !reflect.DeepEqual(got, []any{"arm64"}) {
			t.Errorf("Architectures = %#v, want [arm64]", got)
		}
	})
	t.Run("alarms", func(t *testing.T) { checkAlarms(t, doc) })
	t.Run("fleet error alarm", func(t *testing.T) { checkFleetErrorAlarm(t, doc) })
	t.Run("topic policy", func(t *testing.T) { checkTopicPolicy(t, doc) })
	t.Run("free tier", func(t *testing.T) { checkMonitoringFreeTier(t, doc) })
}

// fleetParameters is the ARN of the SSM parameters a fleet's formations
// may keep their keys under, from the settings' own prefix.
var fleetParameters = map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" +
	settings.FleetParameterPrefix + "*"}

// checkNoWildcardResources: every resource an Allow statement names, in
// either branch of a condition, is a reference to a resource or to a
// parameter whose pattern admits no "*", or an ARN with no "*" of its own,
// except the log streams of one named log group, whose names Lambda picks
// at run time, and a fleet's SSM parameters under the settings' prefix.
func checkNoWildcardResources(t *testing.T, doc map[string]any) {
	for id, statements := range allStatements(doc) {
		for i, s := range statements {
			if templatetest.Dig(s, "Effect") != "Allow" {
				continue
			}
			if templatetest.Dig(s, "NotResource") != nil || templatetest.Dig(s, "NotAction") != nil {
				t.Errorf("%s statement %d uses NotResource/NotAction", id, i)
			}
			for _, a := range templatetest.AsList(templatetest.Dig(s, "Action")) {
				if str, _ := a.(string); strings.Contains(str, "*") {
					t.Errorf("%s statement %d: wildcard action %q", id, i, str)
				}
			}
			resources := branches(templatetest.Dig(s, "Resource"))
			if len(resources) == 0 {
				t.Errorf("%s statement %d names no resource", id, i)
			}
			for _, r := range resources {
				if !specific(doc, r) && !reflect.DeepEqual(r, fleetParameters) {
					t.Errorf("%s statement %d: resource %#v is not specific", id, i, r)
				}
			}
		}
	}
}

// branches lists v's values (a list's items), those of both branches of
// a Fn::If included, AWS::NoValue left out.
func branches(v any) []any {
	var out []any
	for _, x := range templatetest.AsList(v) {
		if b := templatetest.AsList(templatetest.Dig(x, "Fn::If")); len(b) == 3 {
			out = append(out, branches(b[1])...)
			out = append(out, branches(b[2])...)
			continue
		}
		if templatetest.Dig(x, "Ref") != "AWS::NoValue" {
			out = append(out, x)
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\$\{[^}]*\}`)

func specific(doc map[string]any, r any) bool {
	switch {
	case templatetest.Dig(r, "Fn::GetAtt") != nil:
		return true
	case templatetest.Dig(r, "Ref") != nil:
		name, _ := templatetest.Dig(r, "Ref").(string)
		if _, ok := templatetest.Dig(doc, "Resources", name).(map[string]any); ok {
			return true
		}
		// A parameter whose pattern cannot admit a "*": no "." or negated
		// class that could stand for one, and no literal one.
		pattern, _ := templatetest.Dig(doc, "Parameters", name, "AllowedPattern").(string)
		return pattern != "" && !strings.ContainsAny(pattern, ".") && !strings.Contains(pattern, "[^") &&
			!strings.Contains(pattern, `\*`) && !strings.Contains(pattern, `\S`) && !strings.Contains(pattern, `\W`)
	}
	sub, ok := templatetest.Dig(r, "Fn::Sub").(string)
	if !ok {
		return false
	}
	literal := placeholder.ReplaceAllString(sub, "X")
	if head, ok := strings.CutSuffix(literal, ":log-stream:*"); ok {
		return strings.HasSuffix(head, ":log-group:X") && !strings.Contains(head, "*")
	}
	return !strings.Contains(literal, "*")
}

// checkFunctionGrants: the function's role grants these actions on these
// resources and nothing else (lambdafn's TestFunctionUsesExactlyItsPermissions
// checks that the function uses them all).
func checkFunctionGrants(t *testing.T, doc map[string]any) {
	logStreams := map[string]any{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${AutoscalerLogGroup}:log-stream:*"}
	table := map[string]any{"Fn::GetAtt": []any{"StateTable", "Arn"}}
	queue := map[string]any{"Fn::GetAtt": []any{"TickQueue", "Arn"}}
	ownKey := map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${HerokuApiKeyParameterName}"}
	want := map[string]any{
		"logs:CreateLogStream":    logStreams,
		"logs:PutLogEvents":       logStreams,
		"dynamodb:GetItem":        table,
		"dynamodb:PutItem":        table,
		"dynamodb:BatchWriteItem": table,
		"sns:Publish":             map[string]any{"Ref": "NotificationTopic"},
		// The stack's own key; with a settings file, also its formations'
		// under the prefix the settings loader holds them to.
		// And the heartbeat token's parameter, when there is one.
		"ssm:GetParameter": []any{
			map[string]any{"Fn::If": []any{"HasSettingsFile", []any{ownKey, fleetParameters}, ownKey}},
			map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${HeartbeatTokenParameterName}"},
		},
		"kms:Decrypt": map[string]any{"Ref": "HerokuApiKeyKmsKeyArn"},
		// The scheduled invocation sends the minute's later slots; the
		// event source mapping polls under the same role.
		"sqs:SendMessage":        queue,
		"sqs:ReceiveMessage":     queue,
		"sqs:DeleteMessage":      queue,
		"sqs:GetQueueAttributes": queue,
	}
	got := map[string]any{}
	for _, s := range allStatements(doc)["AutoscalerFunctionRole"] {
		for _, a := range templatetest.AsList(templatetest.Dig(s, "Action")) {
			if prev, twice := got[a.(string)]; twice {
				got[a.(string)] = []any{prev, templatetest.Dig(s, "Resource")}
				continue
			}
			got[a.(string)] = templatetest.Dig(s, "Resource")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("function grants (action -> resource):\n%v\nwant\n%v", got, want)
	}
	if arns := templatetest.Dig(doc, "Resources", "AutoscalerFunctionRole", "Properties", "ManagedPolicyArns"); arns != nil {
		t.Errorf("function role has managed policies %v (AWSLambdaBasicExecutionRole grants logs on *)", arns)
	}
}

// checkAlarms: each alarm tells the topic when it enters ALARM and only then:
// OKActions would also fire on INSUFFICIENT_DATA -> OK, which every alarm
// goes through after each deploy.
func checkAlarms(t *testing.T, doc map[string]any) {
	for _, id := range alarmIDs {
		p := templatetest.Dig(doc, "Resources", id, "Properties")
		if p == nil {
			t.Errorf("alarm %s missing", id)
			continue
		}
		if !reflect.DeepEqual(templatetest.Dig(p, "AlarmActions"), []any{map[string]any{"Ref": "NotificationTopic"}}) {
			t.Errorf("%s AlarmActions = %#v, want the notification topic", id, templatetest.Dig(p, "AlarmActions"))
		}
		for _, key := range []string{"OKActions", "InsufficientDataActions"} {
			if v := templatetest.Dig(p, key); v != nil {
				t.Errorf("%s %s = %#v: notifies on every deploy; the ALARM -> OK notice is the rule's", id, key, v)
			}
		}
	}
}

// checkTopicPolicy: the policy replaces SNS's default one, so it must let
// every alarm and the recovered rule publish, naming each by ARN.
func checkTopicPolicy(t *testing.T, doc map[string]any) {
	var alarmARNs []any
	var names []any
	for _, id := range alarmIDs {
		name, _ := templatetest.Dig(doc, "Resources", id, "Properties", "AlarmName", "Fn::Sub").(string)
		names = append(names, map[string]any{"Fn::Sub": name})
		alarmARNs = append(alarmARNs, map[string]any{"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + name})
	}
	statements := templatetest.AsList(templatetest.Dig(doc, "Resources", "NotificationTopicPolicy", "Properties", "PolicyDocument", "Statement"))
	var cloudwatch, events any
	for _, s := range statements {
		if branches := templatetest.AsList(templatetest.Dig(s, "Fn::If")); len(branches) == 3 {
			s = branches[1]
		}
		switch templatetest.Dig(s, "Principal", "Service") {
		case "cloudwatch.amazonaws.com":
			cloudwatch = templatetest.Dig(s, "Condition", "ArnEquals", "aws:SourceArn")
		case "events.amazonaws.com":
			events = templatetest.Dig(s, "Condition", "ArnEquals", "aws:SourceArn")
		}
		if templatetest.Dig(s, "Action") != "sns:Publish" || !reflect.DeepEqual(templatetest.Dig(s, "Resource"), map[string]any{"Ref": "NotificationTopic"}) {
			t.Errorf("statement %#v: want sns:Publish on the notification topic only", s)
		}
	}
	if !sameSet(templatetest.AsList(cloudwatch), alarmARNs) {
		t.Errorf("alarms allowed to publish %#v, want the stack's alarms %#v", cloudwatch, alarmARNs)
	}
	if !reflect.DeepEqual(events, map[string]any{"Fn::GetAtt": []any{"AlarmRecoveredRule", "Arn"}}) {
		t.Errorf("events allowed to publish from %#v, want the alarm-recovered rule", events)
	}
	pattern := templatetest.Dig(doc, "Resources", "AlarmRecoveredRule", "Properties", "EventPattern", "detail", "alarmName")
	if !sameSet(templatetest.AsList(pattern), names) {
		t.Errorf("recovered rule matches alarms %#v, want the stack's %#v", pattern, names)
	}
}

// checkMonitoringFreeTier: the alarms read at most CloudWatch's 10 free
// alarm metrics (a metric math alarm counts each metric it reads), with a
// settings file or without.
func checkMonitoringFreeTier(t *testing.T, doc map[string]any) {
	for _, fleet := range []bool{false, true} {
		read := 0
		for _, id := range alarmIDs {
			p := withSettingsFile(templatetest.Dig(doc, "Resources", id, "Properties"), fleet)
			if templatetest.Dig(p, "MetricName") != nil {
				read++
			}
			for _, m := range templatetest.AsList(templatetest.Dig(p, "Metrics")) {
				if templatetest.Dig(m, "MetricStat") != nil {
					read++
				}
			}
		}
		if read > 10 {
			t.Errorf("settings file %v: the alarms read %d metrics; 10 alarm metrics are free", fleet, read)
		}
	}
}

// checkFleetErrorAlarm: without a settings file the error alarm is the
// function's Errors, as ever; with one, it also counts the FailedTicks the
// fleet's formations report (a formation fanned out over the tick queue
// fails in the partial batch response, not as a function error).
func checkFleetErrorAlarm(t *testing.T, doc map[string]any) {
	alarm := templatetest.Dig(doc, "Resources", "FunctionErrorsAlarm", "Properties")
	fn := []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": "AutoscalerFunction"}}}

	single := withSettingsFile(alarm, false)
	got := []any{templatetest.Dig(single, "Namespace"), templatetest.Dig(single, "MetricName"),
		templatetest.Dig(single, "Dimensions"), templatetest.Dig(single, "Statistic"), templatetest.Dig(single, "Metrics")}
	if want := []any{"AWS/Lambda", "Errors", fn, "Sum", nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("error alarm without a settings file: %#v, want %#v", got, want)
	}

	fleet := withSettingsFile(alarm, true)
	for _, key := range []string{"Namespace", "MetricName", "Dimensions", "Statistic", "Period"} {
		if v := templatetest.Dig(fleet, key); v != nil {
			t.Errorf("fleet error alarm has %s %#v beside its metric math", key, v)
		}
	}
	read := map[string]string{} // id -> namespace/name/dimension=value
	var expression string
	returned := 0
	for _, m := range templatetest.AsList(templatetest.Dig(fleet, "Metrics")) {
		if templatetest.Dig(m, "ReturnData") == true {
			returned++
		}
		if e, ok := templatetest.Dig(m, "Expression").(string); ok {
			expression = e
			continue
		}
		metric := templatetest.Dig(m, "MetricStat", "Metric")
		dims := templatetest.AsList(templatetest.Dig(metric, "Dimensions"))
		if len(dims) != 1 || !reflect.DeepEqual(templatetest.Dig(dims[0], "Value"), map[string]any{"Ref": "AutoscalerFunction"}) ||
			templatetest.Dig(m, "MetricStat", "Stat") != "Sum" || templatetest.Dig(m, "ReturnData") != false {
			t.Errorf("fleet error alarm metric %#v: want the Sum of one metric of this function, not returned", m)
			continue
		}
		id, _ := templatetest.Dig(m, "Id").(string)
		read[id] = fmt.Sprintf("%v/%v/%v", templatetest.Dig(metric, "Namespace"), templatetest.Dig(metric, "MetricName"), templatetest.Dig(dims[0], "Name"))
	}
	for id, metric := range read {
		if !strings.Contains(expression, "FILL("+id+", 0)") {
			t.Errorf("expression %q does not count %s (%s) with its missing data as 0", expression, id, metric)
		}
	}
	gotRead := slices.Sorted(maps.Values(read))
	wantRead := []string{"AWS/Lambda/Errors/FunctionName", metrics.Namespace + "/" + metrics.FailedTicks + "/" + metrics.DimensionFleet}
	if !slices.Equal(gotRead, wantRead) || returned != 1 || !strings.Contains(expression, "+") {
		t.Errorf("fleet error alarm reads %v (%s), returning %d series; want the sum of %v", gotRead, expression, returned, wantRead)
	}
}

// withSettingsFile resolves the template's Fn::If on HasSettingsFile in v
// as the condition would be, dropping what is then AWS::NoValue. Other
// conditions are left alone: this picks a branch, it evaluates nothing.
func withSettingsFile(v any, has bool) any {
	switch x := v.(type) {
	case map[string]any:
		if b, ok := x["Fn::If"].([]any); ok && len(b) == 3 && b[0] == "HasSettingsFile" {
			if has {
				return withSettingsFile(b[1], has)
			}
			return withSettingsFile(b[2], has)
		}
		out := map[string]any{}
		for k, e := range x {
			r := withSettingsFile(e, has)
			if templatetest.Dig(r, "Ref") == "AWS::NoValue" {
				continue
			}
			out[k] = r
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, withSettingsFile(e, has))
		}
		return out
	}
	return v
}

func sameSet(a, b []any) bool {
	key := func(l []any) []string {
		var out []string
		for _, v := range l {
			j, _ := json.Marshal(v)
			out = append(out, string(j))
		}
		sort.Strings(out)
		return out
	}
	return len(a) > 0 && slices.Equal(key(a), key(b))
}

// allStatements returns the IAM policy statements of every role and policy,
// the branches of a conditional statement included.
func allStatements(doc map[string]any) map[string][]any {
	out := map[string][]any{}
	resources, _ := doc["Resources"].(map[string]any)
	for id, r := range resources {
		var docs []any
		switch templatetest.Dig(r, "Type") {
		case "AWS::IAM::Role":
			for _, p := range templatetest.AsList(templatetest.Dig(r, "Properties", "Policies")) {
				docs = append(docs, templatetest.Dig(p, "PolicyDocument"))
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::SNS::TopicPolicy":
			docs = append(docs, templatetest.Dig(r, "Properties", "PolicyDocument"))
		}
		for _, d := range docs {
			for _, s := range templatetest.AsList(templatetest.Dig(d, "Statement")) {
				if branches := templatetest.AsList(templatetest.Dig(s, "Fn::If")); len(branches) == 3 {
					for _, b := range branches[1:] {
						if templatetest.Dig(b, "Ref") != "AWS::NoValue" {
							out[id] = append(out[id], b)
						}
					}
					continue
				}
				out[id] = append(out[id], s)
			}
		}
	}
	return out
}

func repoFile(t *testing.T, name string) string {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
