// Package tick runs one autoscaler beat: load state, probe the heartbeat
// and read the formation (at the same time), decide, commit the decision,
// scale, record the outcome and notify (at the same time). The Lambda handler and the local runner both call Tick.
package tick

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Store keeps one formation's state and history.
type Store interface {
	Load(ctx context.Context, key state.Key) (state.State, error)
	Save(ctx context.Context, key state.Key, s state.State) (state.State, error)
	Append(ctx context.Context, key state.Key, recs ...state.Record) error
}

// Formation reads and changes the number of dynos, and says how many
// Platform API tokens the account has left. The rate limit is part of the
// interface, not an optional extra, so a wrapper (a dry run, a key
// rotation) cannot drop the tick's token reserve without failing to compile.
type Formation interface {
	Quantity(ctx context.Context, app, processType string) (int, error)
	Scale(ctx context.Context, app, processType string, quantity int) error
	// RateLimitRemaining is the latest RateLimit-Remaining seen, and
	// whether any answer has carried one (an in-memory formation never has).
	RateLimitRemaining() (remaining int, known bool)
	// RefreshRateLimit asks how many tokens are left; the call costs none.
	RefreshRateLimit(ctx context.Context) (int, error)
}

// Prober checks the heartbeat once.
type Prober interface {
	Probe(ctx context.Context) probe.Result
}

// Notifier delivers one notice.
type Notifier interface {
	Notify(ctx context.Context, n notify.Notice) error
}

// RateLimitReserve is the number of Heroku API tokens below which a tick
// stops reading the formation before deciding and uses the stored quantity:
// the account's other tools (deploys, the CLI) share the same bucket.
const RateLimitReserve = 100

// eventIDLimit is how many scheduler event ids are remembered to drop
// duplicate deliveries; EventBridge redelivers within minutes, not hours.
const eventIDLimit = 20

// Ticker holds everything one beat needs.
type Ticker struct {
	Settings  settings.Settings
	Store     Store
	Formation Formation
	Prober    Prober
	Notifier  Notifier
	Log       *slog.Logger
	Now       func() time.Time
}

// Summary is what one tick did, returned to the caller (and, in Lambda, as
// the invocation result).
type Summary struct {
	App         string          `json:"app"`
	ProcessType string          `json:"processType"`
	EventID     string          `json:"eventId,omitempty"`
	Duplicate   bool            `json:"duplicate,omitempty"` // this event was already handled
	Conflict    bool            `json:"conflict,omitempty"`  // another invocation committed first; this one did nothing
	Verdict     probe.Verdict   `json:"verdict,omitempty"`
	LatencyMS   int64           `json:"latencyMs"`
	ProbeDetail string          `json:"probeDetail,omitempty"`
	Current     int             `json:"current"`
	Target      int             `json:"target"`
	Min         int             `json:"min"`
	Max         int             `json:"max"`
	Reason      decision.Reason `json:"reason,omitempty"`
	Policy      settings.Policy `json:"policy,omitempty"` // the rules that decided
	Scaled      bool            `json:"scaled"`
	ScaleError  string          `json:"scaleError,omitempty"`
	SlowStreak  int             `json:"slowStreak"`
	FastStreak  int             `json:"fastStreak"`
	DryRun      bool            `json:"dryRun,omitempty"`
	Paused      bool            `json:"paused,omitempty"`
	Notices     []string        `json:"notices,omitempty"`
	// RateLimitRemaining is Heroku's RateLimit-Remaining after this tick, when known.
	RateLimitRemaining *int `json:"rateLimitRemaining,omitempty"`
	// QuantityFromState: the rate limit was low, so the formation was not
	// read and the stored quantity was used.
	QuantityFromState bool `json:"quantityFromState,omitempty"`
	// HerokuRefused: Heroku refused the key or the account, or knew no such
	// app or process type: a person must act.
	HerokuRefused bool `json:"herokuRefused,omitempty"`
	// Signal is set with the queue_time and utilization signals (absent:
	// response_time), and LatencySource then says what LatencyMS measured.
	Signal        probe.Signal `json:"signal,omitempty"`
	LatencySource probe.Source `json:"latencySource,omitempty"`
	// UtilizationPct is what the heartbeat reported with the utilization signal.
	UtilizationPct *float64 `json:"utilizationPct,omitempty"`
	// Jobs is what the heartbeat reported with the job_latency signal
	// (LatencyMS is then the highest queue latency).
	Jobs *state.JobCounts `json:"jobs,omitempty"`
}

