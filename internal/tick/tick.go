// Package tick runs one autoscaler beat: load state, probe the heartbeat,
// read the formation, decide, commit the decision, scale, record the outcome
// and notify. The Lambda handler and the local runner both call Tick.
package tick

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
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

// Formation reads and changes the number of dynos.
type Formation interface {
	Quantity(ctx context.Context, app, processType string) (int, error)
	Scale(ctx context.Context, app, processType string, quantity int) error
}

// Prober checks the heartbeat once.
type Prober interface {
	Probe(ctx context.Context) probe.Result
}

// Notifier delivers one notice.
type Notifier interface {
	Notify(ctx context.Context, n notify.Notice) error
}

// Heroku's errors say what kind of failure they are through these methods.
type (
	refusal   interface{ Refused() bool }
	overPlan  interface{ OverPlan() bool }
	rateLimit interface {
		RateLimitRemaining() (remaining int, known bool)
		RefreshRateLimit(ctx context.Context) (int, error) // costs no token
	}
)

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
	App         string   `json:"app"`
	ProcessType string   `json:"processType"`
	EventID     string   `json:"eventId,omitempty"`
	Duplicate   bool     `json:"duplicate,omitempty"` // this event was already handled
	Conflict    bool     `json:"conflict,omitempty"`  // another invocation committed first; this one did nothing
	Verdict     string   `json:"verdict,omitempty"`
	LatencyMS   int64    `json:"latencyMs"`
	ProbeDetail string   `json:"probeDetail,omitempty"`
	Current     int      `json:"current"`
	Target      int      `json:"target"`
	Min         int      `json:"min"`
	Max         int      `json:"max"`
	Reason      string   `json:"reason,omitempty"`
	Scaled      bool     `json:"scaled"`
	ScaleError  string   `json:"scaleError,omitempty"`
	SlowStreak  int      `json:"slowStreak"`
	FastStreak  int      `json:"fastStreak"`
	DryRun      bool     `json:"dryRun,omitempty"`
	Paused      bool     `json:"paused,omitempty"`
	Notices     []string `json:"notices,omitempty"`
	// RateLimitRemaining is Heroku's RateLimit-Remaining after this tick, when known.
	RateLimitRemaining *int `json:"rateLimitRemaining,omitempty"`
	// QuantityFromState: the rate limit was low, so the formation was not
	// read and the stored quantity was used.
	QuantityFromState bool `json:"quantityFromState,omitempty"`
	// HerokuRefused: Heroku refused the key or knew no such app or process type.
	HerokuRefused bool `json:"herokuRefused,omitempty"`
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
	log := t.logger().With(slog.String("app", key.App), slog.String("processType", key.ProcessType))

	loaded, err := t.Store.Load(ctx, key)
	if err != nil {
		return sum, fmt.Errorf("load state: %w", err)
	}
	sum.Paused = loaded.Paused
	// Every line from here on says whether scaling is switched off.
	log = log.With(slog.Bool("dryRun", s.DryRun), slog.Bool("paused", loaded.Paused))
	if eventID != "" && slices.Contains(loaded.EventIDs, eventID) {
		sum.Duplicate = true
		log.InfoContext(ctx, "duplicate event ignored", slog.String("eventId", eventID))
		return sum, nil
	}

	result := t.probe(ctx)
	sum.Verdict, sum.LatencyMS, sum.ProbeDetail = string(result.Verdict), result.Latency.Milliseconds(), result.Detail

	var current int
	if remaining, low := t.rateLimitLow(ctx, loaded); low {
		current, sum.QuantityFromState = loaded.Quantity, true
		log.WarnContext(ctx, "heroku rate limit low: using the stored quantity", slog.Int("rateLimitRemaining", remaining))
	} else {
		current, err = t.Formation.Quantity(ctx, key.App, key.ProcessType)
		var r refusal
		if errors.As(err, &r) && r.Refused() {
			return t.refused(ctx, log, key, loaded, result, eventID, sum, err)
		}
		if err != nil {
			return sum, fmt.Errorf("read formation: %w", err)
		}
	}
	now := t.Now()
	in := decision.Input{Settings: s, State: loaded, Probe: result, Current: current, Now: now}
	d := decision.Decide(in)
	sum.Current, sum.Target, sum.Min, sum.Max, sum.Reason = d.Current, d.Target, d.Min, d.Max, string(d.Reason)

	rec := state.Record{
		At: now, Kind: state.KindDecision, App: key.App, Type: key.ProcessType,
		Verdict: string(result.Verdict), LatencyMS: result.Latency.Milliseconds(), Status: result.Status,
		Current: d.Current, Target: d.Target, Min: d.Min, Max: d.Max, Reason: string(d.Reason),
		DryRun: s.DryRun, Paused: loaded.Paused,
	}
	d.Next.LastDecision = &rec
	t.stamp(&d.Next, loaded, result, eventID, now)

	committed, err := t.Store.Save(ctx, key, d.Next)
	if errors.Is(err, state.ErrConflict) {
		sum.Conflict = true
		log.WarnContext(ctx, "another invocation committed first; not acting", slog.String("eventId", eventID))
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("commit decision: %w", err)
	}
	notices := d.Notices
	records := []state.Record{rec}
	final := committed

	if d.Scales() {
		scaleErr := t.Formation.Scale(ctx, key.App, key.ProcessType, d.Target)
		next, settled := decision.Settle(in, d, outcome(scaleErr))
		next.Version = committed.Version
		next.RateLimitRemaining = t.remaining(next.RateLimitRemaining)
		notices = append(notices, settled...)
		scaleRec := rec
		scaleRec.Kind, scaleRec.OK = state.KindScale, scaleErr == nil
		if scaleErr != nil {
			scaleRec.Error = scaleErr.Error()
			sum.ScaleError = scaleErr.Error()
		}
		records = append(records, scaleRec)
		sum.Scaled = scaleErr == nil
		final, err = t.Store.Save(ctx, key, next)
		if err != nil {
			return sum, fmt.Errorf("record scale %d → %d (scale call made, ok=%t): %w", d.Current, d.Target, scaleErr == nil, err)
		}
	}
	sum.SlowStreak, sum.FastStreak = final.SlowStreak, final.FastStreak
	sum.RateLimitRemaining = final.RateLimitRemaining
	sum.HerokuRefused = final.Episodes.HerokuError

	// History and notices are reports: a failure is logged and never undoes
	// the scale or the state already saved.
	if err := t.Store.Append(ctx, key, records...); err != nil {
		log.ErrorContext(ctx, "record history failed", slog.String("error", err.Error()))
	}
	t.notify(ctx, log, &sum, notices)
	t.logTick(ctx, log, sum)
	return sum, nil
}

