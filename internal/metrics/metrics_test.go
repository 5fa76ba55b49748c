package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

var now = time.Date(2026, 11, 27, 3, 4, 5, 678_000_000, time.UTC)

func TestWrite(t *testing.T) {
	base := tick.Summary{App: "my-app", ProcessType: "web", EventID: "ev-1", Min: 1, Max: 3}
	with := func(f func(*tick.Summary)) tick.Summary {
		s := base
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		sum   tick.Summary
		want  map[string]float64 // every metric on the line, with its value
		props map[string]any     // every property besides the dimensions
	}{
		{
			name: "steady in range",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason = "ok", 420, 2, 2, "Steady"
				s.RateLimitRemaining = ptr(4321)
			}),
			want: map[string]float64{
				HeartbeatLatency: 420, FailVerdicts: 0, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 2,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0, HerokuRateLimitRemaining: 4321,
			},
			props: map[string]any{"Verdict": "ok", "Reason": "Steady", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "the proportional policy scales up, and the line names it",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason, s.Scaled = "fail", 2100, 2, 4, "AboveTarget", true
				s.Policy = "proportional"
			}),
			want: map[string]float64{
				HeartbeatLatency: 2100, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 4,
				ScaleUps: 1, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "fail", "Reason": "AboveTarget", "Policy": "proportional", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "slow streak scales up",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason, s.Scaled = "fail", 1800, 1, 2, "SlowStreak", true
			}),
			want: map[string]float64{
				HeartbeatLatency: 1800, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 1, TargetDynos: 2,
				ScaleUps: 1, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "fail", "Reason": "SlowStreak", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "fast streak scales down",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason, s.Scaled = "pass", 35, 3, 2, "FastStreak", true
			}),
			want: map[string]float64{
				HeartbeatLatency: 35, FailVerdicts: 0, PassVerdicts: 1, ProbeErrors: 0,
				Dynos: 3, TargetDynos: 2,
				ScaleUps: 0, ScaleDowns: 1, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "pass", "Reason": "FastStreak", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "a fast beat of under a millisecond is still a latency",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason = "pass", 0, 1, 1, "AtMin"
			}),
			want: map[string]float64{
				HeartbeatLatency: 0, FailVerdicts: 0, PassVerdicts: 1, ProbeErrors: 0,
				Dynos: 1, TargetDynos: 1,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "pass", "Reason": "AtMin", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "timeout is a fail without a latency",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason = "fail", 0, 2, 2, "Steady"
			}),
			want: map[string]float64{
				FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 2,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "fail", "Reason": "Steady", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "probe error has no latency",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason = "error", 0, 2, 2, "ProbeError"
			}),
			want: map[string]float64{
				FailVerdicts: 0, PassVerdicts: 0, ProbeErrors: 1,
				Dynos: 2, TargetDynos: 2,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "error", "Reason": "ProbeError", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "failed scale counts as a failure, not a scale",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason = "fail", 2500, 1, 2, "SlowStreak"
				s.ScaleError = "heroku: 422 over plan limit"
			}),
			want: map[string]float64{
				HeartbeatLatency: 2500, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 1, TargetDynos: 2,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 1,
			},
			props: map[string]any{"Verdict": "fail", "Reason": "SlowStreak", "EventId": "ev-1", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "dry run counts the simulated scale",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason, s.Scaled, s.DryRun = "fail", 1500, 2, 3, "SlowStreak", true, true
			}),
			want: map[string]float64{
				HeartbeatLatency: 1500, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 3,
				ScaleUps: 1, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "fail", "Reason": "SlowStreak", "EventId": "ev-1", "DryRun": true, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "paused",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason, s.Paused = "fail", 1500, 2, 2, "Paused", true
				s.RateLimitRemaining = ptr(0)
			}),
			want: map[string]float64{
				HeartbeatLatency: 1500, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 2,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0, HerokuRateLimitRemaining: 0,
			},
			props: map[string]any{"Verdict": "fail", "Reason": "Paused", "EventId": "ev-1", "DryRun": false, "Paused": true, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
		{
			name: "heroku refused: no dyno counts",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Reason, s.HerokuRefused, s.Min, s.Max = "ok", 300, "HerokuRefused", true, 0, 0
				s.RateLimitRemaining = ptr(4000)
			}),
			want: map[string]float64{
				HeartbeatLatency: 300, FailVerdicts: 0, PassVerdicts: 0, ProbeErrors: 0,
				HerokuRateLimitRemaining: 4000,
			},
			props: map[string]any{"Verdict": "ok", "Reason": "HerokuRefused", "EventId": "ev-1", "DryRun": false, "Paused": false},
		},
		{
			name: "tick failed after probing, before deciding",
			sum: with(func(s *tick.Summary) {
				s.Verdict, s.LatencyMS, s.Min, s.Max = "pass", 80, 0, 0
			}),
			want: map[string]float64{
				HeartbeatLatency: 80, FailVerdicts: 0, PassVerdicts: 1, ProbeErrors: 0,
			},
			props: map[string]any{"Verdict": "pass", "EventId": "ev-1", "DryRun": false, "Paused": false},
		},
		{
			name: "no event id",
			sum: with(func(s *tick.Summary) {
				s.EventID, s.Verdict, s.LatencyMS, s.Current, s.Target, s.Reason = "", "ok", 500, 1, 1, "Steady"
			}),
			want: map[string]float64{
				HeartbeatLatency: 500, FailVerdicts: 0, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 1, TargetDynos: 1,
				ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0,
			},
			props: map[string]any{"Verdict": "ok", "Reason": "Steady", "DryRun": false, "Paused": false, "MinDynos": 1.0, "MaxDynos": 3.0},
		},
	}
	schema := loadSchema(t)
	emitted := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, now, tt.sum); err != nil {
				t.Fatalf("Write: %v", err)
			}
			doc := checkEMF(t, schema, buf.Bytes(), now)

			got := map[string]float64{}
			for _, m := range directiveMetrics(doc) {
				got[m] = doc[m].(float64)
				emitted[m] = true
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("metrics:\n got %v\nwant %v", got, tt.want)
			}
			if doc[DimensionApp] != tt.sum.App || doc[DimensionProcessType] != tt.sum.ProcessType {
				t.Errorf("dimensions App=%v ProcessType=%v, want %s/%s", doc[DimensionApp], doc[DimensionProcessType], tt.sum.App, tt.sum.ProcessType)
			}
			props := map[string]any{}
			for k, v := range doc {
				if _, isMetric := got[k]; !isMetric && k != "_aws" && k != DimensionApp && k != DimensionProcessType {
					props[k] = v
				}
			}
			if !reflect.DeepEqual(props, tt.props) {
				t.Errorf("properties:\n got %v\nwant %v", props, tt.props)
			}
		})
	}

	t.Run("Names lists exactly what Write emits", func(t *testing.T) {
		var seen []string
		for name := range emitted {
			seen = append(seen, name)
		}
		slices.Sort(seen)
		listed := Names()
		slices.Sort(listed)
		if !slices.Equal(seen, listed) {
			t.Errorf("emitted across the cases %v\nNames() %v", seen, listed)
		}
	})
}

