package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/state"
)

// TestHistoryFromEveryStore runs history against a table and a state file;
// both must print the same thing.
func TestHistoryFromEveryStore(t *testing.T) {
	data := seedData(t)
	table := seededTable(t, data)
	file := seededFile(t, data)
	stores := []struct {
		name string
		args []string
	}{
		{name: "table", args: []string{"-table", table}},
		{name: "state file", args: []string{"-state", file}},
	}
	outputs := []struct {
		golden string
		args   []string
	}{
		{golden: "history-shop-web.golden", args: []string{"-app", "shop", "-type", "web", "-since", "90m", "-limit", "30"}},
		{golden: "history-scales.golden", args: []string{"-only-scales", "-since", "48h"}},
		{golden: "history-blog.golden", args: []string{"-app", "blog", "-since", "2026-03-01T00:00:00Z"}},
		{golden: "history.json.golden", args: []string{"-app", "shop", "-limit", "4", "-json"}},
		{golden: "history-scales.json.golden", args: []string{"-only-scales", "-since", "48h", "-json"}},
		{golden: "history-empty.golden", args: []string{"-app", "shop", "-type", "worker", "-since", "30s"}},
	}
	for _, st := range stores {
		for _, out := range outputs {
			t.Run(st.name+"/"+out.golden, func(t *testing.T) {
				args := append(append([]string{"history"}, st.args...), out.args...)
				code, stdout, stderr := runCLI(t, nil, args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				golden(t, out.golden, stdout)
			})
		}
	}
}

func TestHistoryNewestFirstWithTheProbe(t *testing.T) {
	file := seededFile(t, seedData(t))
	_, stdout, _ := runCLI(t, nil, "history", "-state", file, "-json", "-limit", "1000")
	var report historyReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Records) < 100 {
		t.Fatalf("%d records, want the whole seeded history", len(report.Records))
	}
	if report.Until != seedNow.UTC() || report.Since != seedNow.Add(-24*time.Hour).UTC() {
		t.Errorf("window %s to %s, want the default 24 hours to now", report.Since, report.Until)
	}
	scales := 0
	for i, r := range report.Records {
		if i > 0 && r.At.After(report.Records[i-1].At) {
			t.Fatalf("record %d (%s) is newer than the one before it (%s)", i, r.At, report.Records[i-1].At)
		}
		if r.At.Before(report.Since) {
			t.Errorf("record %d at %s is outside the window", i, r.At)
		}
		if r.Kind == "scale" {
			scales++
			if r.OK == nil || r.Probe.Verdict == "" || r.From == r.To || r.Reason == "" {
				t.Errorf("scale record without its outcome, probe or reason: %+v", r)
			}
			// Its decision, with the same probe, follows it.
			if next := report.Records[i+1]; next.Kind != "decision" || !next.At.Equal(r.At) || next.Probe != r.Probe {
				t.Errorf("the decision behind the scale at %s should follow it, got %+v", r.At, next)
			}
		}
	}
	if scales < 4 {
		t.Errorf("%d scale records, want the seeded ups and downs", scales)
	}
}

