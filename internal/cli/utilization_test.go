package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	hb "github.com/autoscalebot/autoscalebot/heartbeat"
)

// TestOnceOnUtilizationEndToEnd: ticks with AUTOSCALE_SIGNAL=utilization
// through the real probe, the fake Platform API and the state file, against
// a heartbeat answering with the kit's headers. Two beats over the target
// scale up, two under half of it scale down; a beat without the header is a
// probe error that changes nothing; status and history show the figures.
func TestOnceOnUtilizationEndToEnd(t *testing.T) {
	var pct atomic.Value // the header's value; "" sends none
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := pct.Load().(string); v != "" {
			w.Header().Set(hb.UtilizationHeader, v)
		}
		w.Header().Set(hb.QueueP95Header, "40")
		w.Header().Set(hb.QueueCountHeader, "12")
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	w := newWorld(t)
	w.env["AUTOSCALE_HEARTBEAT_URL"] = srv.URL
	w.env["AUTOSCALE_SIGNAL"] = "utilization"
	w.env["AUTOSCALE_TARGET_UTILIZATION_PCT"] = "60"
	steps := []struct {
		header  string
		wantQty int
		want    string // in the printed tick
	}{
		{"90", 1, "heartbeat fail     40 ms  (queue_p95)  utilization 90%  dynos 1 → 1"},
		{"90", 2, "utilization 90%  dynos 1 → 2"},
		{"", 2, "no X-Utilization-Pct header: the heartbeat kit's Middleware must wrap the app"},
		{"29", 2, "heartbeat pass     40 ms  (queue_p95)  utilization 29%  dynos 2 → 2"},
		{"29", 1, "utilization 29%  dynos 2 → 1"},
	}
	for i, st := range steps {
		pct.Store(st.header)
		code, out, errOut := w.cmd(t, "once")
		if code != 0 || !strings.Contains(out, st.want) {
			t.Fatalf("step %d: exit %d, output %q %q; want %q", i, code, out, errOut, st.want)
		}
		if got := w.heroku.Quantity("myapp", "web"); got != st.wantQty {
			t.Fatalf("step %d: formation %d, want %d\n%s", i, got, st.wantQty, out)
		}
	}
	state := w.env["AUTOSCALE_STATE_FILE"]
	_, out, _ := w.cmd(t, "status", "-state", state, "-json")
	for _, want := range []string{`"signal": "utilization"`, `"targetUtilizationPct": 60`, `"utilizationPct": 29`, `"latencySource": "queue_p95"`} {
		if !strings.Contains(out, want) {
			t.Errorf("status -json lacks %s:\n%s", want, out)
		}
	}
	_, out, _ = w.cmd(t, "history", "-state", state, "-since", "1h")
	if strings.Count(out, "utilization 90%, queue p95 40 ms") < 2 || strings.Count(out, "utilization 29%, queue p95 40 ms") < 2 {
		t.Errorf("history does not show each beat's utilization and queue time:\n%s", out)
	}
	// The chart draws the queue time, without thresholds that decide nothing.
	chartPath := filepath.Join(t.TempDir(), "history.svg")
	if code, _, errOut := w.cmd(t, "history", "-state", state, "-since", "1h", "-chart", chartPath); code != 0 {
		t.Fatalf("history -chart: exit %d: %s", code, errOut)
	}
	svg, err := os.ReadFile(chartPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "queue time (heartbeat)") || strings.Contains(string(svg), "fails") {
		t.Errorf("the chart should draw the queue time without its thresholds:\n%.600s", svg)
	}
}
