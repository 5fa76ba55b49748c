package recipes

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
)

var loadHeaders = []string{"x-queue-time-ms", "x-queue-time-p95-ms", "x-queue-time-count", "x-queue-time-window-s",
	"x-utilization-pct", "x-job-latency-ms", "x-job-depth", "x-job-busy"}

// Every recipe, as the Go package, sends the load headers and runs the jobs
// report only for a probe with the right token; every other probe gets the
// app's answer and no-store, and no token configured withholds them from all.
func TestRecipesToken(t *testing.T) {
	jobs := &jobsSpec{Queues: []jobQueue{{Name: "default", LatencyMS: 1500, Depth: 3, Busy: 1}}}
	stamp := func(s *script, at float64) string {
		return fmt.Sprint(s.time(at).Add(-20 * time.Millisecond).UnixMilli())
	}
	tests := []struct {
		name     string
		token    string
		auth     string
		wantLoad bool
	}{
		{"the right token", recipeToken, "Bearer " + recipeToken, true},
		{"the scheme in any case", recipeToken, "bearer " + recipeToken, true},
		{"no Authorization", recipeToken, "", false},
		{"a wrong token", recipeToken, "Bearer s3cret-7d2b", false},
		{"a prefix of the token", recipeToken, "Bearer " + recipeToken[:6], false},
		{"another scheme", recipeToken, "Basic " + recipeToken, false},
		{"no token configured", "", "Bearer ", false},
		{"no token configured, a probe sending one", "", "Bearer " + recipeToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript(0)
			s.events[0].Token, s.events[0].Jobs = tt.token, jobs
			page := s.request(0.1, 0.2, "/page", stamp(s, 0.1))
			probe := s.probeAs(0.5, 0, stamp(s, 0.5), tt.auth)
			s.runAnswers(t, func(t *testing.T, got map[int]answer) {
				a := got[probe]
				for _, h := range loadHeaders {
					if _, ok := a.Headers[h]; ok != tt.wantLoad {
						t.Errorf("%s: %q; want it only with the right token (%v)", h, a.Headers[h], tt.wantLoad)
					}
				}
				if wantCalls := map[bool]int{true: 1}[tt.wantLoad]; a.Calls != wantCalls || a.Status != 200 {
					t.Errorf("status %d, %d job reports run; want 200 and %d (never without the token)", a.Status, a.Calls, wantCalls)
				}
				if a.Headers["cache-control"] != "no-store" {
					t.Errorf("cache-control %q; want no-store", a.Headers["cache-control"])
				}
				if len(got[page].Headers) != 0 {
					t.Errorf("the page got %v", got[page].Headers)
				}
			})
		})
	}
}

// Every recipe renders a job report as the Go package does: the same three
// headers to the byte (names sorted, latency in whole ms rounded up, names
// outside the rule left out, at most 50 queues with the oldest jobs kept,
// a name listed twice merged), and a report that fails or overruns answers
// 503 without job headers, a hung one not started again.
func TestRecipesJobs(t *testing.T) {
	var sixty []jobQueue
	for i := range 60 {
		sixty = append(sixty, jobQueue{Name: fmt.Sprintf("q%02d", i), LatencyMS: float64(i * 1000), Depth: i})
	}
	tests := []struct {
		name   string
		jobs   jobsSpec
		probes int
		want   string // "go": the Go package's headers; else "503"
	}{
		{"sorted by name, bytewise", jobsSpec{Queues: []jobQueue{{"mailers", 2000, 3, 1}, {"Critical", 0, 0, 0}, {"default", 1500, 10, 5}}}, 1, "go"},
		{"whole ms rounded up", jobsSpec{Queues: []jobQueue{{"a", 0.3, 1, 0}, {"b", 0, 0, 2}, {"c", 59999.001, 1, 0}, {"d", 300, 1, 0}}}, 1, "go"},
		{"no queues", jobsSpec{}, 1, "go"},
		{"negative figures count as 0", jobsSpec{Queues: []jobQueue{{"a", -1000, -4, -1}}}, 1, "go"},
		{"names outside the rule are left out", jobsSpec{Queues: []jobQueue{{"ok_1.two:three-4", 1000, 1, 0}, {"a b", 9e6, 1, 0},
			{"x,y", 9e6, 1, 0}, {"k=v", 9e6, 1, 0}, {"café", 9e6, 1, 0}, {"", 9e6, 1, 0}, {strings.Repeat("x", 65), 9e6, 1, 0}, {strings.Repeat("x", 64), 0, 0, 0}}}, 1, "go"},
		{"at most 50, the oldest kept", jobsSpec{Queues: sixty}, 1, "go"},
		{"a name listed twice is merged", jobsSpec{Queues: []jobQueue{{"default", 3000, 4, 1}, {"default", 1000, 6, 2}}}, 1, "go"},
		{"a failing report", jobsSpec{Error: true}, 1, "503"},
		{"a report past its timeout, then still hung", jobsSpec{HangMS: 3000, TimeoutMS: 200}, 2, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := goJobHeaders(t, tt.jobs)
			s := newScript(0)
			s.events[0].Jobs = &tt.jobs
			var probes []int
			for i := range tt.probes {
				probes = append(probes, s.probe(0.1*float64(i+1), 0, ""))
			}
			s.runAnswers(t, func(t *testing.T, got map[int]answer) {
				for i, id := range probes {
					a := got[id]
					if tt.want == "503" {
						if a.Status != 503 || a.Headers["x-job-latency-ms"] != "" || a.Calls != 1 {
							t.Errorf("probe %d: status %d, headers %v, %d reports run; want 503, no job headers, one run", i, a.Status, a.Headers, a.Calls)
						}
						continue
					}
					for h, v := range want {
						if got, ok := a.Headers[h]; !ok || got != v {
							t.Errorf("%s: %q\nwant %q (the Go package's)", h, got, v)
						}
					}
				}
			})
		})
	}
}

// goJobHeaders is what the Go package answers for the report.
func goJobHeaders(t *testing.T, spec jobsSpec) map[string]string {
	t.Helper()
	var qs []heartbeat.Queue
	for _, q := range spec.Queues {
		qs = append(qs, heartbeat.Queue{Name: q.Name, Latency: time.Duration(q.LatencyMS * float64(time.Millisecond)), Depth: q.Depth, Busy: q.Busy})
	}
	hb := heartbeat.Handler(heartbeat.Jobs("jobs", 0, func(context.Context) ([]heartbeat.Queue, error) { return qs, nil }))
	hb.Token = recipeToken
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+recipeToken)
	rec := httptest.NewRecorder()
	hb.ServeHTTP(rec, r)
	out := map[string]string{}
	for _, h := range []string{heartbeat.JobLatencyHeader, heartbeat.JobDepthHeader, heartbeat.JobBusyHeader} {
		out[strings.ToLower(h)] = rec.Header().Get(h)
	}
	return out
}
