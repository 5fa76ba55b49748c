package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// readTimeout bounds all the store reads of one status or history command.
const readTimeout = time.Minute

// statusReport is the output of `status -json`. The field names are a
// stable interface for scripts: add fields, never rename them.
type statusReport struct {
	// At is when the report was made (UTC); every age is counted from it.
	At         time.Time      `json:"at"`
	Formations []statusRecord `json:"formations"`
}

// statusRecord is one formation in `status -json`.
type statusRecord struct {
	App         string `json:"app"`
	ProcessType string `json:"processType"`
	// Quantity is the dyno count last seen or set (0: not known yet).
	Quantity int `json:"quantity"`
	// Min and Max are the bounds in force at At, in TimeZone; null when the
	// state holds no readable settings snapshot (ConfigError says why).
	// When the configured minimum is above the maximum, max wins: Min is
	// lowered to Max and MinAboveMax is true.
	Min         *int   `json:"min"`
	Max         *int   `json:"max"`
	MinSlot     string `json:"minSlot,omitempty"` // schedule slot in force, "H:MM"; empty for a fixed bound
	MaxSlot     string `json:"maxSlot,omitempty"`
	MinAboveMax bool   `json:"minAboveMax,omitempty"`
	TimeZone    string `json:"timeZone,omitempty"`
	ConfigError string `json:"configError,omitempty"`
	// MinResponseMS and MaxResponseMS are the latency thresholds (0: unknown).
	MinResponseMS int64 `json:"minResponseMs"`
	MaxResponseMS int64 `json:"maxResponseMs"`
	// Signal is what the beats are: "response_time", "queue_time" (the
	// router queue time, compared with MinQueueMS and MaxQueueMS) or
	// "utilization" (compared with TargetUtilizationPct); absent when the
	// state holds no settings snapshot.
	Signal               probe.Signal `json:"signal,omitempty"`
	MinQueueMS           int64        `json:"minQueueMs,omitempty"`
	MaxQueueMS           int64        `json:"maxQueueMs,omitempty"`
	TargetUtilizationPct int          `json:"targetUtilizationPct,omitempty"`
	SlowStreak           int          `json:"slowStreak"`
	FastStreak           int          `json:"fastStreak"`
	// LastProbe is the last heartbeat; null before the first tick.
	LastProbe *statusProbe `json:"lastProbe"`
	// LastScale is the last successful scale; null when there was none.
	LastScale *statusScale `json:"lastScale"`
	Paused    bool         `json:"paused"`
	DryRun    bool         `json:"dryRun"`
	// Policy is the scaling rules in force (AUTOSCALE_POLICY) as of the last
	// tick; empty when no settings are recorded yet.
	Policy string `json:"policy,omitempty"`
	// HerokuError: Heroku refuses the key or the account, or does not know the app or process type.
	HerokuError bool `json:"herokuError"`
	// ProbeError: the heartbeat itself is broken (4xx, DNS, TLS).
	ProbeError bool `json:"probeError"`
	// AboveMax: the app is slow at the maximum and would scale further.
	AboveMax bool `json:"aboveMax"`
	// PlanLimit is the most dynos Heroku's plan allows, from a 422 cannot_run_above_limit (0: none known).
	PlanLimit int `json:"planLimit"`
	// RateLimitRemaining is Heroku's API token count as last seen (null: unknown).
	RateLimitRemaining *int `json:"rateLimitRemaining"`
}

type statusProbe struct {
	At         time.Time     `json:"at"`
	AgeSeconds int64         `json:"ageSeconds"`
	Verdict    probe.Verdict `json:"verdict"` // pass, ok, fail or error
	LatencyMS  int64         `json:"latencyMs"`
	Status     int           `json:"status"` // HTTP status; 0 when no response
	Detail     string        `json:"detail"`
	// LatencySource, with the queue_time and utilization signals: queue_p95,
	// queue_probe, or response_time when the heartbeat sent no queue-time header.
	LatencySource probe.Source `json:"latencySource,omitempty"`
	// UtilizationPct, with the utilization signal: what the heartbeat reported.
	UtilizationPct *float64 `json:"utilizationPct,omitempty"`
}

type statusScale struct {
	At         time.Time `json:"at"`
	AgeSeconds int64     `json:"ageSeconds"`
	// From, To and Reason are unknown (0, 0, "") when the event has been
	// pruned from the state and only its time is left.
	From   int          `json:"from"`
	To     int          `json:"to"`
	Reason state.Reason `json:"reason"`
}

