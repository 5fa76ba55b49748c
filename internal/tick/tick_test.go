package tick

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// Function-field fakes: each test sets only the behaviour it needs.
type fakeStore struct {
	load   func() (state.State, error)
	save   func(s state.State) (state.State, error)
	saved  []state.State
	record []state.Record
}

func (f *fakeStore) Load(context.Context, state.Key) (state.State, error) { return f.load() }
func (f *fakeStore) Save(_ context.Context, _ state.Key, s state.State) (state.State, error) {
	if f.save != nil {
		return f.save(s)
	}
	s.Version++
	f.saved = append(f.saved, s)
	return s, nil
}
func (f *fakeStore) Append(_ context.Context, _ state.Key, recs ...state.Record) error {
	f.record = append(f.record, recs...)
	return nil
}

// formationError is an adapter's error as the tick sees it: Heroku's
// message, what it means (ErrAccount, ErrOverPlan...; nil: transient) and,
// over the plan, the plan's limit.
type formationError struct {
	msg   string
	means error
	limit int
}

func (e *formationError) Error() string  { return e.msg }
func (e *formationError) Unwrap() error  { return e.means }
func (e *formationError) PlanLimit() int { return e.limit }

type fakeFormation struct {
	qty       int
	readErr   error
	scaleErr  error
	scales    []int
	reads     int
	remaining int // the bucket; known once read or refreshed, or when known is set
	known     bool
	refreshes int
}

func (f *fakeFormation) Quantity(context.Context, string, string) (int, error) {
	f.reads++
	f.known = true
	return f.qty, f.readErr
}
func (f *fakeFormation) RateLimitRemaining() (int, bool) { return f.remaining, f.known }
func (f *fakeFormation) RefreshRateLimit(context.Context) (int, error) {
	f.refreshes++
	f.known = true
	return f.remaining, nil
}
func (f *fakeFormation) Scale(_ context.Context, _, _ string, n int) error {
	f.scales = append(f.scales, n)
	if f.scaleErr == nil {
		f.qty = n
	}
	return f.scaleErr
}

type fakeProber struct {
	result probe.Result
	calls  int
}

func (f *fakeProber) Probe(context.Context) probe.Result { f.calls++; return f.result }

type fakeNotifier struct {
	err  error
	sent []notify.Notice
}

func (f *fakeNotifier) Notify(_ context.Context, n notify.Notice) error {
	f.sent = append(f.sent, n)
	return f.err
}

var (
	_ Store     = (*fakeStore)(nil)
	_ Formation = (*fakeFormation)(nil)
	_ Prober    = (*fakeProber)(nil)
	_ Notifier  = (*fakeNotifier)(nil)
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func testSettings() settings.Settings {
	return settings.Settings{
		AppName: "myapp", ProcessType: "web",
		MaxResponseTime: time.Second, MinResponseTime: 200 * time.Millisecond,
		FailsToScaleUp: 3, PassesToScaleDown: 5,
		MinDynos: settings.Fixed(1), MaxDynos: settings.Fixed(3), Location: time.UTC, Increment: 1,
		NotifyOnEveryScale: true, NotifyOnScaleFails: true,
	}
}

type harness struct {
	ticker    *Ticker
	store     *fakeStore
	formation *fakeFormation
	prober    *fakeProber
	notifier  *fakeNotifier
	logs      *bytes.Buffer
}

// slowAtStreak2 is a harness one slow beat away from scaling 1 → 2.
func slowAtStreak2(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		store:     &fakeStore{load: func() (state.State, error) { return state.State{Version: 4, SlowStreak: 2, Quantity: 1}, nil }},
		formation: &fakeFormation{qty: 1},
		prober:    &fakeProber{result: probe.Result{Verdict: probe.Fail, Latency: 1500 * time.Millisecond, Status: 200}},
		notifier:  &fakeNotifier{},
		logs:      &bytes.Buffer{},
	}
	h.ticker = &Ticker{
		Settings: testSettings(), Store: h.store, Formation: h.formation, Prober: h.prober, Notifier: h.notifier,
		Log: slog.New(slog.NewJSONHandler(h.logs, nil)), Now: func() time.Time { return t0 },
	}
	return h
}

