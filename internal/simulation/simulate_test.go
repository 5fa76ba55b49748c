package simulation

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/state"
)

func TestDeterministic(t *testing.T) {
	s := loadSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": "12"})
	tr, err := ProfileTrace("noisy", 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	run := runner(t, s, tr)
	m := defaultModel(s)
	a, b := run(m), run(m)
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed differ")
	}
	m.Seed = 2
	if c := run(m); reflect.DeepEqual(a.Scores, c.Scores) {
		t.Error("another seed gave the same run: the noise is not seeded")
	}

	// Without noise the probe answers the model's latency exactly, and the
	// seed changes nothing.
	m.Noise, m.Seed = 0, 1
	exact := run(m)
	m.Seed = 99
	if other := run(m); !reflect.DeepEqual(exact, other) {
		t.Error("with -noise 0 the seed still changed the run")
	}
	for _, tk := range exact.Ticks {
		if tk.Probe.Status == 200 && tk.Probe.Latency != time.Duration(math.Round(tk.LatencyMS*1e6)) {
			t.Fatalf("second %d: probe %s, model %v ms", tk.Second, tk.Probe.Latency, tk.LatencyMS)
		}
	}
}

func TestProfiles(t *testing.T) {
	m := Model{CapacityRPM: DefaultCapacityRPM, BaseMS: DefaultBaseMS, SLOMS: 1000}
	tests := []struct {
		name             string
		lowest, highest  int // ideal dynos
		seedMatters      bool
		minuteAt10, at12 float64
	}{
		{name: "steady", lowest: 3, highest: 3, minuteAt10: 1500, at12: 1500},
		{name: "step", lowest: 2, highest: 6, minuteAt10: 2800, at12: 700},
		{name: "ramp", lowest: 1, highest: 6, minuteAt10: 2550, at12: 3000},
		{name: "diurnal", lowest: 1, highest: 5, minuteAt10: 2067, at12: 2200},
		{name: "spike", lowest: 2, highest: 12, minuteAt10: 600, at12: 6000},
		{name: "noisy", lowest: 1, seedMatters: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ProfileTrace(tt.name, 2, 1)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Minutes() != 2*1440 {
				t.Fatalf("%d minutes, want two days", tr.Minutes())
			}
			other, _ := ProfileTrace(tt.name, 2, 2)
			if reflect.DeepEqual(tr, other) != !tt.seedMatters {
				t.Errorf("seed matters: %t, want %t", !reflect.DeepEqual(tr, other), tt.seedMatters)
			}
			if tt.seedMatters {
				return
			}
			lo, hi := math.MaxInt, 0
			for _, rpm := range tr.RPM {
				lo, hi = min(lo, m.Ideal(rpm)), max(hi, m.Ideal(rpm))
			}
			if lo != tt.lowest || hi != tt.highest {
				t.Errorf("ideal %d–%d dynos, want %d–%d", lo, hi, tt.lowest, tt.highest)
			}
			if tr.RPM[600] != tt.minuteAt10 || tr.RPM[720] != tt.at12 || tr.RPM[1440+720] != tt.at12 {
				t.Errorf("10:00 %v rpm, 12:00 %v and %v; want %v and %v", tr.RPM[600], tr.RPM[720], tr.RPM[1440+720], tt.minuteAt10, tt.at12)
			}
		})
	}
	if _, err := ProfileTrace("tsunami", 0, 1); err == nil || !strings.Contains(err.Error(), `-profile "tsunami": no such profile (steady, step`) ||
		!strings.Contains(err.Error(), "-days 0: must be 1 to") {
		t.Errorf("want both problems named, got %v", err)
	}
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Trace
		wantErr string
	}{
		{name: "good", in: "minute,rpm\n0,600\n1,1200.5\n2,0\n", want: PerMinute(600, 1200.5, 0)},
		{name: "blank lines and CRLF", in: "minute,rpm\r\n\r\n0, 600\r\n1,700\r\n", want: PerMinute(600, 700)},
		{name: "missing minute", in: "minute,rpm\n0,600\n1,600\n3,600\n", wantErr: "trace.csv line 4: minute 2 is missing (the next row is minute 3)"},
		{name: "repeated minute", in: "minute,rpm\n0,600\n0,600\n", wantErr: "trace.csv line 3: minute 0 is out of order or repeated (minute 1 expected)"},
		{name: "not starting at 0", in: "minute,rpm\n1,600\n", wantErr: "line 2: minute 0 is missing"},
		{name: "bad header", in: "time,requests\n0,600\n", wantErr: `trace.csv line 1: the header must be "minute,rpm", "second,rps" or "minute,jobs", got "time,requests"`},
		{name: "a spreadsheet's quoting, BOM and empty columns", in: "\ufeff\"Minute\",\"RPM\",\n\"0\",\"600\",\n\"1\",\"700.5\",\n",
			want: PerMinute(600, 700.5)},
		{name: "seconds", in: "second,rps\n" + secondsRows(60, 10), want: PerSecond(constant(60, 10))},
		{name: "seconds end inside a minute", in: "second,rps\n" + secondsRows(61, 1), wantErr: "trace.csv: 61 seconds end inside minute 1: give whole minutes"},
		{name: "missing second", in: "second,rps\n0,1\n2,1\n", wantErr: "trace.csv line 3: second 1 is missing (the next row is second 2)"},
		{name: "rps beyond the bound", in: "second,rps\n0,1e300\n", wantErr: "line 2: rps 1e+300 must be 0 to"},
		{name: "thousands separator", in: "minute,rpm\n0,\"1,200\"\n", wantErr: `line 2: rpm "1,200" is not a number (no thousands separators)`},
		{name: "broken quoting names its line", in: "minute,rpm\n0,600\n1,\"700\n", wantErr: "trace.csv line 3: extraneous or missing \" in quoted-field"},
		{name: "a quote inside a bare field", in: "minute,rpm\n0,600\n1,7\"00\n", wantErr: "trace.csv line 3: bare \" in non-quoted-field"},
		{name: "three fields", in: "minute,rpm\n0,600,1\n", wantErr: `line 2: want two fields, minute and rpm, got "0,600,1"`},
		{name: "bad rpm", in: "minute,rpm\n0,lots\n", wantErr: `line 2: rpm "lots" is not a number`},
		{name: "negative rpm", in: "minute,rpm\n0,-5\n", wantErr: "line 2: rpm -5 must be 0 to"},
		{name: "NaN rpm", in: "minute,rpm\n0,NaN\n", wantErr: `line 2: rpm "NaN" is not a number`},
		{name: "bad minute", in: "minute,rpm\nzero,5\n", wantErr: `line 2: minute "zero" is not a whole number`},
		{name: "jobs", in: "Minute,Jobs\n0,120\n1,0\n2,\"7\"\n", want: JobsPerMinute(120, 0, 7)},
		{name: "a fraction of a job", in: "minute,jobs\n0,3\n1,2.5\n", wantErr: "trace.csv line 3: jobs 2.5 is not a whole number"},
		{name: "negative jobs", in: "minute,jobs\n0,-1\n", wantErr: "trace.csv line 2: jobs -1 must be 0 to 1e+06"},
		{name: "jobs beyond the bound", in: "minute,jobs\n0,1000001\n", wantErr: "trace.csv line 2: jobs 1.000001e+06 must be 0 to 1e+06"},
		{name: "missing minute of jobs", in: "minute,jobs\n0,1\n2,1\n", wantErr: "trace.csv line 3: minute 1 is missing (the next row is minute 2)"},
		{name: "jobs that are not a number", in: "minute,jobs\n0,many\n", wantErr: `trace.csv line 2: jobs "many" is not a number`},
		{name: "a jobs row with a third field", in: "minute,jobs\n0,1,2\n", wantErr: `trace.csv line 2: want two fields, minute and jobs, got "0,1,2"`},
		{name: "a per-second jobs header", in: "second,jobs\n0,1\n", wantErr: `line 1: the header must be`},
		{name: "empty", in: "", wantErr: `trace.csv: empty; want the header "minute,rpm"`},
		{name: "header only", in: "minute,rpm\n", wantErr: "trace.csv: no rows after the header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadCSV(strings.NewReader(tt.in), "trace.csv")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			var out strings.Builder
			if err := got.WriteCSV(&out); err != nil {
				t.Fatal(err)
			}
			back, err := ReadCSV(strings.NewReader(out.String()), "again")
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("WriteCSV does not read back: %v, %v", back, err)
			}
		})
	}
}