// TestWriteNothing: ticks that must not add to any metric write no line at
// all. A duplicate or a lost race would otherwise count its minute's verdicts
// and scales twice; counting the skips themselves would take an 11th metric
// (see TestFreeTier).
func TestWriteNothing(t *testing.T) {
	base := tick.Summary{App: "my-app", ProcessType: "web", EventID: "ev-1"}
	tests := []struct {
		name string
		sum  func(*tick.Summary)
	}{
		{"tick ended before probing", func(*tick.Summary) {}},
		{"duplicate delivery", func(s *tick.Summary) { s.Duplicate, s.Paused = true, true }},
		{"lost the race after probing and deciding", func(s *tick.Summary) {
			s.Conflict, s.Verdict, s.LatencyMS, s.Current, s.Target, s.Min, s.Max, s.Reason = true, "fail", 1500, 1, 2, 1, 3, "SlowStreak"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := base
			sum.RateLimitRemaining = ptr(4000)
			tt.sum(&sum)
			w := &failWriter{}
			if err := Write(w, now, sum); err != nil {
				t.Fatal(err)
			}
			if w.calls != 0 {
				t.Errorf("wrote %d times, want no line", w.calls)
			}
		})
	}
}

// TestFreeTier guards the "no cost beyond the log" promise in the package
// doc. CloudWatch bills each custom metric (name × dimension values) at $0.30
// a month beyond the 10 that are always free per account; every metric here
// is published under one dimension set, so one app and process type costs
// len(Names()) custom metrics. An 11th name would be billed for every user,
// however few ticks write it. Put extra data on the line as a property instead.
func TestFreeTier(t *testing.T) {
	const free = 10
	if n := len(Names()); n > free {
		t.Errorf("Names() has %d metrics %v; CloudWatch's free tier covers %d custom metrics per account", n, Names(), free)
	}
}

