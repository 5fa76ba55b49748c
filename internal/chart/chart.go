// Package chart draws one formation's autoscaler history as a self-contained
// SVG: heartbeat latency against the response-time thresholds, with the dyno
// count stepped in a panel underneath. The output has no scripts and no
// external fonts, and is byte-for-byte the same for the same input, so that
// a golden file can pin it.
package chart

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Options say what the chart shows beyond the records themselves.
type Options struct {
	// Title names the formation, e.g. "shop/web".
	Title string
	// From and To bound the time axis; a zero value takes the records' span.
	From, To time.Time
	// Location is the time zone of the axis labels; nil means UTC.
	Location *time.Location
	// MinResponseMS and MaxResponseMS draw the threshold lines; 0 leaves one out.
	// With the queue_time Signal they are the queue-time thresholds.
	MinResponseMS, MaxResponseMS int64
	// Signal names what the latency is: the queue time, or (empty) the response time.
	Signal probe.Signal
}

// ErrNoRecords means there was nothing to draw.
var ErrNoRecords = errors.New("no records to chart")

// Canvas geometry, in SVG user units (pixels at 100%).
const (
	width        = 960
	height       = 556
	plotLeft     = 72.0
	plotRight    = 852.0 // room on the right for the threshold labels
	latencyTop   = 92.0
	latencyBot   = 352.0
	dynoTop      = 394.0
	dynoBot      = 504.0
	axisLabelY   = 522.0
	dateLabelY   = 537.0
	legendY      = 52.0 // first row; the second is legendGap below
	legendGap    = 18.0
	gapIntervals = 3 // a gap of this many usual intervals breaks the latency line
	clipFactor   = 2 // latency axis tops out at this many times the max threshold
	fontFamily   = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
)

// Colours: readable on white, and told apart by colour-blind readers
// through dash patterns and labels as well.
const (
	colLatency  = "#1f6fb4"
	colMaxResp  = "#c62828"
	colMinResp  = "#2e7d32"
	colFailZone = "#fdecea"
	colPassZone = "#edf7ee"
	colDynos    = "#37306b"
	colBounds   = "#8a8a8a"
	colUp       = "#d9480f"
	colDown     = "#2b8a3e"
	colFailed   = "#6b6b6b"
	colGrid     = "#e6e6e6"
	colFrame    = "#b0b0b0"
	colText     = "#222222"
	colMuted    = "#666666"
)

// beat is one heartbeat from a decision record.
type beat struct {
	at       time.Time
	latency  int64
	answered bool // a response worth plotting; false for no answer or a probe error
}

// step is a value that holds from at until the next step.
type step struct {
	at       time.Time
	value    int
	min, max int
}

// scale is one scale attempt.
type scale struct {
	at       time.Time
	from, to int
	ok       bool
}

// series is what the records say, oldest first.
type series struct {
	probes []beat
	dynos  []step
	scales []scale
	first  time.Time
	last   time.Time
}

func collect(sorted []state.Record) series {
	// A tick writes its decision and then its scale at the same instant.
	slices.SortStableFunc(sorted, func(a, b state.Record) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)))
	})
	var s series
	for _, r := range sorted {
		switch r.Kind {
		case state.KindDecision:
			s.probes = append(s.probes, beat{
				at: r.At, latency: r.LatencyMS,
				answered: r.Status != 0 && r.Verdict != probe.Error,
			})
			if r.Current > 0 { // 0: the formation could not be read
				s.dynos = append(s.dynos, step{at: r.At, value: r.Current, min: r.Min, max: r.Max})
			}
		case state.KindScale:
			s.scales = append(s.scales, scale{at: r.At, from: r.Current, to: r.Target, ok: r.OK})
			if r.OK {
				s.dynos = append(s.dynos, step{at: r.At, value: r.Target, min: r.Min, max: r.Max})
			}
		default:
			continue
		}
		if s.first.IsZero() {
			s.first = r.At
		}
		s.last = r.At
	}
	return s
}

