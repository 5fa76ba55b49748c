package cfntemplate

// Tests of the dashboard and alarms in template.yaml, and of their agreement
// with the metrics the function writes (internal/metrics).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

const (
	dashboardID      = "Dashboard"
	errorsAlarmID    = "FunctionErrorsAlarm"
	throttlesAlarmID = "FunctionThrottlesAlarm"
	downAlarmID      = "AutoscalerDownAlarm"
	// sampleFunctionName stands for the deployed function's name in rendered text.
	sampleFunctionName = "autoscalebot-AutoscalerFunction-1ABC"
)

func TestMonitoringResources(t *testing.T) {
	all := []string{errorsAlarmID, throttlesAlarmID, downAlarmID}
	tests := []struct {
		name      string
		params    map[string]string
		dashboard bool
		alarms    []string
	}{
		{"defaults", nil, true, all},
		{"dashboard off", map[string]string{"EnableDashboard": "false"}, false, all},
		{"error alarm off", map[string]string{"EnableErrorAlarm": "false"}, true, []string{throttlesAlarmID, downAlarmID}},
		{"throttle alarm off", map[string]string{"EnableThrottleAlarm": "false"}, true, []string{errorsAlarmID, downAlarmID}},
		{"down alarm off", map[string]string{"EnableDownAlarm": "false"}, true, []string{errorsAlarmID, throttlesAlarmID}},
		{"schedule paused: not down, just paused", map[string]string{"ScheduleEnabled": "false"}, true, []string{errorsAlarmID, throttlesAlarmID}},
		{"everything off", map[string]string{
			"EnableDashboard": "false", "EnableErrorAlarm": "false", "EnableThrottleAlarm": "false", "EnableDownAlarm": "false",
		}, false, nil},
	}
	requireSAMTranslator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := expand(t, withRequired(tt.params))

			dashboards := ofType(doc, "AWS::CloudWatch::Dashboard")
			if want := ids(tt.dashboard, dashboardID); !reflect.DeepEqual(dashboards, want) {
				t.Errorf("dashboards = %v, want %v", dashboards, want)
			}
			url := dig(doc, "Outputs", "DashboardUrl", "Value")
			if tt.dashboard != (url != nil) {
				t.Errorf("DashboardUrl output = %#v, want it present only with the dashboard", url)
			}
			if tt.dashboard {
				values := map[string]string{"Dashboard": "autoscalebot-us-east-1"}
				for k, v := range pseudo {
					values[k] = v
				}
				got, err := text(url, values)
				want := "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/autoscalebot-us-east-1"
				if err != nil || got != want {
					t.Errorf("DashboardUrl = %q (%v), want %q", got, err, want)
				}
			}

			alarms := ofType(doc, "AWS::CloudWatch::Alarm")
			wantAlarms := slices.Clone(tt.alarms)
			sort.Strings(wantAlarms)
			if !reflect.DeepEqual(alarms, wantAlarms) {
				t.Errorf("alarms = %v, want %v", alarms, wantAlarms)
			}
			for _, id := range alarms {
				p := dig(doc, "Resources", id, "Properties")
				topic := []any{ref("NotificationTopic")}
				if !reflect.DeepEqual(dig(p, "AlarmActions"), topic) || !reflect.DeepEqual(dig(p, "OKActions"), topic) {
					t.Errorf("%s: AlarmActions %#v, OKActions %#v: want both to be the notification topic",
						id, dig(p, "AlarmActions"), dig(p, "OKActions"))
				}
				if dig(p, "ActionsEnabled") == false {
					t.Errorf("%s: actions disabled", id)
				}
				if name, err := text(dig(p, "AlarmName"), pseudo); err != nil || name == "" {
					t.Errorf("%s: AlarmName %#v (%v) does not render", id, dig(p, "AlarmName"), err)
				}
			}
			checkTopicAcceptsAlarms(t, doc)
		})
	}
}

