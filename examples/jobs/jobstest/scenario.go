package jobstest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Token is the heartbeat token the recipes' tests give the app (as
// AUTOSCALEBOT_HEARTBEAT_TOKEN) and send.
const Token = "jobstest-3f9c1e"

// Target is a recipe's heartbeat with its job library and workers behind
// it: workers serve the queues "busy" and "done", none serves "waiting".
type Target interface {
	Enqueue(t testing.TB, queue, job string, n int)
	Probe(t testing.TB, auth string) (int, map[string]string)
}

// CheckReport puts jobs in the real queues and checks the recipe's report
// of them: 3 jobs waiting in "waiting" (its latency their age, which the
// test brackets by its own clock), 1 running in "busy", "done" worked
// empty; names sorted. Then the token rule: without the right token, no
// load header at all.
func CheckReport(t *testing.T, tg Target) {
	t.Helper()
	tg.Enqueue(t, "done", "noop", 2)
	tg.Enqueue(t, "busy", "block", 1)
	before := time.Now()
	tg.Enqueue(t, "waiting", "noop", 3)
	after := time.Now()

	// The workers take a moment to start and pick their jobs (Sidekiq's
	// busy count is as of its last heartbeat, every 5 s).
	deadline := time.Now().Add(60 * time.Second)
	for {
		probeStart := time.Now()
		status, h := tg.Probe(t, "Bearer "+Token)
		probeEnd := time.Now()
		lat, depth, busy := parseList(t, h, "x-job-latency-ms"), parseList(t, h, "x-job-depth"), parseList(t, h, "x-job-busy")
		if status == 200 && busy["busy"] == 1 && depth["busy"] == 0 && depth["done"] == 0 && busy["done"] == 0 {
			lo := probeStart.Sub(after).Milliseconds()
			hi := probeEnd.Sub(before).Milliseconds() + 2 // whole ms, rounded up, and a clock read a little apart
			if got := lat["waiting"]; got < int(lo) || got > int(hi) {
				t.Errorf("waiting: latency %d ms; want the age of its oldest job, %d to %d ms", got, lo, hi)
			}
			want := map[string][3]int{"busy": {0, 0, 1}, "done": {0, 0, 0}, "waiting": {lat["waiting"], 3, 0}}
			for name, w := range want {
				if got := [3]int{lat[name], depth[name], busy[name]}; got != w {
					t.Errorf("%s: latency, depth, busy %v; want %v (headers %v)", name, got, w, h)
				}
			}
			for _, k := range []string{"x-job-latency-ms", "x-job-depth", "x-job-busy"} {
				if names := listNames(h[k]); !slices.IsSorted(names) || !slices.Contains(names, "waiting") {
					t.Errorf("%s: %q; want the queues sorted by name", k, h[k])
				}
			}
			t.Logf("the report: %s: %s; %s: %s; %s: %s", "X-Job-Latency-Ms", h["x-job-latency-ms"], "X-Job-Depth", h["x-job-depth"], "X-Job-Busy", h["x-job-busy"])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: status %d, headers %v; want a busy job in \"busy\" and \"done\" worked off", status, h)
		}
		time.Sleep(250 * time.Millisecond)
	}

	for _, auth := range []string{"", "Bearer wrong-" + Token, "Basic " + Token, "Bearer " + Token[:8]} {
		status, h := tg.Probe(t, auth)
		if status != 200 {
			t.Errorf("Authorization %q: status %d; want 200, the health answer", auth, status)
		}
		for k, v := range h {
			if strings.HasPrefix(k, "x-job-") || strings.HasPrefix(k, "x-queue-time") || k == "x-utilization-pct" {
				t.Errorf("Authorization %q: %s: %q; want no load header without the token", auth, k, v)
			}
		}
	}
}

// parseList reads "name=n, name=n".
func parseList(t testing.TB, h map[string]string, k string) map[string]int {
	t.Helper()
	v, ok := h[k]
	if !ok {
		return nil
	}
	out := map[string]int{}
	for _, part := range strings.Split(v, ", ") {
		if part == "" {
			continue
		}
		name, num, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			t.Fatalf("%s: %q: %q is not name=number", k, v, part)
		}
		out[name] = n
	}
	return out
}

func listNames(v string) []string {
	var names []string
	for _, part := range strings.Split(v, ", ") {
		name, _, _ := strings.Cut(part, "=")
		names = append(names, name)
	}
	return names
}
