package heartbeat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCheckTimeout bounds a check whose Timeout is zero.
const DefaultCheckTimeout = 2 * time.Second

// Check is one thing the app needs in order to serve.
type Check struct {
	Name string
	// Timeout bounds the check; ≤0 means DefaultCheckTimeout. A check that
	// overruns fails, whether or not its function heeds ctx.
	Timeout time.Duration
	Run     func(ctx context.Context) error
}

// Func returns a custom check.
func Func(name string, timeout time.Duration, run func(ctx context.Context) error) Check {
	return Check{Name: name, Timeout: timeout, Run: run}
}

// Heartbeat is the heartbeat's http.Handler. Build it with Handler, or set
// its fields; it must not be changed once it serves. Below a Middleware, its
// answer carries the window's figures, and its own request is not counted
// in flight while it is answered (checks included).
type Heartbeat struct {
	Checks []Check
	// OnFailure, when set, is told each failed check and its error (the 503's
	// body says only "timeout" or "failed", since a heartbeat URL is
	// public and an error's text may say more about the app than it should).
	OnFailure func(name string, err error)

	once sync.Once
	hung []atomic.Int32 // per check: runs that outlived their timeout and have not returned
	now  func() time.Time
}

// Handler returns a heartbeat handler running checks.
func Handler(checks ...Check) *Heartbeat {
	return &Heartbeat{Checks: checks}
}

// CheckResult is one check's part of the answer.
type CheckResult struct {
	Name       string  `json:"name"`
	OK         bool    `json:"ok"`
	DurationMS float64 `json:"durationMs"`
	Error      string  `json:"error,omitempty"`
}

// Body is the JSON answer.
type Body struct {
	Status string        `json:"status"` // "ok" or "fail"
	Failed []string      `json:"failed,omitempty"`
	Checks []CheckResult `json:"checks"`
}

var (
	errStillHung = errors.New("an earlier run is still going past its timeout")
	errPanicked  = errors.New("panicked")
)

func (h *Heartbeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		h.hung = make([]atomic.Int32, len(h.Checks))
		if h.now == nil {
			h.now = time.Now
		}
	})
	// Headers first: they describe the wait before the checks ran.
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Expires", "0")
	hdr.Set("Content-Type", "application/json")
	if d, ok := QueueTime(r, h.now()); ok {
		hdr.Set(QueueTimeHeader, millis(d))
	}
	if win := windowFrom(r.Context()); win != nil {
		// The probe is no load of the app's: it leaves the in-flight count
		// while it is answered, or an idle app would never read 0 %.
		win.stop()
		defer win.resume()
		st := win.Stats()
		hdr.Set(UtilizationHeader, percent(st.Utilization))
		hdr.Set(QueueCountHeader, fmt.Sprint(st.Count))
		hdr.Set(QueueWindowHeader, fmt.Sprint(int64(st.Window/time.Second)))
		if st.Count > 0 {
			hdr.Set(QueueP95Header, millis(st.P95))
		}
	}

	body := Body{Status: "ok", Checks: make([]CheckResult, len(h.Checks))}
	var wg sync.WaitGroup
	for i := range h.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body.Checks[i] = h.run(r.Context(), i)
		}()
	}
	wg.Wait()
	status := http.StatusOK
	for _, c := range body.Checks {
		if !c.OK {
			status, body.Status = http.StatusServiceUnavailable, "fail"
			body.Failed = append(body.Failed, c.Name)
		}
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(body)
	}
}

// run runs check i within its timeout. The check runs in its own goroutine
// so that one ignoring ctx cannot hold the answer; while a run that timed
// out is still going, later requests fail the check at once instead of
// starting another, so a hung dependency costs one goroutine per check, not
// one per probe.
func (h *Heartbeat) run(ctx context.Context, i int) CheckResult {
	c := h.Checks[i]
	res := CheckResult{Name: c.Name}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	start := h.now()
	done := func(err error, shown string) CheckResult {
		res.DurationMS = float64(h.now().Sub(start).Microseconds()) / 1000
		res.OK = err == nil
		if err != nil {
			res.Error = shown
			if h.OnFailure != nil {
				h.OnFailure(c.Name, err)
			}
		}
		return res
	}
	if c.Run == nil {
		return done(errors.New("no function"), "failed")
	}
	if h.hung[i].Load() > 0 {
		return done(errStillHung, "still hung")
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	const (
		running int32 = iota
		finished
		abandoned
	)
	var state atomic.Int32
	errc := make(chan error, 1) // buffered: a late check must not block
	go func() {
		defer func() {
			if p := recover(); p != nil {
				errc <- fmt.Errorf("%w: %v", errPanicked, p)
			}
			if !state.CompareAndSwap(running, finished) {
				h.hung[i].Add(-1) // the waiter gave up on this run
			}
		}()
		errc <- c.Run(cctx)
	}()
	select {
	case err := <-errc:
		switch {
		case err == nil:
			return done(nil, "")
		case ctx.Err() != nil:
			return done(err, "canceled")
		case cctx.Err() != nil:
			return done(err, "timeout after "+timeout.String())
		}
		return done(err, "failed")
	case <-cctx.Done():
		if state.CompareAndSwap(running, abandoned) {
			h.hung[i].Add(1)
		}
		if ctx.Err() != nil {
			return done(ctx.Err(), "canceled")
		}
		return done(cctx.Err(), "timeout after "+timeout.String())
	}
}
