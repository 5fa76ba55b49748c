package faults

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// The tests below are the fault matrix of docs/operating.md, one per row, in its order.

func TestHerokuRateLimited(t *testing.T) {
	r := newRig(t)
	r.beat.slow()
	r.heroku.SetFault(herokusim.Fault{Status: http.StatusTooManyRequests, Method: http.MethodPatch, Count: 1,
		Message: "Your account reached the API rate limit (key " + apiKey + ")"})
	r.mustTick()
	sum := r.mustTick() // the streak is complete: the scale is refused with 429
	if sum.Scaled || !strings.Contains(sum.ScaleError, "rate_limit") {
		t.Fatalf("summary %+v: want a failed scale naming the rate limit", sum)
	}
	if got := r.requests(http.MethodPatch); got != 1 {
		t.Errorf("%d PATCH requests for one refused scale, want 1 (no retry storm)", got)
	}
	if st := r.state(); st.SlowStreak != 2 || st.Quantity != 1 {
		t.Errorf("state after the 429: streak %d quantity %d, want the streak kept (2) at 1 dyno", st.SlowStreak, st.Quantity)
	}
	if ev := r.notifier.events(); !slices.Equal(ev, []notify.Event{notify.ScaleFailed}) || !strings.Contains(r.notices()[0].Text, "rate") {
		t.Errorf("notices %v: want one scale_failed naming the rate limit", ev)
	}
	if sum := r.mustTick(); !sum.Scaled || r.heroku.Quantity(app, processType) != 2 {
		t.Errorf("the next tick did not retry the scale: %+v", sum)
	}
}

func TestHerokuPlanLimit(t *testing.T) {
	tests := []struct {
		name      string
		increment string
		want      []notify.Event
	}{
		// 1 → 2 succeeds, 2 → 3 is refused once; then the plan's limit is the max.
		{name: "one at a time", increment: "1", want: []notify.Event{notify.Scaled, notify.NeedsAboveMax}},
		// 1 → 4 is refused with "limit": 2, so the next try is 1 → 2, not 1 → 3.
		{name: "large increment", increment: "3", want: []notify.Event{notify.NeedsAboveMax, notify.Scaled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.env["AUTOSCALE_INCREMENT"] = tt.increment
			r.rewire()
			r.heroku.SetPlanMax(2)
			r.beat.slow()
			for range 8 {
				r.mustTick()
			}
			if got := r.heroku.Quantity(app, processType); got != 2 {
				t.Errorf("quantity %d, want 2 (the plan's limit)", got)
			}
			if got := r.requests(http.MethodPatch); got != 2 {
				t.Errorf("%d PATCH requests over 8 slow minutes, want 2 (one refusal, no hammering)", got)
			}
			if st := r.state(); st.PlanLimit != 2 {
				t.Errorf("stored plan limit %d, want Heroku's 2", st.PlanLimit)
			}
			if ev := r.notifier.events(); !slices.Equal(ev, tt.want) {
				t.Errorf("notices %v, want %v", ev, tt.want)
			}
			if text := r.notices()[slices.Index(r.notifier.events(), notify.NeedsAboveMax)].Text; !strings.Contains(text, "at most 2") {
				t.Errorf("notice %q does not give Heroku's limit", text)
			}
		})
	}
}

// TestHerokuAccountProblem: billing or verification problems need a person,
// so they are told once per episode and fail the invocation, whether or
// not scale failures are notified.
func TestHerokuAccountProblem(t *testing.T) {
	tests := []struct {
		name  string
		fault herokusim.Fault
	}{
		{name: "402 delinquent", fault: herokusim.Fault{Status: http.StatusPaymentRequired}},
		{name: "402 on the scale only", fault: herokusim.Fault{Status: http.StatusPaymentRequired, Method: http.MethodPatch}},
		{name: "422 verification_needed", fault: herokusim.Fault{Status: http.StatusUnprocessableEntity, ID: "verification_needed", Method: http.MethodPatch}},
		{name: "403 suspended", fault: herokusim.Fault{Status: http.StatusForbidden, ID: "suspended"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.env["AUTOSCALE_NOTIFY_ON_SCALE_FAILS"] = "false"
			r.rewire()
			r.beat.slow()
			r.mustTick() // streak 1: nothing to scale yet
			tt.fault.Message = "account of " + apiKey + ": " + herokusim.ErrorFor(tt.fault.Status, tt.fault.ID).Message
			r.heroku.SetFault(tt.fault)
			for range 4 {
				if _, err := r.tick(); err == nil {
					t.Fatal("a tick refused for the account succeeded; it must fail so the error alarm sees it")
				}
			}
			if ev := r.notifier.events(); !slices.Equal(ev, []notify.Event{notify.HerokuError}) {
				t.Fatalf("notices %v, want exactly one heroku_error", ev)
			}
			if text := r.notices()[0].Text; !strings.Contains(text, "billing") {
				t.Errorf("notice %q does not say the account's billing is the problem", text)
			}
			if got := r.heroku.Quantity(app, processType); got != 1 {
				t.Errorf("quantity %d, want 1", got)
			}
			if st := r.state(); st.PlanLimit != 0 || !st.Episodes.HerokuError {
				t.Errorf("state %+v: want the heroku error episode open and no plan limit", st)
			}
			r.heroku.SetFault(herokusim.Fault{})
			if sum := r.mustTick(); !sum.Scaled || sum.HerokuRefused || r.state().Episodes.HerokuError {
				t.Errorf("after the account is fixed: %+v; want the scale made and the episode closed", sum)
			}
		})
	}
}

