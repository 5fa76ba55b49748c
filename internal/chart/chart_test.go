package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the golden labels must not depend on the machine's zone database

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var start = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// afternoon is three hours of one-minute ticks: a slow spell that scales
// 1 → 3 (the second scale-up failing once), a ten-minute outage of the
// autoscaler, a fast spell that scales back down, the minimum rising with
// the schedule, two timeouts, a probe error and one 9-second spike.
func afternoon() []state.Record {
	var (
		recs           []state.Record
		dynos          = 1
		slow, fast     int
		failedOnceAt40 bool
	)
	for i := range 180 {
		if i >= 71 && i <= 80 {
			continue // the autoscaler was not running
		}
		at := start.Add(time.Duration(i) * time.Minute)
		wobble := math.Sin(float64(i) / 3)
		latency, status := int64(0), 200
		switch {
		case i < 30:
			latency = 550 + int64(150*wobble)
		case i < 40:
			latency = 900 + 60*int64(i-30)
		case i < 71:
			latency = 700 + int64(100*wobble)
		case i < 101:
			latency = 280 + int64(50*wobble)
		default:
			latency = 600 + int64(120*wobble)
		}
		switch i {
		case 60:
			latency = 9000
		case 125, 126:
			latency, status = 0, 0
		case 140:
			latency, status = 35, 404
		}
		verdict := probe.OK
		switch {
		case status == 404:
			verdict = probe.Error
		case status == 0 || latency > 1000:
			verdict, slow, fast = probe.Fail, slow+1, 0
		case latency < 400:
			verdict, fast, slow = probe.Pass, fast+1, 0
		default:
			slow, fast = 0, 0
		}
		lo, hi := 1, 3
		if i >= 120 {
			lo, hi = 2, 5
		}
		target, reason := dynos, decision.Steady
		switch {
		case verdict == probe.Error:
			reason = decision.ProbeError
		case dynos < lo:
			target, reason = lo, decision.OutsideBounds
		case slow >= 3 && dynos < hi:
			target, reason = dynos+1, decision.SlowStreak
		case fast >= 5 && dynos > lo:
			target, reason = dynos-1, decision.FastStreak
		case fast >= 5:
			reason = decision.AtMin
		}
		rec := state.Record{
			At: at, Kind: state.KindDecision, App: "shop", Type: "web",
			Verdict: verdict, LatencyMS: latency, Status: status,
			Current: dynos, Target: target, Min: lo, Max: hi, Reason: reason,
		}
		recs = append(recs, rec)
		if target == dynos {
			continue
		}
		scale := rec
		scale.Kind, scale.OK = state.KindScale, true
		if target == 3 && !failedOnceAt40 {
			failedOnceAt40 = true
			scale.OK, scale.Error = false, "heroku: 503 service unavailable"
		}
		recs = append(recs, scale)
		if scale.OK {
			dynos, slow, fast = target, 0, 0
		}
	}
	return recs
}

