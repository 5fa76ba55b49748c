package template

// The template's deploy-time checks that CloudFormation Rules make: the
// combinations of parameters they refuse must be the ones the function's
// own settings code refuses at load, so the rules are derived here from
// internal/settings and compared with template.yaml.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile/settingsfiletest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

const (
	heartbeatParam = "HeartbeatTimeoutInMs"
	functionParam  = "FunctionTimeoutInSeconds"
)

// heartbeatRuleName names the rule that guards one HeartbeatTimeoutInMs value.
func heartbeatRuleName(ms string) string { return "HeartbeatTimeout" + ms + "FitsTheFunction" }

// TestHeartbeatRulesFollowTheSettings: for every HeartbeatTimeoutInMs the
// template allows, its rule refuses exactly the FunctionTimeoutInSeconds
// values (within the parameter's range) that settings.LoadLambda rejects, so
// a stack that would fail every invocation cannot deploy.
func TestHeartbeatRulesFollowTheSettings(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	heartbeats := tmpl.Parameters()[heartbeatParam].AllowedValues
	if len(heartbeats) == 0 {
		t.Fatalf("%s has no AllowedValues: Rules cannot compare numbers, so each value needs its own rule", heartbeatParam)
	}
	lo, hi := numberBound(t, tmpl, functionParam, "MinValue"), numberBound(t, tmpl, functionParam, "MaxValue")
	rules, _ := tmpl.Doc["Rules"].(map[string]any)

	want := map[string]any{}
	var snippet strings.Builder
	for _, ms := range heartbeats {
		h, err := strconv.Atoi(ms)
		if err != nil {
			t.Fatalf("%s AllowedValues: %q is not a number", heartbeatParam, ms)
		}
		var refused []any
		least := 0
		for f := lo; f <= hi; f++ {
			if fits(t, h, f) {
				if least == 0 {
					least = f
				}
				continue
			}
			refused = append(refused, strconv.Itoa(f))
		}
		if least == 0 {
			t.Errorf("%s=%d fits no %s in %d..%d: drop it from AllowedValues", heartbeatParam, h, functionParam, lo, hi)
			continue
		}
		if len(refused) == 0 {
			continue // every function timeout fits: no rule
		}
		desc := fmt.Sprintf("With %s=%d, %s must be at least %d (the probe must end %s before the function timeout).",
			heartbeatParam, h, functionParam, least, settings.FunctionTimeoutMargin)
		want[heartbeatRuleName(ms)] = map[string]any{
			"RuleCondition": map[string]any{"Fn::Equals": []any{ref(heartbeatParam), ms}},
			"Assertions": []any{map[string]any{
				"Assert":            map[string]any{"Fn::Not": []any{map[string]any{"Fn::Contains": []any{refused, ref(functionParam)}}}},
				"AssertDescription": desc,
			}},
		}
		quoted := make([]string, len(refused))
		for i, f := range refused {
			quoted[i] = strconv.Quote(f.(string))
		}
		fmt.Fprintf(&snippet, "  %s:\n    RuleCondition: !Equals [!Ref %s, %q]\n    Assertions:\n"+
			"      - Assert: !Not [{\"Fn::Contains\": [[%s], !Ref %s]}]\n        AssertDescription: %q\n",
			heartbeatRuleName(ms), heartbeatParam, ms, strings.Join(quoted, ", "), functionParam, desc)
	}

	got := map[string]any{}
	for name, rule := range rules {
		if strings.HasPrefix(name, "HeartbeatTimeout") {
			got[name] = rule
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("template.yaml's heartbeat rules differ from what internal/settings accepts; they should read:\n%s", snippet.String())
	}
}

// fits reports whether the function's settings accept a probe timeout of
// ms milliseconds in a function of seconds seconds.
func fits(t *testing.T, ms, seconds int) bool {
	t.Helper()
	env := map[string]string{
		settings.EnvAppName:          "my-app",
		settings.EnvHeartbeatURL:     "https://my-app.herokuapp.com/heartbeat",
		settings.EnvAPIKeyParameter:  "/autoscalebot/heroku-api-key",
		settings.EnvTableName:        "table",
		settings.EnvTopicARN:         "arn:aws:sns:us-east-1:123456789012:topic",
		settings.EnvHeartbeatTimeout: strconv.Itoa(ms),
		settings.EnvFunctionTimeout:  strconv.Itoa(seconds),
		settings.EnvTickQueueURL:     "https://sqs.us-east-1.amazonaws.com/123456789012/ticks",
	}
	_, err := settings.LoadLambda(func(k string) string { return env[k] })
	if err == nil {
		return true
	}
	var bad *settings.Error
	if !errors.As(err, &bad) {
		t.Fatalf("load settings: %v", err)
	}
	for _, p := range bad.Problems {
		if p.Var != settings.EnvHeartbeatTimeout {
			t.Fatalf("load settings with %s=%d, %s=%d: unexpected problem %s", settings.EnvHeartbeatTimeout, ms,
				settings.EnvFunctionTimeout, seconds, p)
		}
	}
	return false
}

// orEmpty is pattern, anchored ^…$, admitting the empty string too.
func orEmpty(pattern string) string {
	return "^(" + strings.TrimSuffix(strings.TrimPrefix(pattern, "^"), "$") + ")?$"
}

// TestSingleFormationRuleFollowsTheSettings: without a SettingsFile, the
// rule requires exactly the parameters the template lets be empty whose
// variables the function requires, so a stack that would fail every
// invocation cannot deploy; with a file, the formations give them, and
// the function loads the example file with them empty.
func TestSingleFormationRuleFollowsTheSettings(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	params := tmpl.Parameters()
	env := map[string]string{
		settings.EnvAppName:         "my-app",
		settings.EnvHeartbeatURL:    "https://my-app.herokuapp.com/heartbeat",
		settings.EnvAPIKeyParameter: "/autoscalebot/heroku-api-key",
		settings.EnvTableName:       "table",
		settings.EnvTickQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/ticks",
	}
	if _, err := settings.LoadLambda(func(k string) string { return env[k] }); err != nil {
		t.Fatalf("the complete environment: %v", err)
	}
	var want []string
	for _, v := range settings.Vars() {
		if v.Parameter == "" || !mayBeEmpty(t, tmpl, v.Parameter) {
			continue
		}
		without := maps.Clone(env)
		without[v.Name] = ""
		_, err := settings.LoadLambda(func(k string) string { return without[k] })
		var bad *settings.Error
		if errors.As(err, &bad) && slices.ContainsFunc(bad.Problems, func(p settings.Problem) bool {
			return p.Var == v.Name && strings.HasPrefix(p.Msg, "required")
		}) {
			want = append(want, v.Parameter)
		}
	}
	if len(want) == 0 {
		t.Fatal("no parameter the function requires may be empty: the rule has nothing to check")
	}

	rule := templatetest.Dig(tmpl.Doc, "Rules", "SingleFormationNeedsAnAppAndAHeartbeat")
	if got := templatetest.Dig(rule, "RuleCondition"); !reflect.DeepEqual(got, map[string]any{"Fn::Equals": []any{ref("SettingsFile"), ""}}) {
		t.Errorf("RuleCondition = %#v, want SettingsFile empty", got)
	}
	var got []string
	for _, a := range templatetest.AsList(templatetest.Dig(rule, "Assertions")) {
		args, _ := templatetest.Dig(a, "Assert", "Fn::Not").([]any)
		var param string
		if len(args) == 1 {
			eq, _ := templatetest.Dig(args[0], "Fn::Equals").([]any)
			if len(eq) == 2 && eq[1] == "" {
				param, _ = templatetest.Dig(eq[0], "Ref").(string)
			}
		}
		desc, _ := templatetest.Dig(a, "AssertDescription").(string)
		if param == "" || !strings.Contains(desc, param) {
			t.Errorf("assertion %#v: want !Not [!Equals [!Ref PARAM, \"\"]] described by PARAM's name", a)
			continue
		}
		got = append(got, param)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("without a SettingsFile the rule requires %v; the function requires %v", got, want)
	}
	if _, ok := params["SettingsFile"]; !ok {
		t.Fatal("no SettingsFile parameter")
	}

	// With a file, the same parameters empty: the example's formations name
	// their apps and heartbeats.
	root := repoRoot(t)
	fleetEnv := maps.Clone(env)
	for _, v := range settings.Vars() {
		if slices.Contains(want, v.Parameter) {
			fleetEnv[v.Name] = ""
		}
	}
	example, err := os.ReadFile(filepath.Join(root, "autoscalebot.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fleetEnv[settings.EnvSettingsFile] = "/var/task/autoscalebot.yaml"
	if _, err := settingsfile.LoadLambda(func(k string) string { return fleetEnv[k] }, settingsfiletest.Reader(t, string(example))); err != nil {
		t.Errorf("a fleet with %v empty: %v", want, err)
	}
}

// mayBeEmpty reports whether the template accepts "" for param.
func mayBeEmpty(t *testing.T, tmpl *templatetest.Template, param string) bool {
	t.Helper()
	p := tmpl.Parameters()[param]
	if p.Type != "String" {
		return false
	}
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, "") {
		return false
	}
	if n, ok := templatetest.Dig(tmpl.Doc, "Parameters", param, "MinLength").(int64); ok && n > 0 {
		return false
	}
	pattern, _ := templatetest.Dig(tmpl.Doc, "Parameters", param, "AllowedPattern").(string)
	return pattern == "" || regexp.MustCompile(pattern).MatchString("")
}

func numberBound(t *testing.T, tmpl *templatetest.Template, param, key string) int {
	t.Helper()
	v, ok := templatetest.Dig(tmpl.Doc, "Parameters", param, key).(int64)
	if !ok {
		t.Fatalf("%s has no literal %s", param, key)
	}
	return int(v)
}

// TestParameterPatternsAreTheSettings: the names the template accepts are
// the names the function accepts, so a deploy cannot pass a value that
// breaks the dashboard body or fails every invocation. The app may be
// empty, for a fleet (TestSingleFormationRuleFollowsTheSettings).
func TestParameterPatternsAreTheSettings(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	for param, want := range map[string]string{
		"HerokuAppName":     orEmpty(settings.AppNamePattern),
		"HerokuProcessType": settings.ProcessTypePattern,
	} {
		if got := templatetest.Dig(tmpl.Doc, "Parameters", param, "AllowedPattern"); got != want {
			t.Errorf("%s AllowedPattern = %#v, want settings' %q", param, got, want)
		}
	}
}

// TestSSMParameterName: the key's parameter name, and the heartbeat
// token's, must start with "/" so that the role's ARN (…:parameter${Name})
// names it exactly, and must not hold a wildcard. The token's may be empty
// (no token).
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
	for param, empty := range map[string]bool{"HerokuApiKeyParameterName": false, "HeartbeatTokenParameterName": true} {
		pattern, ok := templatetest.Dig(loadRepoTemplate(t).Doc, "Parameters", param, "AllowedPattern").(string)
		if !ok {
			t.Fatalf("%s has no AllowedPattern", param)
		}
		re := regexp.MustCompile(pattern)
		for _, tt := range append(tests, struct {
			name, value string
			ok          bool
		}{"empty", "", empty}) {
			t.Run(param+"/"+tt.name, func(t *testing.T) {
				if got := re.MatchString(tt.value); got != tt.ok {
					t.Fatalf("%s=%q matches %s: %v, want %v", param, tt.value, pattern, got, tt.ok)
				}
			})
		}
	}
}

// TestJobQueuesPatternIsTheLoaders: the queue lists the template admits
// are those the settings loader reads, so a deploy cannot pass one that
// fails every invocation.
func TestJobQueuesPatternIsTheLoaders(t *testing.T) {
	pattern, ok := templatetest.Dig(loadRepoTemplate(t).Doc, "Parameters", "JobQueues", "AllowedPattern").(string)
	if !ok {
		t.Fatal("JobQueues has no AllowedPattern")
	}
	re := regexp.MustCompile(pattern)
	for _, value := range []string{"", "default", "default,mailers", "a, b ,c", "critical:high.1_x-y", "a,", ",a", "a,,b",
		"low priority", "a/b", "a;b", "é", "a,b,a"} {
		env := map[string]string{settings.EnvAppName: "app", settings.EnvHeartbeatURL: "https://app.example.com/hb",
			settings.EnvJobQueues: value}
		_, err := settings.Load(func(k string) string { return env[k] })
		// The pattern cannot see a name given twice; the loader refuses it.
		loads := err == nil || value == "a,b,a"
		if got := re.MatchString(value); got != loads {
			t.Errorf("JobQueues=%q: the template admits it %v, the loader %v (%v)", value, got, loads, err)
		}
	}
}

// TestDownAlarmScheduleRule: with the down alarm on, the schedules the rule
// admits give the alarm at least two invocations in its window (one late or
// failed invocation must not page anyone), and slower ones are refused.
func TestDownAlarmScheduleRule(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	alarm := templatetest.Dig(tmpl.Doc, "Resources", "AutoscalerDownAlarm", "Properties")
	periods, _ := templatetest.Dig(alarm, "EvaluationPeriods").(int64)
	var period int64
	for _, m := range templatetest.AsList(templatetest.Dig(alarm, "Metrics")) {
		if p, ok := templatetest.Dig(m, "MetricStat", "Period").(int64); ok {
			period = p
		}
	}
	window := int(periods * period / 60) // minutes
	if window == 0 {
		t.Fatalf("down alarm: EvaluationPeriods %v, Period %v: no window", templatetest.Dig(alarm, "EvaluationPeriods"), period)
	}

	rule := templatetest.Dig(tmpl.Doc, "Rules", "DownAlarmNeedsAFrequentSchedule")
	wantCondition := map[string]any{"Fn::And": []any{
		map[string]any{"Fn::Equals": []any{ref("EnableDownAlarm"), "true"}},
		map[string]any{"Fn::Equals": []any{ref("ScheduleEnabled"), "true"}},
	}}
	if got := templatetest.Dig(rule, "RuleCondition"); !reflect.DeepEqual(got, wantCondition) {
		t.Errorf("RuleCondition = %#v, want the down alarm on and the schedule enabled", got)
	}
	var want []any
	for n := 1; 2*n <= window; n++ {
		unit := "minutes"
		if n == 1 {
			unit = "minute"
		}
		want = append(want, fmt.Sprintf("rate(%d %s)", n, unit))
	}
	assertions := templatetest.AsList(templatetest.Dig(rule, "Assertions"))
	if len(assertions) != 1 {
		t.Fatalf("assertions = %#v, want one", assertions)
	}
	wantAssert := map[string]any{"Fn::Contains": []any{want, ref("ScheduleExpression")}}
	if got := templatetest.Dig(assertions[0], "Assert"); !reflect.DeepEqual(got, wantAssert) {
		t.Errorf("Assert = %#v\nwant %#v (every rate with two invocations in the %d-minute window)", got, wantAssert, window)
	}
	def, _ := templatetest.Dig(tmpl.Doc, "Parameters", "ScheduleExpression", "Default").(string)
	if !slices.Contains(want, any(def)) {
		t.Errorf("the default ScheduleExpression %q is refused with the default EnableDownAlarm", def)
	}
}