func TestHerokuRefusesTheKey(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			r := newRig(t)
			r.beat.slow()
			r.heroku.SetFault(herokusim.Fault{Status: status, Message: "Invalid credentials provided: " + apiKey})
			for range 4 {
				if _, err := r.tick(); err == nil {
					t.Fatal("a tick with a refused key succeeded; it must fail so the error alarm sees it")
				}
			}
			if ev := r.notifier.events(); !slices.Equal(ev, []notify.Event{notify.HerokuError}) {
				t.Fatalf("notices %v, want exactly one heroku_error", ev)
			}
			if text := r.notices()[0].Text; !strings.Contains(text, "API key") {
				t.Errorf("notice %q does not say the key is the problem", text)
			}
			if r.requests(http.MethodPatch) != 0 {
				t.Error("scaled with a refused key")
			}
			r.heroku.SetFault(herokusim.Fault{})
			if sum := r.mustTick(); sum.HerokuRefused || r.state().Episodes.HerokuError {
				t.Errorf("after the key works again the episode is still open: %+v", sum)
			}
		})
	}
}

func TestHerokuUnknownAppOrType(t *testing.T) {
	r := newRig(t)
	r.env["AUTOSCALE_HEROKU_PROCESS_TYPE"] = "worker" // the fake has only web
	r.rewire()
	for range 3 {
		if _, err := r.tick(); err == nil {
			t.Fatal("tick succeeded against an unknown process type")
		}
	}
	ev := r.notifier.events()
	if !slices.Equal(ev, []notify.Event{notify.HerokuError}) {
		t.Fatalf("notices %v, want exactly one heroku_error", ev)
	}
	if text := r.notices()[0].Text; !strings.Contains(text, `"shiny-app"`) || !strings.Contains(text, `"worker"`) {
		t.Errorf("notice %q does not name the app and process type", text)
	}
}

func TestHerokuFailsTheScale(t *testing.T) {
	tests := []struct {
		name  string
		fault herokusim.Fault
	}{
		{name: "500", fault: herokusim.Fault{Status: http.StatusInternalServerError}},
		{name: "503", fault: herokusim.Fault{Status: http.StatusServiceUnavailable}},
		{name: "timeout", fault: herokusim.Fault{Delay: 5 * time.Second}},
		{name: "garbage JSON", fault: herokusim.Fault{Garbage: true}},
		// not every 422 is a plan limit
		{name: "422 invalid_params", fault: herokusim.Fault{Status: http.StatusUnprocessableEntity, ID: "invalid_params"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.beat.slow()
			r.mustTick()
			before := r.state()
			tt.fault.Method, tt.fault.Count = http.MethodPatch, 1
			r.heroku.SetFault(tt.fault)
			sum := r.mustTick()
			if sum.Scaled || sum.ScaleError == "" {
				t.Fatalf("summary %+v: want the scale counted as failed", sum)
			}
			after := r.state()
			if after.Version != before.Version+2 || after.SlowStreak != 2 || after.LastDecision == nil || after.LastDecision.Reason != decision.SlowStreak {
				t.Errorf("state after the failure: %+v; want decision and outcome saved (version +2), streak kept", after)
			}
			if ev := r.notifier.events(); !slices.Equal(ev, []notify.Event{notify.ScaleFailed}) {
				t.Errorf("notices %v, want one scale_failed", ev)
			}
			if sum := r.mustTick(); !sum.Scaled {
				t.Errorf("the next tick did not retry: %+v", sum)
			}
			// Garbage or a timeout may hide a scale that happened; the
			// retry asks for the same quantity, so it cannot overshoot.
			if got := r.heroku.Quantity(app, processType); got != 2 {
				t.Errorf("quantity %d after the retry, want 2", got)
			}
		})
	}
}

