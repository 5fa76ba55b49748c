package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/autoscalebot/autoscalebot/internal/chart"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/simulation"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// simulateSettings are the settings a simulation can vary with -with: those
// the tick's decisions, the probe's verdict and the notices depend on.
var simulateSettings = []string{
	settings.EnvHeartbeatTimeout, settings.EnvHeartbeatInterval, settings.EnvMaxResponseTime, settings.EnvMinResponseTime,
	settings.EnvSignal, settings.EnvMaxQueueTime, settings.EnvMinQueueTime, settings.EnvTargetUtilization,
	settings.EnvFailsToScaleUp, settings.EnvPassesToScaleDown, settings.EnvMaxDynos, settings.EnvMinDynos,
	settings.EnvTimeZone, settings.EnvIncrement, settings.EnvCooldown, settings.EnvScaleDiffThreshold,
	settings.EnvScaleDiffPeriod, settings.EnvNotifyIfNeedsExceedMax, settings.EnvNotifyIfNeedsBelowMin,
	settings.EnvNotifyOnScaleFails, settings.EnvNotifyOnEveryScale, settings.EnvNotifyOnEveryPing, settings.EnvHistoryTTL,
	settings.EnvPolicy, settings.EnvTargetResponseTime, settings.EnvBootTime, settings.EnvScaleDownWindow,
	settings.EnvMaxJobLatency, settings.EnvMinJobLatency, settings.EnvJobsPerDyno, settings.EnvLongJobs,
}

// chartPoints is how many buckets a chart draws at most: about one a pixel.
const chartPoints = 720

// withFlags collects -with, which may be repeated.
type withFlags []string

func (w *withFlags) String() string { return strings.Join(*w, " | ") }
func (w *withFlags) Set(v string) error {
	*w = append(*w, v)
	return nil
}

// simulateCmd replays a trace, a built-in profile or a formation's recorded
// history through the real tick, once per set of settings, and scores each
// run against the ideal.
func simulateCmd(ctx context.Context, args []string, env Env) error {
	f, err := parseSimulateFlags(args, env)
	if err != nil {
		return err
	}
	// Every problem with the flags at once.
	problems := f.problems()
	problem := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	// With a settings file, the formation -app and -type choose (the
	// file's first by default) is the one simulated, and replayed.
	getenv := env.Getenv
	if f.ff.settingsPath != "" {
		fleet, err := loadFleet(env.Getenv, f.ff.settingsPath)
		var fm settingsfile.Formation
		if err == nil {
			fm, err = pickFormation(fleet, f.ff.app, f.ff.processType)
		}
		if err != nil {
			return err
		}
		getenv = fm.Getenv
		f.ff.app, f.ff.processType = fm.Settings.AppName, fm.Settings.ProcessType
	}
	startAt, err := time.Parse(time.RFC3339, f.start)
	if err != nil {
		problem(fmt.Errorf("-start %q: not an RFC 3339 time like 2026-01-05T00:00:00Z", f.start))
	}
	variants, err := simulateVariants(getenv, f.with)
	problem(err)
	tr, traffic, err := f.traffic()
	problem(err)
	problems = append(problems, f.modelProblems(tr.Jobs)...)
	first := settings.Settings{}
	if len(variants) > 0 {
		first = variants[0].Settings
	}
	m := f.model(startAt.UTC(), first, tr.Jobs)
	problems = append(problems, signalProblems(variants, tr, f.fromHistory)...)
	if len(variants) > 0 {
		check := m
		if check.Interval == 0 {
			check.Interval = int(first.HeartbeatInterval / time.Second)
		}
		problem(checkModel(check, tr.Jobs))
	}
	// The store is read only once everything else is right.
	var h replayed
	if f.fromHistory && len(problems) == 0 {
		h, err = replayHistory(ctx, f, &m, variants, env)
		problem(err)
		tr, traffic = h.inf.Trace, h.traffic
	}
	if len(problems) > 0 {
		return errors.New(redactKey(strings.Join(problems, "\n"), env.Getenv))
	}
	return f.report(ctx, scenario{variants: variants, m: m, tr: tr, traffic: traffic}, h, env)
}

// signalProblems name the runs whose signal does not fit the traffic:
// jobs want job_latency, and requests (a history too) any other.
func signalProblems(variants []simulation.Variant, tr simulation.Trace, fromHistory bool) []string {
	if tr.Minutes() == 0 && !fromHistory {
		return nil // no traffic read: said already
	}
	var problems []string
	for _, v := range variants {
		if err := simulation.SignalFits(v.Settings, tr.Jobs); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", v.Label, err))
		}
	}
	return problems
}

