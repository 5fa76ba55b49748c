package herokuapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/secret"
)

const (
	rotationApp = "rotation-app"
	keyA        = "HRKU-rotation-key-a"
	keyB        = "HRKU-rotation-key-b"
	keyC        = "HRKU-rotation-key-c"
	startAt     = 4 // dynos the fake formation runs
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// rotationRig is an Account that started with keyA, talking through the
// real Heroku client to the fake Platform API, with the key store and the
// clock as function fields.
type rotationRig struct {
	a      *herokuapi.Account
	heroku *herokusim.Server
	logs   *strings.Builder
	now    time.Time
	stored string // what the key store holds
	failed error  // when set, reading the key fails with it
	reads  int    // reads after the first one
	errs   []error
}

func newRotationRig(t *testing.T) *rotationRig {
	t.Helper()
	r := &rotationRig{heroku: herokusimtest.New(t, herokusim.WithToken(keyA)), logs: &strings.Builder{}, now: t0, stored: keyA}
	r.heroku.SetFormation(rotationApp, "web", startAt, "")
	read := func(context.Context) (secret.Value, error) {
		r.reads++
		if r.failed != nil {
			return secret.Value{}, r.failed
		}
		return secret.New(r.stored), nil
	}
	log := slog.New(slog.NewJSONHandler(r.logs, nil))
	key := secret.NewSource("heroku API key", read, func() time.Time { return r.now }, log)
	r.a = herokuapi.NewAccount(key, clientOf(r.heroku))
	r.start(t.Context()) // the first read
	r.reads = 0
	return r
}

// start begins the next invocation and waits for its key read.
func (r *rotationRig) start(ctx context.Context) { <-r.a.Start(ctx) }

// rotate stores key and makes Heroku accept only it.
func (r *rotationRig) rotate(key string) { r.stored = key; r.heroku.SetToken(key) }

func (r *rotationRig) statuses(method string) []int {
	var out []int
	for _, req := range r.heroku.Requests() {
		if req.Method == method {
			out = append(out, req.Status)
		}
	}
	return out
}

// checkNoKey fails t if any key appears in the logs or an error seen.
func (r *rotationRig) checkNoKey(t *testing.T) {
	t.Helper()
	for _, k := range []string{keyA, keyB, keyC} {
		if strings.Contains(r.logs.String(), k) {
			t.Errorf("key %s in the logs:\n%s", k, r.logs)
		}
		for _, err := range r.errs {
			if strings.Contains(err.Error(), k) {
				t.Errorf("key %s in error %q", k, err)
			}
		}
	}
}

// Operations a tick makes through an account, each returning its error.
var (
	getQuantity = func(ctx context.Context, a *herokuapi.Account) error {
		n, err := a.Quantity(ctx, rotationApp, "web")
		if err == nil && n != startAt {
			return errors.New("wrong quantity")
		}
		return err
	}
	scaleTo5    = func(ctx context.Context, a *herokuapi.Account) error { return a.Scale(ctx, rotationApp, "web", 5) }
	refreshRate = func(ctx context.Context, a *herokuapi.Account) error {
		_, err := a.RefreshRateLimit(ctx)
		return err
	}
)

func TestRefusedKeyIsReadAgain(t *testing.T) {
	errSSM := errors.New("read API key from SSM parameter \"/autoscalebot/key\": throttled")
	tests := []struct {
		name     string
		op       func(context.Context, *herokuapi.Account) error
		method   string
		accepted string // the key Heroku accepts
		stored   string // the key in the store when it is read again
		readErr  error
		fault    herokusim.Fault
		wantErr  error // nil: success
		want     []int // statuses of the op's requests, in order
		reads    int
		log      string // a fragment the logs must hold
	}{
		{name: "read refused, key rotated: read again with the new key", op: getQuantity, method: http.MethodGet,
			accepted: keyB, stored: keyB, want: []int{401, 200}, reads: 1, log: "using the new one"},
		{name: "scale refused, key rotated: the PATCH is made once more", op: scaleTo5, method: http.MethodPatch,
			accepted: keyB, stored: keyB, want: []int{401, 200}, reads: 1},
		{name: "rate-limit check refused, key rotated", op: refreshRate, method: http.MethodGet,
			accepted: keyB, stored: keyB, want: []int{401, 200}, reads: 1},
		{name: "refused, key unchanged: the refusal, no second call", op: getQuantity, method: http.MethodGet,
			accepted: keyB, stored: keyA, wantErr: herokuapi.ErrUnauthorized, want: []int{401}, reads: 1},
		{name: "forbidden (403), key unchanged", op: scaleTo5, method: http.MethodPatch,
			accepted: keyA, stored: keyA, fault: herokusim.Fault{Status: http.StatusForbidden},
			wantErr: herokuapi.ErrUnauthorized, want: []int{403}, reads: 1},
		{name: "refused, store unreadable: the refusal, the read failure logged", op: getQuantity, method: http.MethodGet,
			accepted: keyB, stored: keyB, readErr: errSSM, wantErr: herokuapi.ErrUnauthorized, want: []int{401}, reads: 1,
			log: "throttled"},
		{name: "new key refused too: one more call only", op: scaleTo5, method: http.MethodPatch,
			accepted: keyC, stored: keyB, wantErr: herokuapi.ErrUnauthorized, want: []int{401, 401}, reads: 1},
		{name: "rate limited: the key is not read", op: scaleTo5, method: http.MethodPatch,
			accepted: keyA, stored: keyB, fault: herokusim.Fault{Status: http.StatusTooManyRequests},
			wantErr: herokuapi.ErrRateLimited, want: []int{429}},
		{name: "unknown app: the key is not read", op: getQuantity, method: http.MethodGet,
			accepted: keyA, stored: keyB, fault: herokusim.Fault{Status: http.StatusNotFound},
			wantErr: herokuapi.ErrNotFound, want: []int{404}},
		{name: "server error: the key is not read", op: scaleTo5, method: http.MethodPatch,
			accepted: keyA, stored: keyB, fault: herokusim.Fault{Status: http.StatusServiceUnavailable},
			wantErr: herokuapi.ErrServer, want: []int{503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotationRig(t)
			ctx := context.Background()
			r.start(ctx)
			r.heroku.SetToken(tt.accepted)
			r.heroku.SetFault(tt.fault)
			r.stored, r.failed = tt.stored, tt.readErr

			err := tt.op(ctx, r.a)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if got := r.statuses(tt.method); !slices.Equal(got, tt.want) {
				t.Errorf("%s statuses = %v, want %v", tt.method, got, tt.want)
			}
			if r.reads != tt.reads {
				t.Errorf("key read %d times, want %d", r.reads, tt.reads)
			}
			if !strings.Contains(r.logs.String(), tt.log) {
				t.Errorf("logs lack %q:\n%s", tt.log, r.logs)
			}
			if err != nil {
				r.errs = append(r.errs, err)
			}
			r.checkNoKey(t)
		})
	}
}

// TestRefusalReadsTheKeyOncePerTick: a key that stays refused costs one read
// a tick, however many calls the tick makes; the next tick reads again.
func TestRefusalReadsTheKeyOncePerTick(t *testing.T) {
	r := newRotationRig(t)
	ctx := context.Background()
	r.heroku.SetToken(keyB) // revoked, and nothing new stored yet

	r.start(ctx)
	for _, op := range []func(context.Context, *herokuapi.Account) error{refreshRate, getQuantity, scaleTo5} {
		if err := op(ctx, r.a); !errors.Is(err, herokuapi.ErrUnauthorized) {
			t.Fatalf("first tick: error %v, want a refusal", err)
		}
	}
	if r.reads != 1 || len(r.heroku.Requests()) != 3 {
		t.Errorf("first tick: %d reads and %d requests, want 1 and 3", r.reads, len(r.heroku.Requests()))
	}

	r.stored = keyB // the new key arrives in the store
	r.now = r.now.Add(time.Minute)
	r.start(ctx)
	if err := getQuantity(ctx, r.a); err != nil {
		t.Fatalf("next tick: %v", err)
	}
	if r.reads != 2 {
		t.Errorf("key read %d times over two ticks, want 2", r.reads)
	}
	r.checkNoKey(t)
}

// TestKeyIsReadAgainEveryInterval: a key older than secret.RefreshInterval is
// read at the start of a tick, so a rotation reaches a warm environment
// without a refusal; a failed read leaves the tick with the key in use.
func TestKeyIsReadAgainEveryInterval(t *testing.T) {
	errSSM := errors.New("read API key from SSM parameter \"/autoscalebot/key\": connection reset")
	tests := []struct {
		name     string
		age      time.Duration // of the key in use at the tick's start
		readErr  error
		accepted string
		reads    int
		want     []int // statuses of the tick's GET requests
		log      string
	}{
		{name: "younger than the interval: not read", age: secret.RefreshInterval - time.Second, accepted: keyA, want: []int{200}},
		{name: "as old as the interval: the new key, no refusal", age: secret.RefreshInterval, accepted: keyB, reads: 1,
			want: []int{200}, log: `"trigger":"interval"`},
		{name: "store unreadable: the tick goes on with the old key", age: time.Hour, readErr: errSSM, accepted: keyA,
			reads: 1, want: []int{200}, log: "connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotationRig(t)
			ctx := context.Background()
			r.stored, r.failed = keyB, tt.readErr
			r.heroku.SetToken(tt.accepted)
			r.now = t0.Add(tt.age)

			r.start(ctx)
			if err := getQuantity(ctx, r.a); err != nil {
				t.Errorf("quantity: %v", err)
				r.errs = append(r.errs, err)
			}
			if r.reads != tt.reads {
				t.Errorf("key read %d times, want %d", r.reads, tt.reads)
			}
			if got := r.statuses(http.MethodGet); !slices.Equal(got, tt.want) {
				t.Errorf("GET statuses = %v, want %v", got, tt.want)
			}
			if !strings.Contains(r.logs.String(), tt.log) {
				t.Errorf("logs lack %q:\n%s", tt.log, r.logs)
			}
			r.checkNoKey(t)
		})
	}
}

