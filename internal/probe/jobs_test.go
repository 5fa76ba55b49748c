package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/heartbeat"
	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// report is a job report's three headers.
func report(latency, depth, busy string) map[string]string {
	return map[string]string{heartbeat.JobLatencyHeader: latency, heartbeat.JobDepthHeader: depth, heartbeat.JobBusyHeader: busy}
}

// without is h less one header.
func without(h map[string]string, name string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if k != name {
			out[k] = v
		}
	}
	return out
}

// jobsBeat answers with status and headers as given (empty values too).
func jobsBeat(t *testing.T, status int, headers map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header()[k] = []string{v}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func jobsProber(url string, queues ...string) *Prober {
	p := New(url, 5*time.Second, time.Second, 10*time.Second)
	p.Signal, p.JobQueues = JobLatency, queues
	return p
}

// The probe with the job_latency signal against heartbeats answering with
// the kit's job report: the verdict follows the highest latency of the
// queues the formation works; an answer without a complete report of them,
// or with a value that is not a count, is a probe error naming the header
// and the queue; a 5xx says nothing about the jobs and is a probe error too.
func TestProbeJobLatency(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		status   int
		headers  map[string]string
		queues   []string // AUTOSCALE_JOB_QUEUES
		want     Verdict
		latency  time.Duration
		depth    int
		busy     int
		names    []string // the queues read, sorted
		detail   string
		withheld bool
	}{
		{"a minute's wait fails", 200, report("default=60000", "default=12", "default=0"), nil, Fail, 60 * s, 12, 0, []string{"default"},
			"HTTP 200, job latency 1m0s over 10s; oldest in default; 12 waiting, 0 busy in 1 queues", false},
		{"empty queues pass", 200, report("default=0, mailers=0", "default=0, mailers=0", "default=0, mailers=0"), nil, Pass, 0, 0, 0,
			[]string{"default", "mailers"}, "job latency 0s under 1s; 0 waiting, 0 busy in 2 queues", false},
		{"at the maximum is in range", 200, report("default=10000", "default=3", "default=5"), nil, OK, 10 * s, 3, 5, []string{"default"},
			"HTTP 200, job latency 10s; oldest in default", false},
		{"at the minimum is in range", 200, report("default=1000", "default=1", "default=5"), nil, OK, s, 1, 5, []string{"default"}, "job latency 1s;", false},
		{"the highest queue decides", 200, report("a=100, b=12000, c=3", "a=1, b=40, c=1", "a=2, b=0, c=0"), nil, Fail, 12 * s, 42, 2,
			[]string{"a", "b", "c"}, "oldest in b; 42 waiting, 2 busy in 3 queues", false},
		{"only the queues worked count", 200, report("a=100, b=12000, c=3", "a=1, b=40, c=1", "a=2, b=0, c=0"), []string{"c", "a"}, Pass,
			100 * time.Millisecond, 2, 2, []string{"a", "c"}, "in 2 queues", false},
		{"names with every allowed character", 200, report("x.y:z_1-2=5", "x.y:z_1-2=0", "x.y:z_1-2=1"), nil, Pass, 5 * time.Millisecond, 0, 1,
			[]string{"x.y:z_1-2"}, "", false},
		{"no queue at all is idle", 200, report("", "", ""), nil, Pass, 0, 0, 0, nil, "0 waiting, 0 busy in 0 queues", false},
		{"a 304 is never a pass", 304, report("default=0", "default=0", "default=0"), nil, OK, 0, 0, 0, []string{"default"}, "HTTP 304, job latency 0s", false},
		{"no report at all", 200, nil, nil, Error, 0, 0, 0, nil,
			"HTTP 200, no X-Job-Latency-Ms header: the heartbeat kit's job report must be installed, and answers it only to a request with its token", true},
		{"no depth header", 200, without(report("a=1", "a=1", "a=1"), heartbeat.JobDepthHeader), nil, Error, 0, 0, 0, nil, "no X-Job-Depth header", false},
		{"no busy header", 200, without(report("a=1", "a=1", "a=1"), heartbeat.JobBusyHeader), nil, Error, 0, 0, 0, nil, "no X-Job-Busy header", false},
		{"a queue worked is not reported", 200, report("default=0", "default=0", "default=0"), []string{"default", "mailers"}, Error, 0, 0, 0, nil,
			`HTTP 200, X-Job-Latency-Ms does not report queue "mailers"`, false},
		{"a queue missing from one header", 200, report("a=0, b=0", "a=0, b=0", "a=0"), nil, Error, 0, 0, 0, nil,
			`X-Job-Busy does not report queue "b"`, false},
		{"a latency that is not a number", 200, report("default=soon", "default=0", "default=0"), nil, Error, 0, 0, 0, nil,
			`X-Job-Latency-Ms: queue "default": "soon" is not a whole number`, false},
		{"a fraction", 200, report("default=0", "default=1.5", "default=0"), nil, Error, 0, 0, 0, nil, `X-Job-Depth: queue "default": "1.5" is not a whole number`, false},
		{"a negative count", 200, report("default=0", "default=0", "default=-1"), nil, Error, 0, 0, 0, nil, `X-Job-Busy: queue "default": "-1" is not`, false},
		{"a latency past a year", 200, report("default=99999999999999", "default=0", "default=0"), nil, Error, 0, 0, 0, nil, `"99999999999999" is not a whole number 0–31622400000`, false},
		{"an item without a value", 200, report("default", "default=0", "default=0"), nil, Error, 0, 0, 0, nil, `X-Job-Latency-Ms: "default" is not queue=value`, false},
		{"a name outside the kit's characters", 200, report("de fault=0", "default=0", "default=0"), nil, Error, 0, 0, 0, nil, `"de fault=0" is not queue=value`, false},
		{"a queue twice", 200, report("a=1, a=2", "a=0", "a=0"), nil, Error, 0, 0, 0, nil, `X-Job-Latency-Ms names queue "a" twice`, false},
		{"a 503 is no job report", 503, report("default=60000", "default=1", "default=0"), nil, Error, 0, 0, 0, nil, "HTTP 503: no job report", false},
		{"a 404 is a probe error whatever it says", 404, report("default=60000", "default=1", "default=0"), nil, Error, 0, 0, 0, nil, "HTTP 404", false},
		{"a 401 says the token was refused", 401, nil, nil, Error, 0, 0, 0, nil, "HTTP 401", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := jobsProber(jobsBeat(t, tt.status, tt.headers).URL, tt.queues...).Probe(context.Background())
			if res.Verdict != tt.want || res.Latency != tt.latency || res.Status != tt.status || res.Withheld != tt.withheld ||
				!strings.Contains(res.Detail, tt.detail) {
				t.Fatalf("Probe = %+v\nwant %s, latency %v, withheld %t, detail with %q", res, tt.want, tt.latency, tt.withheld, tt.detail)
			}
			if tt.want == Error {
				if res.Jobs != nil {
					t.Errorf("a probe error carries a report: %+v", *res.Jobs)
				}
				return
			}
			var names []string
			for _, q := range res.Jobs.Queues {
				names = append(names, q.Name)
			}
			if res.Source != SourceJobLatency || res.Jobs.Depth() != tt.depth || res.Jobs.Busy() != tt.busy || strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("report %+v (source %q); want depth %d, busy %d, queues %v", *res.Jobs, res.Source, tt.depth, tt.busy, tt.names)
			}
		})
	}
}

