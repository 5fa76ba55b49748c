package tick

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/logkey/logkeytest"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// TestTickLogKeys: every line a tick logs, on each path that logs, uses
// only camelCase keys from package logkey.
func TestTickLogKeys(t *testing.T) {
	tests := []struct {
		name    string
		arrange func(h *harness)
	}{
		{name: "scale", arrange: func(*harness) {}},
		{name: "duplicate event", arrange: func(h *harness) {
			h.store.load = func() (state.State, error) { return state.State{Version: 4, EventIDs: []string{"evt-1"}}, nil }
		}},
		{name: "lost the race", arrange: func(h *harness) {
			h.store.save = func(state.State) (state.State, error) { return state.State{}, state.ErrConflict }
		}},
		{name: "notifier down", arrange: func(h *harness) { h.notifier.err = errors.New("sns: unavailable") }},
		{name: "heroku refused", arrange: func(h *harness) { h.formation.readErr = fmt.Errorf("get formation: %w", ErrRefused) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := slowAtStreak2(t)
			tt.arrange(h)
			_, _ = h.ticker.Tick(context.Background(), "evt-1")
			if logkeytest.Check(t, h.logs.Bytes()) == 0 {
				t.Error("the tick logged nothing")
			}
		})
	}
}
