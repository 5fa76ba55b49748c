// Package lambdafn is the Lambda handler: one scheduled event, one tick of
// every formation.
package lambdafn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/snsnotify"
	"github.com/autoscalebot/autoscalebot/internal/ssmkey"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Config is what main hands over: the formations as loaded (or why they
// could not be), the AWS configuration and the logger.
type Config struct {
	// Formations are what settingsfile.LoadLambda returns: without a
	// settings file, the one formation of the environment.
	Formations []settingsfile.Formation
	// Fleet says the formations come from a settings file: an invocation
	// then returns a FleetResult, fails with a FleetError naming each failed
	// formation, and writes the fleet's metrics (metrics.Scope).
	Fleet bool
	// FunctionName is the fleet metrics' Fleet dimension.
	FunctionName string
	SettingsErr  error
	AWS          aws.Config
	Log          *slog.Logger
	Now          func() time.Time // time.Now when nil
	Metrics      io.Writer        // where EMF lines go; os.Stdout when nil
	// Transport carries the Heroku calls and the heartbeat probe; nil: the
	// network. The in-process benchmark answers them from memory.
	Transport http.RoundTripper
}

// ConfigurationError fails every invocation while the settings are bad. Its
// name is what Lambda reports as the errorType.
type ConfigurationError struct{ Err error }

func (e *ConfigurationError) Error() string { return "configuration: " + e.Err.Error() }
func (e *ConfigurationError) Unwrap() error { return e.Err }

// Handler ticks every formation per scheduled event, and the formations of
// each slot the tick queue delivers.
type Handler struct {
	cfg      Config
	shared   settings.Settings // the stack-wide settings (table, topic, queue, interval): the same in every formation
	members  []*member         // in the settings file's order
	byKey    map[state.Key]*member
	queue    queueSender // the tick queue; nil at a 60 s interval without a fleet
	ddb      dynamostore.API
	notifier tick.Notifier // nil: notices go to the log
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
	if cfg.SettingsErr == nil && len(cfg.Formations) == 0 {
		cfg.SettingsErr = errors.New("no formation to tick")
	}
	h := &Handler{cfg: cfg, byKey: map[state.Key]*member{}}
	if cfg.SettingsErr != nil {
		return h
	}
	formations := cfg.Formations
	h.shared = formations[0].Settings
	keys := ssm.NewFromConfig(cfg.AWS)
	accounts := map[string]*herokuapi.Account{} // by where the key comes from
	tokens := map[string]*secret.Source{}       // by the SSM parameter the heartbeat token comes from
	for _, f := range formations {
		m := &member{name: f.Name, s: f.Settings}
		h.members = append(h.members, m)
		h.byKey[m.key()] = m
		acct := accountKey(f.Settings)
		if accounts[acct] == nil {
			accounts[acct] = h.newAccount(keySource(f.Settings, keys))
		}
		m.account = accounts[acct]
		if name := f.Settings.HeartbeatTokenParameter; name != "" {
			if tokens[name] == nil {
				tokens[name] = secret.NewSource("heartbeat token", func(ctx context.Context) (secret.Value, error) {
					return ssmkey.ReadAs(ctx, keys, name, "heartbeat token")
				}, cfg.Now, cfg.Log)
			}
			m.token = tokens[name]
		}
	}
	h.ddb = dynamodb.NewFromConfig(cfg.AWS)
	if h.shared.TopicARN != "" {
		h.notifier = snsnotify.New(sns.NewFromConfig(cfg.AWS), h.shared.TopicARN)
	}
	if h.shared.TickQueueURL != "" {
		h.queue = sqs.NewFromConfig(cfg.AWS)
	}
	return h
}

// Prepare starts reading the API keys ahead of the first invocation, so
// that the SSM round trips overlap the runtime's own start, and builds the
// tickers the scheduled invocation will run (none for a fanned-out fleet: a
// queue invocation builds those of its batch). A failure is left to the
// invocation, which reads the key again and reports it.
func (h *Handler) Prepare(ctx context.Context) {
	if h.cfg.SettingsErr != nil {
		return
	}
	jobs := make([]job, len(h.members))
	for i, m := range h.members {
		jobs[i] = job{m: m}
	}
	h.begin(ctx, jobs)
	if h.fanOut() {
		return
	}
	for _, m := range h.members {
		h.tickerOf(m)
	}
}

// newAccount returns the Heroku account whose API key readKey reads.
func (h *Handler) newAccount(readKey func(context.Context) (secret.Value, error)) *herokuapi.Account {
	var opts []herokuapi.Option
	if h.cfg.Transport != nil {
		opts = append(opts, herokuapi.WithTransport(h.cfg.Transport))
	}
	key := secret.NewSource("heroku API key", readKey, h.cfg.Now, h.cfg.Log)
	return herokuapi.NewAccount(key, func(key secret.Value) herokuapi.API {
		return herokuapi.New(h.shared.APIURL, key, opts...)
	})
}

// keySource returns how to read the Heroku API key: from the SSM parameter,
// or (without one) the key given in the environment, which cannot change
// while the environment lives.
func keySource(s settings.Settings, keys ssmkey.API) func(context.Context) (secret.Value, error) {
	if s.APIKeyParameter == "" {
		return func(context.Context) (secret.Value, error) {
			if s.APIKey.IsZero() {
				return secret.Value{}, errors.New("no Heroku API key: set " + settings.EnvAPIKeyParameter)
			}
			return s.APIKey, nil
		}
	}
	return func(ctx context.Context) (secret.Value, error) {
		return ssmkey.Read(ctx, keys, s.APIKeyParameter)
	}
}

var (
	_ tick.Store     = (*dynamostore.Store)(nil)
	_ tick.Formation = (*herokuapi.Account)(nil)
	_ tick.Formation = (*herokuapi.DryRun)(nil)
	_ tick.Prober    = (*probe.Prober)(nil)
	_ tick.Prober    = tokenProber{}
	_ tick.Notifier  = (*snsnotify.Notifier)(nil)
	_ tick.Notifier  = (*notify.Log)(nil)
)
