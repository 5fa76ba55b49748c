// Package recipes holds docs/heartbeat.md's heartbeat-kit middleware for Rails
// (Rack), Django (WSGI) and Express, run here so the snippets do not rot.
package recipes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var recipes = []struct {
	name, runtime, script string
}{
	{"express", "node", "testdata/run.js"},
	{"wsgi (django)", "python3", "testdata/run.py"},
	{"rack (rails)", "ruby", "testdata/run.rb"},
}

// event is one line of a harness's input (testdata/run.*): "init" first,
// then "start" a request and "end" the one started last of those in flight.
// At, in ms since the epoch, is the recipe's clock.
type event struct {
	Op          string    `json:"op"`
	At          int64     `json:"at"`
	ID          int       `json:"id"`
	Path        string    `json:"path"`
	Start       string    `json:"start"` // X-Request-Start; "" for none
	Auth        string    `json:"auth,omitempty"`
	Concurrency int       `json:"concurrency"`
	Token       string    `json:"token,omitempty"` // the kit's token, in "init"
	Jobs        *jobsSpec `json:"jobs,omitempty"`  // the kit's jobs report, in "init"
}

// jobsSpec is what the harness's jobs report does: return Queues, raise, or
// hang for HangMS; the kit bounds it by TimeoutMS when set.
type jobsSpec struct {
	Queues    []jobQueue `json:"queues"`
	Error     bool       `json:"error,omitempty"`
	HangMS    int        `json:"hang_ms,omitempty"`
	TimeoutMS int        `json:"timeout_ms,omitempty"`
}

type jobQueue struct {
	Name      string  `json:"name"`
	LatencyMS float64 `json:"latency_ms"`
	Depth     int     `json:"depth"`
	Busy      int     `json:"busy"`
}

// answer is a harness's account of one request.
type answer struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Calls   int               `json:"calls"` // job reports run so far
}

// recipeToken is the kits' token in these tests; probe sends it.
const recipeToken = "s3cret-7d2a"

const heartbeatPath = "/autoscalebot/heartbeat/"

// script builds a harness's input on a clock of seconds after t0, a whole second.
type script struct {
	t0     time.Time
	events []event
}

func newScript(concurrency int) *script {
	s := &script{t0: time.Unix(1796047200, 0)}
	s.events = append(s.events, event{Op: "init", At: s.t0.UnixMilli(), Concurrency: concurrency, Token: recipeToken})
	return s
}

func (s *script) time(at float64) time.Time {
	return s.t0.Add(time.Duration(at * float64(time.Second)))
}

// start begins a request at the given second and returns its id.
func (s *script) start(at float64, path, stamp string) int {
	id := len(s.events)
	s.events = append(s.events, event{Op: "start", At: s.time(at).UnixMilli(), ID: id, Path: path, Start: stamp})
	return id
}

// end ends the request started last of those in flight.
func (s *script) end(at float64) {
	s.events = append(s.events, event{Op: "end", At: s.time(at).UnixMilli()})
}

// request is a request in flight from at to at+dur, the last started.
func (s *script) request(at, dur float64, path, stamp string) int {
	id := s.start(at, path, stamp)
	s.end(at + dur)
	return id
}

// probe is a heartbeat request with the token.
func (s *script) probe(at, dur float64, stamp string) int {
	return s.probeAs(at, dur, stamp, "Bearer "+recipeToken)
}

// probeAs is a heartbeat request with the given Authorization ("" for none).
func (s *script) probeAs(at, dur float64, stamp, auth string) int {
	id := s.start(at, heartbeatPath, stamp)
	s.events[len(s.events)-1].Auth = auth
	s.end(at + dur)
	return id
}

// run feeds each recipe the script and checks the headers each set, by
// request id; a recipe whose runtime is missing is skipped, saying so.
func (s *script) run(t *testing.T, check func(t *testing.T, got map[int]map[string]string)) {
	s.runAnswers(t, func(t *testing.T, got map[int]answer) {
		headers := map[int]map[string]string{}
		for id, a := range got {
			headers[id] = a.Headers
		}
		check(t, headers)
	})
}