func TestRenderGolden(t *testing.T) {
	day := afternoon()
	tests := []struct {
		name string
		recs []state.Record
		opt  Options
	}{
		{
			name: "afternoon",
			recs: day,
			opt:  Options{Title: "shop/web", MinResponseMS: 400, MaxResponseMS: 1000, To: start.Add(180 * time.Minute)},
		},
		{
			name: "no-thresholds",
			recs: day[:20],
			opt:  Options{Title: "shop/web"},
		},
		{
			name: "one-record",
			recs: day[:1],
			opt:  Options{Title: `a&b/<web>`, MinResponseMS: 400, MaxResponseMS: 1000},
		},
		{
			name: "vancouver-labels",
			recs: day[:40],
			opt:  Options{Title: "shop/web", MinResponseMS: 300, MaxResponseMS: 350, Location: mustLoad(t, "America/Vancouver")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, tt.recs, tt.opt); err != nil {
				t.Fatal(err)
			}
			checkXML(t, buf.Bytes())
			golden := filepath.Join("testdata", tt.name+".svg")
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
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	opt := Options{Title: "shop/web", MinResponseMS: 400, MaxResponseMS: 1000}
	var a, b bytes.Buffer
	if err := Render(&a, afternoon(), opt); err != nil {
		t.Fatal(err)
	}
	// The same records in reverse order, as the store returns them.
	recs := afternoon()
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	if err := Render(&b, recs, opt); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the chart depends on the order of the records")
	}
}

// TestRenderShowsWhatHappened reads the chart's marks back and checks them
// against the history: thresholds in the right order, one dyno step per
// successful scale, a mark per scale attempt, a cross per unanswered probe.
func TestRenderShowsWhatHappened(t *testing.T) {
	recs := afternoon()
	var buf bytes.Buffer
	if err := Render(&buf, recs, Options{Title: "shop/web", MinResponseMS: 400, MaxResponseMS: 1000}); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, buf.Bytes())

	maxLine, minLine := doc.byID["max-response"], doc.byID["min-response"]
	if maxLine == nil || minLine == nil {
		t.Fatalf("threshold lines missing: max %v, min %v", maxLine, minLine)
	}
	if maxY, minY := attrFloat(t, maxLine, "y1"), attrFloat(t, minLine, "y1"); maxY >= minY {
		t.Errorf("max threshold drawn at y=%v, not above the min one at y=%v", maxY, minY)
	}
	if !strings.Contains(doc.text, "max 1000 ms") || !strings.Contains(doc.text, "min 400 ms") {
		t.Errorf("threshold labels missing from the text: %q", doc.text)
	}

	var scales, okScales, unanswered int
	finalDynos := 0
	for _, r := range recs {
		switch {
		case r.Kind == state.KindScale:
			scales++
			if r.OK {
				okScales++
				finalDynos = r.Target
			}
		case r.Status == 0 || r.Verdict == probe.Error:
			unanswered++
		}
	}
	steps := doc.byID["dyno-steps"]
	if steps == nil {
		t.Fatal("no dyno step line")
	}
	if got := strings.Count(attr(steps, "d"), "V"); got != okScales {
		t.Errorf("dyno line has %d vertical steps, want one per successful scale (%d)", got, okScales)
	}
	if got := doc.classes["scale"]; got != scales {
		t.Errorf("%d scale marks, want %d", got, scales)
	}
	if got := doc.classes["miss"]; got != unanswered {
		t.Errorf("%d unanswered-probe crosses, want %d", got, unanswered)
	}
	if !strings.Contains(doc.text, "2→3 failed") {
		t.Error("the failed scale is not labelled as failed")
	}
	if okScales == 0 || finalDynos == 0 {
		t.Fatal("the fixture has no successful scale")
	}

	// The outage breaks the latency line: two polylines or more around it.
	if doc.elements["polyline"] < 2 {
		t.Errorf("%d latency polylines; the outage and the timeouts should break the line", doc.elements["polyline"])
	}
	// The 9-second spike is clipped to the panel instead of flattening the rest.
	for _, pts := range doc.polylines {
		for _, p := range strings.Fields(pts) {
			y, _ := strconv.ParseFloat(p[strings.IndexByte(p, ',')+1:], 64)
			if y < latencyTop || y > latencyBot {
				t.Errorf("latency point %s outside the panel [%v, %v]", p, latencyTop, latencyBot)
			}
		}
	}
	if !strings.Contains(doc.text, "|2000|") || strings.Contains(doc.text, "|2500|") {
		t.Errorf("latency axis should stop at twice the max threshold (2000), labels: %q", doc.text)
	}
	if doc.classes["clipped"] != 1 || !strings.Contains(doc.text, "9000 ms") {
		t.Errorf("the clipped 9000 ms spike should be labelled once at the top edge")
	}
}

