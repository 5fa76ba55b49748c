package chart

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// WhatIf is a simulation to draw: the traffic, each run's dynos and probe
// latency, and the ideal dyno count, in buckets of whole minutes.
type WhatIf struct {
	Title         string
	Start         time.Time      // start of bucket 0
	Location      *time.Location // of the axis labels; nil means UTC
	BucketMinutes int
	RPM           []float64 // traffic, per bucket
	Ideal         []int     // the demand, per bucket
	Runs          []WhatIfRun
	// MinResponseMS and MaxResponseMS are the first run's thresholds; SLOMS
	// is drawn too when it differs from the max.
	MinResponseMS, MaxResponseMS int64
	SLOMS                        float64
	// Jobs says RPM is a job queue's jobs enqueued a minute, and the
	// latency the queue's.
	Jobs bool
}

// whatIfNames are what a chart calls its traffic and latency.
type whatIfNames struct{ subject, traffic, latency, legend string }

func (wi WhatIf) names() whatIfNames {
	if wi.Jobs {
		return whatIfNames{"jobs enqueued, queue latency and dynos against the ideal", "jobs (a minute)", "job latency (ms)", "jobs enqueued"}
	}
	return whatIfNames{"traffic, probe latency and dynos against the ideal", "traffic (rpm)", "latency (ms)", "traffic"}
}

// WhatIfRun is one run's series, bucket by bucket like the traffic.
type WhatIfRun struct {
	Label     string
	Dynos     []int
	LatencyMS []float64
}

// Geometry of the three panels: traffic, latency, dynos.
const (
	wiHeight     = 720
	wiLegendY    = 68.0
	wiTrafficTop = 110.0
	wiTrafficBot = 220.0
	wiLatencyTop = 250.0
	wiLatencyBot = 430.0
	wiDynoTop    = 460.0
	wiDynoBot    = 640.0
	wiAxisLabelY = 658.0
	wiDateLabelY = 673.0
	colTraffic   = "#5c6f7b"
	colIdeal     = "#d8d8d8"
	colSLO       = "#8e24aa"
)

// runStyles tell runs apart by colour and by dash pattern.
var runStyles = []struct{ colour, dash string }{
	{colDynos, ""}, {colUp, "7 3"}, {colLatency, "2 3"}, {colDown, "9 3 2 3"}, {"#b8860b", "4 4"}, {"#c2185b", "1 2"},
}

// runStyle is run k's colour and its dash pattern as an SVG attribute.
func runStyle(k int) (colour, dashAttr string) {
	st := runStyles[k%len(runStyles)]
	if st.dash == "" {
		return st.colour, ""
	}
	return st.colour, fmt.Sprintf(` stroke-dasharray="%s"`, st.dash)
}

