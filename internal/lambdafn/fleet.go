package lambdafn

import (
	"context"
	"fmt"
	"strings"
	"sync"

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
	name    string // "FORMATIONS[2] (blog/web)", or "app/type"
	s       settings.Settings
	account *herokuapi.Account // shared by every formation whose key comes from the same place
	token   *secret.Source     // where its heartbeat token comes from; nil: none, or the environment's

	mu     sync.Mutex
	ticker *tick.Ticker // built the first time it is needed
}

func (m *member) key() state.Key { return state.Key{App: m.s.AppName, ProcessType: m.s.ProcessType} }

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
// re-read (see secret.Source). A tick waits for its account's round only
// when it calls Heroku, and for its token's only when it probes, so the SSM
// reads overlap the tick's state read. Accounts and tokens are independent:
// one that cannot be read fails only its own formations' ticks (a token's,
// as a probe error). It returns the rounds' done channels.
func (h *Handler) begin(ctx context.Context, jobs []job) []<-chan struct{} {
	var rounds []<-chan struct{}
	started := map[any]bool{}
	start := func(owner any, round func(context.Context) <-chan struct{}) {
		if !started[owner] {
			started[owner] = true
			rounds = append(rounds, round(ctx))
		}
	}
	for _, j := range jobs {
		start(j.m.account, j.m.account.Start)
		if ts := j.m.token; ts != nil {
			start(ts, ts.Start)
		}
	}
	return rounds
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
