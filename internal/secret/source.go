package secret

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
)

// RefreshInterval is the longest a warm execution environment goes on with
// a secret it read from where it lives before reading it again. Lambda
// keeps an environment for hours, so without it a rotated key would reach
// the function only at its next cold start; a refused one is read again at
// once.
const RefreshInterval = 5 * time.Minute

// readTimeout bounds one read, the SDK's retries included, so a slow SSM
// cannot eat the tick's time.
const readTimeout = 5 * time.Second

// ErrNotStarted is Value's error before any Start: nothing was read.
var ErrNotStarted = errors.New("not read: no invocation has started")

// Source is a secret read from where it lives (an SSM parameter, the
// environment) that may be rotated while the execution environment lives.
// Everyone who uses it shares it: each invocation starts a round (Start),
// which reads it the first time, and again once the value in use is older
// than RefreshInterval; a user that saw it refused may read it again, at
// most once a round (Refused). It is safe for concurrent use.
type Source struct {
	what string // "heroku API key", "heartbeat token": the log lines' subject
	read func(ctx context.Context) (Value, error)
	now  func() time.Time
	log  *slog.Logger

	startMu sync.Mutex // held while a round starts: rounds read one at a time
	round   atomic.Pointer[round]

	mu            sync.Mutex
	value         Value
	readAt        time.Time
	readOnRefusal bool // this round has already read it after a refusal
}

// round is one invocation's start: done closes once the secret can be used
// (read the first time, or again when due) or err says why it cannot.
type round struct {
	done chan struct{}
	err  error
}

// NewSource returns a source that reads the secret with read, which must
// name where the secret lives in its errors, never the secret. Nothing is
// read before the first Start.
func NewSource(what string, read func(context.Context) (Value, error), now func() time.Time, log *slog.Logger) *Source {
	return &Source{what: what, read: read, now: now, log: log}
}

// Start begins a round and does not wait for it: the first read (a failure
// is not kept: the next round reads again), or a read again when due. A
// failed read again is logged and the round goes on with the value in use.
// The returned channel closes when the round is done.
func (s *Source) Start(ctx context.Context) <-chan struct{} {
	r := &round{done: make(chan struct{})}
	s.round.Store(r)
	go func() {
		defer close(r.done)
		r.err = s.start(ctx)
	}()
	return r.done
}

func (s *Source) start(ctx context.Context) error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.mu.Lock()
	first := s.value.IsZero()
	s.readOnRefusal = false
	stale := s.now().Sub(s.readAt) >= RefreshInterval
	s.mu.Unlock()
	if !first {
		if stale {
			s.reread(ctx, "interval")
		}
		return nil
	}
	value, err := s.fetch(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.value, s.readAt = value, s.now()
	return nil
}

// Value waits for the latest round and returns the value in use, or the
// round's error.
func (s *Source) Value(ctx context.Context) (Value, error) {
	r := s.round.Load()
	if r == nil {
		return Value{}, ErrNotStarted
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return Value{}, ctx.Err()
	}
	if r.err != nil {
		return Value{}, r.err
	}
	return s.Current(), nil
}

// Current is the value in use, without waiting: zero before the first read.
func (s *Source) Current() Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// Refused reads the secret again after its user saw it refused, the first
// time this round, and reports whether it changed (worth trying again).
func (s *Source) Refused(ctx context.Context) bool {
	s.mu.Lock()
	again := !s.readOnRefusal
	s.readOnRefusal = true
	s.mu.Unlock()
	return again && s.reread(ctx, "refusal")
}

// reread reads the secret and keeps it; it reports whether it changed. why
// ("interval" or "refusal") goes into the log lines.
func (s *Source) reread(ctx context.Context, why string) bool {
	value, err := s.fetch(ctx)
	if err != nil {
		s.log.WarnContext(ctx, s.what+" not read again: keeping the one in use",
			slog.String(logkey.Trigger, why), slog.String(logkey.Error, err.Error()))
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readAt = s.now()
	if value.Reveal() == s.value.Reveal() {
		return false
	}
	s.value = value
	s.log.InfoContext(ctx, s.what+" changed: using the new one", slog.String(logkey.Trigger, why))
	return true
}

func (s *Source) fetch(ctx context.Context) (Value, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	value, err := s.read(ctx)
	if err == nil && value.IsZero() {
		err = fmt.Errorf("read %s: it is empty", s.what)
	}
	return value, err
}
