package herokuapi

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// API is what an Account calls on the Platform API: a Client.
type API interface {
	Formations(ctx context.Context, app string) (map[string]int, error)
	Scale(ctx context.Context, app, processType string, quantity int) error
	RateLimitRemaining() (remaining int, known bool)
	RefreshRateLimit(ctx context.Context) (int, error)
}

var _ API = (*Client)(nil)

// Account is one Heroku account: every formation whose API key comes from
// one place (an SSM parameter, or the environment), and what their ticks
// read and scale through: each call waits for the invocation's key read
// (Start) and fails with its error. It reads an app's formation list once per
// invocation, shared by every process type of the app (one rate-limit
// token instead of one each). When Heroku refuses the key (401/403) and the
// key read again differs, the refused call is made once more with the new
// one: a refused call did nothing at Heroku, so repeating even a PATCH is
// safe. It is safe for concurrent use.
type Account struct {
	key       *secret.Source
	newClient func(secret.Value) API

	mu        sync.Mutex
	client    API
	clientKey secret.Value // the key client was built with
	round     *appRound
}

// appRound is what one invocation has read of each app.
type appRound struct {
	apps map[string]*appRead
	// scaled holds what a successful Scale set in this round; it wins over
	// a list that may have been read before (or during) the scale.
	scaled map[formationKey]int
}

type formationKey struct{ app, processType string }

// appRead is one list read, shared by every caller in its round. quantities
// and err are set once, before done closes.
type appRead struct {
	done       chan struct{}
	quantities map[string]int
	err        error
}

// NewAccount returns the account whose key comes from key, calling the
// API through a client newClient builds for each key read.
func NewAccount(key *secret.Source, newClient func(secret.Value) API) *Account {
	return &Account{key: key, newClient: newClient, round: newAppRound()}
}

func newAppRound() *appRound {
	return &appRound{apps: map[string]*appRead{}, scaled: map[formationKey]int{}}
}

// Start begins an invocation and does not wait for it: the key's round
// (see secret.Source.Start), and every app's list read afresh, since anyone
// may scale an app between invocations. The channel closes when the key's
// round is done.
func (a *Account) Start(ctx context.Context) <-chan struct{} {
	a.mu.Lock()
	a.round = newAppRound()
	a.mu.Unlock()
	return a.key.Start(ctx)
}

// Quantity returns how many dynos of processType app is set to run, from
// the app's list read once this invocation. Callers arriving while it is
// read wait for it; a failed read fails every caller of that app in the
// invocation, so a broken app costs one token, not one per formation. A
// process type the list lacks is ErrNotFound, as Heroku's own GET of it
// would be.
func (a *Account) Quantity(ctx context.Context, app, processType string) (int, error) {
	if _, err := a.key.Value(ctx); err != nil {
		return 0, err
	}
	a.mu.Lock()
	rd := a.round
	read, reading := rd.apps[app]
	if !reading {
		read = &appRead{done: make(chan struct{})}
		rd.apps[app] = read
	}
	a.mu.Unlock()

	if !reading {
		// The read runs outside the lock, so other apps' callers go on,
		// and under the first caller's ctx: the callers of one invocation
		// share its deadline.
		func() {
			defer close(read.done)
			read.err = a.call(ctx, func(c API) (err error) {
				read.quantities, err = c.Formations(ctx, app)
				return err
			})
		}()
	} else {
		select {
		case <-read.done:
		case <-ctx.Done():
			return 0, fmt.Errorf("get formation %s/%s: wait for the app's formation list: %w", app, processType, ctx.Err())
		}
	}
	return a.quantityIn(rd, read, app, processType)
}

// quantityIn answers Quantity from the round's read of the app.
func (a *Account) quantityIn(rd *appRound, read *appRead, app, processType string) (int, error) {
	if read.err != nil {
		return 0, fmt.Errorf("get formation %s/%s: %w", app, processType, read.err)
	}
	a.mu.Lock()
	n, scaled := rd.scaled[formationKey{app, processType}]
	a.mu.Unlock()
	if scaled {
		return n, nil
	}
	n, ok := read.quantities[processType]
	if !ok {
		return 0, fmt.Errorf("get formation %s/%s: %w: the app's formation list has no process type %q",
			app, processType, ErrNotFound, processType)
	}
	return n, nil
}

// Scale sets the quantity. After a success this invocation answers the new
// quantity; after a failure, which may or may not have changed it (a
// timeout, an unreadable answer), the app is read again.
func (a *Account) Scale(ctx context.Context, app, processType string, quantity int) error {
	if _, err := a.key.Value(ctx); err != nil {
		return err
	}
	err := a.call(ctx, func(c API) error { return c.Scale(ctx, app, processType, quantity) })
	a.mu.Lock()
	defer a.mu.Unlock()
	k := formationKey{app, processType}
	if err != nil {
		delete(a.round.scaled, k)
		delete(a.round.apps, app)
		return err
	}
	a.round.scaled[k] = quantity
	return nil
}

// RateLimitRemaining does not wait for the key: before its first read
// nothing is known, nor right after a new key, which may belong to another
// account with its own bucket.
func (a *Account) RateLimitRemaining() (remaining int, known bool) {
	key := a.key.Current()
	if key.IsZero() {
		return 0, false
	}
	return a.clientFor(key).RateLimitRemaining()
}

// RefreshRateLimit asks Heroku how many tokens are left.
func (a *Account) RefreshRateLimit(ctx context.Context) (int, error) {
	if _, err := a.key.Value(ctx); err != nil {
		return 0, err
	}
	var n int
	err := a.call(ctx, func(c API) (err error) {
		n, err = c.RefreshRateLimit(ctx)
		return err
	})
	return n, err
}

// call runs op with the client of the key in use and, when Heroku refuses
// the key for the first time this invocation and the key read again
// differs, once more with the new one. Otherwise the refusal is returned as
// it was.
func (a *Account) call(ctx context.Context, op func(API) error) error {
	err := op(a.clientFor(a.key.Current()))
	if !errors.Is(err, ErrUnauthorized) || !a.key.Refused(ctx) {
		return err
	}
	return op(a.clientFor(a.key.Current()))
}

// clientFor is the client for key: the one in use, or a new one once the
// key changed.
func (a *Account) clientFor(key secret.Value) API {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client == nil || key.Reveal() != a.clientKey.Reveal() {
		a.client, a.clientKey = a.newClient(key), key
	}
	return a.client
}