// status prints what the autoscaler is doing now, one formation a row.
func status(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("status", env)
	var ff formationFlags
	ff.register(fs, env.Getenv)
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "status: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	store, keys, err := ff.open(ctx)
	if err != nil {
		return err
	}
	now := env.Now()
	report := statusReport{At: now.UTC(), Formations: make([]statusRecord, 0, len(keys))}
	for _, key := range keys {
		st, err := store.Load(ctx, key)
		if err != nil {
			return fmt.Errorf("status of %s: %w", key, err)
		}
		report.Formations = append(report.Formations, statusOf(key, st, now))
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return writeStatusTable(env.Stdout, report)
}

// selectKeys lists the store's formations that match app and processType
// (empty: any), saying plainly when there are none.
func selectKeys(ctx context.Context, store stateStore, where, app, processType string) ([]state.Key, error) {
	all, err := store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list formations in %s: %w", where, err)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s has no formations yet: the autoscaler saves one on its first tick", where)
	}
	var keys []state.Key
	appKnown := false
	for _, k := range all {
		if app != "" && k.App != app {
			continue
		}
		appKnown = true
		if processType == "" || k.ProcessType == processType {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		return keys, nil
	}
	known := keyList(all)
	switch {
	case !appKnown:
		return nil, fmt.Errorf("no app %q in %s (it has %s)", app, where, known)
	case app == "":
		return nil, fmt.Errorf("no process type %q in %s (it has %s)", processType, where, known)
	default:
		return nil, fmt.Errorf("no process type %q of app %q in %s (it has %s)", processType, app, where, known)
	}
}

func statusOf(key state.Key, st state.State, now time.Time) statusRecord {
	r := statusRecord{
		App: key.App, ProcessType: key.ProcessType,
		Quantity:   st.Quantity,
		SlowStreak: st.SlowStreak, FastStreak: st.FastStreak,
		Paused:      st.Paused,
		HerokuError: st.Episodes.HerokuError,
		ProbeError:  st.Episodes.ProbeError,
		AboveMax:    st.Episodes.AboveMax,
		PlanLimit:   st.PlanLimit,

		RateLimitRemaining: st.RateLimitRemaining,
	}
	if cfg := st.Config; cfg != nil {
		r.DryRun = cfg.DryRun
		// Recorded before there was a choice: the original's rules.
		r.Policy = settings.Policy(cfg.Policy).String()
		r.TimeZone = cfg.TimeZone
		r.MinResponseMS, r.MaxResponseMS = cfg.MinResponseMS, cfg.MaxResponseMS
		r.Signal, r.MinQueueMS, r.MaxQueueMS = cmp.Or(cfg.Signal, probe.ResponseTime), cfg.MinQueueMS, cfg.MaxQueueMS
		r.TargetUtilizationPct = cfg.TargetUtilizationPct
		if err := r.setBounds(cfg, now); err != nil {
			r.ConfigError = err.Error()
		}
	} else {
		r.ConfigError = "no settings recorded yet (written by each tick)"
	}
	if p := st.LastProbe; p != nil {
		r.LastProbe = &statusProbe{
			At: p.At.UTC(), AgeSeconds: ageSeconds(now, p.At),
			Verdict: p.Verdict, LatencyMS: p.LatencyMS, Status: p.Status, Detail: p.Detail,
			LatencySource: p.Source, UtilizationPct: p.UtilizationPct,
		}
	}
	r.LastScale = lastScale(st, now)
	return r
}

// setBounds evaluates the configured bounds at now in the configured zone.
func (r *statusRecord) setBounds(cfg *state.Config, now time.Time) error {
	loc := time.UTC
	if cfg.TimeZone != "" {
		var err error
		if loc, err = time.LoadLocation(cfg.TimeZone); err != nil {
			return fmt.Errorf("time zone: %w", err)
		}
	}
	lo, err := settings.ParseBound(cfg.MinDynos)
	if err != nil {
		return fmt.Errorf("min dynos: %w", err)
	}
	hi, err := settings.ParseBound(cfg.MaxDynos)
	if err != nil {
		return fmt.Errorf("max dynos: %w", err)
	}
	local := now.In(loc)
	minValue, minSlot := lo.At(local)
	maxValue, maxSlot := hi.At(local)
	if minValue > maxValue { // as the autoscaler does: max wins
		minValue, r.MinAboveMax = maxValue, true
	}
	r.Min, r.MinSlot, r.Max, r.MaxSlot = &minValue, minSlot, &maxValue, maxSlot
	return nil
}

// lastScale is the last successful scale: the newest event kept in the
// state, or only its time once the event has been pruned.
func lastScale(st state.State, now time.Time) *statusScale {
	for _, e := range slices.Backward(st.Recent) {
		if e.OK && !e.At.Before(st.LastScaleAt) {
			return &statusScale{At: e.At.UTC(), AgeSeconds: ageSeconds(now, e.At), From: e.From, To: e.To, Reason: e.Reason}
		}
	}
	if st.LastScaleAt.IsZero() {
		return nil
	}
	return &statusScale{At: st.LastScaleAt.UTC(), AgeSeconds: ageSeconds(now, st.LastScaleAt)}
}

