package lambdafn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// One invocation, in call order: Invoke takes the event, Handle ticks a
// scheduled one and HandleSQS the tick queue's slots; both run their jobs.

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
	res, err := h.Handle(ctx, ev)
	if !h.cfg.Fleet {
		return single(res, err)
	}
	return res, err
}

// Handle ticks every formation for a scheduled event (slot 0) and, with an
// interval under a minute, sends the minute's later slots to the tick queue
// at the same time. A fleet of more than FanOutAbove formations is not
// ticked here: slot 0 goes to the queue too, so Lambda runs its batches in
// parallel. The event id makes a duplicated delivery a no-op. A failure is
// a FleetError naming each failed formation.
func (h *Handler) Handle(ctx context.Context, event events.EventBridgeEvent) (FleetResult, error) {
	if h.cfg.SettingsErr != nil {
		h.cfg.Log.ErrorContext(ctx, "configuration error", slog.String(logkey.Error, h.cfg.SettingsErr.Error()))
		return FleetResult{}, &ConfigurationError{Err: h.cfg.SettingsErr}
	}
	fanOut := h.fanOut()
	var sent chan sendResult
	if h.queue != nil {
		// Slots are due from the scheduled time, not from when this
		// invocation started, so a slow cold start does not shift them.
		now := h.cfg.Now()
		scheduled := event.Time
		if scheduled.IsZero() || scheduled.After(now) {
			scheduled = now
		}
		msgs := messages(minuteSlots(event.ID, scheduled, now, h.shared.HeartbeatInterval, fanOut), batches(h.members))
		sent = make(chan sendResult, 1)
		go func() { sent <- h.enqueue(ctx, h.queue, msgs) }()
	}
	var outs []outcome
	if !fanOut {
		jobs := make([]job, len(h.members))
		for i, m := range h.members {
			jobs[i] = job{m: m, id: event.ID}
		}
		outs = h.run(ctx, jobs)
	}
	var queueErr error
	var messagesSent int
	if sent != nil {
		r := <-sent
		messagesSent = r.messages
		if r.err != nil {
			h.cfg.Log.ErrorContext(ctx, "the minute's slots were not sent", slog.String(logkey.Error, r.err.Error()))
			// Failing the invocation lets the error alarm see a queue the
			// function cannot use; the ticks themselves are done.
			queueErr = fmt.Errorf("tick queue: %w", r.err)
		}
	}
	res, err := fleetResult(outs)
	res.Messages = messagesSent
	if fanOut {
		res.FannedOut = len(h.members)
	}
	h.logFleet(ctx, outs, messagesSent)
	if queueErr != nil {
		err = errors.Join(err, queueErr)
	}
	return res, err
}

