package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/chart"
	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

const (
	defaultHistoryLimit = 500
	// maxHistoryLimit is the most records one store query returns.
	maxHistoryLimit = dynamostore.MaxHistoryLimit
)

// historyReport is the output of `history -json`. The field names are a
// stable interface for scripts: add fields, never rename them. Times are UTC.
type historyReport struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Truncated: the window holds more records than were read or shown
	// (raise -limit or narrow -since).
	Truncated bool            `json:"truncated"`
	Records   []historyRecord `json:"records"` // newest first
}

// historyRecord is one decision (every tick) or scale attempt.
type historyRecord struct {
	At          time.Time `json:"at"`
	App         string    `json:"app"`
	ProcessType string    `json:"processType"`
	Kind        string    `json:"kind"` // "decision" or "scale"
	// From is the dyno count the tick found, To the one it chose (a scale
	// record: the one it asked Heroku for).
	From   int          `json:"from"`
	To     int          `json:"to"`
	Min    int          `json:"min"` // the bounds in force then
	Max    int          `json:"max"`
	Reason state.Reason `json:"reason"` // SlowStreak, FastStreak, OutsideBounds, Steady, AtMax, …
	// OK says whether a scale succeeded; absent on decisions.
	OK     *bool  `json:"ok,omitempty"`
	Error  string `json:"error,omitempty"`
	DryRun bool   `json:"dryRun,omitempty"`
	Paused bool   `json:"paused,omitempty"`
	// Policy is the rules that decided (AUTOSCALE_POLICY); absent in
	// records written before there was a choice, which the original decided.
	Policy string       `json:"policy,omitempty"`
	Probe  historyProbe `json:"probe"` // the heartbeat that led to it
}

type historyProbe struct {
	Verdict   probe.Verdict `json:"verdict"`
	LatencyMS int64         `json:"latencyMs"`
	Status    int           `json:"status"` // HTTP status; 0 when no response
	// LatencySource, with the queue_time and utilization signals: what LatencyMS measured.
	LatencySource probe.Source `json:"latencySource,omitempty"`
	// UtilizationPct, with the utilization signal: what the heartbeat reported.
	UtilizationPct *float64 `json:"utilizationPct,omitempty"`
	// Jobs, with the job_latency signal: the job report's totals.
	Jobs *state.JobCounts `json:"jobs,omitempty"`
}

// history prints the decisions and scale events of a window, newest first,
// and can draw them as an SVG chart. Times are shown in UTC, as in the
// logs, whatever the formation's time zone.
func history(ctx context.Context, args []string, env Env) error {
	hf, err := parseHistoryFlags(args, env)
	if err != nil {
		return err
	}
	now := env.Now()
	from, err := parseSince(hf.since, now)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	store, keys, err := hf.formation.open(ctx)
	if err != nil {
		return err
	}
	if hf.chartPath != "" && len(keys) > 1 {
		return fmt.Errorf("-chart draws one formation and %d match: choose one with -app and -type (%s)", len(keys), keyList(keys))
	}

	report := historyReport{Since: from.UTC(), Until: now.UTC(), Records: []historyRecord{}}
	recs, truncated, err := readHistory(ctx, store, keys, from, hf.fetch())
	if err != nil {
		return err
	}
	report.Truncated = truncated
	if hf.chartPath != "" {
		if err := writeChart(ctx, store, chartOf{key: keys[0], recs: recs, from: from, now: now}, hf.chartPath); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "chart of %s written to %s\n", keys[0], hf.chartPath)
	}
	if hf.onlyScales {
		recs = slices.DeleteFunc(recs, func(r state.Record) bool { return r.Kind != state.KindScale })
	}
	if len(recs) > hf.limit {
		recs, report.Truncated = recs[:hf.limit], true
	}
	for _, r := range recs {
		report.Records = append(report.Records, historyRecordOf(r))
	}
	return printHistory(env, report, hf, keys)
}

// historyFlags are the options of `history`.
type historyFlags struct {
	formation  formationFlags
	since      string
	onlyScales bool
	limit      int
	asJSON     bool
	chartPath  string
}