func TestTickScalesAndRecords(t *testing.T) {
	h := slowAtStreak2(t)
	sum, err := h.ticker.Tick(context.Background(), "evt-1")
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Scaled || sum.Current != 1 || sum.Target != 2 || sum.Reason != decision.SlowStreak {
		t.Errorf("summary %+v, want scaled 1 → 2 SlowStreak", sum)
	}
	if len(h.store.saved) != 2 {
		t.Fatalf("saved %d times, want 2 (commit the decision, then the outcome)", len(h.store.saved))
	}
	committed, final := h.store.saved[0], h.store.saved[1]
	if committed.Version != 5 || committed.SlowStreak != 3 || committed.LastDecision == nil || committed.EventIDs[0] != state.EventKey("evt-1") {
		t.Errorf("committed decision %+v: want version 5, streak 3, the decision and the event id", committed)
	}
	if final.Version != 6 || final.SlowStreak != 0 || final.Quantity != 2 || !final.LastScaleAt.Equal(t0) {
		t.Errorf("final state %+v: want version 6, streak reset, quantity 2, last scale now", final)
	}
	if len(h.store.record) != 2 || h.store.record[0].Kind != state.KindDecision || h.store.record[1].Kind != state.KindScale || !h.store.record[1].OK {
		t.Errorf("history %+v, want a decision and a successful scale", h.store.record)
	}
	if len(h.notifier.sent) != 1 || h.notifier.sent[0].Event != notify.Scaled {
		t.Errorf("notices %+v, want one scaled", h.notifier.sent)
	}
	if !strings.Contains(h.logs.String(), `"reason":"SlowStreak"`) {
		t.Errorf("no decision log line: %s", h.logs)
	}
}