// secondsRows are n rows "i,rps" from second 0.
func secondsRows(n int, rps float64) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d,%v\n", i, rps)
	}
	return b.String()
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestModelValidate(t *testing.T) {
	m := Model{CapacityRPM: 0, BaseMS: 1200, BootSeconds: -1, Noise: -0.1, SLOMS: 1000, Interval: 0, Initial: -1, DynoPrice: -1}
	err := m.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"-capacity-rpm 0: must be more than 0", "-base-ms 1200: must be below the SLO (-slo-ms 1000)",
		"-boot-seconds -1: must be 0 to 3600", "-noise -0.1: must be 0 to 5", "-interval 0: must be 1 to 86400 seconds",
		"-initial -1", "-dyno-price -1: must not be negative",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
}

// TestInferTraceRoundTrip records a run's decisions, infers the traffic
// back from them and compares: where the app was not saturated, the
// inversion of the model gives back the rate that was replayed.
func TestInferTraceRoundTrip(t *testing.T) {
	s := loadSettings(t, map[string]string{"AUTOSCALE_MAX_DYNOS": "10", "AUTOSCALE_MIN_DYNOS": "2"})
	m := defaultModel(s)
	m.Noise, m.Interval = 0, 60
	tr := PerMinute(make([]float64, 180)...)
	for i := range tr.RPM {
		tr.RPM[i] = float64(300 + 5*i) // 300 → 1195 rpm: two dynos' 0.95 is passed near the end
	}
	res, err := Run(context.Background(), s, m, tr, Options{Records: true})
	if err != nil {
		t.Fatal(err)
	}
	recs := res.Records // what the tick wrote, scale records included
	if res.ScaleUps == 0 {
		t.Fatal("the trace should scale: the records then hold scale records to skip")
	}
	inf, err := InferTrace(recs, m, s.HeartbeatTimeout)
	if err != nil {
		t.Fatal(err)
	}
	got, start := inf.Trace, inf.Start
	if inf.Dynos != 2 || inf.Ticks != tr.Minutes() {
		t.Errorf("first tick found %d dynos, %d ticks; want 2 and %d", inf.Dynos, inf.Ticks, tr.Minutes())
	}
	if !start.Equal(m.Start) || got.Minutes() != tr.Minutes() {
		t.Fatalf("start %s, %d minutes; want %s, %d", start, got.Minutes(), m.Start, tr.Minutes())
	}
	for i := range tr.RPM {
		// The records keep whole milliseconds, and near idle one
		// millisecond is n·capacity·base/L² ≈ 7 rpm here.
		if math.Abs(got.RPM[i]-tr.RPM[i]) > 8 {
			t.Errorf("minute %d: inferred %v rpm, replayed %v", i, got.RPM[i], tr.RPM[i])
		}
	}
}

