package lambdafn_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// TestWarmHandlerFollowsKeyRotation runs one handler (one warm execution
// environment) through rotations of the key in moto's SSM, with the fake
// Platform API accepting only the newest key, on a clock the test moves.
func TestWarmHandlerFollowsKeyRotation(t *testing.T) {
	keys := []string{"HRKU-warm-key-a", "HRKU-warm-key-b", "HRKU-warm-key-c", "HRKU-warm-key-d"}
	for _, dryRun := range []bool{false, true} {
		t.Run("dry run "+strconv.FormatBool(dryRun), func(t *testing.T) {
			const app = "rotation-app"
			f := newFixture(t, keys[0], app, 0)
			f.putKey(t, keys[0])
			s, err := f.settings(app, map[string]string{
				settings.EnvDryRun: strconv.FormatBool(dryRun),
			})
			if err != nil {
				t.Fatal(err)
			}
			clock, advance := movingClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
			var logs strings.Builder
			h := lambdafn.New(lambdafn.Config{Formations: oneFormation(s), AWS: f.cfg, Now: clock,
				Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &logs})

			ticks := 0
			// tick runs one invocation and returns the statuses of the
			// Heroku requests it made.
			tick := func(t *testing.T) ([]int, error) {
				t.Helper()
				before := len(f.heroku.Requests())
				ticks++
				_, err := h.Handle(f.ctx, events.EventBridgeEvent{ID: fmt.Sprintf("ev-%d", ticks)})
				var got []int
				for _, r := range f.heroku.Requests()[before:] {
					got = append(got, r.Status)
				}
				return got, err
			}
			steps := []struct {
				name    string
				arrange func(t *testing.T)
				want    []int // Heroku statuses of the tick
				wantErr error
			}{
				{name: "cold start with key a", arrange: func(*testing.T) {}, want: []int{200}},
				{name: "key b stored, a still valid: not read before the interval", arrange: func(t *testing.T) {
					f.putKey(t, keys[1])
					advance(secret.RefreshInterval - time.Second)
				}, want: []int{200}},
				{name: "a revoked once the interval is over: b read first, no refusal", arrange: func(*testing.T) {
					f.heroku.SetToken(keys[1])
					advance(time.Second)
				}, want: []int{200}},
				{name: "c stored and b revoked at once: one refusal, then c", arrange: func(t *testing.T) {
					f.putKey(t, keys[2])
					f.heroku.SetToken(keys[2])
					advance(time.Minute)
				}, want: []int{401, 200}},
				{name: "parameter unreadable at the periodic read: the tick goes on with c", arrange: func(t *testing.T) {
					if _, err := ssm.NewFromConfig(f.cfg).DeleteParameter(f.ctx, &ssm.DeleteParameterInput{Name: aws.String(f.param)}); err != nil {
						t.Fatal(err)
					}
					advance(secret.RefreshInterval)
				}, want: []int{200}},
				{name: "c revoked, c stored again: one refusal, no loop", arrange: func(t *testing.T) {
					f.putKey(t, keys[2])
					f.heroku.SetToken(keys[3])
					advance(time.Minute)
				}, want: []int{401}, wantErr: herokuapi.ErrUnauthorized},
			}
			for _, st := range steps {
				st.arrange(t)
				got, err := tick(t)
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("%s: error %v, want %v", st.name, err, st.wantErr)
				}
				if !slices.Equal(got, st.want) {
					t.Fatalf("%s: Heroku statuses %v, want %v", st.name, got, st.want)
				}
			}
			if !strings.Contains(logs.String(), f.param) {
				t.Errorf("the failed read does not name the parameter %s in the logs:\n%s", f.param, logs.String())
			}
			if n := f.heroku.Count(http.MethodPatch); n != 0 {
				t.Errorf("%d PATCH requests, want none (the app sits at its minimum)", n)
			}
			for _, k := range keys {
				if strings.Contains(logs.String(), k) {
					t.Errorf("key %s is in the logs:\n%s", k, logs.String())
				}
			}
		})
	}
}