// RenderWhatIf writes the SVG chart of a simulation to w.
func RenderWhatIf(w io.Writer, wi WhatIf) error {
	n := len(wi.RPM)
	if n == 0 || wi.BucketMinutes < 1 {
		return ErrNoRecords
	}
	loc := wi.Location
	if loc == nil {
		loc = time.UTC
	}
	p := &whatIfPlot{
		canvas: &canvas{from: wi.Start, to: wi.Start.Add(time.Duration(n*wi.BucketMinutes) * time.Minute), loc: loc},
		wi:     wi,
		names:  wi.names(),
		axes:   newWhatIfAxes(wi),
	}
	p.header()
	p.grids()
	p.traffic()
	p.thresholds()
	p.ideal()
	p.runs()
	p.frames()
	p.whatIfLegend(wi, p.names.legend)
	p.b.WriteString("</svg>\n")
	if _, err := io.WriteString(w, p.b.String()); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// whatIfPlot is a what-if chart being drawn: the canvas, the simulation and
// the scales of its three panels.
type whatIfPlot struct {
	*canvas
	wi    WhatIf
	names whatIfNames
	axes  whatIfAxes
}

// whatIfAxes are the tops and tick steps of the three panels' value axes.
type whatIfAxes struct {
	topRPM, rpmTick    float64
	topLat, latTick    float64
	topDynos, dynoTick int
}

// newWhatIfAxes fits each panel's axis to the highest value it shows.
func newWhatIfAxes(wi WhatIf) whatIfAxes {
	var a whatIfAxes
	topRPM := 1.0
	for _, v := range wi.RPM {
		topRPM = max(topRPM, v)
	}
	a.rpmTick = niceStep(topRPM*1.05, 4)
	a.topRPM = math.Ceil(topRPM*1.05/a.rpmTick) * a.rpmTick

	var highest float64
	for _, r := range wi.Runs {
		for _, v := range r.LatencyMS {
			highest = max(highest, v)
		}
	}
	topLat := max(highest, 1, 1.25*float64(wi.MinResponseMS), 1.25*wi.SLOMS)
	if wi.MaxResponseMS > 0 {
		topLat = min(max(topLat, 1.25*float64(wi.MaxResponseMS)), clipFactor*float64(wi.MaxResponseMS))
	}
	a.latTick = niceStep(topLat, 5)
	a.topLat = math.Ceil(topLat/a.latTick) * a.latTick

	topDynos := 1
	for _, v := range wi.Ideal {
		topDynos = max(topDynos, v)
	}
	for _, r := range wi.Runs {
		for _, v := range r.Dynos {
			topDynos = max(topDynos, v)
		}
	}
	a.dynoTick = max(1, int(niceStep(float64(topDynos+1), 4)))
	a.topDynos = (topDynos + 1 + a.dynoTick - 1) / a.dynoTick * a.dynoTick
	return a
}

// bx is the horizontal position of the start of bucket i.
func (p *whatIfPlot) bx(i int) float64 {
	return p.x(p.wi.Start.Add(time.Duration(i*p.wi.BucketMinutes) * time.Minute))
}

func (p *whatIfPlot) yRPM(v float64) float64 {
	return wiTrafficBot - v/p.axes.topRPM*(wiTrafficBot-wiTrafficTop)
}

// yLat clips latencies above the axis to its top.
func (p *whatIfPlot) yLat(v float64) float64 {
	return wiLatencyBot - min(v, p.axes.topLat)/p.axes.topLat*(wiLatencyBot-wiLatencyTop)
}

func (p *whatIfPlot) yDyn(v int) float64 {
	return wiDynoBot - float64(v)/float64(p.axes.topDynos)*(wiDynoBot-wiDynoTop)
}

// wiPanels are the three panels' tops and bottoms: traffic, latency, dynos.
var wiPanels = [][2]float64{{wiTrafficTop, wiTrafficBot}, {wiLatencyTop, wiLatencyBot}, {wiDynoTop, wiDynoBot}}

// header opens the SVG and writes the title and the span it covers.
func (p *whatIfPlot) header() {
	p.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="12" fill="%s">`+"\n",
		width, wiHeight, width, wiHeight, esc(fontFamily), colText)
	title := "What if: " + cmp.Or(p.wi.Title, "a simulation")
	p.printf("<title>%s</title>\n", esc(title))
	p.printf(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, wiHeight)
	p.printf(`<text x="%s" y="28" font-size="17" font-weight="600">%s</text>`+"\n", num(plotLeft), esc(title))
	from, to := p.from.In(p.loc), p.to.In(p.loc)
	layout := "Jan 2 15:04"
	if from.Year() != to.Year() {
		layout = "Jan 2 2006 15:04"
	}
	span := p.names.subject + ", " + from.Format(layout) + " – " + to.Format(layout) + " " + zoneName(to)
	if p.wi.BucketMinutes > 1 {
		span += "; " + per(p.wi.BucketMinutes) + ": mean traffic and latency, most dynos"
	}
	p.printf(`<text x="%s" y="46" fill="%s">%s</text>`+"\n", num(plotLeft), colMuted, esc(span))
}

// grids draws each panel's value grid and label, then the time grid.
func (p *whatIfPlot) grids() {
	p.printf("<g id=\"grid\">\n")
	a := p.axes
	for v := 0.0; v <= a.topRPM+a.rpmTick/2; v += a.rpmTick {
		p.hline(p.yRPM(v), formatMS(v))
	}
	for v := 0.0; v <= a.topLat+a.latTick/2; v += a.latTick {
		p.hline(p.yLat(v), formatMS(v))
	}
	for v := 0; v <= a.topDynos; v += a.dynoTick {
		p.hline(p.yDyn(v), strconv.Itoa(v))
	}
	for i, label := range []string{p.names.traffic, p.names.latency, "dynos"} {
		p.printf(`<text transform="translate(22 %s) rotate(-90)" text-anchor="middle" fill="%s">%s</text>`+"\n",
			num((wiPanels[i][0]+wiPanels[i][1])/2), colMuted, label)
	}
	p.timeGrid()
	p.printf(`<text x="%s" y="%s" text-anchor="end" fill="%s">time (%s)</text>`+"\n", num(plotRight), num(wiDateLabelY), colMuted, esc(zoneName(p.to.In(p.loc))))
	p.printf("</g>\n")
}

// hline is one value's grid line across the plot, labelled on the left.
func (p *whatIfPlot) hline(y float64, label string) {
	p.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(plotLeft), num(y), num(plotRight), num(y), colGrid)
	p.printf(`<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", num(plotLeft-8), num(y+4), colMuted, label)
}

// timeGrid draws the vertical time lines through every panel and labels
// them: times of day with the date under each new day, or dates alone.
func (p *whatIfPlot) timeGrid() {
	step := timeStep(p.to.Sub(p.from))
	if days := p.to.Sub(p.from) / (8 * 24 * time.Hour); step >= 24*time.Hour && days > 0 {
		step = max(step, (days+1)*24*time.Hour) // past a week: whole days, at most about eight labels
	}
	lastDate := ""
	for _, t := range timeTicks(p.from, p.to, step, p.loc) {
		px := num(p.x(t))
		for _, panel := range wiPanels {
			p.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", px, num(panel[0]), px, num(panel[1]), colGrid)
		}
		local := t.In(p.loc)
		if step >= 24*time.Hour { // whole days: the date is the label
			p.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(wiAxisLabelY), colMuted, local.Format("Jan 2"))
			continue
		}
		p.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(wiAxisLabelY), colMuted, local.Format("15:04"))
		// The last label would run into "time (zone)".
		if date := local.Format("Jan 2"); date != lastDate && p.x(t) < plotRight-60 {
			p.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(wiDateLabelY), colMuted, date)
			lastDate = date
		}
	}
}

