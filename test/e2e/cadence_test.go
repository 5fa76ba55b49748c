package e2e

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// tickQueue is the stack's tick queue, polled by the test as Lambda's event
// source mapping would poll it: the emulator does not poll SQS.
type tickQueue struct {
	s   *stack
	url string
	arn string
	c   *sqs.Client
}

func newTickQueue(t *testing.T, s *stack) *tickQueue {
	t.Helper()
	url := s.fn.Env[settings.EnvTickQueueURL]
	if url == "" || url != s.deployed.Resources["TickQueue"] {
		t.Fatalf("function's %s = %q, stack's queue %q", settings.EnvTickQueueURL, url, s.deployed.Resources["TickQueue"])
	}
	q := &tickQueue{s: s, url: url, c: sqs.NewFromConfig(s.cfg)}
	attrs, err := q.c.GetQueueAttributes(s.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	q.arn = attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	// moto's own mapping would run the function in Docker when a message
	// is sent while another is visible; the test is the poller instead.
	id := s.deployed.Resources["TickQueueMapping"]
	if err := s.deployed.LambdaRequest(s.ctx, http.MethodPut, "/2015-03-31/event-source-mappings/"+id,
		[]byte(`{"Enabled":false}`), nil); err != nil {
		t.Fatalf("disable moto's event source mapping: %v", err)
	}
	return q
}

// receive waits up to wait for one message.
func (q *tickQueue) receive(t *testing.T, wait time.Duration) (sqstypes.Message, bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		out, err := q.c.ReceiveMessage(q.s.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) > 1 {
			t.Fatalf("received %d messages at once, want one slot", len(out.Messages))
		}
		if len(out.Messages) == 1 {
			return out.Messages[0], true
		}
		if time.Now().After(deadline) {
			return sqstypes.Message{}, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counts returns the queue's visible, in-flight and delayed messages.
func (q *tickQueue) counts(t *testing.T) [3]string {
	t.Helper()
	out, err := q.c.GetQueueAttributes(q.s.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	a := out.Attributes
	return [3]string{a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"], a["ApproximateNumberOfMessagesDelayed"]}
}

// event is the SQS event the mapping would deliver for bodies.
func (q *tickQueue) event(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: "m" + string(rune('0'+i)), Body: b, EventSource: "aws:sqs",
			EventSourceARN: q.arn, AWSRegion: q.s.cfg.Region,
		})
	}
	return ev
}

// deliver invokes fn with ev and returns the partial batch response.
func (q *tickQueue) deliver(t *testing.T, fn *lambdatest.Emulator, ev events.SQSEvent) events.SQSEventResponse {
	t.Helper()
	raw := q.s.invoke(t, fn, ev)
	if fe, ok := lambdatest.ErrorOf(raw); ok {
		t.Fatalf("SQS invocation failed: %+v", fe)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("SQS invocation response %s: %v", raw, err)
	}
	return resp
}

// TestThirtySecondCadence runs the function at the original's default
// interval, 30 s: the scheduled invocation ticks the first slot and sends
// the second to the tick queue, delayed until it is due; delivering it runs
// the second tick with the same code; three slow slots scale up within one
// minute and one slot (the original's 90 s, not three minutes). A
// duplicate delivery is processed once and a stale slot is dropped.
func TestThirtySecondCadence(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	params := maps.Clone(e2eParams)
	params["HeartbeatIntervalInSeconds"] = "30"
	s := newStack(t, params)
	q := newTickQueue(t, s)
	fn := s.start(t, s.env(t, nil, nil), lambdatest.Options{})
	s.beat.set(slowBeat)

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	// The first minute's schedule fired 27 s ago, so its second slot is
	// due in 3 s: the test waits for it, not for half a minute.
	first := lambdatest.ScheduledEvent(t)
	first.Time = time.Now().UTC().Add(-27 * time.Second).Truncate(time.Second)
	due := first.Time.Add(30 * time.Second)
	var slotBody string

	step("the scheduled invocation ticks and sends the next slot, hidden until due", func(t *testing.T) {
		sum := lambdatest.Summary(t, s.invoke(t, fn, first))
		if sum.Verdict != probe.Fail || sum.SlowStreak != 1 || sum.EventID != first.ID {
			t.Fatalf("scheduled tick: %+v, want a fail, slow streak 1, event %s", sum, first.ID)
		}
		if _, early := q.receive(t, 0); early && time.Now().Before(due.Add(-time.Second)) {
			t.Fatalf("slot visible at %s, before it is due at %s", time.Now().Format(time.StampMilli), due)
		}
		msg, ok := q.receive(t, 15*time.Second)
		if !ok {
			t.Fatalf("no slot in the tick queue 15 s after it was due (%s); queue %v", due, q.counts(t))
		}
		if now := time.Now(); now.Before(due) {
			t.Errorf("slot received at %s, before it is due at %s (DelaySeconds too short)", now.Format(time.StampMilli), due)
		}
		slotBody = aws.ToString(msg.Body)
		var got lambdafn.Slot
		if err := json.Unmarshal([]byte(slotBody), &got); err != nil {
			t.Fatalf("slot body %s: %v", slotBody, err)
		}
		want := lambdafn.Slot{Formations: []lambdafn.SlotFormation{{App: s.app, ProcessType: process}}, Slot: 1, Due: due, Event: first.ID}
		if !got.Due.Equal(want.Due) || !slices.Equal(got.Formations, want.Formations) || got.Slot != 1 || got.Event != first.ID {
			t.Errorf("slot %+v, want %+v", got, want)
		}
		// The mapping deletes a message its invocation succeeded with.
		if _, err := q.c.DeleteMessage(s.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	})

	step("delivering the slot runs the second tick, which sends nothing", func(t *testing.T) {
		hits := s.beat.hits.Load()
		if resp := q.deliver(t, fn, q.event(slotBody)); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
		}
		if got := s.beat.hits.Load() - hits; got != 1 {
			t.Errorf("the slot probed the heartbeat %d times, want 1", got)
		}
		st := s.loadState(t)
		if st.SlowStreak != 2 || !st.Handled(lambdafn.SlotID(first.ID, 1)) {
			t.Errorf("state after the slot: slow streak %d, event ids %v; want 2 and %s", st.SlowStreak, st.EventIDs, lambdafn.SlotID(first.ID, 1))
		}
		// No slot ever sends another (no recursive loop).
		if c := q.counts(t); c != [3]string{"0", "0", "0"} {
			t.Errorf("tick queue after the slot's tick: visible/in flight/delayed %v, want empty", c)
		}
	})

	step("a duplicate delivery of the slot is processed once", func(t *testing.T) {
		untouched := s.untouched(t)
		if resp := q.deliver(t, fn, q.event(slotBody)); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
		}
		untouched()
		if !strings.Contains(s.emulators[0].Output(), "duplicate event ignored") {
			t.Error("no duplicate line in the function's log")
		}
	})

	step("the next minute's scheduled tick, the third slow slot, scales up", func(t *testing.T) {
		next := lambdatest.ScheduledEvent(t)
		next.Time = first.Time.Add(time.Minute)
		sum := lambdatest.Summary(t, s.invoke(t, fn, next))
		if !sum.Scaled || sum.Current != 1 || sum.Target != 2 || sum.Reason != decision.SlowStreak {
			t.Fatalf("third slow slot: %+v, want scaled 1 → 2 for SlowStreak", sum)
		}
		if got := s.heroku.Quantity(s.app, process); got != 2 {
			t.Errorf("Heroku quantity = %d, want 2", got)
		}
		s.checkScaleRecorded(t, 1, 2)
	})

	step("a slot more than one interval late is dropped and logged", func(t *testing.T) {
		late := lambdafn.Slot{Formations: []lambdafn.SlotFormation{{App: s.app, ProcessType: process}}, Slot: 1, Event: "late-event",
			Due: time.Now().UTC().Add(-31 * time.Second)}
		body, _ := json.Marshal(late)
		untouched := s.untouched(t)
		if resp := q.deliver(t, fn, q.event(string(body))); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("a stale slot was reported failed (it would be redelivered): %+v", resp.BatchItemFailures)
		}
		untouched()
		if !strings.Contains(s.emulators[0].Output(), "stale slot dropped") {
			t.Error("no stale slot line in the function's log")
		}
	})
}