func TestRenderNothing(t *testing.T) {
	err := Render(io.Discard, nil, Options{})
	if !errors.Is(err, ErrNoRecords) {
		t.Errorf("Render(no records) = %v, want ErrNoRecords", err)
	}
}

func TestRenderIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, afternoon(), Options{Title: "shop/web", MinResponseMS: 400, MaxResponseMS: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"<script", "@import", "@font-face", "href=", "url("} {
		if bytes.Contains(buf.Bytes(), []byte(banned)) {
			t.Errorf("the SVG contains %q: it must not load or run anything", banned)
		}
	}
}

func TestTimeStep(t *testing.T) {
	tests := []struct {
		span time.Duration
		want time.Duration
	}{
		{10 * time.Minute, 2 * time.Minute},
		{3 * time.Hour, 30 * time.Minute},
		{24 * time.Hour, 3 * time.Hour},
		{7 * 24 * time.Hour, 24 * time.Hour},
		{90 * 24 * time.Hour, 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.span.String(), func(t *testing.T) {
			if got := timeStep(tt.span); got != tt.want {
				t.Errorf("timeStep(%s) = %s, want %s", tt.span, got, tt.want)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	tests := []struct {
		span float64
		n    int
		want float64
	}{
		{1250, 5, 250},
		{4000, 5, 1000},
		{13, 5, 5},
		{4, 4, 1},
		{7, 4, 2},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.span, 'f', -1, 64), func(t *testing.T) {
			if got := niceStep(tt.span, tt.n); got != tt.want {
				t.Errorf("niceStep(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
			}
		})
	}
}

type svgDoc struct {
	byID      map[string]*xml.StartElement
	classes   map[string]int
	elements  map[string]int
	polylines []string
	text      string
}

func parse(t *testing.T, data []byte) svgDoc {
	t.Helper()
	doc := svgDoc{byID: map[string]*xml.StartElement{}, classes: map[string]int{}, elements: map[string]int{}}
	var text strings.Builder
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			el := tok.Copy()
			doc.elements[el.Name.Local]++
			if id := attr(&el, "id"); id != "" {
				doc.byID[id] = &el
			}
			if class := attr(&el, "class"); class != "" {
				doc.classes[class]++
			}
			if el.Name.Local == "polyline" {
				doc.polylines = append(doc.polylines, attr(&el, "points"))
			}
		case xml.CharData:
			text.Write(tok)
			text.WriteByte('|')
		}
	}
	doc.text = text.String()
	return doc
}

func checkXML(t *testing.T, data []byte) {
	t.Helper()
	doc := parse(t, data)
	if doc.elements["svg"] != 1 || doc.elements["script"] != 0 {
		t.Errorf("want one <svg> and no <script>: %v", doc.elements)
	}
}

func attr(el *xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func attrFloat(t *testing.T, el *xml.StartElement, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(attr(el, name), 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", el.Name.Local, name, attr(el, name), err)
	}
	return v
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRenderLeavesOutRecordsOutsideTheWindow(t *testing.T) {
	recs := afternoon()
	from, to := start.Add(time.Hour), start.Add(2*time.Hour)
	var all, inside bytes.Buffer
	opt := Options{Title: "shop/web", MinResponseMS: 400, MaxResponseMS: 1000, From: from, To: to}
	if err := Render(&all, recs, opt); err != nil {
		t.Fatal(err)
	}
	var within []state.Record
	for _, r := range recs {
		if !r.At.Before(from) && !r.At.After(to) {
			within = append(within, r)
		}
	}
	if err := Render(&inside, within, opt); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all.Bytes(), inside.Bytes()) {
		t.Error("records outside [From, To] changed the chart")
	}
	if err := Render(io.Discard, recs, Options{From: start.Add(-2 * time.Hour), To: start.Add(-time.Hour)}); !errors.Is(err, ErrNoRecords) {
		t.Errorf("a window with no records: %v, want ErrNoRecords", err)
	}
}