// Tick runs one beat. eventID, when not empty, identifies the scheduler
// event so that a duplicate delivery is processed once.
//
// The decision is committed (a conditional write on the state's version)
// before Heroku is called, so of two overlapping invocations only one acts.
// An error means nothing was scaled and the stored state is as it was, except
// when the scale call was made and recording its outcome failed (said in the error).
func (t *Ticker) Tick(ctx context.Context, eventID string) (Summary, error) {
	s := t.Settings
	key := state.Key{App: s.AppName, ProcessType: s.ProcessType}
	sum := Summary{App: key.App, ProcessType: key.ProcessType, EventID: eventID, DryRun: s.DryRun}
	if s.Signal != probe.ResponseTime {
		sum.Signal = s.Signal
	}
	log := t.logger().With(slog.String(logkey.App, key.App), slog.String(logkey.ProcessType, key.ProcessType))

	loaded, err := t.Store.Load(ctx, key)
	if err != nil {
		return sum, fmt.Errorf("load state: %w", err)
	}
	sum.Paused = loaded.Paused
	// Every line from here on says whether scaling is switched off.
	log = log.With(slog.Bool(logkey.DryRun, s.DryRun), slog.Bool(logkey.Paused, loaded.Paused))
	if eventID != "" && loaded.Handled(eventID) {
		sum.Duplicate = true
		log.InfoContext(ctx, "duplicate event ignored", slog.String(logkey.EventID, eventID))
		return sum, nil
	}

	b := beat{log: log, key: key, loaded: loaded, eventID: eventID}
	obs := t.observe(ctx, b)
	sum.QuantityFromState = obs.fromState
	sum.probed(obs.result)
	if c := cause(obs.readErr); c.NeedsPerson() {
		return t.refused(ctx, b, obs, sum, c)
	}
	if obs.readErr != nil {
		return sum, fmt.Errorf("read formation: %w", obs.readErr)
	}
	return t.act(ctx, b, obs, sum)
}

// beat is one tick's own: its logger, its formation, the state it loaded
// and the scheduler event it handles.
type beat struct {
	log     *slog.Logger
	key     state.Key
	loaded  state.State
	eventID string
}

// observed is what a tick saw before deciding: the probe's result and the
// formation's quantity (or why it could not be read).
type observed struct {
	result    probe.Result
	current   int
	fromState bool // the rate limit was low: current is the stored quantity
	readErr   error
}

// observe probes the heartbeat and reads the formation.
//
// The probe and the formation read each wait on the network, often for
// hundreds of milliseconds: they run at the same time, so the tick
// costs the slower of the two, not their sum. Both start only after
// the state is read (one DynamoDB GetItem), because a duplicate
// delivery must neither probe nor spend a Heroku token, and the stored
// rate limit decides whether the formation is read at all.
func (t *Ticker) observe(ctx context.Context, b beat) observed {
	probed := make(chan probe.Result, 1)
	go func() { probed <- t.probe(ctx) }()
	var obs observed
	if remaining, low := t.rateLimitLow(ctx, b.loaded); low {
		obs.current, obs.fromState = b.loaded.Quantity, true
		b.log.WarnContext(ctx, "heroku rate limit low: using the stored quantity", slog.Int(logkey.RateLimitRemaining, remaining))
	} else {
		obs.current, obs.readErr = t.Formation.Quantity(ctx, b.key.App, b.key.ProcessType)
	}
	obs.result = <-probed
	return obs
}

// probed fills in what the probe saw.
func (sum *Summary) probed(result probe.Result) {
	sum.Verdict, sum.LatencyMS, sum.ProbeDetail = result.Verdict, result.Latency.Milliseconds(), result.Detail
	sum.LatencySource, sum.UtilizationPct, sum.Jobs = result.Source, result.UtilizationPct(), state.JobCountsOf(result)
}

