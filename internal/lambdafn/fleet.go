package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/notify"
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
	name string // "FORMATIONS[2] (blog/web)", or "app/type"
	s    settings.Settings
	acct string // the account key: where its Heroku API key comes from

	mu     sync.Mutex
	ticker *tick.Ticker // built once its account has a key
}

func (m *member) key() state.Key { return state.Key{App: m.s.AppName, ProcessType: m.s.ProcessType} }

// account is the Heroku client of every formation whose key comes from one
// place (an SSM parameter, or the environment).
type account struct {
	readKey func(context.Context) (secret.Value, error)

	mu       sync.Mutex // held while the key is first read: the account's formations wait for that one read
	rotation *rotatingFormation
	// reads is what the account's formations read and scale through: one
	// GET /apps/{app}/formation per app and invocation, shared by every
	// process type of the app (one Heroku token instead of one each).
	reads *herokuapi.AppReads
}

// ready says whether the account has read its key.
func (a *account) ready() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reads != nil
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

// begin starts a round for the accounts of jobs: each reads its key if it
// has none yet (the first invocation) or if the key is due for a re-read,
// and may read it again once after a refusal. Accounts are independent: one
// whose key cannot be read fails only its own formations' ticks.
func (h *Handler) begin(ctx context.Context, jobs []job) map[string]error {
	used := map[string]*account{}
	for _, j := range jobs {
		used[j.m.acct] = h.accounts[j.m.acct]
	}
	errs := make(map[string]error, len(used))
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for name, a := range used {
		wg.Go(func() {
			err := h.startAccount(ctx, a)
			mu.Lock()
			defer mu.Unlock()
			errs[name] = err
		})
	}
	wg.Wait()
	return errs
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
		a.rotation, a.reads = f, herokuapi.NewAppReads(f)
		return nil
	}
	a.rotation.startTick(ctx)
	a.reads.StartRound()
	return nil
}

// tickerOf returns m's ticker, building it the first time.
func (h *Handler) tickerOf(m *member) *tick.Ticker {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ticker != nil {
		return m.ticker
	}
	a := h.accounts[m.acct]
	var formation tick.Formation = a.reads
	if m.s.DryRun {
		// Under the shared reads: a dry run's pretend scale must not
		// change what the app's other formations read.
		formation = herokuapi.NewDryRun(formation, 0)
	}
	var notifier tick.Notifier = notify.NewLog(h.cfg.Log)
	if h.notifier != nil {
		notifier = h.notifier
	}
	prober := tick.NewProber(m.s)
	if h.cfg.Transport != nil {
		prober.Client.Transport = h.cfg.Transport
	}
	m.ticker = &tick.Ticker{
		Settings:  m.s,
		Store:     dynamostore.New(h.ddb, m.s.TableName, m.s.HistoryTTL),
		Formation: formation,
		Prober:    prober,
		Notifier:  notifier,
		Log:       h.cfg.Log,
		Now:       h.cfg.Now,
	}
	return m.ticker
}

// run ticks every job at the same time and returns their outcomes in the
// jobs' order. Jobs of one formation run one after another, in the order
// given (a batch may hold two slots of one formation); different formations
// never wait for each other. Their number is bounded by construction: a
// scheduled invocation ticks at most FanOutAbove formations, a queue
// delivery at most a batch of messages of formationsPerMessage each.
func (h *Handler) run(ctx context.Context, jobs []job) []outcome {
	out := make([]outcome, len(jobs))
	accountErr := h.begin(ctx, jobs)
	byMember := map[*member][]int{}
	var order []*member
	for i, j := range jobs {
		if _, seen := byMember[j.m]; !seen {
			order = append(order, j.m)
		}
		byMember[j.m] = append(byMember[j.m], i)
	}
	var wg sync.WaitGroup
	for _, m := range order {
		wg.Go(func() {
			for _, i := range byMember[m] {
				out[i] = h.tickOne(ctx, jobs[i], accountErr[m.acct])
			}
		})
	}
	wg.Wait()
	return out
}

// tickOne runs one job and writes its metrics. startErr is its account's
// failure to start (no key): the tick then fails without probing.
func (h *Handler) tickOne(ctx context.Context, j job, startErr error) outcome {
	m := j.m
	log := h.cfg.Log.With(slog.String(logkey.Formation, m.name))
	if startErr != nil {
		sum := tick.Summary{App: m.s.AppName, ProcessType: m.s.ProcessType, EventID: j.id, DryRun: m.s.DryRun}
		log.ErrorContext(ctx, "start-up failed", slog.String(logkey.EventID, j.id), slog.String(logkey.Error, startErr.Error()))
		h.writeMetrics(ctx, sum, true)
		return outcome{m: m, sum: sum, err: startErr}
	}
	sum, err := h.tickerOf(m).Tick(ctx, j.id)
	h.writeMetrics(ctx, sum, err != nil)
	if err != nil {
		log.ErrorContext(ctx, "tick failed", slog.String(logkey.EventID, j.id), slog.String(logkey.Error, err.Error()))
	}
	return outcome{m: m, sum: sum, err: err}
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
