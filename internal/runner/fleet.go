package runner

import (
	"context"
	"sync"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Outcome is what one formation's tick did.
type Outcome struct {
	Summary tick.Summary
	Err     error
}

// TickAll ticks every formation at once, at most parallel at a time (all of
// them when parallel < 1), and returns their outcomes in the tickers' order.
// Each tick is its own: one that fails or waits out its probe timeout holds
// up no other beyond the slot it takes. report, when not nil, is called as
// each tick ends (one call at a time), with the ticker's index.
func TickAll(ctx context.Context, tickers []Ticker, parallel int, report func(i int, o Outcome)) []Outcome {
	if parallel < 1 || parallel > len(tickers) {
		parallel = len(tickers)
	}
	out := make([]Outcome, len(tickers))
	slots := make(chan struct{}, parallel)
	var (
		wg sync.WaitGroup
		mu sync.Mutex // report is called one at a time
	)
	for i, t := range tickers {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			sum, err := t.Tick(ctx, "")
			out[i] = Outcome{Summary: sum, Err: err}
			if report != nil {
				mu.Lock()
				defer mu.Unlock()
				report(i, out[i])
			}
		})
	}
	wg.Wait()
	return out
}