func checkModel(m simulation.Model, jobs bool) error {
	if jobs {
		return m.ValidateJobs()
	}
	return m.Validate()
}

// replayed is a formation's recorded history, to replay.
type replayed struct {
	inf      simulation.Inferred
	recorded []state.Record
	traffic  string
}

// replayHistory reads the history -history asks for. The replay starts
// when and with the dynos the records start, and ticks as often as they
// did (the Lambda's schedule, not the local runner's setting) unless told
// otherwise: m and variants are set so.
func replayHistory(ctx context.Context, f *simulateFlags, m *simulation.Model, variants []simulation.Variant, env Env) (replayed, error) {
	first := variants[0].Settings
	inf, recorded, traffic, err := historyTrace(ctx, f, *m, first, env)
	if err != nil {
		return replayed{}, err
	}
	m.Start = inf.Start
	if !f.set["initial"] {
		m.Initial = inf.Dynos
	}
	if !f.set["interval"] {
		for i := range variants {
			if _, changed := variants[i].Changed[settings.EnvHeartbeatInterval]; !changed {
				variants[i].Settings.HeartbeatInterval = time.Duration(inf.IntervalSeconds) * time.Second
			}
		}
	}
	return replayed{inf: inf, recorded: recorded, traffic: traffic}, nil
}

// scenario is what is simulated: every variant of the settings, under one
// model, on one traffic.
type scenario struct {
	variants []simulation.Variant
	m        simulation.Model
	tr       simulation.Trace
	traffic  string // what tr is, for the report
}

// report runs every variant and writes what the flags ask: a table or
// JSON, and a chart.
func (f *simulateFlags) report(ctx context.Context, sc scenario, h replayed, env Env) error {
	variants, m := sc.variants, sc.m
	opt := simulation.Options{}
	if f.chartPath != "" {
		opt.Points = chartPoints
	}
	report, results, err := simulation.Compare(ctx, variants, m, sc.tr, opt)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	report.Traffic = sc.traffic
	first := variants[0].Settings
	if f.fromHistory {
		// What really happened, scored the same way, beside what would have.
		rec := simulation.RecordedRun(h.recorded, h.inf, report.Model, first.HeartbeatTimeout)
		report.Recorded = &rec
	}
	if f.chartPath != "" {
		if err := writeSimulationChart(f.chartPath, report, results, first, m); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "chart written to %s\n", f.chartPath)
	}
	if f.asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return writeSimulationTable(env.Stdout, report)
}

// simulateVariants loads the settings as given and once more for each -with.
// The app and heartbeat URL are filled in when missing: nothing is requested.
func simulateVariants(getenv func(string) string, with []string) ([]simulation.Variant, error) {
	filled := func(overlay map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := overlay[k]; ok {
				return v
			}
			v := getenv(k)
			switch {
			case v != "":
			case k == settings.EnvAppName:
				v = "simulated"
			case k == settings.EnvHeartbeatURL:
				v = "https://simulated.invalid/heartbeat"
			}
			return v
		}
	}
	s, err := settings.Load(filled(nil))
	if err != nil {
		return nil, err
	}
	// The settings as given come back even when a -with is wrong, so that
	// the model flags are still checked against them.
	variants := []simulation.Variant{{Label: "as given", Settings: s}}
	var problems []string
	for _, w := range with {
		changed, err := parseWith(w)
		if err == nil {
			s, err = settings.Load(filled(changed))
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("-with %q: %v", w, err))
			continue
		}
		label := redactKey(strings.Join(strings.Fields(w), " "), getenv)
		variants = append(variants, simulation.Variant{Label: label, Settings: s, Changed: changed})
	}
	if len(problems) > 0 {
		return variants[:1], errors.New(strings.Join(problems, "\n"))
	}
	return variants, nil
}

// parseWith reads 'KEY=VALUE KEY2=VALUE2'. A word without "=" continues the
// value before it, so a schedule may contain spaces.
func parseWith(w string) (map[string]string, error) {
	changed := map[string]string{}
	last := ""
	for _, word := range strings.Fields(w) {
		key, value, ok := strings.Cut(word, "=")
		if !ok || !strings.HasPrefix(key, "AUTOSCALE_") {
			if last == "" {
				return nil, fmt.Errorf("%q is not KEY=VALUE", word)
			}
			changed[last] += " " + word
			continue
		}
		if !slices.Contains(simulateSettings, key) {
			return nil, fmt.Errorf("%s does not change a simulation (-with takes the settings listed by simulate -h)", key)
		}
		if _, dup := changed[key]; dup {
			return nil, fmt.Errorf("%s is given twice", key)
		}
		changed[key], last = value, key
	}
	if len(changed) == 0 {
		return nil, errors.New("no KEY=VALUE given")
	}
	return changed, nil
}

