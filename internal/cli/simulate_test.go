package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/simulation"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// scriptedBeat answers after whatever delay the test sets for this tick.
type scriptedBeat struct{ delay atomic.Int64 }

func (b *scriptedBeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(time.Duration(b.delay.Load())):
	case <-r.Context().Done():
		return
	}
	w.Write([]byte("ok"))
}

// TestSimulationDecidesAsOnce runs a simulation, then replays its probe
// verdicts through the real `once` path (a state file, the real probe of an
// HTTP heartbeat, the Heroku client against the fake Platform API, the
// command's clock set to each tick's time), and checks every tick decided
// the same: the simulator runs the production rules, not a copy.
func TestSimulationDecidesAsOnce(t *testing.T) {
	heroku := herokusimtest.New(t, herokusim.WithToken(apiKey))
	beat := &scriptedBeat{}
	app := httptest.NewServer(beat)
	t.Cleanup(app.Close)
	env := map[string]string{
		"AUTOSCALE_HEROKU_APP_NAME":                      "myapp",
		"AUTOSCALE_HEROKU_API_KEY":                       apiKey,
		"AUTOSCALE_HEROKU_API_URL":                       heroku.URL,
		"AUTOSCALE_HEARTBEAT_URL":                        app.URL + "/heartbeat",
		"AUTOSCALE_HEARTBEAT_TIMEOUT_IN_MS":              "400",
		"AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS":        "60",
		"AUTOSCALE_MIN_RESPONSE_TIME_IN_MS":              "60",
		"AUTOSCALE_MAX_RESPONSE_TIME_IN_MS":              "250",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER":    "2",
		"AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER": "3",
		"AUTOSCALE_MIN_DYNOS":                            `{"0:00":1,"9:00":2}`, // the clock matters
		"AUTOSCALE_MAX_DYNOS":                            "4",
		"AUTOSCALE_COOLDOWN_IN_SECONDS":                  "150",
		"AUTOSCALE_NOTIFY_ON_EVERY_SCALE":                "true",
		"AUTOSCALE_STATE_FILE":                           filepath.Join(t.TempDir(), "state.json"),
		// Replayed verdict by verdict: the streaks decide on verdicts alone.
		"AUTOSCALE_POLICY": "original",
	}
	s, err := settings.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	m := simulation.Model{
		CapacityRPM: 600, BaseMS: 30, BootSeconds: 90, Noise: 0.3, Seed: 3, SLOMS: 250, Interval: 60,
		Start: time.Date(2026, 1, 5, 8, 20, 0, 0, time.UTC), DynoPrice: 0.035,
	}
	var rpm []float64
	for minute := range 50 {
		switch {
		case minute < 6:
			rpm = append(rpm, 250) // one dyno, ρ ≈ 0.4: fast
		case minute < 14:
			rpm = append(rpm, 1500) // a rush: fails, timeouts, scale ups
		case minute < 40:
			rpm = append(rpm, 250) // back down to one; at 9:00 the minimum becomes 2
		default:
			rpm = append(rpm, 700)
		}
	}
	tr := simulation.PerMinute(rpm...)
	res, err := simulation.Run(context.Background(), s, m, tr, simulation.Options{Ticks: true})
	if err != nil {
		t.Fatal(err)
	}
	heroku.SetFormation("myapp", "web", res.InitialDynos, "")

	seen := map[string]int{}
	for i, tk := range res.Ticks {
		want := tk.Summary
		seen[fmt.Sprint(want.Verdict)]++
		seen[fmt.Sprint(want.Reason)]++
		// The same verdict from a real heartbeat, with wide margins around the
		// thresholds (60 ms to pass, 110 ms above "ok" for a loaded machine).
		switch {
		case tk.Probe.Status == 0:
			beat.delay.Store(int64(time.Second)) // no answer within 400 ms
		case want.Verdict == "pass":
			beat.delay.Store(0)
		case want.Verdict == "ok":
			beat.delay.Store(int64(140 * time.Millisecond))
		default:
			beat.delay.Store(int64(320 * time.Millisecond)) // slow, or a timeout under load: a fail either way
		}
		var out, errOut bytes.Buffer
		code := Main(context.Background(), []string{"once", "-json"}, Env{
			Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut,
			Now: func() time.Time { return tk.At },
		})
		if code != 0 {
			t.Fatalf("tick %d: once exit %d: %s", i, code, errOut.String())
		}
		// Notices go to the console first; the summary is the JSON after them.
		summary := out.Bytes()
		if i := bytes.LastIndex(summary, []byte("\n{\n")); i >= 0 {
			summary = summary[i+1:]
		}
		var got tick.Summary
		if err := json.Unmarshal(summary, &got); err != nil {
			t.Fatalf("tick %d: %v\n%s", i, err, out.String())
		}
		if got.Verdict != want.Verdict {
			t.Fatalf("tick %d: the real probe said %s (%d ms), the simulation %s: the replay is off, not the rules", i, got.Verdict, got.LatencyMS, want.Verdict)
		}
		if got.Current != want.Current || got.Target != want.Target || got.Reason != want.Reason || got.Scaled != want.Scaled ||
			got.Min != want.Min || got.Max != want.Max || got.SlowStreak != want.SlowStreak || got.FastStreak != want.FastStreak ||
			strings.Join(got.Notices, ",") != strings.Join(want.Notices, ",") {
			t.Errorf("tick %d at %s, %s:\n once      %d → %d %s (bounds %d–%d, streaks %d/%d, notices %v)\n simulated %d → %d %s (bounds %d–%d, streaks %d/%d, notices %v)",
				i, tk.At.Format("15:04"), want.Verdict, got.Current, got.Target, got.Reason, got.Min, got.Max, got.SlowStreak, got.FastStreak, got.Notices,
				want.Current, want.Target, want.Reason, want.Min, want.Max, want.SlowStreak, want.FastStreak, want.Notices)
		}
		if q := heroku.Quantity("myapp", "web"); q != tk.Requested {
			t.Errorf("tick %d: Heroku runs %d dynos, the simulation %d", i, q, tk.Requested)
		}
	}
	// The sequence must have exercised the rules worth comparing.
	for _, want := range []string{"pass", "ok", "fail", "SlowStreak", "FastStreak", "OutsideBounds", "CoolingDown"} {
		if seen[want] == 0 {
			t.Errorf("no tick had %s: the trace no longer exercises it (%v)", want, seen)
		}
	}
}

