package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// Thresholds far apart from the heartbeat's two speeds, so that a busy
// machine cannot turn a fast beat into an in-range one.
const (
	maxResponseMS = 300
	minResponseMS = 150
	slowBeat      = 450 * time.Millisecond // always > max: the server waits this long
	fastBeat      = 0                      // a loopback answer, far below min
	noticeWait    = 15 * time.Second
)

// e2eParams are the template parameters of the scripted run; everything
// else keeps the template's defaults.
var e2eParams = map[string]string{
	"MaxResponseTimeInMs":            strconv.Itoa(maxResponseMS),
	"MinResponseTimeInMs":            strconv.Itoa(minResponseMS),
	"NumberOfFailsToScaleUpAfter":    "3",
	"NumberOfPassesToScaleDownAfter": "3",
	"NotifyOnEveryScale":             "true",
	// One tick per scheduled invocation: the shorter cadence has tests of
	// its own (cadence_test.go).
	"HeartbeatIntervalInSeconds": "60",
}

// TestEndToEnd drives the function, built for this machine and run under the
// Lambda Runtime Interface Emulator, through a scripted sequence of
// scheduled invocations against moto, the fake Heroku API and a heartbeat.
// The steps depend on each other, so the first failure ends the test.
func TestEndToEnd(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	top := t
	s := newStack(t, e2eParams)
	env := s.env(t, nil, nil)
	fn := s.start(t, env, lambdatest.Options{})
	var lastScaleDown string // id of the event that scaled down

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("slow beats scale up, across a cold start", func(t *testing.T) {
		s.beat.set(slowBeat)
		for i := 1; i <= 2; i++ {
			sum := lambdatest.Summary(t, s.invoke(t, fn, lambdatest.ScheduledEvent(t)))
			if sum.Verdict != probe.Fail || sum.SlowStreak != i || sum.Scaled {
				t.Fatalf("slow beat %d: %+v, want verdict fail, slow streak %d, no scale", i, sum, i)
			}
		}
		if st := s.loadState(t); st.SlowStreak != 2 {
			t.Fatalf("stored slow streak after two slow beats = %d, want 2", st.SlowStreak)
		}

		// A cold start: the next invocation runs in a new process, which
		// knows the streak only from DynamoDB.
		fn.Stop()
		fn = s.start(top, env, lambdatest.Options{}) // lives on after this step
		sum := lambdatest.Summary(t, s.invoke(t, fn, lambdatest.ScheduledEvent(t)))
		if !sum.Scaled || sum.Current != 1 || sum.Target != 2 || sum.Reason != decision.SlowStreak {
			t.Fatalf("third slow beat after a cold start: %+v, want scaled 1 → 2 for SlowStreak", sum)
		}
		if got := s.heroku.Quantity(s.app, process); got != 2 {
			t.Errorf("Heroku quantity = %d, want 2", got)
		}
		if got := s.herokuCalls(http.MethodPatch); got != 1 {
			t.Errorf("Heroku PATCH requests = %d, want 1", got)
		}
		s.checkScaleRecorded(t, 1, 2)
		s.checkScaledNotice(t, 1, 2)
	})

	step("fast beats scale down", func(t *testing.T) {
		s.beat.set(fastBeat)
		for i := 1; i <= 3; i++ {
			ev := lambdatest.ScheduledEvent(t)
			sum := lambdatest.Summary(t, s.invoke(t, fn, ev))
			if sum.Verdict != probe.Pass {
				t.Fatalf("fast beat %d: verdict %q (%d ms), want pass", i, sum.Verdict, sum.LatencyMS)
			}
			if scaled := i == 3; sum.Scaled != scaled {
				t.Fatalf("fast beat %d: %+v, want scaled %t", i, sum, scaled)
			}
			lastScaleDown = ev.ID
		}
		if got := s.heroku.Quantity(s.app, process); got != 1 {
			t.Errorf("Heroku quantity = %d, want 1", got)
		}
		s.checkScaleRecorded(t, 2, 1)
		s.checkScaledNotice(t, 2, 1)
	})

	step("a duplicated event is processed once", func(t *testing.T) {
		untouched := s.untouched(t)
		ev := lambdatest.ScheduledEvent(t)
		ev.ID = lastScaleDown // EventBridge delivers at least once
		sum := lambdatest.Summary(t, s.invoke(t, fn, ev))
		if !sum.Duplicate || sum.Scaled || sum.Verdict != "" {
			t.Errorf("redelivered event: %+v, want duplicate, no probe, no scale", sum)
		}
		untouched()
	})

	step("a bad configuration fails every invocation and touches nothing", func(t *testing.T) {
		bad := s.start(t, s.env(t, nil, map[string]string{
			settings.EnvIncrement:    "0",
			settings.EnvHeartbeatURL: "/heartbeat",
		}), lambdatest.Options{})
		untouched := s.untouched(t)
		for i := range 2 {
			fe := lambdatest.MustError(t, s.invoke(t, bad, lambdatest.ScheduledEvent(t)))
			for _, name := range []string{settings.EnvIncrement, settings.EnvHeartbeatURL} {
				if !strings.Contains(fe.Message, name) {
					t.Errorf("invocation %d: error %q does not name %s", i+1, fe.Message, name)
				}
			}
		}
		untouched()
	})

	// The key is read while the tick reads its state and probes: only the
	// Heroku calls wait for it.
	step("a missing SSM parameter fails naming it, with no Heroku call and no state change", func(t *testing.T) {
		missing := "/autoscalebot/" + randomHex(t, 4) + "/missing"
		fn := s.start(t, s.env(t, map[string]string{"HerokuApiKeyParameterName": missing}, nil), lambdatest.Options{})
		unchanged := s.unchanged(t)
		fe := lambdatest.MustError(t, s.invoke(t, fn, lambdatest.ScheduledEvent(t)))
		if !strings.Contains(fe.Message, missing) {
			t.Errorf("error %q does not name the parameter %s", fe.Message, missing)
		}
		unchanged()
	})

	step("no other notices, and the API key never appears anywhere", func(t *testing.T) {
		if extra := s.receive(t, 1, 2*time.Second); len(extra) > 0 {
			t.Errorf("unexpected notices after the two scales: %+v", extra)
		}
		for _, r := range s.heroku.Requests() {
			if !r.Auth {
				t.Errorf("Heroku request %s %s without the key", r.Method, r.Path)
			}
		}
		if leaks := s.leaks(t); len(leaks) > 0 {
			t.Errorf("the API key appears in:\n%s", strings.Join(leaks, "\n"))
		}
		if !strings.Contains(s.emulators[0].Output(), `"message":"tick"`) {
			t.Errorf("no JSON decision log line in the function output:\n%s", s.emulators[0].Output())
		}
	})
}