// traffic draws the traffic as a filled step area.
func (p *whatIfPlot) traffic() {
	p.printf(`<path id="traffic" d="%s" fill="%s" fill-opacity="0.35" stroke="%s" stroke-width="1"/>`+"\n",
		p.area(wiTrafficBot, len(p.wi.RPM), func(i int) float64 { return p.yRPM(p.wi.RPM[i]) }), colTraffic, colTraffic)
}

// ideal draws the ideal dyno count as a grey area under the runs' steps.
func (p *whatIfPlot) ideal() {
	p.printf(`<path id="ideal" d="%s" fill="%s" stroke="none"/>`+"\n",
		p.area(wiDynoBot, len(p.wi.Ideal), func(i int) float64 { return p.yDyn(p.wi.Ideal[i]) }), colIdeal)
}

// area is the path of n buckets' steps at heights y, closed down to bottom.
func (p *whatIfPlot) area(bottom float64, n int, y func(i int) float64) string {
	var d strings.Builder
	fmt.Fprintf(&d, "M%s %s", num(p.bx(0)), num(bottom))
	for i := range n {
		fmt.Fprintf(&d, "V%sH%s", num(y(i)), num(p.bx(i+1)))
	}
	fmt.Fprintf(&d, "V%sZ", num(bottom))
	return d.String()
}