// runAnswers is run, checking whole answers.
func (s *script) runAnswers(t *testing.T, check func(t *testing.T, got map[int]answer)) {
	for _, r := range recipes {
		t.Run(r.name, func(t *testing.T) {
			bin, err := exec.LookPath(r.runtime)
			if err != nil {
				t.Skipf("%s is not installed: the %s recipe is not run", r.runtime, r.name)
			}
			var in, stderr bytes.Buffer
			enc := json.NewEncoder(&in)
			for _, e := range s.events {
				enc.Encode(e)
			}
			cmd := exec.Command(bin, r.script)
			cmd.Stdin, cmd.Stderr = &in, &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", r.runtime, r.script, err, stderr.String())
			}
			got := map[int]answer{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				var a struct {
					ID int `json:"id"`
					answer
				}
				if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
					t.Fatalf("%q: %v", sc.Text(), err)
				}
				h := map[string]string{}
				for k, v := range a.Headers {
					h[strings.ToLower(k)] = v
				}
				a.Headers = h
				got[a.ID] = a.answer
			}
			if want := (len(s.events) - 1) / 2; len(got) != want {
				t.Fatalf("%d answers; want %d: %v", len(got), want, got)
			}
			check(t, got)
		})
	}
}

func num(t *testing.T, h map[string]string, k string) int {
	t.Helper()
	n, err := strconv.Atoi(h[k])
	if err != nil {
		t.Errorf("%s = %q: not a number (%v)", k, h[k], h)
	}
	return n
}

// Every recipe, fed the same requests, answers the heartbeat with the same
// queue-time headers as the Go package: the probe's own wait, the window's
// p95 and count, and no-store; a malformed stamp is not counted; the
// router's clock ahead counts as 0; t= microseconds are read. Pages get no
// heartbeat headers.
func TestRecipesQueueTime(t *testing.T) {
	s := newScript(0)
	ms := func(at float64, wait time.Duration) string {
		return strconv.FormatInt(s.time(at).Add(-wait).UnixMilli(), 10)
	}
	// 17 requests waited 20 ms, 3 waited 500 ms, one had a malformed stamp
	// and one none; then the probes.
	var pages []int
	for i := range 20 {
		wait := 20 * time.Millisecond
		if i%7 == 6 {
			wait = 500 * time.Millisecond
		}
		at := 0.01 * float64(i)
		pages = append(pages, s.request(at, 0, "/page", ms(at, wait)))
	}
	pages = append(pages, s.request(0.2, 0, "/page", "soon"), s.request(0.21, 0, "/page", ""))
	probes := []int{
		s.probe(0.3, 0, ms(0.3, 40*time.Millisecond)),
		s.probe(0.31, 0, "t="+strconv.FormatInt(s.time(0.31).Add(-30*time.Millisecond).UnixMicro(), 10)),
		s.probe(0.32, 0, ms(0.32, -5*time.Second)),
		s.probe(0.33, 0, "garbage"),
	}
	s.run(t, func(t *testing.T, got map[int]map[string]string) {
		for _, id := range pages {
			if h := got[id]; len(h) != 0 {
				t.Errorf("page %d got heartbeat headers %v", id, h)
			}
		}
		// The probes count themselves: 20 pages with a stamp, then 1, 2, 3, 3.
		for i, want := range []int{21, 22, 23, 23} {
			h := got[probes[i]]
			if got := num(t, h, "x-queue-time-count"); got != want {
				t.Errorf("probe %d: count %d; want %d", i, got, want)
			}
			if p95 := num(t, h, "x-queue-time-p95-ms"); p95 < 500 || p95 > 501 {
				t.Errorf("probe %d: p95 %d; want the slow tail, 500 ms", i, p95)
			}
			if h["cache-control"] != "no-store" || h["x-queue-time-window-s"] != "30" {
				t.Errorf("probe %d: %v; want no-store and a 30 s window", i, h)
			}
		}
		for i, want := range []int{40, 30, 0} {
			if got := num(t, got[probes[i]], "x-queue-time-ms"); got < want || got > want+1 {
				t.Errorf("probe %d: own queue time %d; want %d (rounded up)", i, got, want)
			}
		}
		if v, ok := got[probes[3]]["x-queue-time-ms"]; ok {
			t.Errorf("a malformed stamp gave X-Queue-Time-Ms %q", v)
		}
	})
}