// A heartbeat that does not answer in time says nothing about the jobs:
// with job_latency a timeout or a refused connection is a probe error, not
// the fail it is with the other signals.
func TestProbeJobLatencyWithoutAnswer(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range report("default=60000", "default=1", "default=0") {
			w.Header().Set(k, v)
		}
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer hang.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, url := range map[string]string{"timeout": hang.URL, "connection refused": closed.URL} {
		t.Run(name, func(t *testing.T) {
			p := jobsProber(url)
			p.Timeout = 200 * time.Millisecond
			if res := p.Probe(context.Background()); res.Verdict != Error || !strings.HasSuffix(res.Detail, ": no job report") || res.Jobs != nil {
				t.Fatalf("Probe = %+v; want a probe error without a report", res)
			}
		})
	}
}

// The simulator's answers are what a real probe of the same report gives.
func TestAnsweredJobsIsWhatProbeSays(t *testing.T) {
	jobs := Jobs{Queues: []Queue{{Name: "a", Latency: 12 * time.Second, Depth: 40, Busy: 1}, {Name: "b", Depth: 0, Busy: 3}}}
	srv := jobsBeat(t, 200, report("a=12000, b=0", "a=40, b=0", "a=1, b=3"))
	real := jobsProber(srv.URL).Probe(context.Background())
	got := AnsweredJobs(200, jobs, time.Second, 10*time.Second)
	if got.Verdict != real.Verdict || got.Detail != real.Detail || got.Latency != real.Latency || got.Source != real.Source ||
		real.Jobs == nil || got.Jobs.Summary() != real.Jobs.Summary() {
		t.Errorf("AnsweredJobs %+v, the probe %+v", got, real)
	}
	if to := JobsOnly(TimedOut(time.Second)); to.Verdict != Error || to.Detail != "timeout after 1s: no job report" {
		t.Errorf("JobsOnly(TimedOut) = %+v", to)
	}
}

