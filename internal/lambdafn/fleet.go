package lambdafn

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// A fleet is every formation of the settings file; a single formation from
// the environment is a fleet of one. Each formation has its own ticker
// (probe, state item, streaks, decision, notices); formations whose key
// comes from the same place share one Heroku account: one key read, one
// rotation, one rate-limit reading.

// member is one formation of the fleet.
type member struct {
	name  string // "FORMATIONS[2] (blog/web)", or "app/type"
	s     settings.Settings
	acct  string       // the account key: where its Heroku API key comes from
	token *tokenSource // where its heartbeat token comes from; nil: none, or the environment's

	mu     sync.Mutex
	ticker *tick.Ticker // built once its account has a key
}

func (m *member) key() state.Key { return state.Key{App: m.s.AppName, ProcessType: m.s.ProcessType} }

// account is the Heroku account of every formation whose key comes from one
// place (an SSM parameter, or the environment), and their tickers'
// tick.Formation: the key, read again when rotated (rotation), and the
// app's shared read (reads). Each Heroku call first waits for the account's
// round of this invocation (the key read), and fails with the round's error.
type account struct {
	readKey func(context.Context) (secret.Value, error)

	mu       sync.Mutex // held while a round starts: the account's rounds read the key one at a time
	rotation *rotatingFormation
	// reads is what the account's formations read and scale through, once
	// the key is first read: one GET /apps/{app}/formation per app and
	// invocation, shared by every process type of the app (one Heroku token
	// instead of one each).
	reads atomic.Pointer[herokuapi.AppReads]
	round atomic.Pointer[round] // the latest invocation's start
}

var _ tick.Formation = (*account)(nil)

// ready waits for the account's round of this invocation (the key read)
// and returns what its formations read and scale through, or the round's error.
func (a *account) ready(ctx context.Context) (*herokuapi.AppReads, error) {
	if err := a.round.Load().wait(ctx); err != nil {
		return nil, err
	}
	return a.reads.Load(), nil
}

func (a *account) Quantity(ctx context.Context, app, processType string) (int, error) {
	reads, err := a.ready(ctx)
	if err != nil {
		return 0, err
	}
	return reads.Quantity(ctx, app, processType)
}

func (a *account) Scale(ctx context.Context, app, processType string, quantity int) error {
	reads, err := a.ready(ctx)
	if err != nil {
		return err
	}
	return reads.Scale(ctx, app, processType, quantity)
}

// RateLimitRemaining does not wait: before the key's first read nothing is
// known, and the tick falls back on the stored reading.
func (a *account) RateLimitRemaining() (remaining int, known bool) {
	if reads := a.reads.Load(); reads != nil {
		return reads.RateLimitRemaining()
	}
	return 0, false
}

func (a *account) RefreshRateLimit(ctx context.Context) (int, error) {
	reads, err := a.ready(ctx)
	if err != nil {
		return 0, err
	}
	return reads.RefreshRateLimit(ctx)
}

// round is one invocation's start of an account: done closes once the
// account can call Heroku (its key read the first time, or again when due)
// or err says why it cannot.
type round struct {
	done chan struct{}
	err  error
}

// wait waits for the round, or for ctx.
func (r *round) wait(ctx context.Context) error {
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// accountKey names where s's Heroku API key comes from.
func accountKey(s settings.Settings) string {
	if s.APIKeyParameter != "" {
		return "ssm:" + s.APIKeyParameter
	}
	return "env"
}

// job is one tick to run: a formation and the tick's id.
type job struct {
	m  *member
	id string
}

// outcome is what one job did.
type outcome struct {
	m   *member
	sum tick.Summary
	err error
}

// begin starts a round for each account of jobs, and for each heartbeat
// token read from SSM, and does not wait for them: each reads its key (or
// token) if it has none yet (the first invocation) or if it is due for a
// re-read, and may read it again once after a refusal. A tick waits for
// its account's round only when it calls Heroku, and for its token's only
// when it probes, so the SSM reads overlap the tick's state read. Accounts
// and tokens are independent: one that cannot be read fails only its own
// formations' ticks (a token's, as a probe error).
func (h *Handler) begin(ctx context.Context, jobs []job) []*round {
	var rounds []*round
	started := map[any]bool{}
	start := func(owner any, slot *atomic.Pointer[round], read func() error) {
		if started[owner] {
			return
		}
		started[owner] = true
		r := &round{done: make(chan struct{})}
		slot.Store(r)
		go func() {
			defer close(r.done)
			r.err = read()
		}()
		rounds = append(rounds, r)
	}
	for _, j := range jobs {
		a := h.accounts[j.m.acct]
		start(a, &a.round, func() error { return h.startAccount(ctx, a) })
		if ts := j.m.token; ts != nil {
			start(ts, &ts.round, func() error { return h.startToken(ctx, ts) })
		}
	}
	return rounds
}

// startAccount reads the account's key the first time (a failure is not
// cached: the next invocation reads again) and starts its tick otherwise.
func (h *Handler) startAccount(ctx context.Context, a *account) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rotation == nil {
		f, err := newRotatingFormation(ctx, a.readKey,
			func(key secret.Value) herokuClient { return herokuapi.New(h.shared.APIURL, key, h.herokuOptions()...) },
			h.cfg.Now, h.cfg.Log)
		if err != nil {
			return err
		}
		a.rotation = f
		a.reads.Store(herokuapi.NewAppReads(f))
		return nil
	}
	a.rotation.startTick(ctx)
	a.reads.Load().StartRound()
	return nil
}

// FleetResult is a fleet invocation's result: one entry per formation it
// ticked, in the file's order, and what it sent to the tick queue.
type FleetResult struct {
	Formations []FormationResult `json:"formations"`
	// FannedOut counts the formations sent to the tick queue for this
	// minute's first slot instead of being ticked here.
	FannedOut int `json:"fannedOut,omitempty"`
	// Messages counts the tick queue messages sent (every slot, every batch).
	Messages int `json:"messages,omitempty"`
}

// FormationResult is one formation's tick in a FleetResult.
type FormationResult struct {
	Formation string `json:"formation"`
	tick.Summary
	Error string `json:"error,omitempty"`
}

// FleetError fails an invocation in which any formation's tick failed,
// after every formation has run. It names each failed one.
type FleetError struct {
	Failed []FailedFormation
	Of     int // formations ticked
}

// FailedFormation is one failed formation of a FleetError.
type FailedFormation struct {
	Formation string
	Err       error
}

func (e *FleetError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d formations failed", len(e.Failed), e.Of)
	for i, f := range e.Failed {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s: %v", sep, f.Formation, f.Err)
	}
	return b.String()
}

// Unwrap gives each formation's error, for errors.Is and errors.As.
func (e *FleetError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

// fleetResult gathers outcomes into the result and, when any failed, the
// error naming each.
func fleetResult(outs []outcome) (FleetResult, error) {
	res := FleetResult{Formations: make([]FormationResult, 0, len(outs))}
	var failed []FailedFormation
	for _, o := range outs {
		r := FormationResult{Formation: o.m.name, Summary: o.sum}
		if o.err != nil {
			r.Error = o.err.Error()
			failed = append(failed, FailedFormation{Formation: o.m.name, Err: o.err})
		}
		res.Formations = append(res.Formations, r)
	}
	if len(failed) > 0 {
		return res, &FleetError{Failed: failed, Of: len(outs)}
	}
	return res, nil
}