// logTick writes the one line per tick that says what was decided and why.
func (t *Ticker) logTick(ctx context.Context, log *slog.Logger, sum Summary) {
	// Checked first: boxing the attributes costs more than the rest of a
	// tick when nothing is logged (the simulator runs half a million).
	if !log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	log.InfoContext(ctx, "tick",
		slog.String("eventId", sum.EventID),
		slog.String("verdict", sum.Verdict),
		slog.Int64("latencyMs", sum.LatencyMS),
		slog.String("probeDetail", sum.ProbeDetail),
		slog.Int("current", sum.Current),
		slog.Int("target", sum.Target),
		slog.Int("min", sum.Min),
		slog.Int("max", sum.Max),
		slog.String("reason", sum.Reason),
		slog.Bool("scaled", sum.Scaled),
		slog.String("scaleError", sum.ScaleError),
		slog.Int("slowStreak", sum.SlowStreak),
		slog.Int("fastStreak", sum.FastStreak),
		slog.Any("notices", sum.Notices),
		slog.Bool("quantityFromState", sum.QuantityFromState),
		slog.Bool("herokuRefused", sum.HerokuRefused),
	)
}

// refused handles a tick on which Heroku refused to read the formation for a
// reason only a person can fix: it records the probe and the episode (one
// notice per episode) and fails the invocation, so the error alarm sees it.
func (t *Ticker) refused(ctx context.Context, log *slog.Logger, key state.Key, loaded state.State, result probe.Result, eventID string, sum Summary, readErr error) (Summary, error) {
	now := t.Now()
	next, notices := decision.Refused(decision.Input{Settings: t.Settings, State: loaded, Probe: result, Now: now}, readErr)
	rec := state.Record{
		At: now, Kind: state.KindDecision, App: key.App, Type: key.ProcessType,
		Verdict: string(result.Verdict), LatencyMS: result.Latency.Milliseconds(), Status: result.Status,
		Reason: string(decision.HerokuRefused), Error: readErr.Error(), DryRun: t.Settings.DryRun, Paused: loaded.Paused,
	}
	next.LastDecision = &rec
	t.stamp(&next, loaded, result, eventID, now)
	sum.Reason, sum.HerokuRefused = string(decision.HerokuRefused), true
	saved, err := t.Store.Save(ctx, key, next)
	if errors.Is(err, state.ErrConflict) {
		sum.Conflict = true
		log.WarnContext(ctx, "another invocation committed first; not acting", slog.String("eventId", eventID))
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("read formation: %w (and saving state failed: %v)", readErr, err)
	}
	sum.SlowStreak, sum.FastStreak, sum.RateLimitRemaining = saved.SlowStreak, saved.FastStreak, saved.RateLimitRemaining
	if err := t.Store.Append(ctx, key, rec); err != nil {
		log.ErrorContext(ctx, "record history failed", slog.String("error", err.Error()))
	}
	t.notify(ctx, log, &sum, notices)
	t.logTick(ctx, log, sum)
	return sum, fmt.Errorf("read formation: %w", readErr)
}

