package chart

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// whatIf is a small hand-made simulation: a 12-minute rush over an hour,
// two runs, one slow to react.
func whatIf() WhatIf {
	wi := WhatIf{
		Title: "profile test", Start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), BucketMinutes: 1,
		MinResponseMS: 200, MaxResponseMS: 1000, SLOMS: 800,
		Runs: []WhatIfRun{{Label: "as given"}, {Label: "AUTOSCALE_MAX_DYNOS=6 <fast>"}},
	}
	for m := range 60 {
		rpm, ideal := 600.0, 2
		if m >= 20 && m < 32 {
			rpm, ideal = 2400, 5
		}
		wi.RPM, wi.Ideal = append(wi.RPM, rpm), append(wi.Ideal, ideal)
		slow, fast := 2, 2
		if m >= 24 && m < 40 {
			slow = 3
		}
		if m >= 22 && m < 34 {
			fast = 5
		}
		wi.Runs[0].Dynos, wi.Runs[1].Dynos = append(wi.Runs[0].Dynos, slow), append(wi.Runs[1].Dynos, fast)
		lat := 250.0
		if m >= 20 && m < 30 {
			lat = 4000 // above the axis: clipped to its top
		}
		wi.Runs[0].LatencyMS, wi.Runs[1].LatencyMS = append(wi.Runs[0].LatencyMS, lat), append(wi.Runs[1].LatencyMS, lat/2)
	}
	return wi
}

func TestRenderWhatIfGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderWhatIf(&buf, whatIf()); err != nil {
		t.Fatal(err)
	}
	checkXML(t, buf.Bytes())
	golden := filepath.Join("testdata", "what-if.svg")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/chart -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the rendered chart; if the change is meant, rerun with -update and look at it", golden)
	}
	for _, text := range []string{`id="traffic"`, `id="ideal"`, `id="dynos-1"`, `id="dynos-2"`, `id="slo"`, "SLO 800 ms", "max 1000 ms",
		"AUTOSCALE_MAX_DYNOS=6 &lt;fast&gt;", "What if: profile test"} {
		if !bytes.Contains(buf.Bytes(), []byte(text)) {
			t.Errorf("the chart lacks %s", text)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("<script")) {
		t.Error("the chart must not run anything")
	}
}

func TestRenderWhatIfAxes(t *testing.T) {
	t.Run("nothing to draw", func(t *testing.T) {
		if err := RenderWhatIf(io.Discard, WhatIf{BucketMinutes: 1}); !errors.Is(err, ErrNoRecords) {
			t.Errorf("got %v, want ErrNoRecords", err)
		}
	})
	t.Run("SLO equal to max is one line", func(t *testing.T) {
		wi := whatIf()
		wi.SLOMS = 1000
		var buf bytes.Buffer
		if err := RenderWhatIf(&buf, wi); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte(`id="slo"`)) {
			t.Error("an SLO equal to the max response time is drawn twice")
		}
	})
	t.Run("a job queue's chart names jobs", func(t *testing.T) {
		wi := whatIf()
		wi.Jobs = true
		var buf bytes.Buffer
		if err := RenderWhatIf(&buf, wi); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{">jobs (a minute)<", ">job latency (ms)<", ">jobs enqueued<", "jobs enqueued, queue latency and dynos against the ideal"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("the chart lacks %q", want)
			}
		}
		if strings.Contains(buf.String(), "rpm") {
			t.Error("a job queue's chart speaks of rpm")
		}
	})
	t.Run("a year has a readable time axis", func(t *testing.T) {
		wi := whatIf()
		wi.BucketMinutes = 1440 // a bucket a day
		for len(wi.RPM) < 365 {
			wi.RPM, wi.Ideal = append(wi.RPM, 600), append(wi.Ideal, 2)
			for i := range wi.Runs {
				wi.Runs[i].Dynos, wi.Runs[i].LatencyMS = append(wi.Runs[i].Dynos, 2), append(wi.Runs[i].LatencyMS, 300)
			}
		}
		var buf bytes.Buffer
		if err := RenderWhatIf(&buf, wi); err != nil {
			t.Fatal(err)
		}
		labels := regexp.MustCompile(`y="658" text-anchor="middle"`).FindAll(buf.Bytes(), -1)
		if len(labels) < 4 || len(labels) > 9 {
			t.Errorf("%d time labels over a year, want a handful", len(labels))
		}
		if !strings.Contains(buf.String(), "Jan 5 2026 09:00 – Jan 5 2027 09:00 UTC; per day: mean traffic") {
			t.Error("the chart does not give the years or say its values are per day")
		}
		if strings.Contains(buf.String(), ">09:00<") {
			t.Error("a year's axis should be labelled with dates, not times of day")
		}
	})
}