// act decides, commits the decision, scales when it says so, records the
// outcome and reports it.
func (t *Ticker) act(ctx context.Context, b beat, obs observed, sum Summary) (Summary, error) {
	now := t.Now()
	in := decision.Input{Settings: t.Settings, State: b.loaded, Probe: obs.result, Current: obs.current, Now: now}
	d := decision.Decide(in)
	sum.Current, sum.Target, sum.Min, sum.Max, sum.Reason = d.Current, d.Target, d.Min, d.Max, d.Reason
	sum.Policy = d.Policy

	rec := decisionRecord(now, b.key, obs.result)
	rec.Current, rec.Target, rec.Min, rec.Max, rec.Reason = d.Current, d.Target, d.Min, d.Max, d.Reason
	rec.DryRun, rec.Paused, rec.Policy = t.Settings.DryRun, b.loaded.Paused, string(d.Policy)
	d.Next.LastDecision = &rec
	t.stamp(&d.Next, b.loaded, obs.result, b.eventID, now)

	committed, err := t.Store.Save(ctx, b.key, d.Next)
	if errors.Is(err, state.ErrConflict) {
		sum.Conflict = true
		b.log.WarnContext(ctx, "another invocation committed first; not acting", slog.String(logkey.EventID, b.eventID))
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("commit decision: %w", err)
	}
	notices := d.Notices
	records := []state.Record{rec}
	final := committed
	var scaleOut decision.Outcome

	if d.Scales() {
		sc := t.scale(ctx, b.key, in, d, rec)
		sc.next.Version = committed.Version
		notices, records = append(notices, sc.notices...), append(records, sc.rec)
		sum.Scaled, sum.ScaleError = sc.rec.OK, sc.rec.Error
		final, err = t.Store.Save(ctx, b.key, sc.next)
		if err != nil {
			return sum, fmt.Errorf("record scale %d → %d (scale call made, ok=%t): %w", d.Current, d.Target, sc.rec.OK, err)
		}
		scaleOut = sc.out
	}
	sum.SlowStreak, sum.FastStreak = final.SlowStreak, final.FastStreak
	sum.RateLimitRemaining = final.RateLimitRemaining
	sum.HerokuRefused = final.Episodes.HerokuError

	// History and notices are reports: a failure is logged and never undoes
	// the scale or the state already saved.
	t.report(ctx, b, &sum, records, notices)
	t.logTick(ctx, b.log, sum)
	if scaleOut.Cause.NeedsPerson() {
		// As when the read is refused: fail, so the error alarm sees it.
		return sum, fmt.Errorf("scale %d → %d: %w", d.Current, d.Target, scaleOut.Err)
	}
	return sum, nil
}

// scaleCall is what a scale call left behind: its outcome, the state that
// outcome settles to, the notices it raised and its history record.
type scaleCall struct {
	out     decision.Outcome
	next    state.State
	notices []notify.Notice
	rec     state.Record
}

// scale asks Heroku for the decided quantity and settles the state on the
// answer; rec is the decision's record, which the scale's record extends.
func (t *Ticker) scale(ctx context.Context, key state.Key, in decision.Input, d decision.Decision, rec state.Record) scaleCall {
	err := t.Formation.Scale(ctx, key.App, key.ProcessType, d.Target)
	sc := scaleCall{out: outcome(err), rec: rec}
	sc.next, sc.notices = decision.Settle(in, d, sc.out)
	sc.next.RateLimitRemaining = t.remaining(sc.next.RateLimitRemaining)
	sc.rec.Kind, sc.rec.OK = state.KindScale, err == nil
	if err != nil {
		sc.rec.Error = err.Error()
	}
	return sc
}

// logTick writes the one line per tick that says what was decided and why.
func (t *Ticker) logTick(ctx context.Context, log *slog.Logger, sum Summary) {
	// Checked first: boxing the attributes costs more than the rest of a
	// tick when nothing is logged (the simulator runs half a million).
	if !log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := make([]slog.Attr, 0, 18)
	attrs = append(attrs,
		slog.String(logkey.EventID, sum.EventID),
		slog.String(logkey.Verdict, string(sum.Verdict)),
		slog.Int64(logkey.LatencyMS, sum.LatencyMS),
		slog.String(logkey.ProbeDetail, sum.ProbeDetail),
		slog.Int(logkey.Current, sum.Current),
		slog.Int(logkey.Target, sum.Target),
		slog.Int(logkey.Min, sum.Min),
		slog.Int(logkey.Max, sum.Max),
		slog.String(logkey.Reason, string(sum.Reason)),
		slog.String(logkey.Policy, string(sum.Policy)),
		slog.Bool(logkey.Scaled, sum.Scaled),
		slog.Int(logkey.SlowStreak, sum.SlowStreak),
		slog.Int(logkey.FastStreak, sum.FastStreak),
	)
	// What is usually absent stays off the line: a fleet logs one line per
	// formation per tick, and CloudWatch Logs bills every byte.
	if sum.LatencySource != "" {
		attrs = append(attrs, slog.String(logkey.LatencySource, string(sum.LatencySource)))
	}
	if sum.UtilizationPct != nil {
		attrs = append(attrs, slog.Float64(logkey.UtilizationPct, *sum.UtilizationPct))
	}
	if j := sum.Jobs; j != nil {
		attrs = append(attrs, slog.Int(logkey.JobsWaiting, j.Waiting), slog.Int(logkey.JobsBusy, j.Busy))
		if j.Oldest != "" {
			attrs = append(attrs, slog.String(logkey.OldestQueue, j.Oldest))
		}
	}
	if sum.ScaleError != "" {
		attrs = append(attrs, slog.String(logkey.ScaleError, sum.ScaleError))
	}
	if len(sum.Notices) > 0 {
		attrs = append(attrs, slog.Any(logkey.Notices, sum.Notices))
	}
	if sum.QuantityFromState {
		attrs = append(attrs, slog.Bool(logkey.QuantityFromState, true))
	}
	if sum.HerokuRefused {
		attrs = append(attrs, slog.Bool(logkey.HerokuRefused, true))
	}
	log.LogAttrs(ctx, slog.LevelInfo, "tick", attrs...)
}

