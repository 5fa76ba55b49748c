package herokuapi_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// An Account is the formation of a tick.
var _ tick.Formation = (*herokuapi.Account)(nil)

// newAccount returns an account whose key, k, is read at once, with its
// first invocation started.
func newAccount(ctx context.Context, k string, api func(secret.Value) herokuapi.API) *herokuapi.Account {
	read := func(context.Context) (secret.Value, error) { return secret.New(k), nil }
	a := herokuapi.NewAccount(secret.NewSource("heroku API key", read, time.Now, slog.New(slog.DiscardHandler)), api)
	<-a.Start(ctx)
	return a
}

// clientOf builds the real client for the fake s.
func clientOf(s *herokusim.Server) func(secret.Value) herokuapi.API {
	return func(k secret.Value) herokuapi.API { return herokuapi.New(s.URL, k) }
}

const otherApp = "other-app"

// step is one thing a test does to an Account or to the fake behind it.
type step struct {
	do      string // "read", "scale", "round" (Start: the next invocation), "set" (change the fake behind its back) or "fault"
	app, pt string // "" = app
	n       int    // quantity read, scaled to or set
	wantErr error  // for read and scale
	fault   *herokusim.Fault
}

func read(pt string, n int) step              { return step{do: "read", pt: pt, n: n} }
func readErr(a, pt string, want error) step   { return step{do: "read", app: a, pt: pt, wantErr: want} }
func readOf(a, pt string, n int) step         { return step{do: "read", app: a, pt: pt, n: n} }
func scale(pt string, n int) step             { return step{do: "scale", pt: pt, n: n} }
func set(pt string, n int) step               { return step{do: "set", pt: pt, n: n} }
func faultNext(f herokusim.Fault) step        { return step{do: "fault", fault: &f} }
func scaleErr(pt string, n int, e error) step { return step{do: "scale", pt: pt, n: n, wantErr: e} }

var startRound = step{do: "round"}

// TestAccountSharesAppReads: the formations of one app read its list once
// an invocation, and a scale's outcome is what the invocation reads next.
func TestAccountSharesAppReads(t *testing.T) {
	tests := []struct {
		name      string
		key       string // "" = the right key
		steps     []step
		wantLists map[string]int // GETs of each app's formation list
		wantScale int            // PATCHes
	}{
		{name: "two process types of one app, one read",
			steps:     []step{read("web", 2), read("worker", 1), read("web", 2)},
			wantLists: map[string]int{app: 1}},
		{name: "two apps, one read each",
			steps:     []step{read("web", 2), readOf(otherApp, "web", 4), read("worker", 1), readOf(otherApp, "worker", 0)},
			wantLists: map[string]int{app: 1, otherApp: 1}},
		// within a round the answer stands; the next round sees the change
		{name: "a new round reads again",
			steps:     []step{read("web", 2), set("web", 5), read("web", 2), startRound, read("web", 5), read("worker", 1)},
			wantLists: map[string]int{app: 2}},
		{name: "a process type the app lacks",
			steps:     []step{readErr(app, "clock", herokuapi.ErrNotFound), read("web", 2)},
			wantLists: map[string]int{app: 1}},
		{name: "unknown app, one read for both types",
			steps:     []step{readErr("no-such-app", "web", herokuapi.ErrNotFound), readErr("no-such-app", "worker", herokuapi.ErrNotFound)},
			wantLists: map[string]int{"no-such-app": 1}},
		{name: "wrong key, one read for both types", key: "hk-WRONG-KEY-fedcba9876543210",
			steps:     []step{readErr(app, "web", herokuapi.ErrUnauthorized), readErr(app, "worker", herokuapi.ErrUnauthorized)},
			wantLists: map[string]int{app: 1}},
		// the fault hits only the first GET: the second caller must not try again
		{name: "a failed read is shared by the round",
			steps: []step{faultNext(herokusim.Fault{Status: 503, Count: 1}),
				readErr(app, "web", herokuapi.ErrServer), readErr(app, "worker", herokuapi.ErrServer),
				startRound, read("web", 2)},
			wantLists: map[string]int{app: 2}},
		{name: "scale then read sees the new quantity",
			steps:     []step{read("web", 2), scale("web", 4), read("web", 4), read("worker", 1)},
			wantLists: map[string]int{app: 1}, wantScale: 1},
		{name: "scale before the first read",
			steps:     []step{scale("web", 4), read("web", 4), read("worker", 1)},
			wantLists: map[string]int{app: 1}, wantScale: 1},
		// a 500 may or may not have scaled: the app is read again
		{name: "a failed scale reads again",
			steps: []step{read("web", 2), faultNext(herokusim.Fault{Status: 500, Count: 1, Method: http.MethodPatch}),
				scaleErr("web", 4, herokuapi.ErrServer), read("web", 2)},
			wantLists: map[string]int{app: 2}, wantScale: 1},
		// After a successful scale, a failed one of the same formation
		// forgets the success's quantity: the app is read again, and the
		// round answers what Heroku now holds. Here the failed PATCH
		// changed nothing: the successful quantity, not the attempt's.
		{name: "a failed scale after a successful one, nothing changed: the successful quantity",
			steps: []step{read("web", 2), scale("web", 4), read("web", 4),
				faultNext(herokusim.Fault{Status: 500, Count: 1, Method: http.MethodPatch}),
				scaleErr("web", 6, herokuapi.ErrServer), read("web", 4), read("worker", 1)},
			wantLists: map[string]int{app: 2}, wantScale: 2},
		// Here the failed PATCH did change it (its answer was lost): Heroku's
		// 6, not the earlier success's stale 4.
		{name: "a failed scale after a successful one that did scale: what Heroku holds",
			steps: []step{read("web", 2), scale("web", 4), read("web", 4),
				set("web", 6), faultNext(herokusim.Fault{Status: 500, Count: 1, Method: http.MethodPatch}),
				scaleErr("web", 6, herokuapi.ErrServer), read("web", 6), read("worker", 1)},
			wantLists: map[string]int{app: 2}, wantScale: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			s.SetFormation(app, "worker", 1, "")
			s.SetFormation(otherApp, "web", 4, "")
			s.SetFormation(otherApp, "worker", 0, "")
			k := key
			if tt.key != "" {
				k = tt.key
			}
			r := newAccount(t.Context(), k, clientOf(s))
			for i, st := range tt.steps {
				a := app
				if st.app != "" {
					a = st.app
				}
				switch st.do {
				case "round":
					<-r.Start(t.Context())
				case "set":
					s.SetFormation(a, st.pt, st.n, "")
				case "fault":
					s.SetFault(*st.fault)
				case "scale":
					if err := r.Scale(t.Context(), a, st.pt, st.n); !errors.Is(err, st.wantErr) {
						t.Fatalf("step %d: Scale(%s/%s, %d) = %v, want %v", i, a, st.pt, st.n, err, st.wantErr)
					}
				case "read":
					got, err := r.Quantity(t.Context(), a, st.pt)
					if st.wantErr != nil {
						if !errors.Is(err, st.wantErr) || !strings.Contains(err.Error(), a+"/"+st.pt) {
							t.Fatalf("step %d: Quantity(%s/%s) = %d, %v; want %v naming %s/%s", i, a, st.pt, got, err, st.wantErr, a, st.pt)
						}
						continue
					}
					if err != nil || got != st.n {
						t.Fatalf("step %d: Quantity(%s/%s) = %d, %v; want %d", i, a, st.pt, got, err, st.n)
					}
				default:
					t.Fatalf("step %d: unknown step %q", i, st.do)
				}
			}
			if got := listReads(t, s); !maps.Equal(got, tt.wantLists) {
				t.Errorf("formation list GETs = %v, want %v", got, tt.wantLists)
			}
			if got := s.Count(http.MethodPatch); got != tt.wantScale {
				t.Errorf("%d PATCHes, want %d", got, tt.wantScale)
			}
		})
	}
}