// checkTopicAcceptsAlarms: CloudWatch alarms of the same account publish to
// a topic under SNS's default access policy, but not to one whose custom
// policy leaves them out, nor to a KMS-encrypted topic whose key policy does.
func checkTopicAcceptsAlarms(t *testing.T, doc map[string]any) {
	t.Helper()
	if key := dig(doc, "Resources", "NotificationTopic", "Properties", "KmsMasterKeyId"); key != nil {
		t.Errorf("the topic is encrypted with %#v: its key policy must let cloudwatch.amazonaws.com use it, "+
			"or the alarms' notifications are dropped (update this test with that grant)", key)
	}
	for _, id := range ofType(doc, "AWS::SNS::TopicPolicy") {
		p := dig(doc, "Resources", id, "Properties")
		if !slices.ContainsFunc(asList(dig(p, "Topics")), func(v any) bool { return reflect.DeepEqual(v, ref("NotificationTopic")) }) {
			continue
		}
		allowed := false
		for _, s := range asList(dig(p, "PolicyDocument", "Statement")) {
			allowed = allowed || (dig(s, "Effect") == "Allow" &&
				slices.Contains(asList(dig(s, "Principal", "Service")), any("cloudwatch.amazonaws.com")) &&
				slices.ContainsFunc(asList(dig(s, "Action")), func(a any) bool { return a == "sns:Publish" || a == "SNS:Publish" }))
		}
		if !allowed {
			t.Errorf("%s replaces SNS's default topic policy without letting cloudwatch.amazonaws.com publish", id)
		}
	}
}

func TestAlarmDefinitions(t *testing.T) {
	requireSAMTranslator(t)
	doc := expand(t, withRequired(nil))
	function := []any{map[string]any{"Name": "FunctionName", "Value": ref(functionID)}}
	for _, tt := range []struct{ id, metric string }{
		{errorsAlarmID, "Errors"},
		{throttlesAlarmID, "Throttles"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			p := dig(doc, "Resources", tt.id, "Properties")
			for key, want := range map[string]any{
				"Namespace":          "AWS/Lambda",
				"MetricName":         tt.metric,
				"Dimensions":         function,
				"Statistic":          "Sum",
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"TreatMissingData":   "notBreaching",
			} {
				if got := dig(p, key); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", key, got, want)
				}
			}
			// "At least one in 5 minutes."
			if numberOf(dig(p, "Threshold")) != 1 || numberOf(dig(p, "Period")) != 300 || numberOf(dig(p, "EvaluationPeriods")) != 1 {
				t.Errorf("Threshold %v, Period %v, EvaluationPeriods %v: want >= 1 in one 300 s period",
					dig(p, "Threshold"), dig(p, "Period"), dig(p, "EvaluationPeriods"))
			}
		})
	}

	t.Run(downAlarmID, func(t *testing.T) {
		p := dig(doc, "Resources", downAlarmID, "Properties")
		alarm := parseDownAlarm(t, p)
		for _, m := range []struct {
			id, name string
		}{{alarm.invocations, "Invocations"}, {alarm.errors, "Errors"}} {
			stat := alarm.stats[m.id]
			if dig(stat, "Metric", "Namespace") != "AWS/Lambda" || dig(stat, "Metric", "MetricName") != m.name ||
				!reflect.DeepEqual(dig(stat, "Metric", "Dimensions"), function) || dig(stat, "Stat") != "Sum" {
				t.Errorf("metric %s = %#v, want the function's %s (Sum)", m.id, stat, m.name)
			}
		}
		minute := func(inv, errs float64) sample { return sample{invocations: inv, errors: errs, invoked: true} }
		idle := sample{}
		repeat := func(s sample, n int) []sample { return slices.Repeat([]sample{s}, n) }
		tests := []struct {
			name    string
			minutes []sample // oldest first; the alarm is evaluated after the last
			want    string
		}{
			{"healthy", repeat(minute(1, 0), 30), "OK"},
			{"schedule stopped 10 minutes ago", append(repeat(minute(1, 0), 20), repeat(idle, 10)...), "ALARM"},
			{"last success 9 minutes ago", append(repeat(minute(1, 0), 20), repeat(idle, 9)...), "OK"},
			{"never invoked at all", repeat(idle, 30), "ALARM"},
			{"every invocation failing for 10 minutes", append(repeat(minute(1, 0), 20), repeat(minute(1, 1), 10)...), "ALARM"},
			{"one success among failures", append(append(repeat(minute(1, 1), 15), minute(1, 0)), repeat(minute(1, 1), 8)...), "OK"},
			{"a retried failure then a success", append(repeat(minute(1, 1), 9), minute(2, 1)), "OK"},
			{"every 5 minutes, healthy", slices.Repeat(append([]sample{minute(1, 0)}, repeat(idle, 4)...), 6), "OK"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := alarm.evaluate(tt.minutes); got != tt.want {
					t.Errorf("state = %s, want %s", got, tt.want)
				}
			})
		}
	})
}

