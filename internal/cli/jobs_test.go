package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	hb "github.com/autoscalebot/autoscalebot/heartbeat"
)

const heartbeatToken = "cli-heartbeat-token-3e9f"

// jobsHeartbeat is a web app's heartbeat with the kit's job report: the
// three headers as set, answered only to a request bearing the token.
type jobsHeartbeat struct {
	mu                   sync.Mutex
	latency, depth, busy string
	withoutToken         int // requests that came without it
}

func (h *jobsHeartbeat) set(latency, depth, busy string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latency, h.depth, h.busy = latency, depth, busy
}

func (h *jobsHeartbeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+heartbeatToken {
		h.withoutToken++
	} else {
		w.Header().Set(hb.JobLatencyHeader, h.latency)
		w.Header().Set(hb.JobDepthHeader, h.depth)
		w.Header().Set(hb.JobBusyHeader, h.busy)
	}
	w.Write([]byte("ok"))
}

// jobsWorld is a worker formation at quantity dynos on job_latency, 0–3
// dynos, two fails up and a window of two idle beats down, whose heartbeat
// is the web app's with the job report.
func jobsWorld(t *testing.T, quantity int, extra map[string]string) (*world, *jobsHeartbeat) {
	t.Helper()
	w := newWorld(t)
	beat := &jobsHeartbeat{}
	srv := httptest.NewServer(beat)
	t.Cleanup(srv.Close)
	w.heroku.SetFormation("myapp", "worker", quantity, "")
	for k, v := range map[string]string{
		"AUTOSCALE_HEROKU_PROCESS_TYPE":                  "worker",
		"AUTOSCALE_HEARTBEAT_URL":                        srv.URL + "/heartbeat",
		"AUTOSCALE_HEARTBEAT_TOKEN":                      heartbeatToken,
		"AUTOSCALE_SIGNAL":                               "job_latency",
		"AUTOSCALE_MIN_DYNOS":                            "0",
		"AUTOSCALE_MAX_DYNOS":                            "3",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER":    "2",
		"AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER": "2",
	} {
		w.env[k] = v
	}
	for k, v := range extra {
		w.env[k] = v
	}
	return w, beat
}

// jobTick is one `once` against the heartbeat's report, and what it must do.
type jobTick struct {
	latency, depth, busy string
	qty                  int    // the worker formation after it
	want                 string // in the printed line
}

func runJobTicks(t *testing.T, w *world, beat *jobsHeartbeat, ticks []jobTick) {
	t.Helper()
	for i, tk := range ticks {
		beat.set(tk.latency, tk.depth, tk.busy)
		code, out, errOut := w.cmd(t, "once")
		if code != 0 || !strings.Contains(out, tk.want) {
			t.Fatalf("tick %d: exit %d, output %q %q; want %q", i+1, code, out, errOut, tk.want)
		}
		if got := w.heroku.Quantity("myapp", "worker"); got != tk.qty {
			t.Fatalf("tick %d: worker formation %d, want %d\n%s", i+1, got, tk.qty, out)
		}
		if strings.Contains(out+errOut, heartbeatToken) {
			t.Fatalf("tick %d: the heartbeat token was printed:\n%s%s", i+1, out, errOut)
		}
	}
	if beat.withoutToken > 0 {
		t.Errorf("%d heartbeat requests came without the token", beat.withoutToken)
	}
}