// checkScaleRecorded checks the state item and the history after a scale
// from → to.
func (s *stack) checkScaleRecorded(t *testing.T, from, to int) {
	t.Helper()
	st := s.loadState(t)
	if st.SlowStreak != 0 || st.FastStreak != 0 || st.Quantity != to || st.LastScaleAt.IsZero() {
		t.Errorf("state after scaling to %d: streaks %d/%d, quantity %d, last scale %s; want 0/0, %d, set",
			to, st.SlowStreak, st.FastStreak, st.Quantity, st.LastScaleAt, to)
	}
	if n := len(st.Recent); n == 0 || st.Recent[n-1].From != from || st.Recent[n-1].To != to || !st.Recent[n-1].OK {
		t.Errorf("recent scale events = %+v, want the last %d → %d ok", st.Recent, from, to)
	}
	recs, err := s.store.History(s.ctx, s.key(), time.Now().Add(-time.Hour), 100)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	found := false
	for _, r := range recs {
		found = found || (r.Kind == state.KindScale && r.Current == from && r.Target == to && r.OK)
	}
	if !found {
		t.Errorf("no scale record %d → %d in the history: %+v", from, to, recs)
	}
}

// checkScaledNotice reads the one notice of a scale from → to back through
// SQS and checks its subject, Chatbot body and event attribute.
func (s *stack) checkScaledNotice(t *testing.T, from, to int) {
	t.Helper()
	got := s.receive(t, 1, noticeWait)
	if len(got) != 1 {
		t.Fatalf("received %d notices, want 1", len(got))
	}
	env := got[0]
	wantSubject := fmt.Sprintf("autoscalebot: %s/%s: scaled %d -> %d dynos", s.app, process, from, to)
	if env.Subject != wantSubject || env.TopicArn != s.topicARN {
		t.Errorf("notice subject %q from %s, want %q from %s", env.Subject, env.TopicArn, wantSubject, s.topicARN)
	}
	if a := env.MessageAttributes["event"]; a.Type != "String" || a.Value != "scaled" {
		t.Errorf("event attribute = %+v, want String scaled", a)
	}
	var msg awstest.ChatbotMessage
	if err := json.Unmarshal([]byte(env.Message), &msg); err != nil {
		t.Fatalf("default body is not Chatbot JSON: %v\n%s", err, env.Message)
	}
	if msg.Version != "1.0" || msg.Source != "custom" || msg.Content.TextType != "client-markdown" {
		t.Errorf("Chatbot header %q/%q/%q, want 1.0/custom/client-markdown", msg.Version, msg.Source, msg.Content.TextType)
	}
	if want := fmt.Sprintf("scaled %d → %d dynos", from, to); !strings.Contains(msg.Content.Title, want) {
		t.Errorf("Chatbot title %q lacks %q", msg.Content.Title, want)
	}
	if want := fmt.Sprintf("Scaled to (%d) dynos", to); !strings.Contains(msg.Content.Description, want) {
		t.Errorf("Chatbot description %q lacks %q", msg.Content.Description, want)
	}
}

// TestTimeZoneWithoutSystemDatabase runs the bootstrap where Go finds no
// time zone database on the system (as on provided.al2023): the zone must
// come from the one embedded in the binary, and the schedule must follow it.
func TestTimeZoneWithoutSystemDatabase(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	const zone = "America/Vancouver"
	loc, err := time.LoadLocation(zone) // the test process may use the system's
	if err != nil {
		t.Skipf("cannot compute the expected hour here: %v", err)
	}
	// The maximum is the local hour plus one, so the summary tells which
	// zone the function applied.
	slots := make([]string, 24)
	for h := range slots {
		slots[h] = fmt.Sprintf(`"%d:00":%d`, h, h+1)
	}
	s := newStack(t, map[string]string{
		"TimeZone": zone,
		"MaxDynos": "{" + strings.Join(slots, ",") + "}",
	})
	env := append(s.env(t, nil, nil), "ZONEINFO="+t.TempDir()) // empty
	fn := s.start(t, env, lambdatest.Options{HideSystemZoneinfo: true})

	before := time.Now().In(loc).Hour() + 1
	sum := lambdatest.Summary(t, s.invoke(t, fn, lambdatest.ScheduledEvent(t)))
	after := time.Now().In(loc).Hour() + 1
	if sum.Max != before && sum.Max != after {
		t.Errorf("max = %d, want %d (the hour in %s plus one; UTC would give %d)",
			sum.Max, before, zone, time.Now().UTC().Hour()+1)
	}
}
