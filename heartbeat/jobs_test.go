package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func report(qs ...Queue) func(context.Context) ([]Queue, error) {
	return func(context.Context) ([]Queue, error) { return qs, nil }
}

func q(name string, latency time.Duration, depth, busy int) Queue {
	return Queue{Name: name, Latency: latency, Depth: depth, Busy: busy}
}

// many is n queues "q00", "q01", …, the i-th with a latency of i seconds.
func many(n int) []Queue {
	out := make([]Queue, n)
	for i := range out {
		out[i] = q(fmt.Sprintf("q%02d", i), time.Duration(i)*time.Second, i, 0)
	}
	return out
}

// list renders "name=value, …" for the queues named, with value(i) of the
// i-th of many.
func list(names []int, value func(i int) string) string {
	var parts []string
	for _, i := range names {
		parts = append(parts, fmt.Sprintf("q%02d=%s", i, value(i)))
	}
	return strings.Join(parts, ", ")
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestJobsHeaders(t *testing.T) {
	long := strings.Repeat("x", 65)
	tests := []struct {
		name                 string
		checks               []Check
		wantStatus           int
		latency, depth, busy string // "-" means the header is absent
		wantFailed           []string
		wantLeftOut          map[string][]string // by report: what OnFailure's error names
		wantCheckError       string
	}{
		{"sorted by name, bytewise", []Check{Jobs("jobs", 0, report(q("mailers", 2*time.Second, 3, 1), q("Critical", 0, 0, 0), q("default", 1500*time.Millisecond, 10, 5)))},
			200, "Critical=0, default=1500, mailers=2000", "Critical=0, default=10, mailers=3", "Critical=0, default=5, mailers=1", nil, nil, ""},
		{"latency in whole ms, rounded up; none waiting is 0", []Check{Jobs("jobs", 0, report(q("a", 300*time.Microsecond, 1, 0), q("b", 0, 0, 2), q("c", 59999*time.Millisecond+time.Microsecond, 1, 0)))},
			200, "a=1, b=0, c=60000", "a=1, b=0, c=1", "a=0, b=2, c=0", nil, nil, ""},
		{"no queues: the headers, empty", []Check{Jobs("jobs", 0, report())}, 200, "", "", "", nil, nil, ""},
		{"negative figures count as 0", []Check{Jobs("jobs", 0, report(q("a", -time.Second, -4, -1)))}, 200, "a=0", "a=0", "a=0", nil, nil, ""},
		{"names outside the rule are left out, not escaped", []Check{Jobs("jobs", 0, report(
			q("ok_1.two:three-4", time.Second, 1, 0), q("a b", time.Hour, 1, 0), q("x,y", time.Hour, 1, 0), q("k=v", time.Hour, 1, 0),
			q("café", time.Hour, 1, 0), q("", time.Hour, 1, 0), q(long, time.Hour, 1, 0), q(long[:64], 0, 0, 0)))},
			200, "ok_1.two:three-4=1000, " + long[:64] + "=0", "ok_1.two:three-4=1, " + long[:64] + "=0", "ok_1.two:three-4=0, " + long[:64] + "=0", nil,
			map[string][]string{"jobs": {`"a b"`, `"x,y"`, `"k=v"`, `"café"`, `""`, `"` + long + `"`}}, ""},
		{"at most 50 queues: the oldest jobs kept, listed by name", []Check{Jobs("jobs", 0, report(many(60)...))},
			200, list(span(10, 60), func(i int) string { return fmt.Sprint(i * 1000) }), list(span(10, 60), func(i int) string { return fmt.Sprint(i) }),
			list(span(10, 60), func(int) string { return "0" }), nil, map[string][]string{"jobs": {"past its limit of 50", "q00, q01, q02, q03, q04, q05, q06, q07, q08, q09"}}, ""},
		{"exactly 50 queues: all", []Check{Jobs("jobs", 0, report(many(50)...))},
			200, list(span(0, 50), func(i int) string { return fmt.Sprint(i * 1000) }), list(span(0, 50), func(i int) string { return fmt.Sprint(i) }),
			list(span(0, 50), func(int) string { return "0" }), nil, nil, ""},
		{"two reports merge: oldest latency, summed depth and busy", []Check{
			Jobs("sidekiq", 0, report(q("default", 3*time.Second, 4, 1), q("mailers", 0, 0, 0))),
			Func("db", 0, pass),
			Jobs("river", 0, report(q("default", time.Second, 6, 2), q("river:batch", 0, 0, 3))),
		}, 200, "default=3000, mailers=0, river:batch=0", "default=10, mailers=0, river:batch=0", "default=3, mailers=0, river:batch=3", nil, nil, ""},
		{"a failing report: 503 naming it, no job headers at all", []Check{
			Jobs("sidekiq", 0, report(q("default", 0, 0, 0))),
			Jobs("river", 0, func(context.Context) ([]Queue, error) { return nil, errors.New("relation river_job does not exist") }),
		}, 503, "-", "-", "-", []string{"river"}, nil, "failed"},
		{"a report past its timeout: 503 naming it", []Check{
			Jobs("sidekiq", 50*time.Millisecond, func(ctx context.Context) ([]Queue, error) { return nil, sleepFor(time.Minute)(ctx) }),
		}, 503, "-", "-", "-", []string{"sidekiq"}, nil, "timeout after 50ms"},
		{"a report ignoring its context is still bounded", []Check{
			Jobs("stuck", 50*time.Millisecond, func(context.Context) ([]Queue, error) { time.Sleep(time.Second); return nil, nil }),
		}, 503, "-", "-", "-", []string{"stuck"}, nil, "timeout after 50ms"},
		{"another check failing: no job headers either", []Check{Jobs("jobs", 0, report(q("a", 0, 0, 0))), Func("db", 0, func(context.Context) error { return errors.New("down") })},
			503, "-", "-", "-", []string{"db"}, nil, ""},
		{"a panicking report fails", []Check{Jobs("jobs", 0, func(context.Context) ([]Queue, error) { panic("nil map") })},
			503, "-", "-", "-", []string{"jobs"}, nil, "failed"},
		{"no Jobs check: no job headers", []Check{Func("db", 0, pass)}, 200, "-", "-", "-", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			told := map[string]error{}
			h := Handler(tt.checks...)
			h.OnFailure = func(name string, err error) { mu.Lock(); defer mu.Unlock(); told[name] = err }
			rec, body := get(t, h, "")
			if rec.Code != tt.wantStatus || !slices.Equal(body.Failed, tt.wantFailed) {
				t.Errorf("status %d failing %v; want %d failing %v", rec.Code, body.Failed, tt.wantStatus, tt.wantFailed)
			}
			for header, want := range map[string]string{JobLatencyHeader: tt.latency, JobDepthHeader: tt.depth, JobBusyHeader: tt.busy} {
				got, ok := rec.Header()[header]
				switch {
				case want == "-" && ok:
					t.Errorf("%s: %q; want none", header, got)
				case want != "-" && (len(got) != 1 || got[0] != want):
					t.Errorf("%s: %q\nwant %q", header, got, want)
				}
			}
			for _, c := range body.Checks {
				if len(tt.wantFailed) > 0 && c.Name == tt.wantFailed[0] && tt.wantCheckError != "" && c.Error != tt.wantCheckError {
					t.Errorf("check %q error %q; want %q", c.Name, c.Error, tt.wantCheckError)
				}
			}
			for _, name := range tt.wantFailed {
				if told[name] == nil {
					t.Errorf("OnFailure was not told of %q", name)
				}
			}
			for name, parts := range tt.wantLeftOut {
				err := told[name]
				if err == nil {
					t.Errorf("OnFailure was not told what %q left out", name)
					continue
				}
				for _, p := range parts {
					if !strings.Contains(err.Error(), p) {
						t.Errorf("OnFailure(%q): %q; want it to name %s", name, err, p)
					}
				}
			}
			if len(tt.wantFailed) == 0 && len(tt.wantLeftOut) == 0 && len(told) > 0 {
				t.Errorf("OnFailure told %v; want nothing", told)
			}
		})
	}
}

func TestValidQueueName(t *testing.T) {
	for name, want := range map[string]bool{
		"default": true, "a": true, "river:default": true, "mail_ers-2.x": true, strings.Repeat("q", 64): true,
		"": false, strings.Repeat("q", 65): false, "a b": false, "a,b": false, "a=b": false, "naïve": false, "a\tb": false, "a/b": false,
	} {
		if got := ValidQueueName(name); got != want {
			t.Errorf("ValidQueueName(%q) = %v; want %v", name, got, want)
		}
	}
}

// The job report's hung run costs one goroutine, as any check's: later
// probes fail it at once until it returns.
func TestJobsHungReport(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	h := Handler(Jobs("jobs", 20*time.Millisecond, func(context.Context) ([]Queue, error) {
		started.Add(1)
		<-release
		return nil, nil
	}))
	for i := range 5 {
		if rec, _ := get(t, h, ""); rec.Code != 503 {
			t.Fatalf("probe %d: status %d; want 503", i, rec.Code)
		}
	}
	close(release)
	if n := started.Load(); n != 1 {
		t.Fatalf("the hung report was started %d times; want 1", n)
	}
}
