package templatetest_test

// Checks of the expanded template for what moto does not create or does not
// enforce: IAM statements, alarms, the topic policy. They read the template
// as text; nothing here evaluates it.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/stacktest"
	"github.com/autoscalebot/autoscalebot/internal/templatetest"
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
	t.Run("topic policy", func(t *testing.T) { checkTopicPolicy(t, doc) })
	t.Run("free tier", func(t *testing.T) { checkMonitoringFreeTier(t, doc) })
}

// checkNoWildcardResources: every resource an Allow statement names is a
// reference to a resource or to a parameter whose pattern admits no "*", or
// an ARN with no "*" of its own, except the log streams of one named log
// group, whose names Lambda picks at run time.
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
			resources := templatetest.AsList(templatetest.Dig(s, "Resource"))
			if len(resources) == 0 {
				t.Errorf("%s statement %d names no resource", id, i)
			}
			for _, r := range resources {
				if !specific(doc, r) {
					t.Errorf("%s statement %d: resource %#v is not specific", id, i, r)
				}
			}
		}
	}
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
	want := map[string]any{
		"logs:CreateLogStream":    logStreams,
		"logs:PutLogEvents":       logStreams,
		"dynamodb:GetItem":        table,
		"dynamodb:PutItem":        table,
		"dynamodb:BatchWriteItem": table,
		"sns:Publish":             map[string]any{"Ref": "NotificationTopic"},
		"ssm:GetParameter":        map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${HerokuApiKeyParameterName}"},
		"kms:Decrypt":             map[string]any{"Ref": "HerokuApiKeyKmsKeyArn"},
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
// alarm metrics (a metric math alarm counts each metric it reads).
func checkMonitoringFreeTier(t *testing.T, doc map[string]any) {
	read := 0
	for _, id := range alarmIDs {
		p := templatetest.Dig(doc, "Resources", id, "Properties")
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
		t.Errorf("the alarms read %d metrics; 10 alarm metrics are free", read)
	}
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