func TestWriteErrors(t *testing.T) {
	ok := tick.Summary{App: "my-app", ProcessType: "web", Verdict: "ok", LatencyMS: 300, Reason: "Steady", Current: 1, Target: 1, Min: 1, Max: 2}
	tests := []struct {
		name string
		w    *failWriter
		sum  tick.Summary
		want string
	}{
		{"no app", &failWriter{}, tick.Summary{ProcessType: "web", Verdict: "ok"}, "required dimensions"},
		{"no process type", &failWriter{}, tick.Summary{App: "my-app", Verdict: "ok"}, "required dimensions"},
		{"app name too long", &failWriter{}, tick.Summary{App: strings.Repeat("a", 1025), ProcessType: "web", Verdict: "ok"}, "longer than 1024"},
		{"writer fails", &failWriter{err: errors.New("stdout closed")}, ok, "stdout closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Write(tt.w, now, tt.sum)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if tt.w.err == nil && tt.w.calls > 0 {
				t.Errorf("wrote %d times on a rejected summary", tt.w.calls)
			}
		})
	}
}

// TestWriteOneCall checks the whole line reaches the writer in one call, so
// it cannot interleave with log lines on the same stream.
func TestWriteOneCall(t *testing.T) {
	w := &failWriter{}
	sum := tick.Summary{App: "my-app", ProcessType: "web", Verdict: "ok", LatencyMS: 300, Reason: "Steady", Current: 1, Target: 1, Min: 1, Max: 2, RateLimitRemaining: ptr(100)}
	if err := Write(w, now, sum); err != nil {
		t.Fatal(err)
	}
	if w.calls != 1 {
		t.Errorf("Write called the writer %d times, want 1", w.calls)
	}
}

// TestSchema checks the schema used above accepts the specification's own
// example and rejects documents that break it, so a pass means something.
func TestSchema(t *testing.T) {
	valid := `{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics",` +
		`"Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},` +
		`"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}`
	var tooMany []string
	for i := range 101 {
		tooMany = append(tooMany, `{"Name":"m`+string(rune('a'+i%26))+`"}`)
	}
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"specification example", valid, true},
		{"no _aws", `{"time":1}`, false},
		{"no timestamp", strings.Replace(valid, `"Timestamp":1574109732004,`, "", 1), false},
		{"timestamp in seconds as a float", strings.Replace(valid, "1574109732004", "1574109732.004", 1), false},
		{"no namespace", strings.Replace(valid, `"Namespace":"lambda-function-metrics",`, "", 1), false},
		{"empty namespace", strings.Replace(valid, `"lambda-function-metrics"`, `""`, 1), false},
		{"no dimension sets", strings.Replace(valid, `[["functionVersion"]]`, `[]`, 1), false},
		{"unknown unit", strings.Replace(valid, `"Milliseconds"`, `"Millis"`, 1), false},
		{"storage resolution 30", strings.Replace(valid, `"StorageResolution":60`, `"StorageResolution":30`, 1), false},
		{"unknown directive member", strings.Replace(valid, `"Namespace"`, `"Extra":1,"Namespace"`, 1), false},
		{"101 metrics", strings.Replace(valid, `[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]`, "["+strings.Join(tooMany, ",")+"]", 1), false},
		{"31 dimensions", strings.Replace(valid, `[["functionVersion"]]`, `[[`+strings.Repeat(`"d",`, 30)+`"d"]]`, 1), false},
	}
	schema := loadSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schema.Validate(decode(t, []byte(tt.doc)))
			if (err == nil) != tt.ok {
				t.Fatalf("valid = %v, want %v (%v)", err == nil, tt.ok, err)
			}
		})
	}
}

