// Package herokuapi reads and changes a Heroku app's formation through the
// Platform API (heroku-go/v5), and turns the API's failures into errors a
// caller can branch on. It never retries: the caller's next tick does.
package herokuapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// DefaultTimeout bounds one API call unless WithTimeout says otherwise.
const DefaultTimeout = 15 * time.Second

// Reader reads a formation's quantity and the account's rate limit: what
// DryRun passes on from the real API.
type Reader interface {
	Quantity(ctx context.Context, app, processType string) (int, error)
	RateLimitRemaining() (remaining int, known bool)
	RefreshRateLimit(ctx context.Context) (int, error)
}

var (
	_ Reader = (*Client)(nil)
	_ Reader = (*DryRun)(nil)
)

// Option configures a Client.
type Option func(*options)

type options struct {
	timeout time.Duration
	base    http.RoundTripper
}

// WithTimeout bounds each API call, on top of the caller's ctx.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithTransport sets the round tripper under the Heroku transport
// (default: a clone of http.DefaultTransport).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.base = rt } }

// Client talks to the Heroku Platform API. It is safe for concurrent use.
type Client struct {
	svc       *heroku.Service
	key       secret.Value
	remaining *atomic.Int64
}

// New returns a client for the API at apiURL (https://api.heroku.com in
// production) that authenticates with key.
func New(apiURL string, key secret.Value, opts ...Option) *Client {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.base == nil {
		o.base = http.DefaultTransport.(*http.Transport).Clone()
	}
	remaining := new(atomic.Int64)
	remaining.Store(-1)
	// heroku.RoundTripWithRetryBackoff is left out on purpose: it retries
	// for minutes, past a tick's deadline, and spends rate-limit tokens.
	svc := heroku.NewService(&http.Client{
		Timeout: o.timeout,
		Transport: &heroku.Transport{
			BearerToken: key.Reveal(),
			UserAgent:   "autoscalebot",
			Transport:   rateLimitRecorder{base: o.base, remaining: remaining},
		},
	})
	svc.URL = apiURL
	return &Client{svc: svc, key: key, remaining: remaining}
}

// Quantity returns how many dynos of processType app is set to run.
func (c *Client) Quantity(ctx context.Context, app, processType string) (int, error) {
	ctx, call := withCall(ctx)
	f, err := c.svc.FormationInfo(ctx, app, processType)
	if err == nil {
		err = checkFormation(f, int(call.status.Load()))
	}
	if err != nil {
		return 0, c.redact(fmt.Errorf("get formation %s/%s: %w", app, processType, classify(err, call)))
	}
	return f.Quantity, nil
}

// Formations returns the quantity of every process type of app (process
// type → dynos) from one GET /apps/{app}/formation: one rate-limit token for
// all of the app's formations, where Quantity spends one on each.
func (c *Client) Formations(ctx context.Context, app string) (map[string]int, error) {
	ctx, call := withCall(ctx)
	list, err := c.svc.FormationList(ctx, app, nil)
	if err == nil {
		err = checkList(list, int(call.status.Load()))
	}
	if err != nil {
		return nil, c.redact(fmt.Errorf("list formations %s: %w", app, classify(err, call)))
	}
	out := make(map[string]int, len(list))
	for _, f := range list {
		out[f.Type] = f.Quantity
	}
	return out, nil
}

// Scale sets the quantity of processType. Heroku switches its own
// autoscaling off for a process type scaled through the API. After an
// ErrBadResponse or a timeout the change may or may not have been made:
// read the quantity again.
func (c *Client) Scale(ctx context.Context, app, processType string, quantity int) error {
	if quantity < 0 {
		return fmt.Errorf("update formation %s/%s: quantity %d is negative", app, processType, quantity)
	}
	ctx, call := withCall(ctx)
	f, err := c.svc.FormationUpdate(ctx, app, processType, heroku.FormationUpdateOpts{Quantity: heroku.Int(quantity)})
	if err == nil {
		err = checkFormation(f, int(call.status.Load()))
	}
	if err != nil {
		return c.redact(fmt.Errorf("update formation %s/%s: %w", app, processType, classify(err, call)))
	}
	return nil
}

// RateLimitRemaining returns the RateLimit-Remaining header of the latest
// answer, and whether any answer has carried one yet.
func (c *Client) RateLimitRemaining() (remaining int, known bool) {
	n := c.remaining.Load()
	if n < 0 {
		return 0, false
	}
	return int(n), true
}

// RefreshRateLimit asks how many API tokens are left. The call itself costs
// no token, so a caller saving tokens can still learn when the bucket refills.
func (c *Client) RefreshRateLimit(ctx context.Context) (int, error) {
	ctx, call := withCall(ctx)
	rl, err := c.svc.RateLimitInfo(ctx)
	if err != nil {
		return 0, c.redact(fmt.Errorf("get rate limit: %w", classify(err, call)))
	}
	c.remaining.Store(int64(rl.Remaining))
	return rl.Remaining, nil
}

// checkFormation rejects a 2xx body that parsed but is no formation (such
// as {} or null), which would otherwise read as zero dynos.
func checkFormation(f *heroku.Formation, status int) error {
	if f.Type == "" || f.Quantity < 0 {
		return &APIError{Status: status, Message: "answer is not a formation", Err: ErrBadResponse}
	}
	return nil
}

// checkList rejects a list answer that would misreport the app: null (which
// decodes as no process types), an entry that is no formation, or a partial
// page (206: Heroku pages lists at 200 entries), where a process type left
// out would read as unknown.
func checkList(list heroku.FormationListResult, status int) error {
	switch {
	case list == nil:
		return &APIError{Status: status, Message: "answer is not a formation list", Err: ErrBadResponse}
	case status == http.StatusPartialContent:
		return &APIError{Status: status, Message: "answer is a partial formation list", Err: ErrBadResponse}
	}
	for i := range list {
		if err := checkFormation(&list[i], status); err != nil {
			return err
		}
	}
	return nil
}

// redact keeps the key out of err's text should anything on the way (a
// proxy's error page, a URL) have echoed it. errors.Is and errors.As still
// see the original chain.
func (c *Client) redact(err error) error {
	k := c.key.Reveal()
	if k == "" {
		return err
	}
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Message = strings.ReplaceAll(ae.Message, k, "[redacted]")
	}
	if msg := err.Error(); strings.Contains(msg, k) {
		return &redactedError{msg: strings.ReplaceAll(msg, k, "[redacted]"), err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