// parseHistoryFlags reads history's command line and checks -limit.
func parseHistoryFlags(args []string, env Env) (historyFlags, error) {
	var hf historyFlags
	fs := newFlagSet("history", env)
	hf.formation.register(fs, env.Getenv)
	fs.StringVar(&hf.since, "since", "24h", "window: a duration back from now (90m, 24h, 7d) or an RFC 3339 time")
	fs.BoolVar(&hf.onlyScales, "only-scales", false, "only scale attempts, not every tick's decision")
	fs.IntVar(&hf.limit, "limit", defaultHistoryLimit, fmt.Sprintf("at most this many records (1-%d)", maxHistoryLimit))
	fs.BoolVar(&hf.asJSON, "json", false, "print JSON for scripts")
	fs.StringVar(&hf.chartPath, "chart", "", "also write an SVG chart of latency and dynos to this file (one formation)")
	if err := fs.Parse(args); err != nil {
		return hf, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "history: unexpected argument %q\n", fs.Arg(0))
		return hf, errUsage
	}
	if hf.limit < 1 || hf.limit > maxHistoryLimit {
		return hf, fmt.Errorf("-limit %d: give 1 to %d", hf.limit, maxHistoryLimit)
	}
	return hf, nil
}

// fetch is how many records to read of each formation. Scales are rare
// among decisions (one a minute), so -only-scales reads as far back as one
// query goes.
func (hf historyFlags) fetch() int {
	if hf.onlyScales || hf.chartPath != "" {
		return maxHistoryLimit
	}
	return hf.limit
}

// readHistory reads up to fetch records of each formation since from, newest
// first, and says whether a formation had more than were read.
func readHistory(ctx context.Context, store stateStore, keys []state.Key, from time.Time, fetch int) (recs []state.Record, truncated bool, err error) {
	for _, key := range keys {
		got, err := store.History(ctx, key, from, fetch)
		if err != nil {
			return nil, false, fmt.Errorf("history of %s: %w", key, err)
		}
		if len(got) >= fetch {
			truncated = true
		}
		for i := range got { // records written before keys were stored in them
			got[i].App, got[i].Type = cmp.Or(got[i].App, key.App), cmp.Or(got[i].Type, key.ProcessType)
		}
		recs = append(recs, got...)
	}
	slices.SortStableFunc(recs, newestFirst)
	return recs, truncated, nil
}

// printHistory writes the report as JSON or as a table, or says that the
// window is empty.
func printHistory(env Env, report historyReport, hf historyFlags, keys []state.Key) error {
	if hf.asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	if len(report.Records) == 0 {
		what := "decisions or scale events"
		if hf.onlyScales {
			what = "scale events"
		}
		fmt.Fprintf(env.Stdout, "no %s since %s for %s\n", what, report.Since.Format(time.RFC3339), keyList(keys))
		return nil
	}
	if err := writeHistoryTable(env.Stdout, report.Records); err != nil {
		return err
	}
	if report.Truncated {
		fmt.Fprintf(env.Stderr, "(not all of the window is shown, only its newest records: narrow -since or raise -limit, up to %d)\n",
			maxHistoryLimit)
	}
	return nil
}

// parseSince reads -since: a duration back from now ("90m", "24h", "7d")
// or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		n, aerr := strconv.Atoi(days)
		d, err = time.Duration(n)*24*time.Hour, aerr
	}
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("-since %q: give a positive duration such as 90m, 24h or 7d, or an RFC 3339 time", v)
	}
	return now.Add(-d), nil
}

// newestFirst orders records by time, newest first; a scale comes before
// the decision of the same tick, as its outcome; then by formation.
func newestFirst(a, b state.Record) int {
	return cmp.Or(
		b.At.Compare(a.At),
		cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)),
		strings.Compare(a.App, b.App),
		strings.Compare(a.Type, b.Type),
	)
}

func kindRank(kind string) int {
	if kind == state.KindScale {
		return 0
	}
	return 1
}

func keyList(keys []state.Key) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.String()
	}
	return strings.Join(names, ", ")
}