// validUnits are CloudWatch's MetricDatum units.
var validUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// checkEMF parses out as exactly one EMF line and checks it against the
// schema and the rules the schema cannot express. It returns the document
// with numbers as float64.
func checkEMF(t *testing.T, schema *jsonschema.Schema, out []byte, at time.Time) map[string]any {
	t.Helper()
	return checkEMFDims(t, schema, out, at, []any{[]any{DimensionApp, DimensionProcessType}})
}

// checkEMFDims is checkEMF with the dimension sets the line must declare.
func checkEMFDims(t *testing.T, schema *jsonschema.Schema, out []byte, at time.Time, wantDims []any) map[string]any {
	t.Helper()
	if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != 1 {
		t.Fatalf("want exactly one line ending in a newline, got %q", out)
	}
	if err := schema.Validate(decode(t, out)); err != nil {
		t.Fatalf("not a valid EMF document: %v\n%s", err, out)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	aws := doc["_aws"].(map[string]any)
	if ts := aws["Timestamp"].(float64); int64(ts) != at.UnixMilli() {
		t.Errorf("Timestamp = %v, want %d (now in ms)", ts, at.UnixMilli())
	}
	directives := aws["CloudWatchMetrics"].([]any)
	if len(directives) != 1 {
		t.Fatalf("want one metric directive, got %d", len(directives))
	}
	for _, d := range directives {
		d := d.(map[string]any)
		if d["Namespace"] != Namespace {
			t.Errorf("Namespace = %v, want %s", d["Namespace"], Namespace)
		}
		if sets := d["Dimensions"].([]any); !reflect.DeepEqual(sets, wantDims) {
			t.Errorf("Dimensions = %v, want %v", sets, wantDims)
		}
		dims := map[string]bool{}
		for _, set := range d["Dimensions"].([]any) {
			for _, k := range set.([]any) {
				name := k.(string)
				dims[name] = true
				v, ok := doc[name].(string)
				if !ok || v == "" || len(v) > 1024 {
					t.Errorf("dimension %s: top-level value %#v, want a string of 1 to 1024 characters", name, doc[name])
				}
			}
		}
		metricList := d["Metrics"].([]any)
		if len(metricList) == 0 || len(metricList) > 100 {
			t.Errorf("%d metrics in the directive, want 1 to 100", len(metricList))
		}
		seen := map[string]bool{}
		for _, m := range metricList {
			m := m.(map[string]any)
			name := m["Name"].(string)
			if seen[name] {
				t.Errorf("metric %s listed twice", name)
			}
			seen[name] = true
			if dims[name] {
				t.Errorf("%s is both a metric and a dimension", name)
			}
			if _, ok := doc[name].(float64); !ok {
				t.Errorf("metric %s: top-level value %#v, want a number", name, doc[name])
			}
			unit, _ := m["Unit"].(string)
			if !slices.Contains(validUnits, unit) {
				t.Errorf("metric %s: unit %q is not a CloudWatch unit", name, unit)
			}
			if want := units[name]; unit != want {
				t.Errorf("metric %s: unit %q, want %q", name, unit, want)
			}
		}
	}
	return doc
}

func directiveMetrics(doc map[string]any) []string {
	var out []string
	for _, d := range doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
		for _, m := range d.(map[string]any)["Metrics"].([]any) {
			out = append(out, m.(map[string]any)["Name"].(string))
		}
	}
	return out
}

func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join("testdata", "emf.schema.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	const url = "file:///emf.schema.json"
	if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return s
}

// decode parses one JSON value with exact numbers, as the validator wants.
func decode(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if dec.More() {
		t.Fatalf("data after the JSON value: %s", data)
	}
	return v
}

type failWriter struct {
	err   error
	calls int
}

func (w *failWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func ptr(n int) *int { return &n }
