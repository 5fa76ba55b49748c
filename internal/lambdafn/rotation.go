package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// KeyRefreshInterval is the longest a warm execution environment goes on
// with the Heroku API key it read from SSM before reading it again. Lambda
// keeps an environment for hours, so without it a rotated key would reach
// the function only at its next cold start. At one read per five minutes an
// environment makes about 9,000 SSM reads (and KMS decrypts, $0.03 per
// 10,000 past the free tier) a month; a refused key is read again at once.
const KeyRefreshInterval = 5 * time.Minute

// keyReadTimeout bounds one read of the key, the SDK's retries included, so a
// slow SSM cannot eat the tick's time.
const keyReadTimeout = 5 * time.Second

// herokuClient lists what rotatingFormation calls on a Heroku API client.
type herokuClient interface {
	Formations(ctx context.Context, app string) (map[string]int, error)
	Scale(ctx context.Context, app, processType string, quantity int) error
	RateLimitRemaining() (remaining int, known bool)
	RefreshRateLimit(ctx context.Context) (int, error)
}

var (
	_ herokuClient            = (*herokuapi.Client)(nil)
	_ herokuClient            = (*rotatingFormation)(nil)
	_ herokuapi.FormationsAPI = (*rotatingFormation)(nil)
)

// rotatingSecret is a secret read from where it lives (an SSM parameter)
// that may be rotated while the execution environment lives: read again
// when the value in use is older than KeyRefreshInterval (at the start of a
// tick), and when its user says it was refused, at most once per tick.
type rotatingSecret struct {
	what    string // "heroku API key", "heartbeat token": the log lines' subject
	readKey func(ctx context.Context) (secret.Value, error)
	now     func() time.Time
	log     *slog.Logger

	mu            sync.Mutex
	value         secret.Value
	readAt        time.Time
	readOnRefusal bool // this tick has already read it after a refusal
}

// newRotatingSecret reads the secret the first time. readKey's errors must
// name where the secret lives, never the secret.
func newRotatingSecret(ctx context.Context, what string, readKey func(context.Context) (secret.Value, error),
	now func() time.Time, log *slog.Logger) (*rotatingSecret, error) {
	r := &rotatingSecret{what: what, readKey: readKey, now: now, log: log}
	value, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	r.value, r.readAt = value, now()
	return r, nil
}

// startTick begins a tick: the next refusal may read the secret again, and
// one older than KeyRefreshInterval is read now. A failed read is logged
// and the tick goes on with the value in use; the next tick tries again.
func (r *rotatingSecret) startTick(ctx context.Context) {
	r.mu.Lock()
	r.readOnRefusal = false
	stale := r.now().Sub(r.readAt) >= KeyRefreshInterval
	r.mu.Unlock()
	if stale {
		r.reread(ctx, "interval")
	}
}

// current is the value in use.
func (r *rotatingSecret) current() secret.Value {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.value
}

// refused reads the secret again after its user saw it refused, the first
// time this tick, and reports whether it changed (worth trying again).
func (r *rotatingSecret) refused(ctx context.Context) bool {
	r.mu.Lock()
	again := !r.readOnRefusal
	r.readOnRefusal = true
	r.mu.Unlock()
	return again && r.reread(ctx, "refusal")
}

// reread reads the secret and keeps it; it reports whether it changed. why
// ("interval" or "refusal") goes into the log lines.
func (r *rotatingSecret) reread(ctx context.Context, why string) bool {
	value, err := r.read(ctx)
	if err != nil {
		r.log.WarnContext(ctx, r.what+" not read again: keeping the one in use",
			slog.String(logkey.Trigger, why), slog.String(logkey.Error, err.Error()))
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readAt = r.now()
	if value.Reveal() == r.value.Reveal() {
		return false
	}
	r.value = value
	r.log.InfoContext(ctx, r.what+" changed: using the new one", slog.String(logkey.Trigger, why))
	return true
}

func (r *rotatingSecret) read(ctx context.Context) (secret.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, keyReadTimeout)
	defer cancel()
	value, err := r.readKey(ctx)
	if err == nil && value.IsZero() {
		err = fmt.Errorf("read %s: it is empty", r.what)
	}
	return value, err
}

// rotatingFormation is the Heroku formation for a key that may be rotated
// while the execution environment lives (a rotatingSecret). When Heroku
// refuses the key (401/403) and the key read again differs, the refused
// call is made once more with the new one: a refused call did nothing at
// Heroku, so repeating even a PATCH is safe.
type rotatingFormation struct {
	key       *rotatingSecret
	newClient func(key secret.Value) herokuClient

	mu        sync.Mutex
	client    herokuClient
	clientKey secret.Value // the key client was built with
}

// newRotatingFormation reads the key and builds the first client. readKey's
// errors must name where the key lives, never the key.
func newRotatingFormation(ctx context.Context, readKey func(context.Context) (secret.Value, error),
	newClient func(secret.Value) herokuClient, now func() time.Time, log *slog.Logger) (*rotatingFormation, error) {
	key, err := newRotatingSecret(ctx, "heroku API key", readKey, now, log)
	if err != nil {
		return nil, err
	}
	first := key.current()
	return &rotatingFormation{key: key, newClient: newClient, client: newClient(first), clientKey: first}, nil
}

// startTick begins a tick of the key's (see rotatingSecret.startTick).
func (f *rotatingFormation) startTick(ctx context.Context) { f.key.startTick(ctx) }

// Formations reads every formation of app (process type → quantity).
func (f *rotatingFormation) Formations(ctx context.Context, app string) (map[string]int, error) {
	var out map[string]int
	err := f.call(ctx, func(c herokuClient) (err error) {
		out, err = c.Formations(ctx, app)
		return err
	})
	return out, err
}

// Scale sets the formation's quantity.
func (f *rotatingFormation) Scale(ctx context.Context, app, processType string, quantity int) error {
	return f.call(ctx, func(c herokuClient) error { return c.Scale(ctx, app, processType, quantity) })
}

// RateLimitRemaining is the current client's latest reading: unknown right
// after a new key, which may belong to another account with its own bucket.
func (f *rotatingFormation) RateLimitRemaining() (remaining int, known bool) {
	return f.current().RateLimitRemaining()
}

// RefreshRateLimit asks Heroku how many tokens are left.
func (f *rotatingFormation) RefreshRateLimit(ctx context.Context) (int, error) {
	var n int
	err := f.call(ctx, func(c herokuClient) (err error) {
		n, err = c.RefreshRateLimit(ctx)
		return err
	})
	return n, err
}

// call runs op with the current client and, when Heroku refuses the key for
// the first time this tick and the key read again differs, once more with
// the new one. Otherwise the refusal is returned as it was.
func (f *rotatingFormation) call(ctx context.Context, op func(herokuClient) error) error {
	err := op(f.current())
	if !errors.Is(err, herokuapi.ErrUnauthorized) || !f.key.refused(ctx) {
		return err
	}
	return op(f.current())
}

// current is the client for the key in use, a new one once it changed.
func (f *rotatingFormation) current() herokuClient {
	key := f.key.current()
	f.mu.Lock()
	defer f.mu.Unlock()
	if key.Reveal() != f.clientKey.Reveal() {
		f.client, f.clientKey = f.newClient(key), key
	}
	return f.client
}