func historyRecordOf(r state.Record) historyRecord {
	h := historyRecord{
		At: r.At.UTC(), App: r.App, ProcessType: r.Type, Kind: r.Kind,
		From: r.Current, To: r.Target, Min: r.Min, Max: r.Max, Reason: r.Reason,
		Error: r.Error, DryRun: r.DryRun, Paused: r.Paused, Policy: r.Policy,
		Probe: historyProbe{Verdict: r.Verdict, LatencyMS: r.LatencyMS, Status: r.Status, LatencySource: r.Source, UtilizationPct: r.UtilizationPct,
			Jobs: r.Jobs},
	}
	if r.Kind == state.KindScale {
		ok := r.OK
		h.OK = &ok
	}
	return h
}

func writeHistoryTable(w io.Writer, recs []historyRecord) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tFORMATION\tEVENT\tDYNOS\tBOUNDS\tREASON\tPROBE\tNOTE")
	for _, r := range recs {
		event, dynos := "decision", fmt.Sprint(r.From)
		if r.To != r.From {
			dynos = fmt.Sprintf("%d → %d", r.From, r.To)
		}
		if r.OK != nil {
			event = "scaled"
			if !*r.OK {
				event = "scale failed"
			}
		}
		bounds := fmt.Sprintf("%d–%d", r.Min, r.Max)
		if r.From == 0 && r.Max == 0 { // the formation could not be read
			dynos, bounds = "?", "?"
		}
		var notes []string
		if r.DryRun {
			notes = append(notes, "dry run")
		}
		if r.Paused {
			notes = append(notes, "paused")
		}
		if r.Policy != "" && r.Policy != string(settings.PolicyOriginal) {
			notes = append(notes, "policy "+r.Policy)
		}
		if r.Error != "" {
			notes = append(notes, r.Error)
		}
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.At.Format(time.RFC3339), r.App, r.ProcessType, event, dynos, bounds, r.Reason,
			historyProbeText(r.Probe), strings.Join(notes, "; "))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	// The padding before an empty last column is noise in a terminal and a diff.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return fmt.Errorf("write history: %w", err)
		}
	}
	return nil
}

// historyProbeText is "fail 1210 ms HTTP 200", or "fail no answer".
func historyProbeText(p historyProbe) string {
	if p.Status == 0 {
		return fmt.Sprintf("%s no answer", p.Verdict)
	}
	return fmt.Sprintf("%s %s HTTP %d", p.Verdict, figuresText(p.LatencyMS, p.LatencySource, p.UtilizationPct, p.Jobs), p.Status)
}

// chartOf is what a chart draws: a formation's records read from from to now.
type chartOf struct {
	key       state.Key
	recs      []state.Record
	from, now time.Time
}

// writeChart draws c's records, with the thresholds from the formation's
// stored settings, into path (replaced whole, never left half written).
func writeChart(ctx context.Context, store stateStore, c chartOf, path string) error {
	key, recs, from, now := c.key, c.recs, c.from, c.now
	st, err := store.Load(ctx, key)
	if err != nil {
		return fmt.Errorf("chart of %s: %w", key, err)
	}
	opt := chart.Options{Title: key.String(), To: now, Location: time.UTC}
	if st.Config != nil {
		opt.MinResponseMS, opt.MaxResponseMS = st.Config.Thresholds()
		opt.Signal = st.Config.Signal
		if opt.Signal == probe.Utilization {
			// The latency drawn is the queue time, and no threshold of it decides.
			opt.Signal, opt.MinResponseMS, opt.MaxResponseMS = probe.QueueTime, 0, 0
		}
	}
	// The axis starts at the oldest record read rather than at -since, so
	// that a short history is not squeezed into a corner of a long window.
	if len(recs) > 0 {
		opt.From = recs[len(recs)-1].At
	}
	var buf bytes.Buffer
	err = chart.Render(&buf, recs, opt)
	if errors.Is(err, chart.ErrNoRecords) {
		return fmt.Errorf("chart of %s: no records since %s", key, from.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return fmt.Errorf("chart of %s: %w", key, err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