// TestFailedPeriodicReadIsRetriedNextTick: a failed read does not count as
// one, so the next tick tries again rather than waiting another interval.
func TestFailedPeriodicReadIsRetriedNextTick(t *testing.T) {
	r := newRotationRig(t)
	ctx := context.Background()
	r.now, r.failed = t0.Add(secret.RefreshInterval), errors.New("unavailable")
	r.start(ctx)
	r.now, r.failed = r.now.Add(time.Minute), nil
	r.rotate(keyB)
	r.start(ctx)
	if err := getQuantity(ctx, r.a); err != nil {
		t.Fatal(err)
	}
	if r.reads != 2 || !slices.Equal(r.statuses(http.MethodGet), []int{200}) {
		t.Errorf("%d reads, GET statuses %v; want 2 reads and one GET 200", r.reads, r.statuses(http.MethodGet))
	}
}

// TestDryRunFollowsTheRotation: the dry-run wrapper reads through the
// account, as the handler composes them, so it recovers from a refusal the
// same way, and still sends no scale.
func TestDryRunFollowsTheRotation(t *testing.T) {
	r := newRotationRig(t)
	ctx := context.Background()
	dry := herokuapi.NewDryRun(r.a, 0)
	r.rotate(keyB)
	r.start(ctx)
	if n, err := dry.Quantity(ctx, rotationApp, "web"); err != nil || n != startAt {
		t.Fatalf("dry-run quantity = %d, %v; want %d", n, err, startAt)
	}
	if err := dry.Scale(ctx, rotationApp, "web", 5); err != nil {
		t.Fatal(err)
	}
	if got := r.statuses(http.MethodGet); !slices.Equal(got, []int{401, 200}) || r.heroku.Count(http.MethodPatch) != 0 {
		t.Errorf("GET statuses %v and %d PATCH, want [401 200] and none", got, r.heroku.Count(http.MethodPatch))
	}
}