func TestTickFailurePaths(t *testing.T) {
	tests := []struct {
		name       string
		arrange    func(h *harness)
		wantErr    string
		wantScales int
		wantSaves  int
		check      func(t *testing.T, h *harness, sum Summary)
	}{
		{
			name: "state unavailable: no probe, no scale",
			arrange: func(h *harness) {
				h.store.load = func() (state.State, error) { return state.State{}, errors.New("throttled") }
			},
			wantErr: "load state: throttled",
			check: func(t *testing.T, h *harness, _ Summary) {
				if h.prober.calls != 0 {
					t.Error("probed without state")
				}
			},
		},
		{
			name:    "formation unreadable: nothing saved",
			arrange: func(h *harness) { h.formation.readErr = errors.New("heroku: 503") },
			wantErr: "read formation: heroku: 503",
		},
		{
			name: "lost the race: does not scale and says so",
			arrange: func(h *harness) {
				h.store.save = func(state.State) (state.State, error) { return state.State{}, state.ErrConflict }
			},
			check: func(t *testing.T, h *harness, sum Summary) {
				if !sum.Conflict || len(h.notifier.sent) != 0 {
					t.Errorf("summary %+v, notices %d: want conflict and no notice", sum, len(h.notifier.sent))
				}
			},
		},
		{
			name: "duplicate event: processed once",
			arrange: func(h *harness) {
				h.store.load = func() (state.State, error) {
					return state.State{Version: 4, SlowStreak: 2, EventIDs: []string{"evt-1"}}, nil
				}
			},
			check: func(t *testing.T, h *harness, sum Summary) {
				if !sum.Duplicate || h.prober.calls != 0 {
					t.Errorf("summary %+v, probes %d: want duplicate and no probe", sum, h.prober.calls)
				}
			},
		},
		{
			name:       "scale fails: streak kept, failure recorded",
			arrange:    func(h *harness) { h.formation.scaleErr = errors.New("heroku: 429 rate_limit") },
			wantScales: 1, wantSaves: 2,
			check: func(t *testing.T, h *harness, sum Summary) {
				final := h.store.saved[1]
				if sum.Scaled || final.SlowStreak != 3 || final.Quantity != 1 || !strings.Contains(sum.ScaleError, "rate_limit") {
					t.Errorf("summary %+v final %+v: want not scaled, streak 3 kept, quantity 1", sum, final)
				}
				if len(h.notifier.sent) != 1 || h.notifier.sent[0].Event != notify.ScaleFailed {
					t.Errorf("notices %+v, want scale_failed", h.notifier.sent)
				}
			},
		},
		{
			name: "scale refused for the account: notice once, invocation fails",
			arrange: func(h *harness) {
				h.formation.scaleErr = &formationError{msg: "heroku: 402 delinquent", means: ErrAccount}
			},
			wantErr:    "scale 1 → 2: heroku: 402 delinquent",
			wantScales: 1, wantSaves: 2,
			check: func(t *testing.T, h *harness, sum Summary) {
				final := h.store.saved[1]
				if sum.Scaled || !sum.HerokuRefused || !final.Episodes.HerokuError || final.SlowStreak != 3 {
					t.Errorf("summary %+v final %+v: want not scaled, the heroku error episode open, streak kept", sum, final)
				}
				if len(h.notifier.sent) != 1 || h.notifier.sent[0].Event != notify.HerokuError || !strings.Contains(h.notifier.sent[0].Text, "billing") {
					t.Errorf("notices %+v, want one heroku_error about billing", h.notifier.sent)
				}
			},
		},
		{
			name: "read refused for the account: notice once, invocation fails",
			arrange: func(h *harness) {
				h.formation.readErr = &formationError{msg: "heroku: 422 verification_needed", means: ErrAccount}
			},
			wantErr: "read formation: heroku: 422 verification_needed", wantSaves: 1,
			check: func(t *testing.T, h *harness, sum Summary) {
				if !sum.HerokuRefused || len(h.notifier.sent) != 1 || h.notifier.sent[0].Event != notify.HerokuError {
					t.Errorf("summary %+v notices %+v, want one heroku_error", sum, h.notifier.sent)
				}
			},
		},
		{
			name: "a 422 that is no plan limit is an ordinary failure",
			arrange: func(h *harness) {
				h.formation.scaleErr = &formationError{msg: "heroku: 422 invalid_params"}
			},
			wantScales: 1, wantSaves: 2,
			check: func(t *testing.T, h *harness, sum Summary) {
				final := h.store.saved[1]
				if final.PlanLimit != 0 || final.Episodes.AboveMax || final.SlowStreak != 3 {
					t.Errorf("final %+v: want no plan limit, streak kept for a retry", final)
				}
				if len(h.notifier.sent) != 1 || h.notifier.sent[0].Event != notify.ScaleFailed {
					t.Errorf("notices %+v, want scale_failed", h.notifier.sent)
				}
			},
		},
		{
			name: "over the plan: the answer's limit is the ceiling",
			arrange: func(h *harness) {
				h.ticker.Settings.Increment, h.ticker.Settings.MaxDynos = 3, settings.Fixed(10)
				h.formation.scaleErr = &formationError{msg: "heroku: 422 cannot_run_above_limit", means: ErrOverPlan, limit: 2}
			},
			wantScales: 1, wantSaves: 2,
			check: func(t *testing.T, h *harness, sum Summary) {
				if final := h.store.saved[1]; final.PlanLimit != 2 || sum.Target != 4 {
					t.Errorf("target %d, stored plan limit %d; want 4 refused and Heroku's limit 2 kept", sum.Target, final.PlanLimit)
				}
			},
		},
		{
			name:       "notifier down: the scale stands",
			arrange:    func(h *harness) { h.notifier.err = errors.New("sns: unavailable") },
			wantScales: 1, wantSaves: 2,
			check: func(t *testing.T, h *harness, sum Summary) {
				if !sum.Scaled || !strings.Contains(h.logs.String(), "notify failed") {
					t.Errorf("summary %+v; want scaled and a logged notify failure", sum)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := slowAtStreak2(t)
			tt.arrange(h)
			sum, err := h.ticker.Tick(context.Background(), "evt-1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(h.formation.scales) != tt.wantScales || len(h.store.saved) != tt.wantSaves {
				t.Errorf("scales %v saves %d, want %d and %d", h.formation.scales, len(h.store.saved), tt.wantScales, tt.wantSaves)
			}
			if tt.check != nil {
				tt.check(t, h, sum)
			}
		})
	}
}

// TestLowRateLimitUsesTheStoredQuantity covers the token reserve, live and
// through a dry run: below the reserve the formation is not read, the
// stored quantity is used, and the fresh reading is stored.
func TestLowRateLimitUsesTheStoredQuantity(t *testing.T) {
	tests := []struct {
		name     string
		dryRun   bool
		bucket   int
		wantRead bool
	}{
		{name: "live, low bucket", bucket: 40},
		{name: "dry run, low bucket", dryRun: true, bucket: 40},
		{name: "dry run, full bucket", dryRun: true, bucket: 4000, wantRead: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := slowAtStreak2(t)
			stored := 30 // the last tick saw 30 tokens
			h.store.load = func() (state.State, error) {
				return state.State{Version: 4, Quantity: 2, RateLimitRemaining: &stored}, nil
			}
			h.prober.result = probe.Result{Verdict: probe.OK, Latency: 500 * time.Millisecond, Status: 200}
			h.formation.qty, h.formation.remaining = 2, tt.bucket
			// herokuapi's TestDryRunKeepsTheTickReserve runs this through the real dry run.
			h.ticker.Settings.DryRun = tt.dryRun
			sum, err := h.ticker.Tick(context.Background(), "evt-1")
			if err != nil {
				t.Fatal(err)
			}
			if read := h.formation.reads > 0; read != tt.wantRead || sum.QuantityFromState == tt.wantRead {
				t.Errorf("formation read %t, quantity from state %t; want read %t", read, sum.QuantityFromState, tt.wantRead)
			}
			if sum.Current != 2 {
				t.Errorf("current %d, want 2", sum.Current)
			}
			saved := h.store.saved[len(h.store.saved)-1].RateLimitRemaining
			if saved == nil || *saved != tt.bucket || sum.RateLimitRemaining == nil || *sum.RateLimitRemaining != tt.bucket {
				t.Errorf("stored rate limit %v, summary %v; want the fresh %d", saved, sum.RateLimitRemaining, tt.bucket)
			}
		})
	}
}

