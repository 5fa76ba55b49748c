package lambdafn_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// TestFleetTicksFormationsAtOnce: a formation's slow heartbeat holds up no
// other formation, wherever it stands in the file. The first formation's
// heartbeat answers only once the others' scales have reached Heroku (or
// gives up after a bound far beyond what their ticks take): ticked one
// after another, the others would not start until it answered.
func TestFleetTicksFormationsAtOnce(t *testing.T) {
	const key = "HRKU-fleet-at-once"
	const giveUp = 20 * time.Second // only ticks run one after another reach it
	r := newFleetRig(t, key, map[string]string{settings.EnvHeartbeatInterval: "60"})
	others := []string{"shop", "blog"}
	r.heroku.SetFormation("first", "web", 1, "")
	for _, app := range others {
		r.heroku.SetFormation(app, "web", 1, "")
	}
	var mu sync.Mutex
	scaled := map[string]bool{}
	othersScaled := make(chan struct{})
	r.heroku.OnScale(func(app, _ string, _ int) {
		mu.Lock()
		defer mu.Unlock()
		scaled[app] = true
		if slices.ContainsFunc(others, func(a string) bool { return !scaled[a] }) {
			return
		}
		select {
		case <-othersScaled:
		default:
			close(othersScaled)
		}
	})
	// heldUntil is the first formation's heartbeat: what released it.
	heldUntil := make(chan string, 1)
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var why string
		select {
		case <-othersScaled:
			why = "the others scaled"
		case <-time.After(giveUp):
			why = "gave up"
		case <-req.Context().Done():
			why = "the probe gave up"
		}
		select {
		case heldUntil <- why: // the first probe's answer is the one that counts
		default:
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer held.Close()
	slow := slowBeat(t)
	file := fmt.Sprintf(scaleOnASlowBeat+`FORMATIONS:
  - HEROKU_APP_NAME: first
    HEARTBEAT_URL: %s
    HEARTBEAT_TIMEOUT_IN_MS: 30000
  - HEROKU_APP_NAME: shop
    HEARTBEAT_URL: %s
  - HEROKU_APP_NAME: blog
    HEARTBEAT_URL: %s
`, held.URL, slow.URL, slow.URL)
	h := r.handler(t, file)

	res, err := h.Handle(r.ctx, events.EventBridgeEvent{ID: "ev-at-once", Time: time.Now()})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	select {
	case why := <-heldUntil:
		if why != "the others scaled" {
			t.Errorf("the first formation's heartbeat was answered when %s, want when the others scaled: formations ticked one after another", why)
		}
	default:
		t.Fatal("the first formation's heartbeat was never probed")
	}
	for _, f := range res.Formations {
		if f.Formation != "FORMATIONS[0] (first/web)" && (!f.Scaled || f.Target != 2) {
			t.Errorf("%s: %+v, want scaled 1 → 2", f.Formation, f.Summary)
		}
	}
}