func kindOrder(kind string) int {
	if kind == state.KindScale {
		return 1
	}
	return 0
}

// Render writes the SVG chart of recs (in any order) to w. Records outside
// [opt.From, opt.To] are left out.
func Render(w io.Writer, recs []state.Record, opt Options) error {
	recs = slices.DeleteFunc(slices.Clone(recs), func(r state.Record) bool {
		return (!opt.From.IsZero() && r.At.Before(opt.From)) || (!opt.To.IsZero() && r.At.After(opt.To))
	})
	s := collect(recs)
	if s.first.IsZero() {
		return ErrNoRecords
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	from, to := opt.From, opt.To
	if from.IsZero() {
		from = s.first
	}
	if to.IsZero() {
		to = s.last
	}
	if to.Sub(from) < 10*time.Minute { // one tick still gets a readable axis
		from = to.Add(-10 * time.Minute)
	}
	c := &canvas{from: from, to: to, loc: loc, lat: newLatencyAxis(s, opt), dyn: newDynoAxis(s)}
	// Painter's order: zones, grids, scale marks, thresholds, data, frames.
	c.header(opt)
	c.zones(opt)
	c.grids()
	c.scaleMarks(s)
	c.thresholds(opt)
	c.latencyLine(s)
	c.dynoSteps(s)
	c.frames()
	c.legend(opt)
	c.b.WriteString("</svg>\n")
	if _, err := io.WriteString(w, c.b.String()); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

type canvas struct {
	b        strings.Builder
	from, to time.Time
	loc      *time.Location
	lat      latencyAxis
	dyn      dynoAxis
}

func (c *canvas) printf(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

// x maps a time to its horizontal position.
func (c *canvas) x(t time.Time) float64 {
	span := c.to.Sub(c.from).Seconds()
	return plotLeft + (t.Sub(c.from).Seconds()/span)*(plotRight-plotLeft)
}

// latencyAxis maps milliseconds to the upper panel.
type latencyAxis struct{ top, tick float64 }

func newLatencyAxis(s series, opt Options) latencyAxis {
	var highest int64
	for _, p := range s.probes {
		if p.answered {
			highest = max(highest, p.latency)
		}
	}
	top := float64(max(highest, 1))
	if opt.MaxResponseMS > 0 {
		top = max(top, 1.25*float64(opt.MaxResponseMS))
		// One timeout must not flatten the rest of the day.
		top = min(top, clipFactor*float64(opt.MaxResponseMS))
	}
	if opt.MinResponseMS > 0 {
		top = max(top, 1.25*float64(opt.MinResponseMS))
	}
	tick := niceStep(top, 5)
	return latencyAxis{top: math.Ceil(top/tick) * tick, tick: tick}
}

// y clips values above the axis to its top edge.
func (a latencyAxis) y(ms float64) float64 {
	return latencyBot - min(ms, a.top)/a.top*(latencyBot-latencyTop)
}

// dynoAxis maps dyno counts to the lower panel.
type dynoAxis struct{ top, tick int }

func newDynoAxis(s series) dynoAxis {
	highest, boundTop := 1, 0
	for _, d := range s.dynos {
		highest = max(highest, d.value, d.min)
		boundTop = max(boundTop, d.max)
	}
	// A far-away max (say 50 with 2 dynos running) would flatten the line:
	// it is shown only when near, and clipped to the top otherwise.
	if boundTop <= 2*highest+2 {
		highest = max(highest, boundTop)
	}
	top := highest + 1
	tick := max(1, int(niceStep(float64(top), 4)))
	return dynoAxis{top: (top + tick - 1) / tick * tick, tick: tick}
}

func (a dynoAxis) y(n int) float64 {
	return dynoBot - float64(min(n, a.top))/float64(a.top)*(dynoBot-dynoTop)
}

// num formats a coordinate with at most one fixed decimal, so output is stable.
func num(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// esc escapes text for SVG content and attribute values.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

func (c *canvas) header(opt Options) {
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="12" fill="%s">`+"\n",
		width, height, width, height, esc(fontFamily), colText)
	what := "heartbeat latency"
	switch opt.Signal {
	case probe.QueueTime:
		what = "queue time"
	case probe.JobLatency:
		what = "job latency"
	}
	title := strings.ToUpper(what[:1]) + what[1:] + " and dynos"
	if opt.Title != "" {
		title = opt.Title + ": " + what + " and dynos"
	}
	c.printf("<title>%s</title>\n", esc(title))
	c.printf(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	c.printf(`<text x="%s" y="28" font-size="17" font-weight="600">%s</text>`+"\n", num(plotLeft), esc(title))
	span := c.from.In(c.loc).Format("Jan 2 15:04") + " – " + c.to.In(c.loc).Format("Jan 2 15:04") + " " + zoneName(c.to.In(c.loc))
	c.printf(`<text x="%s" y="28" text-anchor="end" fill="%s">%s</text>`+"\n", num(plotRight), colMuted, esc(span))
}

func zoneName(t time.Time) string {
	name, _ := t.Zone()
	return name
}

// zones tint the latency panel: above the max threshold a probe fails,
// below the min it passes.
func (c *canvas) zones(opt Options) {
	a := c.lat
	if opt.MaxResponseMS > 0 && float64(opt.MaxResponseMS) < a.top {
		c.printf(`<rect id="fail-zone" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n",
			num(plotLeft), num(latencyTop), num(plotRight-plotLeft), num(a.y(float64(opt.MaxResponseMS))-latencyTop), colFailZone)
	}
	if opt.MinResponseMS > 0 {
		c.printf(`<rect id="pass-zone" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n",
			num(plotLeft), num(a.y(float64(opt.MinResponseMS))), num(plotRight-plotLeft), num(latencyBot-a.y(float64(opt.MinResponseMS))), colPassZone)
	}
}

// grids draws the value grid and labels of both panels, and the time grid
// with its labels under the lower panel: the date under the first label and
// wherever the day changes.
func (c *canvas) grids() {
	c.printf("<g id=\"grid\">\n")
	hline := func(y float64) {
		c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(plotLeft), num(y), num(plotRight), num(y), colGrid)
	}
	valueLabel := func(y float64, text string) {
		c.printf(`<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", num(plotLeft-8), num(y+4), colMuted, text)
	}
	for v := 0.0; v <= c.lat.top+c.lat.tick/2; v += c.lat.tick {
		hline(c.lat.y(v))
		valueLabel(c.lat.y(v), formatMS(v))
	}
	for v := 0; v <= c.dyn.top; v += c.dyn.tick {
		hline(c.dyn.y(v))
		valueLabel(c.dyn.y(v), strconv.Itoa(v))
	}
	c.printf(`<text transform="translate(22 %s) rotate(-90)" text-anchor="middle" fill="%s">latency (ms)</text>`+"\n",
		num((latencyTop+latencyBot)/2), colMuted)
	c.printf(`<text transform="translate(22 %s) rotate(-90)" text-anchor="middle" fill="%s">dynos</text>`+"\n",
		num((dynoTop+dynoBot)/2), colMuted)

	lastDate := ""
	for _, t := range timeTicks(c.from, c.to, timeStep(c.to.Sub(c.from)), c.loc) {
		px := num(c.x(t))
		for _, panel := range [][2]float64{{latencyTop, latencyBot}, {dynoTop, dynoBot}} {
			c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", px, num(panel[0]), px, num(panel[1]), colGrid)
		}
		local := t.In(c.loc)
		c.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(axisLabelY), colMuted, local.Format("15:04"))
		if date := local.Format("Jan 2"); date != lastDate {
			c.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(dateLabelY), colMuted, date)
			lastDate = date
		}
	}
	c.printf(`<text x="%s" y="%s" text-anchor="end" fill="%s">time (%s)</text>`+"\n", num(plotRight), num(dateLabelY), colMuted, esc(zoneName(c.to.In(c.loc))))
	c.printf("</g>\n")
}

// thresholds draws the two response-time lines, labelled at the right
// edge, the labels kept apart when the lines are close.
func (c *canvas) thresholds(opt Options) {
	maxY, minY := c.lat.y(float64(opt.MaxResponseMS)), c.lat.y(float64(opt.MinResponseMS))
	if opt.MaxResponseMS > 0 {
		c.printf(`<line id="max-response" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="8 4"/>`+"\n",
			num(plotLeft), num(maxY), num(plotRight), num(maxY), colMaxResp)
		c.printf(`<text x="%s" y="%s" fill="%s">max %d ms</text>`+"\n", num(plotRight+6), num(maxY+4), colMaxResp, opt.MaxResponseMS)
	}
	if opt.MinResponseMS > 0 {
		labelY := minY + 4
		if opt.MaxResponseMS > 0 && labelY-(maxY+4) < 14 {
			labelY = maxY + 4 + 14
		}
		c.printf(`<line id="min-response" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="2 3"/>`+"\n",
			num(plotLeft), num(minY), num(plotRight), num(minY), colMinResp)
		c.printf(`<text x="%s" y="%s" fill="%s">min %d ms</text>`+"\n", num(plotRight+6), num(labelY), colMinResp, opt.MinResponseMS)
	}
}

// latencyLine draws the heartbeat latency, broken where probes are missing
// (the autoscaler was not running) or unanswered; an unanswered probe is a
// cross along the top edge.
func (c *canvas) latencyLine(s series) {
	gap := time.Duration(gapIntervals) * usualInterval(s.probes)
	var (
		segments [][]beat
		current  []beat
	)
	flush := func() {
		if len(current) > 0 {
			segments = append(segments, current)
		}
		current = nil
	}
	var misses []time.Time
	for _, p := range s.probes {
		if !p.answered {
			flush()
			misses = append(misses, p.at)
			continue
		}
		if len(current) > 0 && gap > 0 && p.at.Sub(current[len(current)-1].at) > gap {
			flush()
		}
		current = append(current, p)
	}
	flush()
	c.printf("<g id=\"latency\">\n")
	for _, seg := range segments {
		if len(seg) == 1 { // a one-point line is invisible: a dot instead
			c.printf(`<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`+"\n", num(c.x(seg[0].at)), num(c.lat.y(float64(seg[0].latency))), colLatency)
			continue
		}
		points := make([]string, len(seg))
		for i, p := range seg {
			points[i] = num(c.x(p.at)) + "," + num(c.lat.y(float64(p.latency)))
		}
		c.printf(`<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-linejoin="round"/>`+"\n",
			strings.Join(points, " "), colLatency)
	}
	// Values above the axis are drawn at its top edge and labelled there.
	labelEnd := math.Inf(-1)
	for _, p := range s.probes {
		if !p.answered || float64(p.latency) <= c.lat.top {
			continue
		}
		px := c.x(p.at)
		label := fmt.Sprintf("↑ %d ms", p.latency)
		left, right, anchor := placeLabel(px+4, label, plotRight-2)
		if left < labelEnd+4 {
			continue
		}
		c.printf(`<text class="clipped" x="%s" y="%s" font-size="10" fill="%s"%s>%s</text>`+"\n",
			num(px+4), num(latencyTop+24), colLatency, anchor, label)
		labelEnd = right
	}
	for _, at := range misses {
		c.printf(`<path class="miss" d="M%s %sl6 6m0 -6l-6 6" stroke="%s" stroke-width="1.5"/>`+"\n",
			num(c.x(at)-3), num(latencyTop+3), colMaxResp)
	}
	c.printf("</g>\n")
}

// dynoSteps draws the dyno count as a step line, with the bounds dashed,
// each held until the last record.
func (c *canvas) dynoSteps(s series) {
	if len(s.dynos) == 0 {
		return
	}
	end := c.x(s.last)
	pathOf := func(value func(step) int) string {
		var p strings.Builder
		prev := value(s.dynos[0])
		fmt.Fprintf(&p, "M%s %s", num(c.x(s.dynos[0].at)), num(c.dyn.y(prev)))
		for _, d := range s.dynos[1:] {
			if v := value(d); v != prev {
				fmt.Fprintf(&p, "H%sV%s", num(c.x(d.at)), num(c.dyn.y(v)))
				prev = v
			}
		}
		fmt.Fprintf(&p, "H%s", num(end))
		return p.String()
	}
	c.printf(`<path id="max-dynos" d="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-dasharray="6 3"/>`+"\n",
		pathOf(func(d step) int { return d.max }), colBounds)
	c.printf(`<path id="min-dynos" d="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-dasharray="2 3"/>`+"\n",
		pathOf(func(d step) int { return d.min }), colBounds)
	c.printf(`<path id="dyno-steps" d="%s" fill="none" stroke="%s" stroke-width="2.5"/>`+"\n",
		pathOf(func(d step) int { return d.value }), colDynos)
	if c.x(s.dynos[0].at) == end { // a path of no length is invisible: a dot instead
		c.printf(`<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", num(end), num(c.dyn.y(s.dynos[0].value)), colDynos)
	}
	last := s.dynos[len(s.dynos)-1].value
	c.printf(`<text x="%s" y="%s" fill="%s" font-weight="600">%d</text>`+"\n", num(end+6), num(c.dyn.y(last)+4), colDynos, last)
}

func (c *canvas) frames() {
	for _, panel := range [][2]float64{{latencyTop, latencyBot}, {dynoTop, dynoBot}} {
		c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s"/>`+"\n",
			num(plotLeft), num(panel[0]), num(plotRight-plotLeft), num(panel[1]-panel[0]), colFrame)
	}
}

// scaleMarks draws a faint vertical line through both panels at each scale
// attempt. Labels with the counts go between the panels, on a second row
// where they would overlap, and are left out where both rows are taken.
func (c *canvas) scaleMarks(s series) {
	c.printf("<g id=\"scales\">\n")
	rowEnds := []float64{math.Inf(-1), math.Inf(-1)} // right edge of the last label on each row
	for _, e := range s.scales {
		colour, label := colUp, fmt.Sprintf("%d→%d", e.from, e.to)
		switch {
		case !e.ok:
			colour, label = colFailed, label+" failed"
		case e.to < e.from:
			colour = colDown
		}
		px := c.x(e.at)
		c.printf(`<line class="scale" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1" stroke-dasharray="3 3" opacity="0.8"/>`+"\n",
			num(px), num(latencyTop), num(px), num(dynoBot), colour)
		left, right, anchor := placeLabel(px+3, label, width-4)
		for row, end := range rowEnds {
			if left < end+4 {
				continue
			}
			c.printf(`<text x="%s" y="%s" font-size="10" fill="%s"%s>%s</text>`+"\n",
				num(px+3), num(dynoTop-6-12*float64(row)), colour, anchor, esc(label))
			rowEnds[row] = right
			break
		}
	}
	c.printf("</g>\n")
}

// legend explains each mark: the latency panel's on the first row, the
// dyno panel's on the second.
func (c *canvas) legend(opt Options) {
	type item struct {
		swatch string // SVG drawn with its left end at (0, 0)
		label  string
	}
	line, maxText, minText := "heartbeat latency", "max response %d ms: slower fails", "min response %d ms: faster passes"
	switch opt.Signal {
	case probe.QueueTime:
		line, maxText, minText = "queue time (heartbeat)", "max queue time %d ms: longer fails", "min queue time %d ms: shorter passes"
	case probe.JobLatency:
		line, maxText, minText = "job latency (oldest job waiting)", "max job latency %d ms: longer fails", "min job latency %d ms: shorter passes"
	}
	latency := []item{
		{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="2"/>`, colLatency), line},
	}
	if opt.MaxResponseMS > 0 {
		latency = append(latency, item{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="1.5" stroke-dasharray="8 4"/>`, colMaxResp),
			fmt.Sprintf(maxText, opt.MaxResponseMS)})
	}
	if opt.MinResponseMS > 0 {
		latency = append(latency, item{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="1.5" stroke-dasharray="2 3"/>`, colMinResp),
			fmt.Sprintf(minText, opt.MinResponseMS)})
	}
	latency = append(latency,
		item{fmt.Sprintf(`<path d="M8 -3l6 6m0 -6l-6 6" stroke="%s" stroke-width="1.5"/>`, colMaxResp), "no answer or probe error"})
	if opt.MinResponseMS <= 0 && opt.MaxResponseMS <= 0 {
		latency = append(latency, item{"", "(response-time thresholds not recorded)"})
	}
	dynos := []item{
		{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="2.5"/>`, colDynos), "dynos"},
		{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="1.2" stroke-dasharray="6 3"/>`, colBounds), "max dynos"},
		{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="1.2" stroke-dasharray="2 3"/>`, colBounds), "min dynos"},
		{fmt.Sprintf(`<line x1="11" y1="-6" x2="11" y2="6" stroke="%s" stroke-dasharray="3 3"/>`, colUp), "scale up"},
		{fmt.Sprintf(`<line x1="11" y1="-6" x2="11" y2="6" stroke="%s" stroke-dasharray="3 3"/>`, colDown), "scale down"},
		{fmt.Sprintf(`<line x1="11" y1="-6" x2="11" y2="6" stroke="%s" stroke-dasharray="3 3"/>`, colFailed), "scale failed"},
	}
	c.printf("<g id=\"legend\" font-size=\"11.5\">\n")
	for row, items := range [][]item{latency, dynos} {
		x := plotLeft
		for _, it := range items {
			c.printf(`<g transform="translate(%s %s)">%s<text x="28" y="4">%s</text></g>`+"\n",
				num(x), num(legendY+legendGap*float64(row)), it.swatch, esc(it.label))
			x += 28 + textWidth(it.label) + 20
		}
	}
	c.printf("</g>\n")
}