// TestTickReportsThePolicy: the tick runs whichever policy the settings
// name, and its summary, log line, records and settings snapshot say which.
func TestTickReportsThePolicy(t *testing.T) {
	for _, tt := range []struct {
		policy settings.Policy
		target int
		reason decision.Reason
	}{
		{policy: settings.PolicyOriginal, target: 2, reason: decision.SlowStreak},
		// 1500 ms on one dyno, over the 1000 ms maximum: double it.
		{policy: settings.PolicyProportional, target: 2, reason: decision.AboveTarget},
	} {
		t.Run(string(tt.policy), func(t *testing.T) {
			h := slowAtStreak2(t)
			h.ticker.Settings.Policy = tt.policy
			h.ticker.Settings.TargetResponseTime = 750 * time.Millisecond
			sum, err := h.ticker.Tick(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Target != tt.target || sum.Reason != tt.reason || sum.Policy != tt.policy {
				t.Errorf("summary → %d (%s) by %q, want → %d (%s) by %q", sum.Target, sum.Reason, sum.Policy, tt.target, tt.reason, tt.policy)
			}
			for _, r := range h.store.record {
				if r.Policy != string(tt.policy) {
					t.Errorf("%s record names policy %q", r.Kind, r.Policy)
				}
			}
			if c := h.store.saved[0].Config; c == nil || c.Policy != string(tt.policy) {
				t.Errorf("settings snapshot %+v, want policy %s", c, tt.policy)
			}
			if !strings.Contains(h.logs.String(), `"policy":"`+string(tt.policy)+`"`) {
				t.Errorf("the tick's log line does not name the policy: %s", h.logs)
			}
		})
	}
}