func TestHerokuRateLimitLow(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		t.Run(map[bool]string{false: "live", true: "dry run"}[dryRun], func(t *testing.T) {
			rateLimitLow(t, dryRun)
		})
	}
}

// rateLimitLow: a dry run reads the formation through the real API, so it
// must keep the same reserve.
func rateLimitLow(t *testing.T, dryRun bool) {
	r := newRig(t)
	r.env["AUTOSCALE_DRY_RUN"] = strconv.FormatBool(dryRun)
	r.rewire()
	r.heroku.SetRateLimitRemaining(40)
	r.beat.wait(20 * time.Millisecond) // in range (5–60 ms): nothing to scale
	first := r.mustTick()
	if first.QuantityFromState || first.RateLimitRemaining == nil || *first.RateLimitRemaining != 40 {
		t.Fatalf("first tick %+v: want the formation read and RateLimit-Remaining 40 recorded", first)
	}
	gets := formationReads(r)
	r.rewire() // a cold start: the stored reading must still count
	for range 3 {
		sum := r.mustTick()
		if !sum.QuantityFromState || sum.Current != 1 {
			t.Fatalf("tick %+v: want the stored quantity used", sum)
		}
		if sum.RateLimitRemaining == nil || *sum.RateLimitRemaining != 40 || r.state().RateLimitRemaining == nil {
			t.Fatalf("tick %+v: want RateLimitRemaining 40 still read and stored", sum)
		}
	}
	if got := formationReads(r) - gets; got != 0 {
		t.Errorf("%d formation reads with 40 tokens left, want 0", got)
	}
	r.beat.slow()
	r.mustTick()
	if sum := r.mustTick(); !sum.Scaled {
		t.Errorf("with few tokens left a needed scale must still happen: %+v", sum)
	}
	r.heroku.SetRateLimitRemaining(4000)
	if sum := r.mustTick(); sum.QuantityFromState {
		t.Errorf("the bucket recovered but the formation is still not read: %+v", sum)
	}
}

func formationReads(r *rig) int {
	n := 0
	for _, req := range r.heroku.Requests() {
		if req.Method == http.MethodGet && strings.Contains(req.Path, "/formation/") {
			n++
		}
	}
	return n
}

func TestDynamoDBUnavailable(t *testing.T) {
	r := newRig(t)
	r.beat.slow()
	r.mustTick()
	// Point the store at a port where nothing answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	cfg := awstest.SharedMoto(t).Config(t)
	r.ticker.Store = dynamostore.New(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(dead)
		o.RetryMaxAttempts = 1
	}), r.table, 0)
	hits := r.beat.hits.Load()
	_, err = r.tick()
	if err == nil || !strings.Contains(err.Error(), "load state") {
		t.Fatalf("err = %v, want a clear load state error", err)
	}
	if r.requests(http.MethodPatch) != 0 || r.beat.hits.Load() != hits {
		t.Error("acted without state: probed or scaled")
	}
}

func TestDynamoDBVersionConflict(t *testing.T) {
	r := newRig(t)
	r.beat.slow()
	r.mustTick() // streak 1; the next slow beat scales
	winner := *r.ticker
	loser := *r.ticker
	// The loser loads the state, then the winner runs its whole tick before
	// the loser commits: the two overlap as duplicated invocations would.
	loser.Store = &interleaved{Store: r.store, between: func() {
		if sum, err := winner.Tick(context.Background(), "winner"); err != nil || !sum.Scaled {
			t.Errorf("winner: %+v, %v", sum, err)
		}
	}}
	sum, err := loser.Tick(context.Background(), "loser")
	if err != nil || !sum.Conflict || sum.Scaled {
		t.Fatalf("loser: %+v, %v; want a conflict and no scale", sum, err)
	}
	if got := r.requests(http.MethodPatch); got != 1 {
		t.Errorf("%d PATCH requests, want 1 (only the winner scales)", got)
	}
	st := r.state()
	if st.Quantity != 2 || !st.Handled("winner") || st.Handled("loser") {
		t.Errorf("stored state %+v: want the winner's, untouched by the loser", st)
	}
}