// sample is one minute of the function's Lambda metrics.
type sample struct {
	invocations, errors float64
	invoked             bool // false: Lambda published no datapoint that minute
}

// downAlarm is the down alarm's definition, as far as evaluating it needs.
type downAlarm struct {
	invocations, errors string // ids of the two metrics in the expression
	stats               map[string]any
	periods, toAlarm    int
	threshold           float64
	breachingMissing    bool
}

var fillDifference = regexp.MustCompile(`^FILL\((\w+), ?0\) - FILL\((\w+), ?0\)$`)

func parseDownAlarm(t *testing.T, p any) downAlarm {
	t.Helper()
	a := downAlarm{stats: map[string]any{}}
	var expr string
	for _, m := range asList(dig(p, "Metrics")) {
		id, _ := dig(m, "Id").(string)
		if e, ok := dig(m, "Expression").(string); ok {
			if dig(m, "ReturnData") != true || expr != "" {
				t.Fatalf("want exactly one expression, returning data; got %#v", dig(p, "Metrics"))
			}
			expr = e
			continue
		}
		if dig(m, "ReturnData") != false {
			t.Errorf("metric %s returns data; only the expression may", id)
		}
		if numberOf(dig(m, "MetricStat", "Period")) != 60 {
			t.Errorf("metric %s period = %v, want 60", id, dig(m, "MetricStat", "Period"))
		}
		a.stats[id] = dig(m, "MetricStat")
	}
	match := fillDifference.FindStringSubmatch(expr)
	if match == nil {
		t.Fatalf("expression %q: want FILL(invocations, 0) - FILL(errors, 0)", expr)
	}
	a.invocations, a.errors = match[1], match[2]
	for _, id := range []string{a.invocations, a.errors} {
		if a.stats[id] == nil {
			t.Fatalf("expression %q refers to %s, which is not defined", expr, id)
		}
	}
	if dig(p, "ComparisonOperator") != "LessThanThreshold" {
		t.Fatalf("ComparisonOperator = %v, want LessThanThreshold", dig(p, "ComparisonOperator"))
	}
	a.periods, a.toAlarm = int(numberOf(dig(p, "EvaluationPeriods"))), int(numberOf(dig(p, "DatapointsToAlarm")))
	a.threshold = numberOf(dig(p, "Threshold"))
	a.breachingMissing = dig(p, "TreatMissingData") == "breaching"
	if a.periods*60 != 600 {
		t.Errorf("EvaluationPeriods = %d one-minute periods, want 10 minutes", a.periods)
	}
	return a
}

// evaluate is the alarm's state after the last minute, by CloudWatch's
// rules: the expression per period (FILL gives 0 only when the series has
// some data in the window), "M out of N" datapoints breaching, and missing
// datapoints treated as TreatMissingData says.
func (a downAlarm) evaluate(minutes []sample) string {
	window := minutes[max(0, len(minutes)-a.periods):]
	anyData := slices.ContainsFunc(window, func(s sample) bool { return s.invoked })
	breaching := 0
	for _, s := range window {
		if !anyData {
			if a.breachingMissing {
				breaching++
			}
			continue
		}
		if s.invocations-s.errors < a.threshold {
			breaching++
		}
	}
	if breaching >= a.toAlarm {
		return "ALARM"
	}
	return "OK"
}

// dashboardParams are the sample values the dashboard is rendered with.
var dashboardParams = map[string]string{
	"HerokuAppName":       "my-app",
	"HerokuProcessType":   "web",
	"MaxResponseTimeInMs": "800",
	"MinResponseTimeInMs": "150",
}

