// Package lambdafn is the Lambda handler: one scheduled event, one tick.
package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/snsnotify"
	"github.com/autoscalebot/autoscalebot/internal/ssmkey"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Config is what main hands over: the settings as loaded (or why they
// could not be), the AWS configuration and the logger.
type Config struct {
	Settings    settings.Settings
	SettingsErr error
	AWS         aws.Config
	Log         *slog.Logger
	Now         func() time.Time // time.Now when nil
	Metrics     io.Writer        // where EMF lines go; os.Stdout when nil
	// Transport carries the Heroku calls and the heartbeat probe; nil: the
	// network. The in-process benchmark answers them from memory.
	Transport http.RoundTripper
}

// ConfigurationError fails every invocation while the settings are bad. Its
// name is what Lambda reports as the errorType.
type ConfigurationError struct{ Err error }

func (e *ConfigurationError) Error() string { return "configuration: " + e.Err.Error() }
func (e *ConfigurationError) Unwrap() error { return e.Err }

// Handler runs one tick per scheduled event, and one per slot the tick
// queue delivers.
type Handler struct {
	cfg   Config
	queue queueSender // the tick queue; nil at a 60 s interval

	mu     sync.Mutex
	ticker *tick.Ticker       // built on the first invocation that can read the key
	heroku *rotatingFormation // the ticker's formation, under any dry-run wrapper
}

// New returns a handler. A configuration error does not stop it: each
// invocation then fails with the error, so it reaches the invocation result,
// the Errors metric and the alarm instead of a bare "Runtime exited".
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = os.Stdout
	}
	h := &Handler{cfg: cfg}
	if cfg.SettingsErr == nil && cfg.Settings.TickQueueURL != "" {
		h.queue = newSQSClient(cfg.AWS)
	}
	return h
}

// Handle runs one tick for a scheduled event (slot 0) and, with an interval
// under a minute, sends the minute's later slots to the tick queue at the
// same time. The event id makes a duplicated delivery a no-op.
func (h *Handler) Handle(ctx context.Context, event events.EventBridgeEvent) (tick.Summary, error) {
	if h.cfg.SettingsErr != nil {
		h.cfg.Log.ErrorContext(ctx, "configuration error", slog.String(logkey.Error, h.cfg.SettingsErr.Error()))
		return tick.Summary{}, &ConfigurationError{Err: h.cfg.SettingsErr}
	}
	var sent chan error
	if h.queue != nil {
		// Slots are due from the scheduled time, not from when this
		// invocation started, so a slow cold start does not shift them.
		now := h.cfg.Now()
		scheduled := event.Time
		if scheduled.IsZero() || scheduled.After(now) {
			scheduled = now
		}
		s := h.cfg.Settings
		slots := laterSlots(s.AppName, s.ProcessType, event.ID, scheduled, now, s.HeartbeatInterval)
		sent = make(chan error, 1)
		go func() { sent <- h.enqueue(ctx, h.queue, slots) }()
	}
	sum, err := h.tick(ctx, event.ID)
	if sent != nil {
		if qerr := <-sent; qerr != nil {
			h.cfg.Log.ErrorContext(ctx, "the minute's later slots were not sent", slog.String(logkey.Error, qerr.Error()))
			// Failing the invocation lets the error alarm see a queue the
			// function cannot use; the tick itself is done.
			err = errors.Join(err, fmt.Errorf("tick queue: %w", qerr))
		}
	}
	return sum, err
}

// tick runs one tick with id and writes its metrics.
func (h *Handler) tick(ctx context.Context, id string) (tick.Summary, error) {
	t, heroku, err := h.tickerFor(ctx)
	if err != nil {
		h.cfg.Log.ErrorContext(ctx, "start-up failed", slog.String(logkey.Error, err.Error()))
		return tick.Summary{}, err
	}
	heroku.startTick(ctx)
	sum, err := t.Tick(ctx, id)
	h.writeMetrics(ctx, sum)
	if err != nil {
		h.cfg.Log.ErrorContext(ctx, "tick failed", slog.String(logkey.EventID, id), slog.String(logkey.Error, err.Error()))
		return sum, err
	}
	return sum, nil
}