// TestOnceScalesAWorkerFromZeroAndBack: `once` through the real probe, the
// fake Platform API and the state file, against a heartbeat reporting its
// job queues. A minute's wait takes the worker from 0 to 1 at the first
// tick; it stays while jobs run; with every queue at 0 and nothing busy
// for the window (two heartbeats) it returns to 0; status and history say
// what the report held.
func TestOnceScalesAWorkerFromZeroAndBack(t *testing.T) {
	w, beat := jobsWorld(t, 0, nil)
	runJobTicks(t, w, beat, []jobTick{
		{"default=60000, mailers=0", "default=12, mailers=0", "default=0, mailers=0", 1,
			"heartbeat fail  60000 ms  (job_latency)  jobs 12 waiting, 0 busy, oldest in default  dynos 0 → 1 (bounds 0–3)  JobsWaiting"},
		{"default=0, mailers=0", "default=0, mailers=0", "default=3, mailers=1", 1, "jobs 0 waiting, 4 busy  dynos 1 → 1"},
		{"default=0, mailers=0", "default=0, mailers=0", "default=1, mailers=0", 1, "dynos 1 → 1 (bounds 0–3)  Steady"},
		{"default=0, mailers=0", "default=0, mailers=0", "default=0, mailers=0", 1, "dynos 1 → 1 (bounds 0–3)  Steady"},
		{"default=0, mailers=0", "default=0, mailers=0", "default=0, mailers=0", 0, "dynos 1 → 0 (bounds 0–3)  NoJobs"},
		{"default=0, mailers=0", "default=0, mailers=0", "default=0, mailers=0", 0, "dynos 0 → 0 (bounds 0–3)  AtMin"},
		{"default=0, mailers=2500", "default=0, mailers=1", "default=0, mailers=0", 1, "oldest in mailers  dynos 0 → 1 (bounds 0–3)  JobsWaiting"},
	})
	if web := w.heroku.Quantity("myapp", "web"); web != 1 {
		t.Errorf("the web formation is at %d, want it untouched at 1", web)
	}
	state := w.env["AUTOSCALE_STATE_FILE"]
	_, out, _ := w.cmd(t, "status", "-state", state, "-type", "worker", "-json")
	for _, want := range []string{`"signal": "job_latency"`, `"maxJobLatencyMs": 10000`, `"minJobLatencyMs": 1000`,
		`"latencySource": "job_latency"`, `"waiting": 1`, `"oldest": "mailers"`} {
		if !strings.Contains(out, want) {
			t.Errorf("status -json lacks %s:\n%s", want, out)
		}
	}
	_, out, _ = w.cmd(t, "history", "-state", state, "-type", "worker", "-since", "1h")
	for _, want := range []string{"job latency 60000 ms (12 waiting, 0 busy, oldest in default)", "NoJobs", "JobsWaiting"} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
}

// TestOnceKeepsLongJobsRunning: with AUTOSCALE_LONG_JOBS=true a worker
// whose queues report busy jobs is not scaled down, however long its pass
// streak; the same beats without it step down (so the test can fail); once
// nothing runs, the window takes it to 0.
func TestOnceKeepsLongJobsRunning(t *testing.T) {
	busy := func(qty int, want string) jobTick { return jobTick{"default=0", "default=0", "default=2", qty, want} }
	idle := func(qty int, want string) jobTick { return jobTick{"default=0", "default=0", "default=0", qty, want} }
	t.Run("long jobs", func(t *testing.T) {
		w, beat := jobsWorld(t, 3, map[string]string{"AUTOSCALE_LONG_JOBS": "true"})
		runJobTicks(t, w, beat, []jobTick{
			busy(3, "heartbeat pass"), busy(3, "LongJobsBusy"), busy(3, "LongJobsBusy"), busy(3, "LongJobsBusy"),
			idle(2, "FastStreak"), idle(0, "NoJobs"),
		})
	})
	t.Run("without", func(t *testing.T) {
		w, beat := jobsWorld(t, 3, nil)
		runJobTicks(t, w, beat, []jobTick{busy(3, "Steady"), busy(2, "FastStreak"), busy(2, "Steady"), busy(1, "FastStreak")})
	})
}

// TestOnceWithoutTheJobReport: a heartbeat that withholds the report (no
// token sent), or reports a queue badly, is a probe error naming the header
// and the queue, and the worker keeps its dynos.
func TestOnceWithoutTheJobReport(t *testing.T) {
	w, beat := jobsWorld(t, 2, map[string]string{"AUTOSCALE_HEARTBEAT_TOKEN": "", "AUTOSCALE_JOB_QUEUES": "default,mailers"})
	beat.set("default=0", "default=0", "default=0")
	code, out, _ := w.cmd(t, "once")
	if code != 0 || !strings.Contains(out, "heartbeat error") || !strings.Contains(out, "ProbeError") ||
		w.heroku.Quantity("myapp", "worker") != 2 || beat.withoutToken != 1 {
		t.Fatalf("without the token: exit %d\n%s", code, out)
	}
	w.env["AUTOSCALE_HEARTBEAT_TOKEN"] = heartbeatToken
	code, out, _ = w.cmd(t, "once", "-json")
	if code != 0 || !strings.Contains(out, `X-Job-Latency-Ms does not report queue \"mailers\"`) || !strings.Contains(out, `"reason": "ProbeError"`) ||
		w.heroku.Quantity("myapp", "worker") != 2 {
		t.Fatalf("a queue worked that is not reported: exit %d\n%s", code, out)
	}
}