// listReads counts the GETs of each app's formation list, and fails the
// test on any other GET: an Account never reads one formation alone.
func listReads(t *testing.T, s *herokusim.Server) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			continue
		}
		a, ok := strings.CutPrefix(r.Path, "/apps/")
		a, ok2 := strings.CutSuffix(a, "/formation")
		if !ok || !ok2 || strings.Contains(a, "/") {
			t.Errorf("GET %s, want only formation lists", r.Path)
			continue
		}
		out[a]++
	}
	return out
}

// TestAccountConcurrentCallersShareOneRead: the formations of one app
// ticked at once wait for a single GET (run with -race).
func TestAccountConcurrentCallersShareOneRead(t *testing.T) {
	s := newFake(t)
	s.SetFormation(app, "worker", 1, "")
	// every answer held back, so all callers arrive while the first is read
	s.SetFault(herokusim.Fault{Delay: 200 * time.Millisecond})
	r := newAccount(t.Context(), key, clientOf(s))
	want := map[string]int{"web": 2, "worker": 1}
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		pt := []string{"web", "worker"}[i%2]
		wg.Go(func() {
			got, err := r.Quantity(t.Context(), app, pt)
			if err == nil && got != want[pt] {
				err = errors.New(pt + ": wrong quantity")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := listReads(t, s); !maps.Equal(got, map[string]int{app: 1}) {
		t.Errorf("formation list GETs = %v, want one", got)
	}
}

// blockingAPI is an API whose list read of an app in block waits
// until release is closed.
type blockingAPI struct {
	block   string
	started chan struct{} // closed when the blocked read has begun
	release chan struct{}
}

func (b *blockingAPI) Formations(ctx context.Context, app string) (map[string]int, error) {
	if app == b.block {
		close(b.started)
		select {
		case <-b.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return map[string]int{"web": 3}, nil
}

func (b *blockingAPI) Scale(context.Context, string, string, int) error { return nil }
func (b *blockingAPI) RateLimitRemaining() (int, bool)                  { return 0, false }
func (b *blockingAPI) RefreshRateLimit(context.Context) (int, error)    { return 0, nil }

// TestAccountWaiting: a slow app holds up its own callers only, and a
// waiting caller whose ctx ends stops waiting.
func TestAccountWaiting(t *testing.T) {
	tests := []struct {
		name    string
		app     string                                // read while the slow app is being read
		ctx     func(context.Context) context.Context // the second caller's
		wantErr error
	}{
		{name: "another app is not held up", app: otherApp, ctx: func(ctx context.Context) context.Context { return ctx }},
		{name: "a waiter gives up with its ctx", app: app, wantErr: context.DeadlineExceeded,
			ctx: func(ctx context.Context) context.Context {
				ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &blockingAPI{block: app, started: make(chan struct{}), release: make(chan struct{})}
			r := newAccount(t.Context(), key, func(secret.Value) herokuapi.API { return api })
			slow := make(chan error, 1)
			go func() {
				_, err := r.Quantity(t.Context(), app, "web")
				slow <- err
			}()
			<-api.started
			done := make(chan error, 1)
			go func() {
				_, err := r.Quantity(tt.ctx(t.Context()), tt.app, "web")
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("second caller: err = %v, want %v", err, tt.wantErr)
				}
			case <-time.After(5 * time.Second):
				t.Error("second caller still waiting on the slow app's read")
			}
			close(api.release)
			if err := <-slow; err != nil {
				t.Errorf("slow app: %v", err)
			}
		})
	}
}