func TestHistoryLimitSaysWhatItLeftOut(t *testing.T) {
	file := seededFile(t, seedData(t))
	code, stdout, stderr := runCLI(t, nil, "history", "-state", file, "-app", "shop", "-type", "web", "-limit", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if lines := strings.Count(stdout, "\n"); lines != 6 {
		t.Errorf("%d lines, want a header and 5 records:\n%s", lines, stdout)
	}
	if !strings.Contains(stderr, "not all of the window is shown") {
		t.Errorf("stderr should say the window holds more: %q", stderr)
	}
	_, stdout, _ = runCLI(t, nil, "history", "-state", file, "-app", "shop", "-type", "web", "-limit", "5", "-json")
	if !strings.Contains(stdout, `"truncated": true`) {
		t.Errorf("-json should say it was truncated:\n%s", stdout)
	}
}

func TestHistoryErrors(t *testing.T) {
	file := seededFile(t, seedData(t))
	empty := filepath.Join(t.TempDir(), "empty.json")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "unknown app", args: []string{"-state", file, "-app", "nope"}, wantCode: 1, wantErr: `no app "nope" in state file`},
		{name: "empty store", args: []string{"-state", empty}, wantCode: 1, wantErr: "has no formations yet"},
		{name: "bad since", args: []string{"-state", file, "-since", "yesterday"}, wantCode: 1, wantErr: `-since "yesterday": give a positive duration`},
		{name: "negative since", args: []string{"-state", file, "-since", "-5m"}, wantCode: 1, wantErr: "give a positive duration"},
		{name: "limit too high", args: []string{"-state", file, "-limit", "60000"}, wantCode: 1, wantErr: "-limit 60000: give 1 to 50000"},
		{name: "chart of several formations", args: []string{"-state", file, "-app", "shop", "-chart", filepath.Join(t.TempDir(), "c.svg")},
			wantCode: 1, wantErr: "-chart draws one formation and 2 match: choose one with -app and -type (shop/web, shop/worker)"},
		{name: "chart of nothing", args: []string{"-state", file, "-app", "api", "-chart", filepath.Join(t.TempDir(), "c.svg")},
			wantCode: 1, wantErr: "chart of api/web: no records since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, append([]string{"history"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"24h", seedNow.Add(-24 * time.Hour)},
		{"90m", seedNow.Add(-90 * time.Minute)},
		{"7d", seedNow.Add(-7 * 24 * time.Hour)},
		{"2026-03-01T08:00:00-08:00", time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSince(tt.in, seedNow)
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("parseSince(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestHistoryChart draws the seeded shop/web history from moto and checks
// the file is an SVG with the stored thresholds and the dyno steps.
func TestHistoryChart(t *testing.T) {
	table := seededTable(t, seedData(t))
	path := filepath.Join(t.TempDir(), "shop.svg")
	code, stdout, stderr := runCLI(t, nil, "history", "-table", table, "-app", "shop", "-type", "web", "-only-scales", "-chart", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "chart of shop/web written to "+path) || !strings.Contains(stdout, "scaled") {
		t.Errorf("want the scales listed and the chart announced on stderr:\n%s\n%s", stdout, stderr)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
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
	for _, id := range []string{"max-response", "min-response", "dyno-steps", "max-dynos", "min-dynos"} {
		if !ids[id] {
			t.Errorf("the chart has no #%s", id)
		}
	}
	for _, text := range []string{"max 1000 ms", "min 400 ms", "shop/web: heartbeat latency and dynos", "1→2", "time (UTC)"} {
		if !bytes.Contains(svg, []byte(text)) {
			t.Errorf("the chart lacks %q", text)
		}
	}
}

// TestDocsExamples keeps the examples in docs/ real: they are this
// seeded data's output, rewritten with -update.
func TestDocsExamples(t *testing.T) {
	stack := seededStack(t, seedData(t))
	chartPath := filepath.Join(t.TempDir(), "history.svg")
	examples := []struct {
		file string
		args []string
	}{
		{file: "status.txt", args: []string{"status", "-stack", stack}},
		{file: "history.txt", args: []string{"history", "-stack", stack, "-app", "shop", "-type", "web", "-only-scales", "-chart", chartPath}},
	}
	for _, ex := range examples {
		code, stdout, stderr := runCLI(t, nil, ex.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", ex.args, code, stderr)
		}
		shown := strings.Join(ex.args, " ")
		shown = strings.ReplaceAll(shown, stack, "autoscalebot")
		shown = strings.ReplaceAll(shown, chartPath, "history.svg")
		docsGolden(t, ex.file, "$ autoscalebot "+shown+"\n"+stdout)
	}
	svg, err := os.ReadFile(chartPath)
	if err != nil {
		t.Fatal(err)
	}
	docsGolden(t, "history.svg", string(svg))
}

// docsGolden compares got with docs/name, rewriting it under -update.
func docsGolden(t *testing.T, name, got string) {
	t.Helper()
	const regen = "go test ./internal/cli -run TestDocsExamples -update"
	if want := readGolden(t, filepath.Join("..", "..", "docs", name), got, regen); got != want {
		t.Errorf("docs/%s is out of date: %s rewrites it", name, regen)
	}
}

// docsQuoted is docsGolden for a table that doc (a path from the
// repository's root) quotes whole, in section.
func docsQuoted(t *testing.T, name, got, doc, section string) {
	t.Helper()
	docsGolden(t, name, got)
	text, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), got) {
		t.Errorf("%s does not quote docs/%s as it is now: paste it into %q", doc, name, section)
	}
}

// TestHistoryNamesThePolicy: a record decided by a policy other than the
// original says so in the table and in JSON.
func TestHistoryNamesThePolicy(t *testing.T) {
	at := time.Date(2026, 3, 2, 17, 59, 0, 0, time.UTC)
	rec := historyRecordOf(state.Record{At: at, Kind: state.KindDecision, App: "shop", Type: "web",
		Current: 2, Target: 4, Min: 1, Max: 6, Reason: "AboveTarget", Policy: "proportional"})
	var b strings.Builder
	if err := writeHistoryTable(&b, []historyRecord{rec}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "policy proportional") {
		t.Errorf("history table does not name the policy:\n%s", b.String())
	}
	js, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"policy":"proportional"`) {
		t.Errorf("history JSON does not name the policy: %s", js)
	}
}