// labelWidth estimates the width of a 10-unit label, on the wide side.
func labelWidth(s string) float64 { return 6.5 * float64(len([]rune(s))) }

// placeLabel says where a label at x goes: its left and right edges and
// its anchor attributes. It ends at x instead of starting there when it
// would run past limit.
func placeLabel(x float64, label string, limit float64) (left, right float64, anchor string) {
	w := labelWidth(label)
	if x+w > limit {
		return x - 6 - w, x - 6, ` text-anchor="end" dx="-6"`
	}
	return x, x + w, ""
}

// textWidth estimates the width of a label at the legend's size; no font
// metrics are at hand, and an estimate on the wide side only adds space.
func textWidth(s string) float64 { return 6.2 * float64(len([]rune(s))) }

// usualInterval is the median time between probes (0 with fewer than two).
func usualInterval(probes []beat) time.Duration {
	if len(probes) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(probes)-1)
	for i := 1; i < len(probes); i++ {
		gaps = append(gaps, probes[i].at.Sub(probes[i-1].at))
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// niceStep is a round step (1, 2, 2.5 or 5 times a power of ten) that cuts
// span into at most about n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

func formatMS(v float64) string {
	if v >= 10000 && math.Mod(v, 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// timeSteps are the label intervals the time axis chooses from.
var timeSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	48 * time.Hour, 7 * 24 * time.Hour,
}

// timeStep picks the smallest interval giving at most eight labels.
func timeStep(span time.Duration) time.Duration {
	for _, s := range timeSteps {
		if span/s <= 8 {
			return s
		}
	}
	return timeSteps[len(timeSteps)-1]
}

// timeTicks are the multiples of step after local midnight within [from, to].
func timeTicks(from, to time.Time, step time.Duration, loc *time.Location) []time.Time {
	local := from.In(loc)
	t := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	if step >= 24*time.Hour {
		step = step / (24 * time.Hour) * (24 * time.Hour)
	}
	var ticks []time.Time
	for ; !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			ticks = append(ticks, t)
		}
	}
	return ticks
}