// interleaved runs between right after the first Load.
type interleaved struct {
	tick.Store
	between func()
	done    bool
}

func (s *interleaved) Load(ctx context.Context, key state.Key) (state.State, error) {
	st, err := s.Store.Load(ctx, key)
	if !s.done {
		s.done = true
		s.between()
	}
	return st, err
}

func TestSNSUnavailable(t *testing.T) {
	r := newRig(t)
	r.env["AUTOSCALE_TOPIC_ARN"] = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
	r.rewire()
	r.beat.slow()
	r.mustTick()
	sum := r.mustTick()
	if !sum.Scaled || r.heroku.Quantity(app, processType) != 2 {
		t.Fatalf("summary %+v: the scale must stand when notifying fails", sum)
	}
	if st := r.state(); st.Quantity != 2 || st.SlowStreak != 0 {
		t.Errorf("state %+v: want the scale recorded", st)
	}
	if !strings.Contains(r.logs.String(), `"msg":"notify failed"`) {
		t.Errorf("the failed publish was not logged:\n%s", r.logs)
	}
}

func TestDuplicateEventDelivery(t *testing.T) {
	r := newRig(t)
	r.beat.slow()
	r.mustTick()
	first, err := r.tickCtx(context.Background(), "same-id")
	if err != nil || !first.Scaled {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	hits := r.beat.hits.Load()
	again, err := r.tickCtx(context.Background(), "same-id")
	if err != nil || !again.Duplicate || again.Scaled {
		t.Fatalf("second delivery: %+v, %v; want a duplicate that does nothing", again, err)
	}
	if r.beat.hits.Load() != hits || r.requests(http.MethodPatch) != 1 {
		t.Error("the duplicate probed or scaled again")
	}
}

func TestDeadlineClose(t *testing.T) {
	r := newRig(t)
	r.beat.wait(10 * time.Second) // the heartbeat would outlast the invocation
	before := r.state()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	sum, err := r.tickCtx(ctx, "late")
	if err != nil {
		t.Fatalf("tick: %v; the probe must leave time to save", err)
	}
	if sum.Verdict != probe.Fail || !strings.Contains(sum.ProbeDetail, "timeout") {
		t.Errorf("verdict %s (%s), want a fail by timeout", sum.Verdict, sum.ProbeDetail)
	}
	if after := r.state(); after.Version != before.Version+1 || after.SlowStreak != 1 {
		t.Errorf("state %+v: want the tick saved within the deadline", after)
	}
}

func TestHeartbeatProbeErrorNeverScales(t *testing.T) {
	r := newRig(t)
	r.beat.status.Store(http.StatusNotFound)
	for range 6 {
		if sum := r.mustTick(); sum.Reason != decision.ProbeError {
			t.Fatalf("reason %s for a 404 heartbeat, want ProbeError", sum.Reason)
		}
	}
	if r.requests(http.MethodPatch) != 0 {
		t.Error("scaled on a 404 heartbeat (the original scaled to max)")
	}
	if ev := r.notifier.events(); !slices.Equal(ev, []notify.Event{notify.ProbeError}) {
		t.Errorf("notices %v, want one probe_error for the episode", ev)
	}
}

func TestPauseStopsScalingButKeepsRecording(t *testing.T) {
	r := newRig(t)
	r.beat.slow()
	r.mustTick()
	st := r.state()
	st.Paused = true
	if _, err := r.store.(*dynamostore.Store).Save(context.Background(), state.Key{App: app, ProcessType: processType}, st); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if sum := r.mustTick(); sum.Reason != decision.Paused || !sum.Paused || sum.Scaled {
			t.Fatalf("paused tick %+v: want reason Paused and no scale", sum)
		}
	}
	if st := r.state(); st.SlowStreak != 5 || st.LastProbe == nil {
		t.Errorf("paused state %+v: want probing and streaks recorded", st)
	}
	if !strings.Contains(r.logs.String(), `"paused":true`) {
		t.Error("log lines do not show the pause")
	}
	st = r.state()
	st.Paused = false
	if _, err := r.store.(*dynamostore.Store).Save(context.Background(), state.Key{App: app, ProcessType: processType}, st); err != nil {
		t.Fatal(err)
	}
	if sum := r.mustTick(); !sum.Scaled {
		t.Errorf("resumed tick %+v: want the held scale to happen", sum)
	}
}
