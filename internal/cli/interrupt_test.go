package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// interruptingHeartbeat is pressed Ctrl-C on while it is being probed: it
// sends presses interrupts, then answers slowly (a fail) unless the client
// gives up first.
type interruptingHeartbeat struct {
	interrupts chan<- os.Signal
	presses    int
	delay      time.Duration
}

func (h *interruptingHeartbeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for range h.presses {
		h.interrupts <- os.Interrupt
	}
	select {
	case <-time.After(h.delay):
		w.Write([]byte("ok"))
	case <-r.Context().Done():
	}
}

func TestInterruptMidTick(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		presses  int
		delay    time.Duration
		wantCode int
		wantQty  int // Heroku's dynos afterwards: 2 if the tick in flight scaled
	}{
		{name: "run: one finishes the tick in flight", args: []string{"run"}, presses: 1, delay: 800 * time.Millisecond, wantCode: 0, wantQty: 2},
		{name: "once: one finishes the tick in flight", args: []string{"once"}, presses: 1, delay: 800 * time.Millisecond, wantCode: 0, wantQty: 2},
		{name: "run: two abandon it", args: []string{"run"}, presses: 2, delay: 20 * time.Second, wantCode: exitInterrupted, wantQty: 1},
		{name: "once: two abandon it", args: []string{"once"}, presses: 2, delay: 20 * time.Second, wantCode: exitInterrupted, wantQty: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			interrupts := make(chan os.Signal, tt.presses)
			site := httptest.NewServer(&interruptingHeartbeat{interrupts: interrupts, presses: tt.presses, delay: tt.delay})
			t.Cleanup(site.Close)
			w.env["AUTOSCALE_HEARTBEAT_URL"] = site.URL + "/heartbeat"
			w.env["AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER"] = "1"
			w.env["AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS"] = "1"

			var out, errOut strings.Builder
			began := time.Now()
			code := Main(context.Background(), tt.args, Env{
				Getenv: func(k string) string { return w.env[k] }, Stdout: &out, Stderr: &errOut, Interrupts: interrupts,
			})
			took := time.Since(began)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s\n%s", code, tt.wantCode, out.String(), errOut.String())
			}
			if q := w.heroku.Quantity("myapp", "web"); q != tt.wantQty {
				t.Errorf("Heroku has %d dynos, want %d:\n%s", q, tt.wantQty, out.String())
			}
			if n := strings.Count(out.String(), "  myapp/web  "); n != 1 {
				t.Errorf("%d tick lines, want 1: the tick in flight is reported and no other starts:\n%s", n, out.String())
			}
			if tt.presses == 2 {
				if !strings.Contains(errOut.String(), "abandoned") {
					t.Errorf("stderr does not say the tick was abandoned:\n%s", errOut.String())
				}
				if took > tt.delay/2 {
					t.Errorf("two interrupts took %s to end the command: the second must not wait for the tick", took)
				}
			}
		})
	}
}
