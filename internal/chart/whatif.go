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
	c := &canvas{from: wi.Start, to: wi.Start.Add(time.Duration(n*wi.BucketMinutes) * time.Minute), loc: loc}
	x := func(i int) float64 { return c.x(wi.Start.Add(time.Duration(i*wi.BucketMinutes) * time.Minute)) }

	// Axes.
	topRPM := 1.0
	for _, v := range wi.RPM {
		topRPM = max(topRPM, v)
	}
	rpmTick := niceStep(topRPM*1.05, 4)
	topRPM = math.Ceil(topRPM*1.05/rpmTick) * rpmTick
	yRPM := func(v float64) float64 { return wiTrafficBot - v/topRPM*(wiTrafficBot-wiTrafficTop) }

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
	latTick := niceStep(topLat, 5)
	topLat = math.Ceil(topLat/latTick) * latTick
	yLat := func(v float64) float64 { return wiLatencyBot - min(v, topLat)/topLat*(wiLatencyBot-wiLatencyTop) }

	topDynos := 1
	for _, v := range wi.Ideal {
		topDynos = max(topDynos, v)
	}
	for _, r := range wi.Runs {
		for _, v := range r.Dynos {
			topDynos = max(topDynos, v)
		}
	}
	dynoTick := max(1, int(niceStep(float64(topDynos+1), 4)))
	topDynos = (topDynos + 1 + dynoTick - 1) / dynoTick * dynoTick
	yDyn := func(v int) float64 {
		return wiDynoBot - float64(v)/float64(topDynos)*(wiDynoBot-wiDynoTop)
	}

	// Header.
	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="12" fill="%s">`+"\n",
		width, wiHeight, width, wiHeight, esc(fontFamily), colText)
	title := "What if: " + cmp.Or(wi.Title, "a simulation")
	c.printf("<title>%s</title>\n", esc(title))
	c.printf(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, wiHeight)
	c.printf(`<text x="%s" y="28" font-size="17" font-weight="600">%s</text>`+"\n", num(plotLeft), esc(title))
	layout := "Jan 2 15:04"
	if c.from.In(loc).Year() != c.to.In(loc).Year() {
		layout = "Jan 2 2006 15:04"
	}
	names := wi.names()
	span := names.subject + ", " +
		c.from.In(loc).Format(layout) + " – " + c.to.In(loc).Format(layout) + " " + zoneName(c.to.In(loc))
	if wi.BucketMinutes > 1 {
		span += "; " + per(wi.BucketMinutes) + ": mean traffic and latency, most dynos"
	}
	c.printf(`<text x="%s" y="46" fill="%s">%s</text>`+"\n", num(plotLeft), colMuted, esc(span))

	// Grids and value labels.
	c.printf("<g id=\"grid\">\n")
	hline := func(y float64, label string) {
		c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(plotLeft), num(y), num(plotRight), num(y), colGrid)
		c.printf(`<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", num(plotLeft-8), num(y+4), colMuted, label)
	}
	for v := 0.0; v <= topRPM+rpmTick/2; v += rpmTick {
		hline(yRPM(v), formatMS(v))
	}
	for v := 0.0; v <= topLat+latTick/2; v += latTick {
		hline(yLat(v), formatMS(v))
	}
	for v := 0; v <= topDynos; v += dynoTick {
		hline(yDyn(v), strconv.Itoa(v))
	}
	for _, p := range []struct {
		top, bot float64
		label    string
	}{{wiTrafficTop, wiTrafficBot, names.traffic}, {wiLatencyTop, wiLatencyBot, names.latency}, {wiDynoTop, wiDynoBot, "dynos"}} {
		c.printf(`<text transform="translate(22 %s) rotate(-90)" text-anchor="middle" fill="%s">%s</text>`+"\n",
			num((p.top+p.bot)/2), colMuted, p.label)
	}
	step := timeStep(c.to.Sub(c.from))
	if days := c.to.Sub(c.from) / (8 * 24 * time.Hour); step >= 24*time.Hour && days > 0 {
		step = max(step, (days+1)*24*time.Hour) // past a week: whole days, at most about eight labels
	}
	lastDate := ""
	for _, t := range timeTicks(c.from, c.to, step, loc) {
		px := num(c.x(t))
		for _, panel := range [][2]float64{{wiTrafficTop, wiTrafficBot}, {wiLatencyTop, wiLatencyBot}, {wiDynoTop, wiDynoBot}} {
			c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", px, num(panel[0]), px, num(panel[1]), colGrid)
		}
		local := t.In(loc)
		if step >= 24*time.Hour { // whole days: the date is the label
			c.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(wiAxisLabelY), colMuted, local.Format("Jan 2"))
			continue
		}
		c.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(wiAxisLabelY), colMuted, local.Format("15:04"))
		// The last label would run into "time (zone)".
		if date := local.Format("Jan 2"); date != lastDate && c.x(t) < plotRight-60 {
			c.printf(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", px, num(wiDateLabelY), colMuted, date)
			lastDate = date
		}
	}
	c.printf(`<text x="%s" y="%s" text-anchor="end" fill="%s">time (%s)</text>`+"\n", num(plotRight), num(wiDateLabelY), colMuted, esc(zoneName(c.to.In(loc))))
	c.printf("</g>\n")

	// Traffic: a filled step area.
	var p strings.Builder
	fmt.Fprintf(&p, "M%s %s", num(x(0)), num(wiTrafficBot))
	for i, v := range wi.RPM {
		fmt.Fprintf(&p, "V%sH%s", num(yRPM(v)), num(x(i+1)))
	}
	fmt.Fprintf(&p, "V%sZ", num(wiTrafficBot))
	c.printf(`<path id="traffic" d="%s" fill="%s" fill-opacity="0.35" stroke="%s" stroke-width="1"/>`+"\n", p.String(), colTraffic, colTraffic)

	// Thresholds.
	threshold := func(id string, ms float64, colour, dash, label string, labelY float64) {
		y := yLat(ms)
		c.printf(`<line id="%s" x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`+"\n",
			id, num(plotLeft), num(y), num(plotRight), num(y), colour, dash)
		c.printf(`<text x="%s" y="%s" fill="%s">%s</text>`+"\n", num(plotRight+6), num(labelY), colour, esc(label))
	}
	labelYs := []float64{}
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
	if wi.MaxResponseMS > 0 {
		threshold("max-response", float64(wi.MaxResponseMS), colMaxResp, "8 4", fmt.Sprintf("max %d ms", wi.MaxResponseMS), place(yLat(float64(wi.MaxResponseMS))))
	}
	if wi.SLOMS > 0 && wi.SLOMS != float64(wi.MaxResponseMS) {
		threshold("slo", wi.SLOMS, colSLO, "4 2 1 2", "SLO "+formatMS(wi.SLOMS)+" ms", place(yLat(wi.SLOMS)))
	}
	if wi.MinResponseMS > 0 {
		threshold("min-response", float64(wi.MinResponseMS), colMinResp, "2 3", fmt.Sprintf("min %d ms", wi.MinResponseMS), place(yLat(float64(wi.MinResponseMS))))
	}

	// The ideal: a grey area under the runs' steps.
	p.Reset()
	fmt.Fprintf(&p, "M%s %s", num(x(0)), num(wiDynoBot))
	for i, v := range wi.Ideal {
		fmt.Fprintf(&p, "V%sH%s", num(yDyn(v)), num(x(i+1)))
	}
	fmt.Fprintf(&p, "V%sZ", num(wiDynoBot))
	c.printf(`<path id="ideal" d="%s" fill="%s" stroke="none"/>`+"\n", p.String(), colIdeal)

	// Each run: its latency line and its dyno steps, in its own style.
	for k, r := range wi.Runs {
		st := runStyles[k%len(runStyles)]
		dash := ""
		if st.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, st.dash)
		}
		points := make([]string, len(r.LatencyMS))
		for i, v := range r.LatencyMS {
			points[i] = num((x(i)+x(i+1))/2) + "," + num(yLat(v))
		}
		c.printf(`<polyline class="latency" id="latency-%d" points="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-linejoin="round"%s/>`+"\n",
			k+1, strings.Join(points, " "), st.colour, dash)
		p.Reset()
		for i, v := range r.Dynos {
			if i == 0 {
				fmt.Fprintf(&p, "M%s %s", num(x(0)), num(yDyn(v)))
			} else {
				fmt.Fprintf(&p, "V%s", num(yDyn(v)))
			}
			fmt.Fprintf(&p, "H%s", num(x(i+1)))
		}
		c.printf(`<path class="dynos" id="dynos-%d" d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", k+1, p.String(), st.colour, dash)
	}
	for _, panel := range [][2]float64{{wiTrafficTop, wiTrafficBot}, {wiLatencyTop, wiLatencyBot}, {wiDynoTop, wiDynoBot}} {
		c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s"/>`+"\n",
			num(plotLeft), num(panel[0]), num(plotRight-plotLeft), num(panel[1]-panel[0]), colFrame)
	}

	c.whatIfLegend(wi, names.legend)
	c.b.WriteString("</svg>\n")
	if _, err := io.WriteString(w, c.b.String()); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// whatIfLegend draws the legend: the traffic and the ideal, then one entry per run.
func (c *canvas) whatIfLegend(wi WhatIf, traffic string) {
	type item struct{ swatch, label string }
	items := []item{
		{fmt.Sprintf(`<rect y="-5" width="22" height="10" fill="%s" fill-opacity="0.35" stroke="%s"/>`, colTraffic, colTraffic), traffic},
		{fmt.Sprintf(`<rect y="-5" width="22" height="10" fill="%s"/>`, colIdeal), "ideal dynos"},
	}
	for k, r := range wi.Runs {
		st := runStyles[k%len(runStyles)]
		dash := ""
		if st.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, st.dash)
		}
		items = append(items, item{fmt.Sprintf(`<line x2="22" stroke="%s" stroke-width="2"%s/>`, st.colour, dash), r.Label})
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