func ageSeconds(now, t time.Time) int64 { return int64(now.Sub(t) / time.Second) }

func writeStatusTable(w io.Writer, report statusReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FORMATION\tDYNOS\tMIN\tMAX\tSTREAK\tLAST PROBE\tLAST SCALE\tFLAGS")
	for _, r := range report.Formations {
		quantity := "?"
		if r.Quantity > 0 {
			quantity = fmt.Sprint(r.Quantity)
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.App, r.ProcessType, quantity,
			boundText(r.Min, r.MinSlot), boundText(r.Max, r.MaxSlot),
			streakText(r), probeText(r.LastProbe), scaleText(r.LastScale), flagsText(r))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	for _, r := range report.Formations {
		if r.ConfigError != "" {
			fmt.Fprintf(w, "%s/%s: bounds unknown: %s\n", r.App, r.ProcessType, r.ConfigError)
		}
	}
	return nil
}

func boundText(v *int, slot string) string {
	switch {
	case v == nil:
		return "?"
	case slot == "":
		return fmt.Sprint(*v)
	default:
		return fmt.Sprintf("%d (%s)", *v, slot)
	}
}

func streakText(r statusRecord) string {
	switch {
	case r.SlowStreak > 0:
		return fmt.Sprintf("slow %d", r.SlowStreak)
	case r.FastStreak > 0:
		return fmt.Sprintf("fast %d", r.FastStreak)
	}
	return "-"
}

// probeText is "fail 1210 ms, 42s ago", or the probe's own words when no
// answer came back ("fail timeout after 10s, 3m ago").
func probeText(p *statusProbe) string {
	if p == nil {
		return "never"
	}
	what := figuresText(p.LatencyMS, p.LatencySource, p.UtilizationPct)
	if p.Status == 0 || p.Verdict == probe.Error {
		what = cmp.Or(p.Detail, "no answer")
	}
	return fmt.Sprintf("%s %s, %s", p.Verdict, what, ago(time.Duration(p.AgeSeconds)*time.Second))
}

// figuresText is latencyText, after the utilization when the heartbeat
// reported one: "utilization 85%, queue p95 250 ms".
func figuresText(ms int64, src probe.Source, utilizationPct *float64) string {
	if utilizationPct == nil {
		return latencyText(ms, src)
	}
	return fmt.Sprintf("utilization %g%%, %s", *utilizationPct, latencyText(ms, src))
}

// latencyText is "1210 ms", or with the queue_time signal what the figure
// is: "queue p95 250 ms", "queue 3 ms" (the probe's own), "response 700 ms"
// (the heartbeat sent no queue-time header).
func latencyText(ms int64, src probe.Source) string {
	switch src {
	case probe.SourceQueueP95:
		return fmt.Sprintf("queue p95 %d ms", ms)
	case probe.SourceQueueProbe:
		return fmt.Sprintf("queue %d ms", ms)
	case probe.SourceResponse:
		return fmt.Sprintf("response %d ms", ms)
	}
	return fmt.Sprintf("%d ms", ms)
}

func scaleText(s *statusScale) string {
	switch {
	case s == nil:
		return "never"
	case s.To == 0:
		return ago(time.Duration(s.AgeSeconds) * time.Second)
	}
	return fmt.Sprintf("%d → %d %s, %s", s.From, s.To, s.Reason, ago(time.Duration(s.AgeSeconds)*time.Second))
}

func flagsText(r statusRecord) string {
	var flags []string
	if r.Paused {
		flags = append(flags, "paused")
	}
	if r.DryRun {
		flags = append(flags, "dry run")
	}
	if r.Policy != "" && r.Policy != string(settings.PolicyOriginal) {
		flags = append(flags, "policy "+r.Policy)
	}
	if r.HerokuError {
		flags = append(flags, "heroku error")
	}
	if r.ProbeError {
		flags = append(flags, "probe error")
	}
	if r.AboveMax {
		flags = append(flags, "wants more than max")
	}
	if r.PlanLimit > 0 {
		flags = append(flags, fmt.Sprintf("plan limit %d", r.PlanLimit))
	}
	if r.MinAboveMax {
		flags = append(flags, "min above max")
	}
	if len(flags) == 0 {
		return "-"
	}
	return strings.Join(flags, ", ")
}

// ago says how long ago, to the precision a person reads at a glance.
func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm ago", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
