package herokuapi

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// ErrNoRateLimit is RefreshRateLimit's answer from a dry run without the
// real API: there is no bucket to ask.
var ErrNoRateLimit = errors.New("no heroku rate limit: dry run without the API")

// DryRun stands in for Client when nothing may change: it reads the
// quantity and the rate limit from a base Reader (or keeps a quantity in
// memory when base is nil) and records each Scale instead of sending it.
type DryRun struct {
	base Reader

	mu       sync.Mutex
	quantity int
	requests []int
}

// NewDryRun returns a dry-run scaler. With a nil base the simulated
// quantity starts at initial and follows the recorded requests, so a local
// run sees the effect of its decisions; with a base it is always read from
// there.
func NewDryRun(base Reader, initial int) *DryRun {
	return &DryRun{base: base, quantity: initial}
}

// Quantity reads from the base, or returns the simulated quantity.
func (d *DryRun) Quantity(ctx context.Context, app, processType string) (int, error) {
	if d.base != nil {
		return d.base.Quantity(ctx, app, processType)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.quantity, nil
}

// RateLimitRemaining passes on the base's reading: a dry run spends the
// account's tokens on reads like a live one, so it keeps the same reserve.
// Without a base it is never known.
func (d *DryRun) RateLimitRemaining() (remaining int, known bool) {
	if d.base == nil {
		return 0, false
	}
	return d.base.RateLimitRemaining()
}

// RefreshRateLimit asks the base; without one there is nothing to ask.
func (d *DryRun) RefreshRateLimit(ctx context.Context) (int, error) {
	if d.base == nil {
		return 0, ErrNoRateLimit
	}
	return d.base.RefreshRateLimit(ctx)
}

// Scale records quantity and changes nothing upstream.
func (d *DryRun) Scale(_ context.Context, _, _ string, quantity int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests = append(d.requests, quantity)
	if d.base == nil {
		d.quantity = quantity
	}
	return nil
}

// Requests returns the quantities Scale was asked for, oldest first.
func (d *DryRun) Requests() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.requests)
}
