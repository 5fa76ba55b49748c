package lambdafn

import (
	"context"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// tokenProber probes with the heartbeat token of its source, shared by
// every formation that reads it from one SSM parameter. When the heartbeat
// withheld the headers the token unlocks (or said 401/403), it reads the
// token again, at most once a round, and probes once more if it changed:
// the app's token was rotated before the parameter was read again.
type tokenProber struct {
	token  *secret.Source
	prober *probe.Prober
}

func (p tokenProber) Probe(ctx context.Context) probe.Result {
	token, err := p.token.Value(ctx)
	if err != nil {
		// The detail names the parameter, never the token.
		return probe.Result{Verdict: probe.Error, Detail: "heartbeat token: " + err.Error()}
	}
	res := p.prober.ProbeWith(ctx, token)
	if res.Withheld && p.token.Refused(ctx) {
		res = p.prober.ProbeWith(ctx, p.token.Current())
	}
	return res
}