// refused handles a tick on which Heroku refused to read the formation (the
// error obs.readErr, of cause c) for a reason only a person can fix: it
// records the probe and the episode (one notice per episode) and fails the
// invocation, so the error alarm sees it.
func (t *Ticker) refused(ctx context.Context, b beat, obs observed, sum Summary, c decision.Cause) (Summary, error) {
	log, key, loaded, eventID := b.log, b.key, b.loaded, b.eventID
	result, readErr := obs.result, obs.readErr
	now := t.Now()
	next, notices := decision.Refused(decision.Input{Settings: t.Settings, State: loaded, Probe: result, Now: now}, readErr, c)
	rec := decisionRecord(now, key, result)
	rec.Reason, rec.Error, rec.DryRun, rec.Paused = decision.HerokuRefused, readErr.Error(), t.Settings.DryRun, loaded.Paused
	next.LastDecision = &rec
	t.stamp(&next, loaded, result, eventID, now)
	sum.Reason, sum.HerokuRefused = decision.HerokuRefused, true
	saved, err := t.Store.Save(ctx, key, next)
	if errors.Is(err, state.ErrConflict) {
		sum.Conflict = true
		log.WarnContext(ctx, "another invocation committed first; not acting", slog.String(logkey.EventID, eventID))
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("read formation: %w (and saving state failed: %v)", readErr, err)
	}
	sum.SlowStreak, sum.FastStreak, sum.RateLimitRemaining = saved.SlowStreak, saved.FastStreak, saved.RateLimitRemaining
	t.report(ctx, b, &sum, []state.Record{rec}, notices)
	t.logTick(ctx, log, sum)
	return sum, fmt.Errorf("read formation: %w", readErr)
}

// stamp records on the state what every tick leaves behind: the probe, the
// settings in force, the event id and the rate limit.
func (t *Ticker) stamp(next *state.State, loaded state.State, result probe.Result, eventID string, now time.Time) {
	next.LastProbe = &state.ProbeRecord{
		At: now, Verdict: result.Verdict, LatencyMS: result.Latency.Milliseconds(),
		Status: result.Status, Detail: result.Detail, Source: result.Source, UtilizationPct: result.UtilizationPct(),
		Jobs: state.JobCountsOf(result),
	}
	next.Config = configSnapshot(t.Settings)
	if eventID != "" {
		next.EventIDs = appendBounded(loaded.EventIDs, state.EventKey(eventID), eventIDLimit)
	}
	next.RateLimitRemaining = t.remaining(loaded.RateLimitRemaining)
}

// decisionRecord is a tick's history record as far as the probe says.
func decisionRecord(now time.Time, key state.Key, result probe.Result) state.Record {
	return state.Record{
		At: now, Kind: state.KindDecision, App: key.App, Type: key.ProcessType,
		Verdict: result.Verdict, LatencyMS: result.Latency.Milliseconds(), Source: result.Source, Status: result.Status,
		UtilizationPct: result.UtilizationPct(), Jobs: state.JobCountsOf(result),
	}
}

// report writes the history records and sends the notices at the same time:
// nothing waits for either, so the tick costs the slower of the two. It
// returns when both are done, so neither is lost when the invocation ends.
func (t *Ticker) report(ctx context.Context, b beat, sum *Summary, records []state.Record, notices []notify.Notice) {
	appended := make(chan error, 1)
	go func() { appended <- t.Store.Append(ctx, b.key, records...) }()
	t.notify(ctx, b.log, sum, notices)
	if err := <-appended; err != nil {
		b.log.ErrorContext(ctx, "record history failed", slog.String(logkey.Error, err.Error()))
	}
}