// stamp records on the state what every tick leaves behind: the probe, the
// settings in force, the event id and the rate limit.
func (t *Ticker) stamp(next *state.State, loaded state.State, result probe.Result, eventID string, now time.Time) {
	next.LastProbe = &state.ProbeRecord{
		At: now, Verdict: string(result.Verdict), LatencyMS: result.Latency.Milliseconds(),
		Status: result.Status, Detail: result.Detail,
	}
	next.Config = configSnapshot(t.Settings)
	if eventID != "" {
		next.EventIDs = appendBounded(loaded.EventIDs, eventID, eventIDLimit)
	}
	next.RateLimitRemaining = t.remaining(loaded.RateLimitRemaining)
}

func (t *Ticker) notify(ctx context.Context, log *slog.Logger, sum *Summary, notices []notify.Notice) {
	for _, n := range notices {
		sum.Notices = append(sum.Notices, string(n.Event))
		if err := t.Notifier.Notify(ctx, n); err != nil {
			log.ErrorContext(ctx, "notify failed", slog.String("event", string(n.Event)), slog.String("error", err.Error()))
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
	rl, ok := t.Formation.(rateLimit)
	if !ok || loaded.Quantity <= 0 {
		return 0, false
	}
	n, known := rl.RateLimitRemaining()
	if !known && loaded.RateLimitRemaining != nil {
		n, known = *loaded.RateLimitRemaining, true
	}
	if !known || n >= RateLimitReserve {
		return n, false
	}
	fresh, err := rl.RefreshRateLimit(ctx)
	if err != nil {
		return n, true
	}
	return fresh, fresh < RateLimitReserve
}

// remaining is the rate limit to store: the client's latest reading, else the previous value.
func (t *Ticker) remaining(previous *int) *int {
	if rl, ok := t.Formation.(rateLimit); ok {
		if n, known := rl.RateLimitRemaining(); known {
			return &n
		}
	}
	return previous
}

// outcome classifies a scale call's error for the decision rules.
func outcome(err error) decision.Outcome {
	var r refusal
	var p overPlan
	return decision.Outcome{
		Err:      err,
		Refused:  errors.As(err, &r) && r.Refused(),
		OverPlan: errors.As(err, &p) && p.OverPlan(),
	}
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
	return &state.Config{
		MinDynos: s.MinDynos.String(), MaxDynos: s.MaxDynos.String(), TimeZone: tz,
		MaxResponseMS: s.MaxResponseTime.Milliseconds(), MinResponseMS: s.MinResponseTime.Milliseconds(),
		DryRun: s.DryRun,
	}
}