func TestDashboardBody(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	params := withRequired(dashboardParams)
	body := renderDashboard(t, tmpl, params)

	widgets := asList(body["widgets"])
	if len(widgets) == 0 {
		t.Fatal("dashboard has no widgets")
	}
	checkLayout(t, widgets)
	used := map[string]bool{}
	var thresholds []float64
	for i, w := range widgets {
		if dig(w, "type") != "metric" {
			continue
		}
		props := dig(w, "properties")
		if dig(props, "region") != "us-east-1" {
			t.Errorf("widget %d: region %#v, want the stack's region", i, dig(props, "region"))
		}
		for _, m := range asList(dig(props, "metrics")) {
			ns, name, dims, err := metricEntry(m)
			if err != nil {
				t.Errorf("widget %d: %v", i, err)
				continue
			}
			switch ns {
			case metrics.Namespace:
				used[name] = true
				want := map[string]string{metrics.DimensionApp: "my-app", metrics.DimensionProcessType: "web"}
				if !reflect.DeepEqual(dims, want) {
					t.Errorf("widget %d: %s dimensions %v, want %v", i, name, dims, want)
				}
				if name == metrics.HeartbeatLatency {
					for _, a := range asList(dig(props, "annotations", "horizontal")) {
						thresholds = append(thresholds, numberOf(dig(a, "value")))
					}
				}
			case "AWS/Lambda":
				if !slices.Contains([]string{"Errors", "Throttles"}, name) ||
					!reflect.DeepEqual(dims, map[string]string{"FunctionName": sampleFunctionName}) {
					t.Errorf("widget %d: AWS/Lambda %s %v, want the function's Errors or Throttles", i, name, dims)
				}
			default:
				t.Errorf("widget %d: unexpected namespace %s", i, ns)
			}
		}
	}
	sort.Float64s(thresholds)
	if !reflect.DeepEqual(thresholds, []float64{150, 800}) {
		t.Errorf("latency widget's threshold lines = %v, want MinResponseTimeInMs and MaxResponseTimeInMs (150, 800)", thresholds)
	}

	t.Run("metric names are the ones the function writes", func(t *testing.T) {
		doc, err := Resolve(tmpl.Doc, params)
		if err != nil {
			t.Fatal(err)
		}
		resources, _ := doc["Resources"].(map[string]any)
		for _, r := range resources {
			if dig(r, "Type") != "AWS::CloudWatch::Alarm" {
				continue
			}
			p := dig(r, "Properties")
			if dig(p, "Namespace") == metrics.Namespace {
				used[dig(p, "MetricName").(string)] = true
			}
			for _, m := range asList(dig(p, "Metrics")) {
				if dig(m, "MetricStat", "Metric", "Namespace") == metrics.Namespace {
					used[dig(m, "MetricStat", "Metric", "MetricName").(string)] = true
				}
			}
		}
		var got []string
		for name := range used {
			got = append(got, name)
		}
		sort.Strings(got)
		want := metrics.Names()
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("dashboard and alarms use %v\nthe function writes %v", got, want)
		}
	})

	t.Run("dimension values are the ones the function writes", func(t *testing.T) {
		refs := map[string]string{
			"StateTable":        "autoscalebot-StateTable-1ABC",
			"NotificationTopic": "arn:aws:sns:us-east-1:123456789012:autoscalebot-NotificationTopic-1ABC",
		}
		env, err := tmpl.Environment(functionID, params, refs)
		if err != nil {
			t.Fatal(err)
		}
		s, err := settings.LoadLambda(lookup(env))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		sum := tick.Summary{App: s.AppName, ProcessType: s.ProcessType, Verdict: "ok", LatencyMS: 300,
			Reason: "Steady", Current: 1, Target: 1, Min: 1, Max: 3}
		if err := metrics.Write(&buf, time.Unix(0, 0), sum, 0, false); err != nil {
			t.Fatal(err)
		}
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line[metrics.DimensionApp] != "my-app" || line[metrics.DimensionProcessType] != "web" {
			t.Errorf("the function would write App=%v ProcessType=%v; the dashboard shows my-app/web",
				line[metrics.DimensionApp], line[metrics.DimensionProcessType])
		}
	})
}

