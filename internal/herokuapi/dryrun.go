package herokuapi

import (
	"context"
	"slices"
	"sync"
)

// DryRun stands in for Client when nothing may change: it reads the
// quantity from a base Reader (or keeps one in memory when base is nil)
// and records each Scale instead of sending it.
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
