package lambdafn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

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

// Slot is the body of one tick queue message: one slot of the minute for a
// batch of formations.
type Slot struct {
	Formations []SlotFormation `json:"formations"`
	Slot       int             `json:"slot"`  // 0 (a fanned-out fleet's first tick) .. slots per minute − 1
	Due        time.Time       `json:"due"`   // the scheduled time plus slot × interval
	Event      string          `json:"event"` // the scheduled event's id
}

// SlotFormation names a formation in a Slot.
type SlotFormation struct {
	App         string `json:"app"`
	ProcessType string `json:"processType"`
}

// formationsPerMessage bounds the formations of one message. The queue's
// event source mapping hands an invocation up to 10 messages, and an
// invocation ticks all of its formations at once, so it never ticks more
// than 100 (a fleet's scheduled invocation at most FanOutAbove).
const formationsPerMessage = 10

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
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ queueSender = (*sqs.Client)(nil)

// minuteSlots returns the slots of the minute that starts at scheduled which
// are still ahead of now, without their formations; the scheduled
// invocation's own tick stands for any already due. With first, slot 0 is
// among them, due at once: a fleet too large to tick in the scheduled
// invocation sends its first tick to the queue too.
func minuteSlots(eventID string, scheduled, now time.Time, interval time.Duration, first bool) []Slot {
	var out []Slot
	if first {
		out = append(out, Slot{Slot: 0, Due: scheduled.UTC(), Event: eventID})
	}
	if interval <= 0 || interval >= scheduleInterval {
		return out
	}
	for n := 1; time.Duration(n)*interval < scheduleInterval; n++ {
		due := scheduled.Add(time.Duration(n) * interval)
		if !due.After(now) {
			continue
		}
		out = append(out, Slot{Slot: n, Due: due.UTC(), Event: eventID})
	}
	return out
}

// batches splits the fleet into groups of at most formationsPerMessage,
// keeping each app's formations together where they fit: the formations of
// one app ticked in one invocation share one read of the app's formation
// list (one Heroku token for all of them).
func batches(members []*member) [][]*member {
	var apps [][]*member
	index := map[string]int{}
	for _, m := range members {
		i, ok := index[m.s.AppName]
		if !ok {
			i = len(apps)
			index[m.s.AppName] = i
			apps = append(apps, nil)
		}
		apps[i] = append(apps[i], m)
	}
	var out [][]*member
	var cur []*member
	for _, app := range apps {
		if len(cur)+len(app) > formationsPerMessage && len(cur) > 0 {
			out, cur = append(out, cur), nil
		}
		for len(app) > formationsPerMessage {
			out, app = append(out, app[:formationsPerMessage]), app[formationsPerMessage:]
		}
		cur = append(cur, app...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// messages is one message per slot and batch.
func messages(slots []Slot, groups [][]*member) []Slot {
	var out []Slot
	for _, s := range slots {
		for _, g := range groups {
			m := s
			m.Formations = make([]SlotFormation, len(g))
			for i, f := range g {
				m.Formations[i] = SlotFormation{App: f.s.AppName, ProcessType: f.s.ProcessType}
			}
			out = append(out, m)
		}
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

// sendBatchLimit is SendMessageBatch's most entries per request, and
// sendParallel how many requests a large fleet's slots go out in at once.
const (
	sendBatchLimit = 10
	sendParallel   = 4
)

// sendResult is what enqueue sent, and the first reason it could not send more.
type sendResult struct {
	messages int
	err      error
}

// enqueue sends the messages, ten to a request. A refused request or entry
// is reported, not retried: the next minute's slots are the retry.
func (h *Handler) enqueue(ctx context.Context, q queueSender, msgs []Slot) sendResult {
	if len(msgs) == 0 {
		return sendResult{}
	}
	now := h.cfg.Now()
	var requests []*sqs.SendMessageBatchInput
	for i, s := range msgs {
		body, err := json.Marshal(s)
		if err != nil {
			return sendResult{err: fmt.Errorf("encode slot %d: %w", s.Slot, err)}
		}
		if i%sendBatchLimit == 0 {
			requests = append(requests, &sqs.SendMessageBatchInput{QueueUrl: aws.String(h.shared.TickQueueURL)})
		}
		in := requests[len(requests)-1]
		in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
			Id:           aws.String("m" + strconv.Itoa(i)),
			MessageBody:  aws.String(string(body)),
			DelaySeconds: delaySeconds(s.Due, now),
		})
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		result sendResult
		turn   = make(chan struct{}, sendParallel)
	)
	for _, in := range requests {
		turn <- struct{}{}
		wg.Go(func() {
			defer func() { <-turn }()
			sent, err := sendBatch(ctx, q, in)
			mu.Lock()
			defer mu.Unlock()
			result.messages += sent
			if err != nil && result.err == nil {
				result.err = err
			}
		})
	}
	wg.Wait()
	if result.messages > 0 {
		h.cfg.Log.InfoContext(ctx, "slots sent", slog.Int(logkey.Slots, len(msgs)), slog.Int(logkey.Messages, result.messages))
	}
	return result
}

// sendBatch sends one request and says how many of its messages SQS took.
func sendBatch(ctx context.Context, q queueSender, in *sqs.SendMessageBatchInput) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	out, err := q.SendMessageBatch(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("send %d slots: %w", len(in.Entries), err)
	}
	if len(out.Failed) > 0 {
		f := out.Failed[0]
		return len(in.Entries) - len(out.Failed), fmt.Errorf("send slots: %d of %d refused, first %s: %s %s",
			len(out.Failed), len(in.Entries), aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return len(in.Entries), nil
}