// TestMonitoringFreeTier: one stack's dashboard and alarms stay inside
// CloudWatch's always-free allowance per account (3 dashboards of up to 50
// metrics each, 10 alarm metrics, a metric math alarm counting each metric it
// reads), so monitoring adds no cost. The custom metrics the function writes
// are held to their own free 10 by internal/metrics TestFreeTier.
func TestMonitoringFreeTier(t *testing.T) {
	const dashboardMetrics, alarmMetrics = 50, 10
	tmpl := loadRepoTemplate(t)
	params := withRequired(dashboardParams)

	shown := map[string]bool{}
	for _, w := range asList(renderDashboard(t, tmpl, params)["widgets"]) {
		for _, m := range asList(dig(w, "properties", "metrics")) {
			ns, name, dims, err := metricEntry(m)
			if err != nil {
				t.Fatal(err)
			}
			shown[fmt.Sprint(ns, name, dims)] = true
		}
	}
	if len(shown) > dashboardMetrics {
		t.Errorf("the dashboard shows %d metrics; a free dashboard shows at most %d", len(shown), dashboardMetrics)
	}

	doc, err := Resolve(tmpl.Doc, params)
	if err != nil {
		t.Fatal(err)
	}
	resources, _ := doc["Resources"].(map[string]any)
	alarms, read := 0, 0
	for _, r := range resources {
		if dig(r, "Type") != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms++
		if dig(r, "Properties", "MetricName") != nil {
			read++
		}
		for _, m := range asList(dig(r, "Properties", "Metrics")) {
			if dig(m, "MetricStat") != nil {
				read++
			}
		}
	}
	if alarms == 0 {
		t.Fatal("no alarms with the default parameters")
	}
	if read > alarmMetrics {
		t.Errorf("the alarms read %d metrics; %d alarm metrics are free", read, alarmMetrics)
	}
}

// renderDashboard resolves the template for params and renders the
// dashboard body as CloudFormation would, then parses it.
func renderDashboard(t *testing.T, tmpl *Template, params map[string]string) map[string]any {
	t.Helper()
	doc, err := Resolve(tmpl.Doc, params)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{functionID: sampleFunctionName}
	for k, v := range pseudo {
		values[k] = v
	}
	raw, err := text(dig(doc, "Resources", dashboardID, "Properties", "DashboardBody"), values)
	if err != nil {
		t.Fatalf("render DashboardBody: %v", err)
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("DashboardBody is not JSON after substitution: %v\n%s", err, raw)
	}
	if dec.More() {
		t.Fatalf("DashboardBody has data after the JSON object:\n%s", raw)
	}
	return body
}

// metricEntry reads one row of a metric widget:
// [namespace, name, dimension, value, …, {options}]. Rows here spell
// everything out ("." shorthand is not used).
func metricEntry(m any) (ns, name string, dims map[string]string, err error) {
	row := asList(m)
	if n := len(row); n > 0 {
		if _, ok := row[n-1].(map[string]any); ok {
			row = row[:n-1]
		}
	}
	if len(row) < 2 || len(row)%2 != 0 {
		return "", "", nil, fmt.Errorf("metric row %#v: want namespace, name and dimension pairs", m)
	}
	strs := make([]string, len(row))
	for i, v := range row {
		s, ok := v.(string)
		if !ok || s == "" || s == "." || s == ".." {
			return "", "", nil, fmt.Errorf("metric row %#v: item %d is not a spelled-out string", m, i)
		}
		strs[i] = s
	}
	dims = map[string]string{}
	for i := 2; i < len(strs); i += 2 {
		dims[strs[i]] = strs[i+1]
	}
	return strs[0], strs[1], dims, nil
}

// checkLayout: widgets fit the dashboard's 24 columns and do not overlap.
func checkLayout(t *testing.T, widgets []any) {
	t.Helper()
	type rect struct{ x, y, w, h int }
	var placed []rect
	for i, w := range widgets {
		r := rect{int(numberOf(dig(w, "x"))), int(numberOf(dig(w, "y"))), int(numberOf(dig(w, "width"))), int(numberOf(dig(w, "height")))}
		if r.w <= 0 || r.h <= 0 || r.x < 0 || r.y < 0 || r.x+r.w > 24 {
			t.Errorf("widget %d at %+v does not fit 24 columns", i, r)
		}
		for j, o := range placed {
			if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
				t.Errorf("widgets %d and %d overlap", j, i)
			}
		}
		placed = append(placed, r)
	}
}

func ids(present bool, id string) []string {
	if present {
		return []string{id}
	}
	return nil
}
