package herokuapi

import (
	"context"
	"fmt"
	"sync"
)

// FormationsAPI is what AppReads calls: the formation list of an app, the
// scale, and the account's rate limit (a Client, or a wrapper of one).
type FormationsAPI interface {
	Formations(ctx context.Context, app string) (map[string]int, error)
	Scale(ctx context.Context, app, processType string, quantity int) error
	RateLimitRemaining() (remaining int, known bool)
	RefreshRateLimit(ctx context.Context) (int, error)
}

var _ Reader = (*AppReads)(nil)

// AppReads answers Quantity from one formation list per app per round, so
// the formations of one app ticked in one invocation share a single
// rate-limit token. A round is one invocation (StartRound); answers never
// outlive it, since anyone may scale the app between invocations. It is
// safe for concurrent use.
type AppReads struct {
	api FormationsAPI

	mu    sync.Mutex
	round *round
}

// round is what one invocation has read of each app.
type round struct {
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

// NewAppReads returns an AppReads over api, ready for its first round.
func NewAppReads(api FormationsAPI) *AppReads {
	return &AppReads{api: api, round: newRound()}
}

func newRound() *round {
	return &round{apps: map[string]*appRead{}, scaled: map[formationKey]int{}}
}

// StartRound forgets every answer read so far: the next Quantity of each
// app reads its list again. Call it once at the start of each invocation.
func (r *AppReads) StartRound() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.round = newRound()
}

// Quantity returns how many dynos of processType app is set to run, from
// the app's list read once this round. Callers arriving while it is read
// wait for it; a failed read fails every caller of that app in the round,
// so a broken app costs one token, not one per formation. A process type
// the list lacks is ErrNotFound, as Heroku's own GET of it would be.
func (r *AppReads) Quantity(ctx context.Context, app, processType string) (int, error) {
	r.mu.Lock()
	rd := r.round
	read, reading := rd.apps[app]
	if !reading {
		read = &appRead{done: make(chan struct{})}
		rd.apps[app] = read
	}
	r.mu.Unlock()

	if !reading {
		// The read runs outside the lock, so other apps' callers go on,
		// and under the first caller's ctx: the callers of one round share
		// the invocation's deadline.
		func() {
			defer close(read.done)
			read.quantities, read.err = r.api.Formations(ctx, app)
		}()
	} else {
		select {
		case <-read.done:
		case <-ctx.Done():
			return 0, fmt.Errorf("get formation %s/%s: wait for the app's formation list: %w", app, processType, ctx.Err())
		}
	}

	if read.err != nil {
		return 0, fmt.Errorf("get formation %s/%s: %w", app, processType, read.err)
	}
	r.mu.Lock()
	n, scaled := rd.scaled[formationKey{app, processType}]
	r.mu.Unlock()
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

// Scale sets the quantity through the API. After a success this round
// answers the new quantity; after a failure, which may or may not have
// changed it (a timeout, an unreadable answer), the app is read again.
func (r *AppReads) Scale(ctx context.Context, app, processType string, quantity int) error {
	err := r.api.Scale(ctx, app, processType, quantity)
	r.mu.Lock()
	defer r.mu.Unlock()
	k := formationKey{app, processType}
	if err != nil {
		delete(r.round.scaled, k)
		delete(r.round.apps, app)
		return err
	}
	r.round.scaled[k] = quantity
	return nil
}

// RateLimitRemaining passes on the API's latest reading.
func (r *AppReads) RateLimitRemaining() (remaining int, known bool) {
	return r.api.RateLimitRemaining()
}

// RefreshRateLimit asks the API how many tokens are left.
func (r *AppReads) RefreshRateLimit(ctx context.Context) (int, error) {
	return r.api.RefreshRateLimit(ctx)
}