// The token goes to the heartbeat as a bearer token, and only there: the
// kit answers its headers to it, a request without it gets health only
// (and the probe says the report was withheld), a redirect to another host
// does not carry it, and a heartbeat echoing it back cannot put it in a
// detail.
func TestProbeSendsTheToken(t *testing.T) {
	const token = "hb-token-7c1e90"
	var elsewhere http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = r.Header.Clone()
		w.Header().Set(heartbeat.JobLatencyHeader, "default="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer other.Close()
	otherURL, _ := url.Parse(other.URL)
	otherURL.Host = "localhost:" + otherURL.Port() // another host name for the same server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/moved":
			http.Redirect(w, r, otherURL.String(), http.StatusFound)
		case r.Header.Get("Authorization") == "Bearer "+token:
			for k, v := range report("default=0", "default=0", "default=0") {
				w.Header().Set(k, v)
			}
		}
	}))
	defer srv.Close()

	tests := []struct {
		name     string
		path     string
		token    string
		want     Verdict
		withheld bool
	}{
		{"with the token: the report", "/", token, Pass, false},
		{"without: health only", "/", "", Error, true},
		{"a wrong token: health only", "/", "not-" + token, Error, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := jobsProber(srv.URL + tt.path)
			p.Token = secret.New(tt.token)
			if res := p.Probe(context.Background()); res.Verdict != tt.want || res.Withheld != tt.withheld {
				t.Fatalf("Probe = %+v; want %s, withheld %t", res, tt.want, tt.withheld)
			}
		})
	}
	t.Run("not across a redirect to another host, nor into a detail", func(t *testing.T) {
		p := jobsProber(srv.URL + "/moved")
		res := p.ProbeWith(context.Background(), secret.New(token))
		if elsewhere == nil || elsewhere.Get("Authorization") != "" {
			t.Errorf("the other host got Authorization %q", elsewhere.Get("Authorization"))
		}
		if res.Verdict != Error || strings.Contains(res.Detail, token) {
			t.Errorf("Probe = %+v", res)
		}
		echo := jobsBeat(t, 200, report("default=Bearer "+token, "default=0", "default=0"))
		res = jobsProber(echo.URL).ProbeWith(context.Background(), secret.New(token))
		if res.Verdict != Error || strings.Contains(res.Detail, token) || !strings.Contains(res.Detail, "[redacted]") {
			t.Errorf("an echoed token: %+v", res)
		}
	})
}

// FuzzJobReport: whatever the three headers hold, the report is read or
// refused with a detail naming a header, never half read: every queue read
// has a kit's name, counts in range, and is in each header.
func FuzzJobReport(f *testing.F) {
	f.Add("default=60000", "default=12", "default=0", "")
	f.Add("a=1, b=2", "a=0,b=9", "b=1, a=1", "b")
	f.Add("a=1,,", "a=x", "a", "a,c")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, latency, depth, busy, want string) {
		h := http.Header{}
		h[heartbeat.JobLatencyHeader] = []string{latency}
		h[heartbeat.JobDepthHeader] = []string{depth}
		h[heartbeat.JobBusyHeader] = []string{busy}
		var queues []string
		for q := range strings.SplitSeq(want, ",") {
			if IsQueueName(q) {
				queues = append(queues, q)
			}
		}
		jobs, bad := jobReport(h, queues)
		if bad != "" {
			if !strings.Contains(bad, "X-Job-") || len(jobs.Queues) != 0 {
				t.Fatalf("refused with %q and %d queues", bad, len(jobs.Queues))
			}
			return
		}
		for _, q := range jobs.Queues {
			if !IsQueueName(q.Name) || q.Latency < 0 || q.Depth < 0 || q.Busy < 0 {
				t.Fatalf("queue read %+v", q)
			}
			for _, v := range []string{latency, depth, busy} {
				if !strings.Contains(v, q.Name) {
					t.Fatalf("queue %q read but not in %q", q.Name, v)
				}
			}
		}
	})
}

// BenchmarkJobReport reads the largest report the kit sends: 50 queues in
// each of the three headers, every queue worked.
func BenchmarkJobReport(b *testing.B) {
	var lat, depth, busy []string
	for i := range 50 {
		q := fmt.Sprintf("queue-%02d", i)
		lat, depth, busy = append(lat, q+"=1500"), append(depth, q+"=12"), append(busy, q+"=3")
	}
	h := http.Header{}
	h.Set(heartbeat.JobLatencyHeader, strings.Join(lat, ", "))
	h.Set(heartbeat.JobDepthHeader, strings.Join(depth, ", "))
	h.Set(heartbeat.JobBusyHeader, strings.Join(busy, ", "))
	b.ReportAllocs()
	for b.Loop() {
		if jobs, bad := jobReport(h, nil); bad != "" || len(jobs.Queues) != 50 {
			b.Fatalf("%d queues, %q", len(jobs.Queues), bad)
		}
	}
}