// HandleSQS ticks the formations of each slot the tick queue delivers, as
// a scheduled tick, all at once (two slots of one formation one after the
// other, in due order). A duplicate is processed once (its id is in the
// formation's state); a slot more than one interval late is dropped and
// logged, as is a formation the settings no longer hold or a message that
// is not a slot: redelivering them could not help. A message with a
// formation whose tick failed is reported in the partial batch response; by
// the time SQS redelivers it (the visibility timeout is the function's
// timeout) it is stale, so a failure is never retried more than once, and
// its formations that did tick are duplicates then.
func (h *Handler) HandleSQS(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	if h.cfg.SettingsErr != nil {
		h.cfg.Log.ErrorContext(ctx, "configuration error", slog.String(logkey.Error, h.cfg.SettingsErr.Error()))
		return resp, &ConfigurationError{Err: h.cfg.SettingsErr}
	}
	type delivered struct {
		msgID string
		due   time.Time
		job   job
	}
	var all []delivered
	for _, r := range event.Records {
		var s Slot
		if err := json.Unmarshal([]byte(r.Body), &s); err != nil || s.Event == "" || s.Due.IsZero() || len(s.Formations) == 0 {
			h.cfg.Log.WarnContext(ctx, "not a tick slot: dropped", slog.String(logkey.EventID, r.MessageId))
			continue
		}
		if late := h.cfg.Now().Sub(s.Due); late > h.shared.HeartbeatInterval {
			h.cfg.Log.WarnContext(ctx, "stale slot dropped", slog.String(logkey.EventID, s.ID()),
				slog.Int(logkey.Slot, s.Slot), slog.Time(logkey.DueAt, s.Due), slog.Duration(logkey.Late, late),
				slog.Int(logkey.Formations, len(s.Formations)))
			continue
		}
		for _, f := range s.Formations {
			m := h.byKey[state.Key{App: f.App, ProcessType: f.ProcessType}]
			if m == nil {
				h.cfg.Log.WarnContext(ctx, "slot of another formation: dropped", slog.String(logkey.EventID, s.ID()),
					slog.String(logkey.App, f.App), slog.String(logkey.ProcessType, f.ProcessType))
				continue
			}
			all = append(all, delivered{msgID: r.MessageId, due: s.Due, job: job{m: m, id: s.ID()}})
		}
	}
	slices.SortStableFunc(all, func(a, b delivered) int { return a.due.Compare(b.due) })
	jobs := make([]job, len(all))
	for i, d := range all {
		jobs[i] = d.job
	}
	outs := h.run(ctx, jobs)
	failed := map[string]bool{}
	for i, o := range outs {
		if id := all[i].msgID; o.err != nil && !failed[id] {
			failed[id] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
	}
	h.logFleet(ctx, outs, 0)
	return resp, nil
}

// run ticks every job at the same time and returns their outcomes in the
// jobs' order. Jobs of one formation run one after another, in the order
// given (a batch may hold two slots of one formation); different formations
// never wait for each other. Their number is bounded by construction: a
// scheduled invocation ticks at most FanOutAbove formations, a queue
// delivery at most a batch of messages of formationsPerMessage each.
func (h *Handler) run(ctx context.Context, jobs []job) []outcome {
	out := make([]outcome, len(jobs))
	rounds := h.begin(ctx, jobs)
	byMember := map[*member][]int{}
	var order []*member
	for i, j := range jobs {
		if _, seen := byMember[j.m]; !seen {
			order = append(order, j.m)
		}
		byMember[j.m] = append(byMember[j.m], i)
	}
	var wg sync.WaitGroup
	for _, m := range order {
		wg.Go(func() {
			for _, i := range byMember[m] {
				out[i] = h.tickOne(ctx, jobs[i])
			}
		})
	}
	wg.Wait()
	// A tick that made no Heroku call (a duplicate) did not wait for its
	// account: the key read must not outlive the invocation.
	for _, done := range rounds {
		<-done
	}
	return out
}

// tickOne runs one job and writes its metrics.
func (h *Handler) tickOne(ctx context.Context, j job) outcome {
	m := j.m
	sum, err := h.tickerOf(m).Tick(ctx, j.id)
	h.writeMetrics(ctx, sum, err != nil)
	if err != nil {
		h.cfg.Log.ErrorContext(ctx, "tick failed", slog.String(logkey.Formation, m.name),
			slog.String(logkey.EventID, j.id), slog.String(logkey.Error, err.Error()))
	}
	return outcome{m: m, sum: sum, err: err}
}

// tickerOf returns m's ticker, building it the first time.
func (h *Handler) tickerOf(m *member) *tick.Ticker {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ticker != nil {
		return m.ticker
	}
	var formation tick.Formation = m.account
	if m.s.DryRun {
		// Over the account: a dry run's pretend scale must not change
		// what the app's other formations read.
		formation = herokuapi.NewDryRun(formation, 0)
	}
	var notifier tick.Notifier = notify.NewLog(h.cfg.Log)
	if h.notifier != nil {
		notifier = h.notifier
	}
	prober := tick.NewProber(m.s)
	if h.cfg.Transport != nil {
		prober.Client.Transport = h.cfg.Transport
	}
	var probes tick.Prober = prober
	if m.token != nil {
		probes = tokenProber{token: m.token, prober: prober}
	}
	m.ticker = &tick.Ticker{
		Settings:  m.s,
		Store:     dynamostore.New(h.ddb, m.s.TableName, m.s.HistoryTTL),
		Formation: formation,
		Prober:    probes,
		Notifier:  notifier,
		Log:       h.cfg.Log,
		Now:       h.cfg.Now,
	}
	return m.ticker
}
