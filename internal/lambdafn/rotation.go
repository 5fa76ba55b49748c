package lambdafn

import (
	"context"
	"errors"
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

// rotatingFormation is the Heroku formation for a key that may be rotated
// while the execution environment lives. It reads the key again when the one
// in use is older than KeyRefreshInterval (at the start of a tick), and when
// Heroku refuses it (401/403), at most once per tick. If the key read after a
// refusal differs, the refused call is made once more with the new key: a
// refused call did nothing at Heroku, so repeating even a PATCH is safe.
type rotatingFormation struct {
	readKey   func(ctx context.Context) (secret.Value, error)
	newClient func(key secret.Value) herokuClient
	now       func() time.Time
	log       *slog.Logger

	mu            sync.Mutex
	key           secret.Value
	client        herokuClient
	readAt        time.Time
	readOnRefusal bool // this tick has already read the key after a refusal
}

// newRotatingFormation reads the key and builds the first client. readKey's
// errors must name where the key lives, never the key.
func newRotatingFormation(ctx context.Context, readKey func(context.Context) (secret.Value, error),
	newClient func(secret.Value) herokuClient, now func() time.Time, log *slog.Logger) (*rotatingFormation, error) {
	f := &rotatingFormation{readKey: readKey, newClient: newClient, now: now, log: log}
	key, err := f.read(ctx)
	if err != nil {
		return nil, err
	}
	f.key, f.client, f.readAt = key, newClient(key), now()
	return f, nil
}

// startTick begins a tick: the next refusal may read the key again, and a key
// older than KeyRefreshInterval is read now. A failed read is logged and the
// tick goes on with the key in use; the next tick tries again.
func (f *rotatingFormation) startTick(ctx context.Context) {
	f.mu.Lock()
	f.readOnRefusal = false
	stale := f.now().Sub(f.readAt) >= KeyRefreshInterval
	f.mu.Unlock()
	if stale {
		f.reread(ctx, "interval")
	}
}

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
	if !errors.Is(err, herokuapi.ErrUnauthorized) {
		return err
	}
	f.mu.Lock()
	again := !f.readOnRefusal
	f.readOnRefusal = true
	f.mu.Unlock()
	if !again || !f.reread(ctx, "refusal") {
		return err
	}
	return op(f.current())
}

func (f *rotatingFormation) current() herokuClient {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.client
}

// reread reads the key and, if it changed, switches to a client for the new
// one; it reports whether it switched. why ("interval" or "refusal") goes
// into the log lines.
func (f *rotatingFormation) reread(ctx context.Context, why string) bool {
	key, err := f.read(ctx)
	if err != nil {
		f.log.WarnContext(ctx, "heroku API key not read again: keeping the key in use",
			slog.String(logkey.Trigger, why), slog.String(logkey.Error, err.Error()))
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readAt = f.now()
	if key.Reveal() == f.key.Reveal() {
		return false
	}
	f.key, f.client = key, f.newClient(key)
	f.log.InfoContext(ctx, "heroku API key changed: using the new one", slog.String(logkey.Trigger, why))
	return true
}

func (f *rotatingFormation) read(ctx context.Context) (secret.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, keyReadTimeout)
	defer cancel()
	key, err := f.readKey(ctx)
	if err == nil && key.IsZero() {
		err = errors.New("read API key: the key is empty")
	}
	return key, err
}
