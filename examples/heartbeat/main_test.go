package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

func TestExampleApp(t *testing.T) {
	tests := []struct {
		name       string
		broken     bool
		wantStatus int
		wantFailed []string
	}{
		{"healthy", false, 200, nil},
		{"a check fails", true, 503, []string{"config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.broken {
				t.Setenv("EXAMPLE_BROKEN", "1")
			}
			srv := httptest.NewServer(newApp())
			defer srv.Close()
			for range 5 { // some traffic for the window
				resp, err := http.Get(srv.URL + "/")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			req, _ := http.NewRequest("GET", srv.URL+"/autoscalebot/heartbeat/", nil)
			req.Header.Set(heartbeat.RequestStartHeader, strconv.FormatInt(time.Now().Add(-150*time.Millisecond).UnixMilli(), 10))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body heartbeat.Body
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || len(body.Checks) != 3 || len(body.Failed) != len(tt.wantFailed) ||
				(len(tt.wantFailed) > 0 && body.Failed[0] != tt.wantFailed[0]) {
				t.Fatalf("status %d, body %+v; want %d failing %v", resp.StatusCode, body, tt.wantStatus, tt.wantFailed)
			}
			// Only the probe carried a stamp: it is the window's one request.
			own, _ := strconv.Atoi(resp.Header.Get(heartbeat.QueueTimeHeader))
			if own < 150 || own > 1000 || resp.Header.Get(heartbeat.QueueCountHeader) != "1" || resp.Header.Get(heartbeat.QueueP95Header) == "" {
				t.Fatalf("queue headers %v; want the probe's own 150 ms and a window of 1", resp.Header)
			}
			// How busy five pages kept it depends on the machine; the figure is there.
			if pct, err := strconv.Atoi(resp.Header.Get(heartbeat.UtilizationHeader)); err != nil || pct < 0 || pct > 100 {
				t.Fatalf("%s %q; want a percentage", heartbeat.UtilizationHeader, resp.Header.Get(heartbeat.UtilizationHeader))
			}
		})
	}
}