// Every recipe reports X-Utilization-Pct as the Go package measures it: the
// time-weighted mean of min(in flight, C) / C over the 30 whole seconds
// before the current one and the current one so far (the process's life,
// when shorter), the probes themselves not counted. Each figure is worked
// out by hand and, the clock being the test's, asserted exactly: a recipe
// that ignored C, counted the probe, left out a request still in flight,
// reached back before the process started or kept 29 s would miss at
// least one.
func TestRecipesUtilization(t *testing.T) {
	type want struct {
		id  int
		pct int
		why string
	}
	tests := []struct {
		name  string
		build func(s *script) []want
		conc  int
	}{
		{"C=1, a known pattern", func(s *script) []want {
			var w []want
			s.start(10, "/page", "")
			w = append(w, want{s.probe(15, 0, ""), 33, "window 0–15 (the life so far): busy 10–15, 5 s of 15"})
			s.end(20)
			s.start(25, "/page", "")
			s.end(33)
			s.start(40, "/page", "")
			s.start(42, "/page", "") // two in flight count as one
			s.end(45)
			s.end(50)
			s.start(58, "/page", "")
			w = append(w, want{s.probe(60, 0, ""), 50, "window 30–60: 30–33, 40–50 and 58–60 in flight, 15 s of 30"})
			s.end(61)
			w = append(w, want{s.probe(75, 0, ""), 27, "window 45–75: 45–50 and 58–61, 8 s of 30"})
			s.probe(200, 10, "") // a slow probe: 10 s, not load
			w = append(w, want{s.probe(215, 0, ""), 0, "window 185–215: only the slow probe, which does not count"})
			return w
		}, 0},
		{"C=4", func(s *script) []want {
			var w []want
			for range 6 {
				s.start(30, "/page", "")
			}
			for range 5 {
				s.end(42)
			}
			w = append(w, want{s.probe(60, 0, ""), 55, "window 30–60: 6 in flight count as 4 for 12 s, then 1 for 18 s: 66 of 120"})
			s.end(60)
			w = append(w, want{s.probe(66, 0, ""), 35, "window 36–66: 4 for 6 s, then 1 for 18 s: 42 of 120"})
			s.start(100, "/page", "")
			s.start(100, "/page", "")
			w = append(w, want{s.probe(140, 0, ""), 50, "window 110–140: 2 of 4 throughout"})
			s.end(140)
			s.end(140)
			return w
		}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript(tt.conc)
			wants := tt.build(s)
			s.run(t, func(t *testing.T, got map[int]map[string]string) {
				for _, w := range wants {
					if pct := num(t, got[w.id], "x-utilization-pct"); pct != w.pct {
						t.Errorf("probe %d: X-Utilization-Pct %d; want %d (%s)", w.id, pct, w.pct, w.why)
					}
				}
			})
		})
	}
}

// docs/heartbeat.md quotes each recipe whole, so what is tested is what is
// shown: the kits here and the job-queue recipes of examples/jobs, tested there.
func TestDocsQuoteTheRecipes(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "heartbeat.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{
		"heartbeat/recipes/heartbeat_kit.rb", "heartbeat/recipes/heartbeat_kit.py", "heartbeat/recipes/heartbeat_kit.js",
		"jobs/sidekiq/sidekiq_queues.rb", "jobs/celery/celery_queues.py", "jobs/rq/rq_queues.py",
		"jobs/bullmq/bullmq_queues.js", "jobs/river/river_queues.go",
	} {
		src, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), string(src)) {
			t.Errorf("docs/heartbeat.md does not quote examples/%s as it is now", f)
		}
	}
}
