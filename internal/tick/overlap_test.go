package tick

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// inFlight counts the calls under way and the most at once.
type inFlight struct {
	mu        sync.Mutex
	now, peak int
}

// call runs for d as one call in flight.
func (f *inFlight) call(d time.Duration) {
	f.mu.Lock()
	f.now++
	f.peak = max(f.peak, f.now)
	f.mu.Unlock()
	time.Sleep(d)
	f.mu.Lock()
	f.now--
	f.mu.Unlock()
}

func (f *inFlight) max() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

type slowProber struct {
	*fakeProber
	flight *inFlight
	d      time.Duration
}

func (p slowProber) Probe(ctx context.Context) probe.Result {
	p.flight.call(p.d)
	return p.fakeProber.Probe(ctx)
}

type slowFormation struct {
	*fakeFormation
	flight *inFlight
	d      time.Duration
}

func (f slowFormation) Quantity(ctx context.Context, app, processType string) (int, error) {
	f.flight.call(f.d)
	return f.fakeFormation.Quantity(ctx, app, processType)
}

type slowStore struct {
	*fakeStore
	flight   *inFlight
	d        time.Duration
	appended chan struct{}
}

func (s slowStore) Append(ctx context.Context, key state.Key, recs ...state.Record) error {
	s.flight.call(s.d)
	defer close(s.appended)
	return s.fakeStore.Append(ctx, key, recs...)
}

type slowNotifier struct {
	*fakeNotifier
	flight *inFlight
	d      time.Duration
}

func (n slowNotifier) Notify(ctx context.Context, no notify.Notice) error {
	n.flight.call(n.d)
	return n.fakeNotifier.Notify(ctx, no)
}

// TestTickOverlapsItsWaits: a 300 ms heartbeat and a 300 ms formation read
// are in flight together, so the tick takes about 300 ms, not 600; the
// history write and the notice that nothing waits for are too, and the tick
// still returns only when both are done.
func TestTickOverlapsItsWaits(t *testing.T) {
	const wait = 300 * time.Millisecond
	h := slowAtStreak2(t)
	reads, reports := &inFlight{}, &inFlight{}
	appended := make(chan struct{})
	h.ticker.Prober = slowProber{h.prober, reads, wait}
	h.ticker.Formation = slowFormation{h.formation, reads, wait}
	h.ticker.Store = slowStore{h.store, reports, 100 * time.Millisecond, appended}
	h.ticker.Notifier = slowNotifier{h.notifier, reports, 100 * time.Millisecond}
	h.ticker.Settings.NotifyOnEveryScale = true

	start := time.Now()
	sum, err := h.ticker.Tick(context.Background(), "evt-1")
	elapsed := time.Since(start)
	if err != nil || !sum.Scaled {
		t.Fatalf("tick: %+v, %v; want a scale", sum, err)
	}
	if got := reads.max(); got != 2 {
		t.Errorf("probe and formation read: at most %d in flight at once, want 2", got)
	}
	if got := reports.max(); got != 2 {
		t.Errorf("history write and notice: at most %d in flight at once, want 2", got)
	}
	select {
	case <-appended:
	default:
		t.Error("the tick returned before the history was written")
	}
	if len(h.notifier.sent) != 1 || len(h.store.record) != 2 {
		t.Errorf("notices %d, history records %d; want 1 and 2", len(h.notifier.sent), len(h.store.record))
	}
	// Not a benchmark: the sum of the waits would be 800 ms.
	if elapsed >= 2*wait {
		t.Errorf("tick took %s, want well under %s (the waits one after another)", elapsed, 2*wait)
	}
	t.Logf("tick took %s", elapsed)
}