// redactKey hides the Heroku API key wherever a user may have pasted it.
func redactKey(text string, getenv func(string) string) string {
	if key := strings.TrimSpace(getenv(settings.EnvAPIKey)); key != "" {
		text = strings.ReplaceAll(text, key, "[redacted]")
	}
	return text
}

func readTrace(path string) (simulation.Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return simulation.Trace{}, fmt.Errorf("-trace: %w", err)
	}
	defer f.Close()
	return simulation.ReadCSV(f, path)
}

// historyTrace infers the traffic of one formation's recorded decisions.
// The flags say which formation (-app, -type) and since when (-since).
func historyTrace(ctx context.Context, f *simulateFlags, m simulation.Model, s settings.Settings, env Env) (simulation.Inferred, []state.Record, string, error) {
	from, err := parseSince(f.since, env.Now())
	if err != nil {
		return simulation.Inferred{}, nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	store, keys, err := f.ff.open(ctx)
	if err != nil {
		return simulation.Inferred{}, nil, "", err
	}
	if len(keys) > 1 {
		return simulation.Inferred{}, nil, "", fmt.Errorf("-history replays one formation and %d match: choose one with -app and -type (%s)", len(keys), keyList(keys))
	}
	key := keys[0]
	recs, err := store.History(ctx, key, from, maxHistoryLimit)
	if err != nil {
		return simulation.Inferred{}, nil, "", fmt.Errorf("history of %s: %w", key, err)
	}
	if m.Interval == 0 {
		m.Interval = int(s.HeartbeatInterval / time.Second)
	}
	inf, err := simulation.InferTrace(recs, m, s.HeartbeatTimeout)
	if errors.Is(err, simulation.ErrNoHistory) {
		return simulation.Inferred{}, nil, "", fmt.Errorf("history of %s since %s: %w", key, from.UTC().Format(time.RFC3339), err)
	}
	if err != nil {
		return simulation.Inferred{}, nil, "", fmt.Errorf("history of %s: %w", key, err)
	}
	traffic := fmt.Sprintf("history of %s from %s, inferred from %d decisions", key, inf.Start.Format(time.RFC3339), inf.Ticks)
	return inf, recs, traffic, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// writeSimulationTable prints one row per run, what the records show
// (-history), the frontier and the ideal, and what limits them.
func writeSimulationTable(w io.Writer, r simulation.Report) error {
	m := r.Model
	fmt.Fprintf(w, "%s: %d minutes from %s\n", r.Traffic, r.Minutes, m.Start.Format(time.RFC3339))
	slo := "SLO " + fmtNum(m.SLOMS) + " ms"
	if r.Jobs {
		slo += " (a minute over it at any second)"
	}
	fmt.Fprintf(w, "model: %s, boot %d s, %s, %s, $%s a dyno-hour\n\n",
		modelServes(r), m.BootSeconds, modelNoise(r), slo, fmtNum(m.DynoPrice))
	rows := [][]string{{"RUN", "EVERY", "DYNO-H", "COST", "SLO MISS", "UPS", "DOWNS", "UNDER", "OVER", "T-UNDER", "T-OVER",
		"JITTER", "EPISODES", "REACTION", "NOTICES"}}
	runRow := func(run simulation.RunReport, notices string) []string {
		return []string{run.Label, fmt.Sprintf("%ds", run.IntervalSeconds), fmt.Sprintf("%.1f", run.DynoHours), fmt.Sprintf("$%.2f", run.CostUSD),
			fmt.Sprintf("%.1f min", run.SLOViolationMinutes), strconv.Itoa(run.ScaleUps), strconv.Itoa(run.ScaleDowns),
			fmt.Sprintf("%.3f", run.AccuracyU), fmt.Sprintf("%.3f", run.AccuracyO),
			fmt.Sprintf("%.1f%%", 100*run.TimeshareU), fmt.Sprintf("%.1f%%", 100*run.TimeshareO), fmt.Sprintf("%+.2f/h", run.Jitter),
			strconv.Itoa(run.UnderProvisionedEpisodes), fmt.Sprintf("%.0f s", run.MeanUnderProvisionedSeconds), notices}
	}
	for _, run := range r.Runs {
		rows = append(rows, runRow(run, strconv.Itoa(run.Notices)))
	}
	if r.Recorded != nil {
		rows = append(rows, runRow(*r.Recorded, "-")) // notices are not recorded
	}
	if f := r.Frontier; f != nil {
		rows = append(rows, frontierRow(*f, len(rows[0])))
	}
	rows = append(rows, []string{"ideal", "-", fmt.Sprintf("%.1f", r.Ideal.DynoHours), fmt.Sprintf("$%.2f", r.Ideal.CostUSD), "-",
		strconv.Itoa(r.Ideal.ScaleUps), strconv.Itoa(r.Ideal.ScaleDowns), "-", "-", "-", "-", "-", "-", "-", "-"})
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for c, cell := range row {
			widths[c] = max(widths[c], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for c, cell := range row {
			if c == 0 { // labels to the left, numbers to the right
				fmt.Fprintf(&line, "%-*s", widths[c], cell)
				continue
			}
			fmt.Fprintf(&line, "  %*s", widths[c], cell)
		}
		if _, err := fmt.Fprintln(w, line.String()); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	if r.Frontier != nil {
		if _, err := io.WriteString(w, frontierNotes(*r.Frontier)); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	return nil
}

// modelServes says what a dyno does in the report's model.
func modelServes(r simulation.Report) string {
	m := r.Model
	if r.Jobs {
		return fmt.Sprintf("jobs of %s s, %d at once a dyno", fmtNum(m.JobSeconds), m.JobConcurrency)
	}
	return fmt.Sprintf("%s rpm a dyno, idle %s ms", fmtNum(m.CapacityRPM), fmtNum(m.BaseMS))
}

// modelNoise says what is random in the report's model.
func modelNoise(r simulation.Report) string {
	m := r.Model
	switch {
	case !r.Jobs:
		return fmt.Sprintf("noise %s (seed %d)", fmtNum(m.Noise), m.Seed)
	case m.Noise > 0:
		return fmt.Sprintf("Poisson arrivals and exponential run times (seed %d)", m.Seed)
	}
	return "even arrivals and exact run times"
}

// frontierRow is the frontier's row of columns cells: its policy, cadence,
// cost and SLO misses.
func frontierRow(f simulation.Frontier, columns int) []string {
	row := []string{"frontier", fmt.Sprintf("%ds", f.IntervalSeconds), "-", "-", "-"}
	if f.Ratio != nil {
		row[0] = fmt.Sprintf("frontier (u %.2f, hold %d s)", f.Utilization, f.HoldSeconds)
		row[2], row[3], row[4] = fmt.Sprintf("%.1f", f.DynoHours), fmt.Sprintf("$%.2f", f.CostUSD), fmt.Sprintf("%.1f min", f.SLOViolationMinutes)
	}
	for len(row) < columns {
		row = append(row, "-")
	}
	return row
}

// frontierNotes say what the frontier row is, and when the maximum caps the ideal.
func frontierNotes(f simulation.Frontier) string {
	var b strings.Builder
	b.WriteString("\nfrontier: what a policy that knew each minute's rate could do with the first run's bounds, cadence and the boot\n" +
		"time: ask for rate / (capacity × u) dynos and keep the most asked within a hold; the cheapest of u 0.95–0.70 ×\n" +
		"hold 0–600 s over the SLO at most 2% of the time")
	if f.Ratio != nil {
		fmt.Fprintf(&b, ": %.2f× the ideal's dyno-hours, %.1f%% of the time over the SLO.\n", *f.Ratio, *f.SLOPct)
	} else {
		b.WriteString(": none is, here.\n")
	}
	if f.Capped() {
		fmt.Fprintf(&b, "The ideal needs up to %d dynos; the maximum is %d, which caps every run and the frontier.\n", f.IdealMaxDynos, f.MaxDynos)
	}
	return b.String()
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// writeSimulationChart draws the runs' buckets (replaced whole, never half written).
func writeSimulationChart(path string, r simulation.Report, results []simulation.Result, first settings.Settings, m simulation.Model) error {
	s0 := results[0].Series
	wi := chart.WhatIf{
		Title: r.Traffic, Start: m.Start, Location: first.Location, BucketMinutes: s0.Minutes,
		RPM: s0.RPM, Ideal: s0.Ideal, SLOMS: m.SLOMS, Jobs: r.Jobs,
	}
	// The chart plots response times, so response-time thresholds only;
	// with jobs, the queue's latency and its thresholds.
	if first.Signal == probe.ResponseTime || r.Jobs {
		lo, hi := first.Thresholds()
		wi.MinResponseMS, wi.MaxResponseMS = lo.Milliseconds(), hi.Milliseconds()
	}
	for i, res := range results {
		wi.Runs = append(wi.Runs, chart.WhatIfRun{Label: r.Runs[i].Label, Dynos: res.Series.Dynos, LatencyMS: res.Series.LatencyMS})
	}
	var buf bytes.Buffer
	if err := chart.RenderWhatIf(&buf, wi); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}