func TestSimulateBadInput(t *testing.T) {
	dir := t.TempDir()
	gap := filepath.Join(dir, "gap.csv")
	if err := os.WriteFile(gap, []byte("minute,rpm\n0,600\n1,650\n3,700\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	jobsGap := filepath.Join(dir, "jobs.csv")
	if err := os.WriteFile(jobsGap, []byte("minute,jobs\n0,6\n1,1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{name: "no traffic", want: []string{"say what traffic to replay: -profile NAME (steady, step, ramp, diurnal, spike, noisy; of jobs: nightly, bursty, trickle), -trace FILE.csv or -history"}},
		{name: "a job trace's bad row names its line", args: []string{"-trace", jobsGap}, want: []string{jobsGap + " line 3: jobs 1.5 is not a whole number"}},
		{name: "request flags with jobs", args: []string{"-profile", "nightly", "-capacity-rpm", "100", "-base-ms", "50", "-job-seconds", "0", "-job-concurrency", "0"},
			want: []string{"-capacity-rpm applies to requests (a minute,rpm or second,rps trace, a request profile, -history) only", "-base-ms applies to requests",
				"-job-seconds 0: must be more than 0", "-job-concurrency 0: must be 1 to 1000"}},
		{name: "job flags with requests", args: []string{"-profile", "step", "-job-seconds", "10", "-job-concurrency", "2"},
			want: []string{"-job-seconds applies to a trace of jobs (minute,jobs, or a job profile) only", "-job-concurrency applies to a trace of jobs"}},
		{name: "jobs on another signal", args: []string{"-profile", "trickle", "-with", "AUTOSCALE_SIGNAL=job_latency", "-with", "AUTOSCALE_SIGNAL=queue_time"},
			want: []string{"as given: a trace of jobs runs a worker formation on its queue: set AUTOSCALE_SIGNAL=job_latency (it is response_time)",
				"AUTOSCALE_SIGNAL=queue_time: a trace of jobs runs"}},
		{name: "requests on job latency", env: map[string]string{settings.EnvSignal: "job_latency", settings.EnvProcessType: "worker"},
			args: []string{"-profile", "step"}, want: []string{"as given: AUTOSCALE_SIGNAL=job_latency scales on a job queue: replay a trace of jobs"}},
		{name: "two sources", args: []string{"-profile", "step", "-trace", gap}, want: []string{"give only one of -trace, -profile and -history"}},
		{name: "missing minute names the line", args: []string{"-trace", gap}, want: []string{gap + " line 4: minute 2 is missing (the next row is minute 3)"}},
		{name: "no such file", args: []string{"-trace", filepath.Join(dir, "none.csv")}, want: []string{"-trace: open " + filepath.Join(dir, "none.csv")}},
		{name: "every flag problem at once", args: []string{"-profile", "tsunami", "-days", "0", "-capacity-rpm", "-5", "-base-ms", "1000",
			"-boot-seconds", "-1", "-noise", "-2", "-interval", "-3", "-initial", "0", "-start", "monday", "-dyno-price", "-1"},
			want: []string{`-profile "tsunami": no such profile`, "-days 0: must be 1 to", "-capacity-rpm -5: must be more than 0",
				"-base-ms 1000: must be below the SLO (-slo-ms 1000)", "-boot-seconds -1", "-noise -2", "-interval -3", "-initial 0: must be at least 1",
				`-start "monday": not an RFC 3339 time`, "-dyno-price -1"}},
		{name: "days without a profile", args: []string{"-trace", gap, "-days", "2"}, want: []string{"-days applies to -profile only"}},
		{name: "history flags without history", args: []string{"-profile", "step", "-app", "shop", "-since", "2d"},
			want: []string{"-app applies to -history only", "-since applies to -history only"}},
		{name: "start with history", args: []string{"-history", "-start", "2026-01-05T00:00:00Z"}, want: []string{"-start cannot be combined with -history"}},
		{name: "bad settings", env: map[string]string{settings.EnvMaxResponseTime: "soon"}, args: []string{"-profile", "step"},
			want: []string{`AUTOSCALE_MAX_RESPONSE_TIME_IN_MS: "soon": not a whole number`}},
		{name: "bad variants", env: map[string]string{settings.EnvAPIKey: apiKey}, args: []string{"-profile", "step",
			"-with", "AUTOSCALE_MAX_DYNOS=0", "-with", "MAX_DYNOS", "-with", "AUTOSCALE_HEROKU_API_KEY=" + apiKey, "-with", "AUTOSCALE_INCREMENT=1 AUTOSCALE_INCREMENT=2"},
			want: []string{`-with "AUTOSCALE_MAX_DYNOS=0": invalid settings:`, `AUTOSCALE_MAX_DYNOS: "0": must be at least 1`,
				`-with "MAX_DYNOS": "MAX_DYNOS" is not KEY=VALUE`,
				`-with "AUTOSCALE_HEROKU_API_KEY=[redacted]": AUTOSCALE_HEROKU_API_KEY does not change a simulation`,
				"AUTOSCALE_INCREMENT is given twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTOSCALE_STATE_FILE": filepath.Join(dir, "state.json")}
			for k, v := range tt.env {
				env[k] = v
			}
			code, stdout, stderr := runCLI(t, env, append([]string{"simulate"}, tt.args...)...)
			if code != 1 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want exit 1 and nothing printed", code, stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, apiKey) {
				t.Errorf("the API key was printed:\n%s", stderr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("bad input wrote files: %v", entries)
	}
	code, _, stderr := runCLI(t, nil, "simulate", "-profile", "step", "-nonsense")
	if code != 2 || !strings.Contains(stderr, "flag provided but not defined: -nonsense") {
		t.Errorf("unknown flag: exit %d, %s", code, stderr)
	}
}

// TestSimulateDeterministic: the same inputs give byte-identical JSON, and
// without noise the seed changes nothing but itself.
func TestSimulateDeterministic(t *testing.T) {
	args := []string{"simulate", "-profile", "noisy", "-json", "-with", "AUTOSCALE_MAX_DYNOS=8 AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER=2"}
	_, a, _ := runCLI(t, nil, args...)
	_, b, _ := runCLI(t, nil, args...)
	if a == "" || a != b {
		t.Fatalf("two runs differ or printed nothing:\n%s", a)
	}
	_, c, _ := runCLI(t, nil, append(args, "-seed", "2")...)
	if c == a {
		t.Error("another seed gave the same JSON")
	}
	exact := []string{"simulate", "-profile", "spike", "-json", "-noise", "0"}
	_, d1, _ := runCLI(t, nil, append(exact, "-seed", "1")...)
	_, d2, _ := runCLI(t, nil, append(exact, "-seed", "2")...)
	if strings.Replace(d2, `"seed": 2`, `"seed": 1`, 1) != d1 {
		t.Errorf("with -noise 0 the seed changed the result:\n%s\n%s", d1, d2)
	}
	var rep simulation.Report
	if err := json.Unmarshal([]byte(a), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Label != "as given" || len(rep.Runs[0].Settings) != 0 ||
		rep.Runs[1].Settings["AUTOSCALE_MAX_DYNOS"] != "8" || rep.Runs[1].Settings["AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER"] != "2" {
		t.Errorf("runs %+v", rep.Runs)
	}
}

// TestSimulateChartOnly writes the chart asked for and nothing else.
func TestSimulateChartOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "step.svg")
	env := map[string]string{"AUTOSCALE_STATE_FILE": filepath.Join(dir, "state.json"), "AUTOSCALE_TIME_ZONE": "America/Vancouver"}
	code, stdout, stderr := runCLI(t, env, "simulate", "-profile", "step", "-chart", path, "-with", "AUTOSCALE_MAX_DYNOS=8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "chart written to "+path) || !strings.Contains(stdout, "AUTOSCALE_MAX_DYNOS=8") {
		t.Errorf("stdout %s\nstderr %s", stdout, stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "step.svg" {
		t.Errorf("files written: %v, want only the chart", entries)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := svgIDs(t, svg)
	for _, id := range []string{"traffic", "ideal", "dynos-1", "dynos-2", "latency-1", "latency-2", "max-response", "min-response"} {
		if !ids[id] {
			t.Errorf("the chart has no #%s", id)
		}
	}
	for _, text := range []string{"as given", "AUTOSCALE_MAX_DYNOS=8", "max 1000 ms", "min 200 ms", "time (PST)", "Jan 4 16:00"} {
		if !bytes.Contains(svg, []byte(text)) {
			t.Errorf("the chart lacks %q", text)
		}
	}
}

// TestSimulateHistory replays the seeded shop/web history from a state file.
func TestSimulateHistory(t *testing.T) {
	file := seededFile(t, seedData(t))
	code, stdout, stderr := runCLI(t, nil, "simulate", "-history", "-state", file, "-app", "shop", "-type", "web", "-since", "48h",
		"-with", "AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER=1", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep simulation.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.Traffic, "history of shop/web from ") || rep.Minutes < 170 || len(rep.Runs) != 2 {
		t.Errorf("traffic %q over %d minutes, %d runs", rep.Traffic, rep.Minutes, len(rep.Runs))
	}
	if rep.Runs[0].ScaleUps == 0 || rep.Runs[1].ScaleUps < rep.Runs[0].ScaleUps {
		t.Errorf("the seeded rush should scale up, sooner with one fail: %+v", rep.Runs)
	}
	if rep.Runs[0].IntervalSeconds != 60 || rep.Model.Interval != 60 {
		t.Errorf("the replay ticks every %d s, want the recorded 60 s", rep.Runs[0].IntervalSeconds)
	}
	// What really happened is beside it: the seeded history's successful scales.
	if r := rep.Recorded; r == nil || r.Label != "recorded" || r.ScaleUps == 0 || r.ScaleDowns == 0 || r.IntervalSeconds != 60 ||
		r.DynoHours <= 0 {
		t.Errorf("recorded %+v, want the seeded ups and downs at one tick a minute", r)
	}
	code, table, stderr := runCLI(t, nil, "simulate", "-history", "-state", file, "-app", "shop", "-type", "web", "-since", "48h")
	if code != 0 || !strings.Contains(table, "\nrecorded ") || !strings.Contains(table, "\nideal ") {
		t.Errorf("exit %d, %s; want a recorded row before the ideal:\n%s", code, stderr, table)
	}
	if !testing.Short() {
		// The table holds the same records, so the replay is the same.
		table := seededTable(t, seedData(t))
		code, fromTable, stderr := runCLI(t, nil, "simulate", "-history", "-table", table, "-app", "shop", "-type", "web", "-since", "48h",
			"-with", "AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER=1", "-json")
		if code != 0 || fromTable != stdout {
			t.Errorf("from the table: exit %d, %s\n%s\nwant the state file's\n%s", code, stderr, fromTable, stdout)
		}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "two formations", args: []string{"-app", "shop"}, want: "-history replays one formation and 2 match: choose one with -app and -type (shop/web, shop/worker)"},
		{name: "nothing recent", args: []string{"-app", "shop", "-type", "web", "-since", "1s"}, want: "history of shop/web since"},
		{name: "bad since", args: []string{"-app", "api", "-since", "lately"}, want: `-since "lately"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, append([]string{"simulate", "-history", "-state", file}, tt.args...)...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, %s; want %q", code, stderr, tt.want)
			}
		})
	}
}

func svgIDs(t *testing.T, svg []byte) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return ids
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			for _, a := range el.Attr {
				if a.Name.Local == "id" {
					ids[a.Value] = true
				}
			}
		}
	}
}

// TestSimulateTrace: a profile written out as a CSV trace replays the same.
func TestSimulateTrace(t *testing.T) {
	tr, err := simulation.ProfileTrace("ramp", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ramp.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteCSV(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, fromProfile, _ := runCLI(t, nil, "simulate", "-profile", "ramp", "-json")
	code, fromTrace, stderr := runCLI(t, nil, "simulate", "-trace", path, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fromTrace = strings.Replace(fromTrace, `"traffic": "trace `+path+`"`, `"traffic": "profile ramp, 1 day"`, 1)
	if fromTrace != fromProfile {
		t.Errorf("the trace replayed differently from its profile:\n%s\n%s", fromTrace, fromProfile)
	}
}

// TestSimulateFrontier: the table has a frontier row and says when the
// maximum caps the ideal; -json has the frontier object.
func TestSimulateFrontier(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
		not  string
	}{
		{"capped by the default maximum", nil, []string{
			"\nfrontier  ", "none is, here.",
			"The ideal needs up to 12 dynos; the maximum is 3, which caps every run and the frontier.",
		}, ""},
		{"room enough", map[string]string{settings.EnvMaxDynos: "12"}, []string{
			"\nfrontier (u 0.", "× the ideal's dyno-hours, ",
		}, "caps every run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, tt.env, "simulate", "-profile", "spike", "-interval", "30")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("table lacks %q:\n%s", w, out)
				}
			}
			if tt.not != "" && strings.Contains(out, tt.not) {
				t.Errorf("table says %q:\n%s", tt.not, out)
			}
			code, out, stderr = runCLI(t, tt.env, "simulate", "-profile", "spike", "-interval", "30", "-json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep simulation.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			f := rep.Frontier
			if f == nil || f.IdealMaxDynos != 12 || f.IntervalSeconds != 30 || (f.Ratio == nil) != f.Capped() {
				t.Errorf("frontier %+v; want the ideal's 12 dynos at 30 s, a policy unless capped", f)
			}
		})
	}
}

// TestSimulateJobs: a minute,jobs trace runs the job model as its profile
// does; the table states the job model, the JSON says jobs and has no
// frontier (the request model's), the chart speaks of jobs.
func TestSimulateJobs(t *testing.T) {
	env := map[string]string{settings.EnvProcessType: "worker", settings.EnvSignal: "job_latency", settings.EnvMinDynos: "0",
		settings.EnvMaxDynos: "10", settings.EnvMaxJobLatency: "60000"}
	tr, err := simulation.ProfileTrace("nightly", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "nightly.csv")
	var csv strings.Builder
	if err := tr.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csv.String(), "minute,jobs\n0,0\n") {
		t.Fatalf("a trace of jobs writes %.30q", csv.String())
	}
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"simulate", "-noise", "0", "-interval", "60", "-job-seconds", "20", "-job-concurrency", "4", "-json"}
	_, fromProfile, _ := runCLI(t, env, append(args, "-profile", "nightly")...)
	code, fromTrace, stderr := runCLI(t, env, append(args, "-trace", path)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Replace(fromTrace, `"traffic": "trace `+path+`"`, `"traffic": "profile nightly, 1 day"`, 1) != fromProfile {
		t.Errorf("the trace replayed differently from its profile:\n%s\n%s", fromTrace, fromProfile)
	}
	var rep simulation.Report
	if err := json.Unmarshal([]byte(fromTrace), &rep); err != nil {
		t.Fatal(err)
	}
	// 600 jobs × 20 s / 60 / 4: 50 dynos for a minute.
	if !rep.Jobs || rep.Frontier != nil || rep.Model.JobSeconds != 20 || rep.Model.JobConcurrency != 4 || rep.Ideal.DynoHours != 0.833333 ||
		strings.Contains(fromTrace, "capacityRpm") || rep.Runs[0].InitialDynos != 0 || rep.Runs[0].DynoHours == 0 {
		t.Errorf("report %+v", rep)
	}

	chart := filepath.Join(dir, "nightly.svg")
	code, table, stderr := runCLI(t, env, "simulate", "-profile", "nightly", "-chart", chart)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"profile nightly, 1 day: 1440 minutes",
		"model: jobs of 30 s, 5 at once a dyno, boot 30 s, Poisson arrivals and exponential run times (seed 1), SLO 60000 ms (a minute over it at any second), $0.035 a dyno-hour",
		"\nas given ", "\nideal "} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "frontier") {
		t.Errorf("a job run has a frontier row:\n%s", table)
	}
	svg, err := os.ReadFile(chart)
	if err != nil || !bytes.Contains(svg, []byte("job latency (ms)")) || !bytes.Contains(svg, []byte(`id="max-response"`)) {
		t.Errorf("the chart does not plot the queue's latency against its thresholds (%v)", err)
	}
}
