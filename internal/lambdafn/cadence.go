package lambdafn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
)

// The schedule invokes the function once a minute (EventBridge's finest
// rate). With a shorter heartbeat interval the scheduled invocation ticks
// slot 0 itself and sends the minute's other slots to the tick queue, each
// delayed until it is due; the queue's event source mapping delivers them
// back to this function, which ticks them with the same code. Only the
// scheduled invocation sends: a slot never sends another, so there is no
// loop for Lambda's recursive-loop detection to stop, and a lost slot is
// simply skipped (the next one is its retry).

// scheduleInterval is the schedule's period, which the slots divide.
const scheduleInterval = time.Minute

// enqueueTimeout bounds sending the slots, the SDK's retries included.
const enqueueTimeout = 5 * time.Second

// Slot is the body of one tick queue message.
type Slot struct {
	App         string    `json:"app"`
	ProcessType string    `json:"processType"`
	Slot        int       `json:"slot"`  // 1 .. slots per minute − 1
	Due         time.Time `json:"due"`   // the scheduled time plus slot × interval
	Event       string    `json:"event"` // the scheduled event's id
}

// ID identifies the slot's tick, so that a duplicate delivery (SQS delivers
// at least once, EventBridge too) is processed once. The formation's own
// state keeps the ids, so the id is per slot and formation.
func (s Slot) ID() string { return SlotID(s.Event, s.Slot) }

// SlotID is the tick id of slot n of the scheduled event eventID; slot 0 is
// the scheduled invocation's own tick, whose id is the event's.
func SlotID(eventID string, n int) string {
	if n == 0 {
		return eventID
	}
	return eventID + "#" + strconv.Itoa(n)
}

// queueSender lists what the handler calls on SQS.
type queueSender interface {
	SendMessageBatch(ctx context.Context, in *sendBatchInput) (*sendBatchOutput, error)
}

// sendBatchInput and sendBatchOutput are SQS's SendMessageBatch request and
// answer, as far as the handler uses them.
type sendBatchInput struct {
	QueueURL string `json:"QueueUrl"`
	Entries  []sendBatchEntry
}

type sendBatchEntry struct {
	ID           string `json:"Id"`
	MessageBody  string
	DelaySeconds int32
}

type sendBatchOutput struct {
	Failed []struct {
		ID      string `json:"Id"`
		Code    string
		Message string
	}
}

// sqsClient sends to SQS with a small signed client: the SDK's SQS client
// would add its package start-up (a schema of every SQS operation, an
// endpoint table) to every cold start, for one call a minute.
type sqsClient struct{ c *awsjson.Client }

// sqsService is SQS's JSON protocol; AWS_ENDPOINT_URL_SQS points it elsewhere.
var sqsService = awsjson.Service{Name: "sqs", SDKID: "SQS", TargetPrefix: "AmazonSQS", JSONVersion: "1.0"}

func newSQSClient(cfg aws.Config) sqsClient { return sqsClient{c: awsjson.New(cfg, sqsService)} }