func TestInferTraceByHand(t *testing.T) {
	m := Model{CapacityRPM: 600, BaseMS: 100, SLOMS: 1000, Interval: 60}
	at := func(min int) time.Time { return DefaultStart.Add(time.Duration(min) * time.Minute) }
	recs := []state.Record{
		// 200 ms with 2 dynos: ρ = 1 − 100/200 = 0.5 of 1200 rpm = 600.
		{At: at(0), Kind: state.KindDecision, Verdict: "ok", LatencyMS: 200, Status: 200, Current: 2},
		// a scale record is not a tick
		{At: at(0), Kind: state.KindScale, Verdict: "ok", LatencyMS: 9999, Status: 200, Current: 2, Target: 3},
		// minute 1 missing: carries 600 on.
		// 5000 ms with 2 dynos, 120 s after: saturated (2000 ms) plus 3000 ms of backlog:
		// 1200 × (1 + 3000/(1000×120)) = 1230.
		{At: at(2), Kind: state.KindDecision, Verdict: "fail", LatencyMS: 5000, Status: 200, Current: 2},
		// a probe error tells nothing: carries 1230 on.
		{At: at(3), Kind: state.KindDecision, Verdict: "error", Status: 404, Current: 2},
		// no answer within the 10 s timeout, 3 dynos, 120 s after: 1800 × (1 + 8000/120000) = 1920.
		{At: at(4), Kind: state.KindDecision, Verdict: "fail", Current: 3},
		// faster than idle: no traffic.
		{At: at(5), Kind: state.KindDecision, Verdict: "pass", LatencyMS: 80, Status: 200, Current: 1},
	}
	inf, err := InferTrace(recs, m, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, start := inf.Trace, inf.Start
	want := PerMinute(600, 600, 1230, 1230, 1920, 0)
	if !start.Equal(DefaultStart) || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v from %s, want %v", got, start, want)
	}
	if _, err := InferTrace(recs[3:4], m, time.Second); err != ErrNoHistory {
		t.Errorf("only a probe error: %v, want ErrNoHistory", err)
	}
}

