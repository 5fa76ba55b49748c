package herokuapi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// TestDryRunKeepsTheTickReserve runs a tick through a dry run over the
// client: below the token reserve it does not read the formation and uses
// the stored quantity, above it reads; either way it stores the fresh reading.
func TestDryRunKeepsTheTickReserve(t *testing.T) {
	tests := []struct {
		name     string
		bucket   int
		wantRead bool
	}{
		{name: "low bucket", bucket: 40},
		{name: "full bucket", bucket: 4000, wantRead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			s.SetRateLimitRemaining(tt.bucket)
			stored := 30 // the last tick saw 30 tokens
			store := &oneState{loaded: state.State{Version: 4, Quantity: 2, RateLimitRemaining: &stored}}
			ticker := &tick.Ticker{
				Settings: settings.Settings{
					AppName: app, ProcessType: "web", DryRun: true,
					MaxResponseTime: time.Second, MinResponseTime: 200 * time.Millisecond,
					FailsToScaleUp: 3, PassesToScaleDown: 5,
					MinDynos: settings.Fixed(1), MaxDynos: settings.Fixed(3), Location: time.UTC, Increment: 1,
				},
				Store:     store,
				Formation: herokuapi.NewDryRun(newClient(s), 0),
				Prober:    okProber{},
				Notifier:  notify.NewLog(slog.New(slog.DiscardHandler)),
				Log:       slog.New(slog.DiscardHandler),
				Now:       func() time.Time { return time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC) },
			}
			sum, err := ticker.Tick(t.Context(), "evt-1")
			if err != nil {
				t.Fatal(err)
			}
			read := false
			for _, r := range s.Requests() {
				read = read || (r.Method == "GET" && strings.Contains(r.Path, "/formation"))
			}
			if read != tt.wantRead || sum.QuantityFromState == tt.wantRead {
				t.Errorf("formation read %t, quantity from state %t; want read %t", read, sum.QuantityFromState, tt.wantRead)
			}
			if sum.Current != 2 {
				t.Errorf("current %d, want 2", sum.Current)
			}
			saved := store.saved.RateLimitRemaining
			if saved == nil || *saved != tt.bucket || sum.RateLimitRemaining == nil || *sum.RateLimitRemaining != tt.bucket {
				t.Errorf("stored rate limit %v, summary %v; want the fresh %d", saved, sum.RateLimitRemaining, tt.bucket)
			}
		})
	}
}

// oneState is a tick.Store holding one formation's state.
type oneState struct {
	loaded, saved state.State
}

func (o *oneState) Load(context.Context, state.Key) (state.State, error) { return o.loaded, nil }

func (o *oneState) Save(_ context.Context, _ state.Key, s state.State) (state.State, error) {
	s.Version = o.loaded.Version + 1
	o.saved = s
	return s, nil
}

func (o *oneState) Append(context.Context, state.Key, ...state.Record) error { return nil }

// okProber answers every probe with a heartbeat inside the thresholds.
type okProber struct{}

func (okProber) Probe(context.Context) probe.Result {
	return probe.Result{Verdict: probe.OK, Latency: 500 * time.Millisecond, Status: 200}
}
