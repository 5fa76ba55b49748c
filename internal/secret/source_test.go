package secret_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// TestSourceRounds: what a user of a Source gets from each invocation's
// round, with the store and the clock as function fields.
func TestSourceRounds(t *testing.T) {
	errStore := errors.New(`read heroku API key from SSM parameter "/k": throttled`)
	type round struct {
		after   time.Duration // since the first round
		stored  string        // what the store holds; "" with err
		err     error         // the store's answer
		refused bool          // the user says the value in use was refused
		want    string        // the value the round gives
		wantErr string        // or the error it names
		changed bool          // what Refused reports
	}
	tests := []struct {
		name   string
		rounds []round
		reads  int
	}{
		{name: "read once, kept within the interval",
			rounds: []round{{stored: "a", want: "a"}, {after: secret.RefreshInterval - time.Second, stored: "b", want: "a"}},
			reads:  1},
		{name: "read again once the interval has passed",
			rounds: []round{{stored: "a", want: "a"}, {after: secret.RefreshInterval, stored: "b", want: "b"}},
			reads:  2},
		{name: "a failed first read is not kept: the next round reads again",
			rounds: []round{{err: errStore, wantErr: "throttled"}, {stored: "a", want: "a"}},
			reads:  2},
		{name: "an empty value is an error naming the secret",
			rounds: []round{{stored: "", wantErr: "read heroku API key: it is empty"}},
			reads:  1},
		{name: "a failed read again keeps the value in use",
			rounds: []round{{stored: "a", want: "a"}, {after: time.Hour, err: errStore, want: "a"}},
			reads:  2},
		{name: "a refusal reads again and reports the change",
			rounds: []round{{stored: "a", want: "a"}, {after: time.Minute, stored: "b", refused: true, want: "b", changed: true}},
			reads:  2},
		{name: "a refusal with the value unchanged",
			rounds: []round{{stored: "a", want: "a"}, {after: time.Minute, stored: "a", refused: true, want: "a"}},
			reads:  2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
			now, reads := t0, 0
			var stored string
			var storeErr error
			var logs strings.Builder
			s := secret.NewSource("heroku API key", func(context.Context) (secret.Value, error) {
				reads++
				return secret.New(stored), storeErr
			}, func() time.Time { return now }, slog.New(slog.NewJSONHandler(&logs, nil)))
			for i, r := range tt.rounds {
				now, stored, storeErr = t0.Add(r.after), r.stored, r.err
				<-s.Start(t.Context())
				got, err := s.Value(t.Context())
				if r.refused {
					if changed := s.Refused(t.Context()); changed != r.changed {
						t.Errorf("round %d: Refused = %t, want %t", i, changed, r.changed)
					}
					got = s.Current()
				}
				if r.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), r.wantErr) {
						t.Errorf("round %d: err = %v, want it to say %q", i, err, r.wantErr)
					}
					continue
				}
				if err != nil || got.Reveal() != r.want {
					t.Errorf("round %d: %q, %v; want %q", i, got.Reveal(), err, r.want)
				}
			}
			if reads != tt.reads {
				t.Errorf("%d reads, want %d", reads, tt.reads)
			}
			if strings.Contains(logs.String(), `"a"`) || strings.Contains(logs.String(), `"b"`) {
				t.Errorf("a value in the logs:\n%s", logs.String())
			}
		})
	}
}

// TestSourceValueWaits: before any round there is nothing to give, and a
// user waiting on a slow read stops with its ctx.
func TestSourceValueWaits(t *testing.T) {
	release := make(chan struct{})
	s := secret.NewSource("heartbeat token", func(ctx context.Context) (secret.Value, error) {
		select {
		case <-release:
			return secret.New("t"), nil
		case <-ctx.Done():
			return secret.Value{}, ctx.Err()
		}
	}, time.Now, slog.New(slog.DiscardHandler))
	if _, err := s.Value(t.Context()); !errors.Is(err, secret.ErrNotStarted) {
		t.Errorf("before Start: %v, want ErrNotStarted", err)
	}
	done := s.Start(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Value(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting past ctx: %v, want DeadlineExceeded", err)
	}
	close(release)
	<-done
	if v, err := s.Value(t.Context()); err != nil || v.Reveal() != "t" {
		t.Errorf("after the read: %q, %v", v.Reveal(), err)
	}
}