// TestReportJSON pins the -json keys the issue names.
func TestReportJSON(t *testing.T) {
	s := loadSettings(t, nil)
	m := defaultModel(s)
	m.Noise = 0
	tr, _ := ProfileTrace("step", 1, 1)
	rep, _, err := Compare(context.Background(), []Variant{{Label: "as given", Settings: s}}, m, tr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs    []map[string]any `json:"runs"`
		Ideal   map[string]any   `json:"ideal"`
		Model   map[string]any   `json:"model"`
		Minutes int              `json:"minutes"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"label", "settings", "dynoHours", "idealDynoHours", "costUSD", "sloViolationMinutes", "scaleUps", "scaleDowns",
		"accuracyU", "accuracyO", "timeshareU", "timeshareO", "jitter", "underProvisionedEpisodes", "meanUnderProvisionedSeconds"} {
		if _, ok := doc.Runs[0][key]; !ok {
			t.Errorf("runs[0] has no %q", key)
		}
	}
	for _, key := range []string{"capacityRpm", "baseMs", "bootSeconds", "noise", "seed", "sloMs", "intervalSeconds", "initial", "start", "dynoPrice"} {
		if _, ok := doc.Model[key]; !ok {
			t.Errorf("model has no %q", key)
		}
	}
	if doc.Minutes != 1440 || doc.Ideal["dynoHours"] != 56.0 || doc.Model["intervalSeconds"] != 30.0 {
		t.Errorf("minutes %d, ideal %v, model %v", doc.Minutes, doc.Ideal, doc.Model)
	}
}

func TestSeriesBuckets(t *testing.T) {
	tests := []struct {
		minutes, points, want int
	}{
		{minutes: 1440, points: 720, want: 2},
		{minutes: 60, points: 720, want: 1},
		{minutes: 7 * 1440, points: 720, want: 15},
		{minutes: 30 * 1440, points: 720, want: 60},
		{minutes: 365 * 1440, points: 720, want: 1440},
		{minutes: 3 * 365 * 1440, points: 720, want: 2 * 1440},
	}
	for _, tt := range tests {
		if got := newSeriesBuilder(tt.minutes, tt.points).s.Minutes; got != tt.want {
			t.Errorf("%d minutes in at most %d points: buckets of %d, want %d (whole divisors of a day, or whole days)", tt.minutes, tt.points, got, tt.want)
		}
	}
}

// TestScoreRecordedByHand scores three recorded minutes.
//
//	at    record                            inferred rpm              ideal
//	0:00  2 dynos, ok 200 ms                1200 × (1 − 100/200)  = 600    2
//	1:00  2 dynos, fail 1500 ms; scaled → 3 1200 × (1 − 100/1500) = 1120   3
//	2:00  3 dynos, ok 300 ms                1800 × (1 − 100/300)  = 1200   3
//
// Supply 2 for a minute, then 3 for two: 480 dyno-seconds, as the ideal;
// never under or over. The 1500 ms probe holds for a minute: 1 SLO minute.
// One scale up against one change of demand: jitter 0.
func TestScoreRecordedByHand(t *testing.T) {
	m := Model{CapacityRPM: 600, BaseMS: 100, SLOMS: 1000, Interval: 60, DynoPrice: 0.1}
	at := func(min int) time.Time { return DefaultStart.Add(time.Duration(min) * time.Minute) }
	recs := []state.Record{
		{At: at(1), Kind: state.KindScale, Verdict: "fail", LatencyMS: 1500, Status: 200, Current: 2, Target: 3, OK: true},
		{At: at(0), Kind: state.KindDecision, Verdict: "ok", LatencyMS: 200, Status: 200, Current: 2, Target: 2},
		{At: at(1), Kind: state.KindDecision, Verdict: "fail", LatencyMS: 1500, Status: 200, Current: 2, Target: 3},
		{At: at(2), Kind: state.KindDecision, Verdict: "ok", LatencyMS: 300, Status: 200, Current: 3, Target: 3},
	}
	inf, err := InferTrace(recs, m, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inf.Trace, PerMinute(600, 1120, 1200)) || inf.Dynos != 2 || inf.IntervalSeconds != 60 {
		t.Fatalf("inferred %+v", inf)
	}
	assertScores(t, ScoreRecorded(recs, inf, m, 10*time.Second), Scores{
		DynoHours: 480.0 / 3600, IdealDynoHours: 480.0 / 3600, CostUSD: 480.0 / 3600 * 0.1, SLOViolationMinutes: 1,
		ScaleUps: 1,
	})
}