// thresholds draws the first run's response-time thresholds and the SLO
// across the latency panel, their labels kept apart on the right.
func (p *whatIfPlot) thresholds() {
	wi := p.wi
	var labelYs []float64
	place := func(y float64) float64 { // keeps threshold labels 14 apart
		y += 4
		for _, other := range labelYs {
			if math.Abs(y-other) < 14 {
				y = other + 14
			}
		}
		labelYs = append(labelYs, y)
		return y
	}
	threshold := func(id string, ms float64, colour, dash, label string) {
		y := p.yLat(ms)
		p.printf(`<line id="%s" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`+"\n",
			id, num(plotLeft), num(y), num(plotRight), num(y), colour, dash)
		p.printf(`<text x="%s" y="%s" fill="%s">%s</text>`+"\n", num(plotRight+6), num(place(y)), colour, esc(label))
	}
	if wi.MaxResponseMS > 0 {
		threshold("max-response", float64(wi.MaxResponseMS), colMaxResp, "8 4", fmt.Sprintf("max %d ms", wi.MaxResponseMS))
	}
	if wi.SLOMS > 0 && wi.SLOMS != float64(wi.MaxResponseMS) {
		threshold("slo", wi.SLOMS, colSLO, "4 2 1 2", "SLO "+formatMS(wi.SLOMS)+" ms")
	}
	if wi.MinResponseMS > 0 {
		threshold("min-response", float64(wi.MinResponseMS), colMinResp, "2 3", fmt.Sprintf("min %d ms", wi.MinResponseMS))
	}
}

// runs draws each run's latency line and dyno steps, in its own style.
func (p *whatIfPlot) runs() {
	for k, r := range p.wi.Runs {
		colour, dash := runStyle(k)
		points := make([]string, len(r.LatencyMS))
		for i, v := range r.LatencyMS {
			points[i] = num((p.bx(i)+p.bx(i+1))/2) + "," + num(p.yLat(v))
		}
		p.printf(`<polyline class="latency" id="latency-%d" points="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-linejoin="round"%s/>`+"\n",
			k+1, strings.Join(points, " "), colour, dash)
		var d strings.Builder
		for i, v := range r.Dynos {
			if i == 0 {
				fmt.Fprintf(&d, "M%s %s", num(p.bx(0)), num(p.yDyn(v)))
			} else {
				fmt.Fprintf(&d, "V%s", num(p.yDyn(v)))
			}
			fmt.Fprintf(&d, "H%s", num(p.bx(i+1)))
		}
		p.printf(`<path class="dynos" id="dynos-%d" d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", k+1, d.String(), colour, dash)
	}
}

// frames outlines the three panels.
func (p *whatIfPlot) frames() {
	for _, panel := range wiPanels {
		p.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s"/>`+"\n",
			num(plotLeft), num(panel[0]), num(plotRight-plotLeft), num(panel[1]-panel[0]), colFrame)
	}
}

// whatIfLegend draws the legend: the traffic and the ideal, then one entry per run.
func (c *canvas) whatIfLegend(wi WhatIf, traffic string) {
	type item struct{ swatch, label string }
	items := []item{
		{fmt.Sprintf(`<rect y="-5" width="22" height="10" fill="%s" fill-opacity="0.35" stroke="%s"/>`, colTraffic, colTraffic), traffic},
		{fmt.Sprintf(`<rect y="-5" width="22" height="10" fill="%s"/>`, colIdeal), "ideal dynos"},
	}
	for k, r := range wi.Runs {
		colour, dash := runStyle(k)
		items = append(items, item{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="2"%s/>`, colour, dash), r.Label})
	}
	c.printf("<g id=\"legend\" font-size=\"11.5\">\n")
	lx, row := plotLeft, 0
	for _, it := range items {
		w := 28 + textWidth(it.label) + 20
		if lx+w > width-8 && lx > plotLeft {
			lx, row = plotLeft, row+1
		}
		c.printf(`<g transform="translate(%s %s)">%s<text x="28" y="4">%s</text></g>`+"\n",
			num(lx), num(wiLegendY+legendGap*float64(row)), it.swatch, esc(it.label))
		lx += w
	}
	c.printf("</g>\n")
}

// per names a bucket length: "per 2 minutes", "per hour", "per 3 days".
func per(minutes int) string {
	n, unit := minutes, "minute"
	switch {
	case minutes%(24*60) == 0:
		n, unit = minutes/(24*60), "day"
	case minutes%60 == 0:
		n, unit = minutes/60, "hour"
	}
	if n == 1 {
		return "per " + unit
	}
	return fmt.Sprintf("per %d %ss", n, unit)
}