// Prepare reads the API key and builds the ticker ahead of the first
// invocation, so that the SSM round trip overlaps the runtime's own start
// instead of adding to the first tick. A failure is left to the invocation,
// which reads the key again and reports it.
func (h *Handler) Prepare(ctx context.Context) {
	if h.cfg.SettingsErr == nil {
		_, _, _ = h.tickerFor(ctx)
	}
}

// writeMetrics writes the tick's CloudWatch metrics as one EMF log line.
func (h *Handler) writeMetrics(ctx context.Context, sum tick.Summary) {
	remaining, known := 0, false
	if sum.RateLimitRemaining != nil {
		remaining, known = *sum.RateLimitRemaining, true
	}
	if err := metrics.Write(h.cfg.Metrics, h.cfg.Now(), sum, remaining, known); err != nil {
		h.cfg.Log.WarnContext(ctx, "write metrics failed", slog.String(logkey.Error, err.Error()))
	}
}

// tickerFor builds the ticker once per cold start. Reading the key from SSM
// is retried on the next invocation if it fails, not cached as a failure.
func (h *Handler) tickerFor(ctx context.Context) (*tick.Ticker, *rotatingFormation, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ticker != nil {
		return h.ticker, h.heroku, nil
	}
	s := h.cfg.Settings
	heroku, err := newRotatingFormation(ctx, keySource(s, h.cfg.AWS),
		func(key secret.Value) herokuClient { return herokuapi.New(s.APIURL, key, h.herokuOptions()...) },
		h.cfg.Now, h.cfg.Log)
	if err != nil {
		return nil, nil, err
	}
	var formation tick.Formation = heroku
	if s.DryRun {
		formation = herokuapi.NewDryRun(formation, 0)
	}
	var notifier tick.Notifier = notify.NewLog(h.cfg.Log)
	if s.TopicARN != "" {
		notifier = snsnotify.New(snsnotify.NewClient(h.cfg.AWS), s.TopicARN)
	}
	prober := tick.NewProber(s)
	if h.cfg.Transport != nil {
		prober.Client.Transport = h.cfg.Transport
	}
	h.heroku = heroku
	h.ticker = &tick.Ticker{
		Settings:  s,
		Store:     dynamostore.New(dynamostore.NewClient(h.cfg.AWS), s.TableName, s.HistoryTTL),
		Formation: formation,
		Prober:    prober,
		Notifier:  notifier,
		Log:       h.cfg.Log,
		Now:       h.cfg.Now,
	}
	return h.ticker, h.heroku, nil
}

func (h *Handler) herokuOptions() []herokuapi.Option {
	if h.cfg.Transport == nil {
		return nil
	}
	return []herokuapi.Option{herokuapi.WithTransport(h.cfg.Transport)}
}

// keySource returns how to read the Heroku API key: from the SSM parameter,
// or (without one) the key given in the environment, which cannot change
// while the environment lives.
func keySource(s settings.Settings, cfg aws.Config) func(context.Context) (secret.Value, error) {
	if s.APIKeyParameter == "" {
		return func(context.Context) (secret.Value, error) {
			if s.APIKey.IsZero() {
				return secret.Value{}, errors.New("no Heroku API key: set " + settings.EnvAPIKeyParameter)
			}
			return s.APIKey, nil
		}
	}
	client := ssmkey.NewClient(cfg)
	return func(ctx context.Context) (secret.Value, error) {
		return ssmkey.Read(ctx, client, s.APIKeyParameter)
	}
}

var (
	_ tick.Store     = (*dynamostore.Store)(nil)
	_ tick.Formation = (*herokuapi.Client)(nil)
	_ tick.Formation = (*herokuapi.DryRun)(nil)
	_ tick.Prober    = (*probe.Prober)(nil)
	_ tick.Notifier  = (*snsnotify.Notifier)(nil)
	_ tick.Notifier  = (*notify.Log)(nil)
)