func (t *Ticker) notify(ctx context.Context, log *slog.Logger, sum *Summary, notices []notify.Notice) {
	for _, n := range notices {
		sum.Notices = append(sum.Notices, string(n.Event))
		if err := t.Notifier.Notify(ctx, n); err != nil {
			log.ErrorContext(ctx, "notify failed", slog.String(logkey.Event, string(n.Event)), slog.String(logkey.Error, err.Error()))
		}
	}
}

// probe checks the heartbeat, keeping back part of the invocation's
// remaining time for what must follow.
func (t *Ticker) probe(ctx context.Context) probe.Result {
	if deadline, ok := ctx.Deadline(); ok {
		// The same margin settings demand between probe timeout and function timeout.
		reserve := min(settings.FunctionTimeoutMargin, time.Until(deadline)/2)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	return t.Prober.Probe(ctx)
}

// rateLimitLow reports whether the Heroku token bucket is below the reserve,
// so the tick should use the stored quantity instead of reading it. The last
// reading (this process's, else the stored one) is checked again with the
// free rate-limit call, so the tick notices when the bucket refills.
func (t *Ticker) rateLimitLow(ctx context.Context, loaded state.State) (int, bool) {
	if loaded.Quantity <= 0 {
		return 0, false
	}
	n, known := t.Formation.RateLimitRemaining()
	if !known && loaded.RateLimitRemaining != nil {
		n, known = *loaded.RateLimitRemaining, true
	}
	if !known || n >= RateLimitReserve {
		return n, false
	}
	fresh, err := t.Formation.RefreshRateLimit(ctx)
	if err != nil {
		return n, true
	}
	return fresh, fresh < RateLimitReserve
}

// remaining is the rate limit to store: the client's latest reading, else the previous value.
func (t *Ticker) remaining(previous *int) *int {
	if n, known := t.Formation.RateLimitRemaining(); known {
		return &n
	}
	return previous
}

// cause sorts a Formation call's error into the kinds the rules treat apart.
func cause(err error) decision.Cause {
	switch {
	case err == nil:
		return decision.CauseTransient
	case errors.Is(err, ErrOverPlan):
		return decision.CauseOverPlan
	case errors.Is(err, ErrAccount):
		return decision.CauseAccount
	case errors.Is(err, ErrRefused):
		return decision.CauseRefused
	}
	return decision.CauseTransient
}

// outcome classifies a scale call's error for the decision rules.
func outcome(err error) decision.Outcome {
	out := decision.Outcome{Err: err, Cause: cause(err)}
	var pl planLimited
	if out.Cause == decision.CauseOverPlan && errors.As(err, &pl) {
		out.PlanLimit = pl.PlanLimit()
	}
	return out
}

func (t *Ticker) logger() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// appendBounded appends v and keeps the newest limit entries.
func appendBounded(list []string, v string, limit int) []string {
	out := append(append([]string(nil), list...), v)
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

func configSnapshot(s settings.Settings) *state.Config {
	tz := "UTC"
	if s.Location != nil {
		tz = s.Location.String()
	}
	c := &state.Config{
		MinDynos: s.MinDynos.String(), MaxDynos: s.MaxDynos.String(), TimeZone: tz,
		MaxResponseMS: s.MaxResponseTime.Milliseconds(), MinResponseMS: s.MinResponseTime.Milliseconds(),
		DryRun: s.DryRun, Policy: s.Policy.String(),
	}
	if s.Signal != probe.ResponseTime {
		c.Signal = s.Signal
	}
	switch s.Signal {
	case probe.QueueTime, probe.Utilization:
		c.MaxQueueMS, c.MinQueueMS = s.MaxQueueTime.Milliseconds(), s.MinQueueTime.Milliseconds()
		if s.Signal == probe.Utilization {
			c.TargetUtilizationPct = s.TargetUtilizationPct
		}
	case probe.JobLatency:
		c.MaxJobLatencyMS, c.MinJobLatencyMS = s.MaxJobLatency.Milliseconds(), s.MinJobLatency.Milliseconds()
		c.JobQueues, c.JobsPerDyno, c.LongJobs = strings.Join(s.JobQueues, ","), s.JobsPerDyno, s.LongJobs
	}
	return c
}

// NewProber returns the heartbeat prober the settings describe: their URL,
// timeout, token, signal, and that signal's thresholds (and utilization
// target, or job queues).
func NewProber(s settings.Settings) *probe.Prober {
	lo, hi := s.Thresholds()
	p := probe.New(s.HeartbeatURL, s.HeartbeatTimeout, lo, hi)
	p.Signal, p.TargetUtilization, p.JobQueues, p.Token = s.Signal, s.TargetUtilization(), s.JobQueues, s.HeartbeatToken
	return p
}
