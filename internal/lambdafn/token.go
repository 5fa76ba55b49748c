package lambdafn

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/ssmkey"
)

// tokenSource is the heartbeat token of every formation that reads it from
// one SSM parameter: one read, one rotation, as an account's API key. An
// invocation starts a round of it (the first read, or a read again when
// due) beside the state read; a probe waits for that round only.
type tokenSource struct {
	readKey func(context.Context) (secret.Value, error)

	mu    sync.Mutex // held while a round starts
	token *rotatingSecret
	round atomic.Pointer[round] // the latest invocation's start
}

// newTokenSource reads the token from the SSM parameter called name.
func newTokenSource(keys ssmkey.API, name string) *tokenSource {
	return &tokenSource{readKey: func(ctx context.Context) (secret.Value, error) {
		return ssmkey.ReadAs(ctx, keys, name, "heartbeat token")
	}}
}

// startToken reads the token the first time (a failure is not kept: the
// next invocation reads again) and starts its tick otherwise.
func (h *Handler) startToken(ctx context.Context, ts *tokenSource) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == nil {
		token, err := newRotatingSecret(ctx, "heartbeat token", ts.readKey, h.cfg.Now, h.cfg.Log)
		if err != nil {
			return err
		}
		ts.token = token
		return nil
	}
	ts.token.startTick(ctx)
	return nil
}

// tokenProber probes with the token of its source. When the heartbeat
// withheld the headers the token unlocks (or said 401/403), it reads the
// token again, at most once a tick, and probes once more if it changed:
// the app's token was rotated before the parameter was read again.
type tokenProber struct {
	ts     *tokenSource
	prober *probe.Prober
}

func (p tokenProber) Probe(ctx context.Context) probe.Result {
	r := p.ts.round.Load()
	if r == nil {
		return probe.Result{Verdict: probe.Error, Detail: "heartbeat token: not read"}
	}
	if err := r.wait(ctx); err != nil {
		// The detail names the parameter, never the token.
		return probe.Result{Verdict: probe.Error, Detail: "heartbeat token: " + err.Error()}
	}
	token := p.ts.token // set before the round was done
	res := p.prober.ProbeWith(ctx, token.current())
	if res.Withheld && token.refused(ctx) {
		res = p.prober.ProbeWith(ctx, token.current())
	}
	return res
}