func (q sqsClient) SendMessageBatch(ctx context.Context, in *sendBatchInput) (*sendBatchOutput, error) {
	var out sendBatchOutput
	if err := q.c.Call(ctx, "SendMessageBatch", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// laterSlots returns the slots of the minute that starts at scheduled which
// are still ahead of now; the scheduled invocation's own tick stands for any
// already due.
func laterSlots(app, processType, eventID string, scheduled, now time.Time, interval time.Duration) []Slot {
	if interval <= 0 || interval >= scheduleInterval {
		return nil
	}
	var out []Slot
	for n := 1; time.Duration(n)*interval < scheduleInterval; n++ {
		due := scheduled.Add(time.Duration(n) * interval)
		if !due.After(now) {
			continue
		}
		out = append(out, Slot{App: app, ProcessType: processType, Slot: n, Due: due.UTC(), Event: eventID})
	}
	return out
}

// delaySeconds is how long SQS keeps a slot hidden: until it is due,
// rounded up so it is never early, within SQS's 0–900 s.
func delaySeconds(due, now time.Time) int32 {
	d := due.Sub(now)
	secs := int64((d + time.Second - 1) / time.Second)
	return int32(min(max(secs, 0), 900))
}

// enqueue sends the slots in one request (at most five: 60 / 10 − 1).
func (h *Handler) enqueue(ctx context.Context, q queueSender, slots []Slot) error {
	if len(slots) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	now := h.cfg.Now()
	in := &sendBatchInput{QueueURL: h.cfg.Settings.TickQueueURL}
	for _, s := range slots {
		body, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode slot %d: %w", s.Slot, err)
		}
		in.Entries = append(in.Entries, sendBatchEntry{
			ID:           "slot" + strconv.Itoa(s.Slot),
			MessageBody:  string(body),
			DelaySeconds: delaySeconds(s.Due, now),
		})
	}
	out, err := q.SendMessageBatch(ctx, in)
	if err != nil {
		return fmt.Errorf("send %d slots: %w", len(slots), err)
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return fmt.Errorf("send slots: %d of %d refused, first %s: %s %s", len(out.Failed), len(slots),
			f.ID, f.Code, f.Message)
	}
	h.cfg.Log.InfoContext(ctx, "slots sent", slog.Int(logkey.Slots, len(slots)))
	return nil
}

// HandleSQS ticks each slot the tick queue delivers, in due order, as a
// scheduled tick. A duplicate is processed once (its id is in the state); a
// slot more than one interval late is dropped and logged, as is a message
// that is not a slot of this formation: redelivering them could not help. A
// slot whose tick fails is reported in the partial batch response; by the
// time SQS redelivers it (the visibility timeout is the function's timeout)
// it is stale, so a failure is never retried more than once.
func (h *Handler) HandleSQS(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	if h.cfg.SettingsErr != nil {
		h.cfg.Log.ErrorContext(ctx, "configuration error", slog.String(logkey.Error, h.cfg.SettingsErr.Error()))
		return resp, &ConfigurationError{Err: h.cfg.SettingsErr}
	}
	type delivered struct {
		msgID string
		slot  Slot
	}
	var slots []delivered
	for _, r := range event.Records {
		var s Slot
		if err := json.Unmarshal([]byte(r.Body), &s); err != nil || s.Event == "" || s.Due.IsZero() {
			h.cfg.Log.WarnContext(ctx, "not a tick slot: dropped", slog.String(logkey.EventID, r.MessageId))
			continue
		}
		if s.App != h.cfg.Settings.AppName || s.ProcessType != h.cfg.Settings.ProcessType {
			h.cfg.Log.WarnContext(ctx, "slot of another formation: dropped", slog.String(logkey.EventID, s.ID()),
				slog.String(logkey.App, s.App), slog.String(logkey.ProcessType, s.ProcessType))
			continue
		}
		slots = append(slots, delivered{r.MessageId, s})
	}
	slices.SortStableFunc(slots, func(a, b delivered) int { return a.slot.Due.Compare(b.slot.Due) })

	for _, d := range slots {
		s := d.slot
		if late := h.cfg.Now().Sub(s.Due); late > h.cfg.Settings.HeartbeatInterval {
			h.cfg.Log.WarnContext(ctx, "stale slot dropped", slog.String(logkey.EventID, s.ID()),
				slog.Int(logkey.Slot, s.Slot), slog.Time(logkey.DueAt, s.Due), slog.Duration(logkey.Late, late))
			continue
		}
		if _, err := h.tick(ctx, s.ID()); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: d.msgID})
		}
	}
	return resp, nil
}

// Invoke takes either event: the schedule's (EventBridge) or the tick
// queue's (SQS). It is what main hands to the Lambda runtime.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	_ = json.Unmarshal(raw, &probe) // anything else is taken for a scheduled event
	if len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs" {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode SQS event: %w", err)
		}
		return h.HandleSQS(ctx, ev)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("decode scheduled event: %w", err)
	}
	return h.Handle(ctx, ev)
}
