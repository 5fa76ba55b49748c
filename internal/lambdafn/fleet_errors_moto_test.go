package lambdafn_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

// TestFleetErrorNamesEveryFailedFormation: when several formations of one
// invocation fail, wherever they stand in the file and whatever failed,
// the error counts them and names each with its own error; the result marks
// exactly those.
func TestFleetErrorNamesEveryFailedFormation(t *testing.T) {
	const key = "HRKU-fleet-many-failures"
	// Each entry is a formation line of the file; %[1]s is the heartbeat,
	// %[2]s a key parameter that does not exist.
	tests := []struct {
		name       string
		formations []string
		wantFailed []string // formation names, in the file's order
	}{
		{
			name: "two of three: an unknown app and a process type the app lacks",
			formations: []string{
				`{HEROKU_APP_NAME: shop, HEARTBEAT_URL: "%[1]s"}`,
				`{HEROKU_APP_NAME: ghost, HEARTBEAT_URL: "%[1]s"}`,
				`{HEROKU_APP_NAME: shop, HEROKU_PROCESS_TYPE: clock, HEARTBEAT_URL: "%[1]s"}`,
			},
			wantFailed: []string{"FORMATIONS[1] (ghost/web)", "FORMATIONS[2] (shop/clock)"},
		},
		{
			name: "three of four, the first and the last among them, one whose key cannot be read",
			formations: []string{
				`{HEROKU_APP_NAME: ghost, HEARTBEAT_URL: "%[1]s"}`,
				`{HEROKU_APP_NAME: shop, HEARTBEAT_URL: "%[1]s"}`,
				`{HEROKU_APP_NAME: blog, HEARTBEAT_URL: "%[1]s", HEROKU_API_KEY_PARAMETER: "%[2]s"}`,
				`{HEROKU_APP_NAME: phantom, HEROKU_PROCESS_TYPE: worker, HEARTBEAT_URL: "%[1]s"}`,
			},
			wantFailed: []string{"FORMATIONS[0] (ghost/web)", "FORMATIONS[2] (blog/web)", "FORMATIONS[3] (phantom/worker)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFleetRig(t, key, nil)
			r.heroku.SetFormation("shop", "web", 1, "")
			r.heroku.SetFormation("blog", "web", 1, "")
			missing := "/autoscalebot/" + awstest.UniqueName(t, "missing")
			var b strings.Builder
			b.WriteString("FORMATIONS:\n")
			for _, f := range tt.formations {
				fmt.Fprintf(&b, "  - "+f+"\n", r.beat.URL, missing)
			}
			h := r.handler(t, b.String())

			res, err := h.Handle(r.ctx, events.EventBridgeEvent{ID: "ev-failures", Time: time.Now()})

			var fe *lambdafn.FleetError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a FleetError", err, err)
			}
			var failed []string
			for _, f := range fe.Failed {
				failed = append(failed, f.Formation)
			}
			if !slices.Equal(failed, tt.wantFailed) || fe.Of != len(tt.formations) {
				t.Errorf("FleetError lists %q of %d, want %q of %d", failed, fe.Of, tt.wantFailed, len(tt.formations))
			}
			if got := len(fe.Unwrap()); got != len(tt.wantFailed) {
				t.Errorf("FleetError unwraps to %d errors, want one per failed formation (%d)", got, len(tt.wantFailed))
			}
			msg := err.Error()
			if want := fmt.Sprintf("%d of %d formations failed", len(tt.wantFailed), len(tt.formations)); !strings.HasPrefix(msg, want) {
				t.Errorf("error %q, want it to begin %q", msg, want)
			}
			for _, f := range fe.Failed {
				if f.Err == nil || !strings.Contains(msg, f.Formation+": "+f.Err.Error()) {
					t.Errorf("error %q does not name %s with its own error (%v)", msg, f.Formation, f.Err)
				}
			}
			if strings.Contains(msg, key) {
				t.Errorf("error %q carries the API key", msg)
			}
			var marked []string
			for _, f := range res.Formations {
				if f.Error != "" {
					marked = append(marked, f.Formation)
				}
			}
			if len(res.Formations) != len(tt.formations) || !slices.Equal(marked, tt.wantFailed) {
				t.Errorf("result lists %d formations with errors on %q, want %d with errors on %q",
					len(res.Formations), marked, len(tt.formations), tt.wantFailed)
			}
		})
	}
}
