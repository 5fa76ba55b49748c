package lambdafn_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// slotHandler is a handler at a 30 s interval reading f's table (or table,
// when not empty); the queue is never sent to by a slot.
func slotHandler(t *testing.T, f *fixture, key, app, table string, log io.Writer) *lambdafn.Handler {
	t.Helper()
	f.putKey(t, key)
	if table == "" {
		table = f.table
	}
	s, err := settings.LoadLambda(getenv(map[string]string{
		settings.EnvAppName:           app,
		settings.EnvAPIKeyParameter:   f.param,
		settings.EnvAPIURL:            f.heroku.URL,
		settings.EnvHeartbeatURL:      f.beat.URL,
		settings.EnvTableName:         table,
		settings.EnvHeartbeatInterval: "30",
		settings.EnvTickQueueURL:      "http://127.0.0.1:1/never-used",
	}))
	if err != nil {
		t.Fatal(err)
	}
	return lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: f.cfg, Log: slog.New(slog.NewJSONHandler(log, nil)), Metrics: io.Discard})
}

func slotMessage(t *testing.T, id, app string, slot int, due time.Time) events.SQSMessage {
	t.Helper()
	body, err := json.Marshal(lambdafn.Slot{Formations: []lambdafn.SlotFormation{{App: app, ProcessType: "web"}}, Slot: slot, Due: due, Event: "ev"})
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSMessage{MessageId: id, Body: string(body), EventSource: "aws:sqs"}
}

// TestSlotBatch: of one batch, a slot whose tick fails is reported alone in
// the partial batch response; a stale slot, another formation's and a body
// that is no slot are dropped, not reported (redelivering cannot help).
func TestSlotBatch(t *testing.T) {
	const key, app = "HRKU-slot-batch-key", "slot-app"
	f := newFixture(t, key, app, 0)
	var logs strings.Builder
	now := time.Now()
	batch := events.SQSEvent{Records: []events.SQSMessage{
		slotMessage(t, "due", app, 1, now),
		slotMessage(t, "stale", app, 1, now.Add(-31*time.Second)),
		slotMessage(t, "other", "other-app", 1, now),
		{MessageId: "junk", Body: "not json", EventSource: "aws:sqs"},
	}}

	broken := slotHandler(t, f, key, app, "no-such-table", &logs) // every tick fails
	resp, err := broken.HandleSQS(f.ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "due" {
		t.Errorf("batch item failures %+v, want only the due slot", resp.BatchItemFailures)
	}
	for _, line := range []string{"stale slot dropped", "slot of another formation: dropped", "not a tick slot: dropped", "tick failed"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("no %q line in the log:\n%s", line, logs.String())
		}
	}

	working := slotHandler(t, f, key, app, "", io.Discard)
	if resp, err := working.HandleSQS(f.ctx, batch); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("with the table: %v, failures %+v, want none", err, resp.BatchItemFailures)
	}
	st, err := dynamostore.New(ddb(f), f.table, 0).Load(f.ctx, state.Key{App: app, ProcessType: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.EventIDs) != 1 || !st.Handled(lambdafn.SlotID("ev", 1)) {
		t.Errorf("ticks recorded %v, want only the due slot's", st.EventIDs)
	}
}

// TestOverlappingSlotsActOnce: two slots of one formation delivered at once
// to two execution environments (a late slot overlapping the next) both
// probe, but only one commits a decision; the other sees the conflict and
// does nothing, and neither is reported failed.
func TestOverlappingSlotsActOnce(t *testing.T) {
	const key, app = "HRKU-overlap-key", "overlap-app"
	f := newFixture(t, key, app, 0)
	// A tick reads its state before it probes: a heartbeat that answers
	// only once both probes are in, the second 100 ms after the first,
	// makes both ticks read the same state and commit one after the other,
	// however slow the machine.
	f.beat = bothIn(t)
	var logs safeBuilder
	handlers := []*lambdafn.Handler{slotHandler(t, f, key, app, "", &logs), slotHandler(t, f, key, app, "", &logs)}
	now := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, h := range handlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := h.HandleSQS(context.WithoutCancel(f.ctx), events.SQSEvent{Records: []events.SQSMessage{slotMessage(t, "m", app, i+1, now)}})
			if err == nil && len(resp.BatchItemFailures) > 0 {
				err = io.ErrUnexpectedEOF
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("slot %d: %v", i+1, err)
		}
	}
	st, err := dynamostore.New(ddb(f), f.table, 0).Load(f.ctx, state.Key{App: app, ProcessType: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.EventIDs) != 1 || st.SlowStreak+st.FastStreak > 1 {
		t.Errorf("after two overlapping slots: ticks %v, streaks %d/%d; want one tick committed", st.EventIDs, st.SlowStreak, st.FastStreak)
	}
	if !strings.Contains(logs.String(), "another invocation committed first") {
		t.Errorf("no conflict line in the log:\n%s", logs.String())
	}
}

type safeBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTickQueueUnavailable: when the minute's slots cannot be sent, the
// scheduled tick still runs, and the invocation fails naming the tick
// queue, so the error alarm sees a queue the function cannot use.
func TestTickQueueUnavailable(t *testing.T) {
	const key, app = "HRKU-queue-down-key", "queue-app"
	f := newFixture(t, key, app, 0)
	f.putKey(t, key)
	s, err := f.settings(app, map[string]string{
		settings.EnvHeartbeatInterval: "30",
		settings.EnvTickQueueURL:      "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue",
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs safeBuilder
	h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: f.cfg, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: io.Discard})
	res, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: "ev", Time: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "tick queue") {
		t.Errorf("error %v, want one naming the tick queue", err)
	}
	sum := res.Formations[0].Summary
	if sum.Verdict == "" || sum.EventID != "ev" {
		t.Errorf("summary %+v: the scheduled tick did not run", sum)
	}
	if !strings.Contains(logs.String(), "the minute's slots were not sent") {
		t.Errorf("no log line for the lost slots:\n%s", logs.String())
	}
}

// bothIn is a heartbeat that holds the first probe until a second one has
// arrived (10 s at most), then answers it, and the second 100 ms later.
func bothIn(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	arrived := 0
	second := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		arrived++
		n := arrived
		if n == 2 {
			close(second)
		}
		mu.Unlock()
		select {
		case <-second:
		case <-time.After(10 * time.Second):
		}
		if n == 2 {
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}
