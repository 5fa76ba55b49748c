package herokuapi_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

const (
	app = "shiny-app"
	key = "hk-TEST-KEY-0123456789abcdef"
)

// scaler is what the tick code needs; both implementations must offer it,
// the rate limit included, so that a dry run keeps the token reserve.
type scaler interface {
	Quantity(ctx context.Context, app, processType string) (int, error)
	Scale(ctx context.Context, app, processType string, quantity int) error
	RateLimitRemaining() (remaining int, known bool)
	RefreshRateLimit(ctx context.Context) (int, error)
}

var (
	_ scaler = (*herokuapi.Client)(nil)
	_ scaler = (*herokuapi.DryRun)(nil)
)

// newFake starts a schema-checking fake holding app's web formation at 2
// dynos, and fails the test at the end if any request broke the schema.
func newFake(t *testing.T) *herokusim.Server {
	t.Helper()
	s := herokusimtest.New(t, herokusim.WithToken(key))
	s.SetFormation(app, "web", 2, "standard-1X")
	return s
}

func newClient(s *herokusim.Server, opts ...herokuapi.Option) *herokuapi.Client {
	return herokuapi.New(s.URL, secret.New(key), opts...)
}

func TestQuantity(t *testing.T) {
	tests := []struct {
		name        string
		processType string
		quantity    int
	}{
		{name: "web", processType: "web", quantity: 3},
		{name: "worker at zero", processType: "worker", quantity: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			s.SetFormation(app, tt.processType, tt.quantity, "")
			got, err := newClient(s).Quantity(t.Context(), app, tt.processType)
			if err != nil {
				t.Fatalf("Quantity: %v", err)
			}
			if got != tt.quantity {
				t.Errorf("Quantity = %d, want %d", got, tt.quantity)
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %+v, want one", reqs)
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != "/apps/"+app+"/formation/"+tt.processType || !r.Auth {
				t.Errorf("request = %+v, want an authenticated GET of the formation", r)
			}
			if r.Accept != "application/vnd.heroku+json; version=3" {
				t.Errorf("Accept = %q", r.Accept)
			}
		})
	}
}

func TestFormations(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]int // process types besides web at 2
		want map[string]int
	}{
		{name: "web only", want: map[string]int{"web": 2}},
		{name: "web and worker at zero", set: map[string]int{"worker": 0}, want: map[string]int{"web": 2, "worker": 0}},
		{name: "three types", set: map[string]int{"worker": 3, "clock": 1}, want: map[string]int{"web": 2, "worker": 3, "clock": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			for pt, n := range tt.set {
				s.SetFormation(app, pt, n, "")
			}
			s.SetFormation("other-app", "web", 9, "")
			got, err := newClient(s).Formations(t.Context(), app)
			if err != nil {
				t.Fatalf("Formations: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Formations = %v, want %v", got, tt.want)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/apps/"+app+"/formation" || !reqs[0].Auth {
				t.Errorf("requests = %+v, want one authenticated GET of the app's formation list", reqs)
			}
		})
	}
}

// TestFormationsRefusesAPartialList: Heroku pages long lists (206 and a
// Next-Range); a type on a later page would otherwise read as unknown.
func TestFormationsRefusesAPartialList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Next-Range", "id ]web..; max=200")
		w.WriteHeader(http.StatusPartialContent)
		fmt.Fprint(w, `[{"type":"clock","quantity":1}]`)
	}))
	t.Cleanup(srv.Close)
	_, err := herokuapi.New(srv.URL, secret.New(key)).Formations(t.Context(), app)
	if !errors.Is(err, herokuapi.ErrBadResponse) || !strings.Contains(err.Error(), "partial") {
		t.Errorf("err = %v, want ErrBadResponse naming the partial list", err)
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		name     string
		quantity int
		wantBody string
	}{
		{name: "up", quantity: 5, wantBody: `{"quantity":5}`},
		{name: "down", quantity: 1, wantBody: `{"quantity":1}`},
		// a zero must be sent, not dropped by omitempty
		{name: "to zero", quantity: 0, wantBody: `{"quantity":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			var hooked []int
			s.OnScale(func(_, _ string, q int) { hooked = append(hooked, q) })
			if err := newClient(s).Scale(t.Context(), app, "web", tt.quantity); err != nil {
				t.Fatalf("Scale: %v", err)
			}
			if got := s.Quantity(app, "web"); got != tt.quantity {
				t.Errorf("fake quantity = %d, want %d", got, tt.quantity)
			}
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].Method != http.MethodPatch || reqs[0].Path != "/apps/"+app+"/formation/web" {
				t.Fatalf("requests = %+v, want one PATCH of the formation", reqs)
			}
			if got := strings.TrimSpace(reqs[0].Body); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			if len(hooked) != 1 || hooked[0] != tt.quantity {
				t.Errorf("OnScale saw %v, want [%d]", hooked, tt.quantity)
			}
		})
	}
}

func TestScaleRejectsNegativeWithoutCalling(t *testing.T) {
	s := newFake(t)
	if err := newClient(s).Scale(t.Context(), app, "web", -1); err == nil {
		t.Fatal("Scale(-1) succeeded")
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// apiCall is one of the calls the client makes.
type apiCall struct {
	name string
	do   func(ctx context.Context, c *herokuapi.Client, app, processType string) error
}

var calls = []apiCall{
	{"get", func(ctx context.Context, c *herokuapi.Client, app, pt string) error {
		_, err := c.Quantity(ctx, app, pt)
		return err
	}},
	{"scale", func(ctx context.Context, c *herokuapi.Client, app, pt string) error {
		return c.Scale(ctx, app, pt, 3)
	}},
	// the app's formation list (Client.Formations), read as an Account does
	{"list", func(ctx context.Context, c *herokuapi.Client, app, pt string) error {
		_, err := newAccount(ctx, key, func(secret.Value) herokuapi.API { return c }).Quantity(ctx, app, pt)
		return err
	}},
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(*herokusim.Server)
		key         string // "" = the right key
		app, pt     string // "" = the known app and web
		only        string // run for this call only
		skip        string // run for every call but this one
		want        error
		wantStatus  int
		wantID      string
		wantInError string
		wantLimit   int
		means       error // what the error means to a tick; nil: transient
	}{
		{name: "rate limited", setup: fault(herokusim.Fault{Status: 429}),
			want: herokuapi.ErrRateLimited, wantStatus: 429, wantID: "rate_limit", wantInError: "heroku: 429 rate_limit: Your account reached the API rate limit"},
		{name: "over the plan limit", setup: func(s *herokusim.Server) { s.SetPlanMax(2) }, only: "scale",
			want: herokuapi.ErrPlanLimit, means: tick.ErrOverPlan, wantStatus: 422, wantID: "cannot_run_above_limit", wantInError: "Cannot run more than 2 Standard-1X size dynos", wantLimit: 2},
		{name: "over the plan limit, limit not said", setup: fault(herokusim.Fault{Status: 422, ID: "cannot_run_above_limit", Message: "Cannot run more than 2 Free size dynos."}),
			want: herokuapi.ErrPlanLimit, means: tick.ErrOverPlan, wantStatus: 422, wantID: "cannot_run_above_limit"},
		// a 422 is not a plan limit unless its id says so
		{name: "invalid params", setup: fault(herokusim.Fault{Status: 422}),
			want: herokuapi.ErrInvalid, wantStatus: 422, wantID: "invalid_params"},
		{name: "invalid params with a limit field", setup: fault(herokusim.Fault{Status: 422, Limit: 5}),
			want: herokuapi.ErrInvalid, wantStatus: 422, wantID: "invalid_params"},
		{name: "verification needed", setup: fault(herokusim.Fault{Status: 422, ID: "verification_needed"}),
			want: herokuapi.ErrAccount, means: tick.ErrAccount, wantStatus: 422, wantID: "verification_needed", wantInError: "verify"},
		{name: "payment required", setup: fault(herokusim.Fault{Status: 402}),
			want: herokuapi.ErrAccount, means: tick.ErrAccount, wantStatus: 402, wantID: "delinquent", wantInError: "delinquent"},
		{name: "payment required page", setup: fault(herokusim.Fault{Status: 402, Garbage: true}),
			want: herokuapi.ErrAccount, means: tick.ErrAccount, wantStatus: 402},
		{name: "suspended", setup: fault(herokusim.Fault{Status: 403, ID: "suspended"}),
			want: herokuapi.ErrAccount, means: tick.ErrAccount, wantStatus: 403, wantID: "suspended"},
		{name: "wrong key", key: "hk-WRONG-KEY-fedcba9876543210",
			want: herokuapi.ErrUnauthorized, means: tick.ErrRefused, wantStatus: 401, wantID: "unauthorized"},
		{name: "forbidden", setup: fault(herokusim.Fault{Status: 403}),
			want: herokuapi.ErrUnauthorized, means: tick.ErrRefused, wantStatus: 403, wantID: "forbidden"},
		{name: "unknown app", app: "no-such-app",
			want: herokuapi.ErrNotFound, means: tick.ErrRefused, wantStatus: 404, wantID: "not_found", wantInError: "no-such-app/web"},
		// the list answers 200 without it: TestAccountSharesAppReads covers that case
		{name: "unknown process type", pt: "clock", skip: "list",
			want: herokuapi.ErrNotFound, means: tick.ErrRefused, wantStatus: 404, wantID: "not_found", wantInError: "clock"},
		{name: "internal error", setup: fault(herokusim.Fault{Status: 500}),
			want: herokuapi.ErrServer, wantStatus: 500, wantID: "internal_server_error"},
		{name: "unavailable", setup: fault(herokusim.Fault{Status: 503}),
			want: herokuapi.ErrServer, wantStatus: 503, wantID: "service_unavailable"},
		// heroku-go itself drops the status when the error body is not JSON
		{name: "bad gateway page", setup: fault(herokusim.Fault{Status: 502, Garbage: true}),
			want: herokuapi.ErrServer, wantStatus: 502},
		{name: "garbage on success", setup: fault(herokusim.Fault{Garbage: true}),
			want: herokuapi.ErrBadResponse, wantStatus: 200},
	}
	for _, tt := range tests {
		for _, call := range calls {
			if (tt.only != "" && tt.only != call.name) || tt.skip == call.name {
				continue
			}
			t.Run(tt.name+"/"+call.name, func(t *testing.T) {
				s := newFake(t)
				if tt.setup != nil {
					tt.setup(s)
				}
				k := key
				if tt.key != "" {
					k = tt.key
				}
				c := herokuapi.New(s.URL, secret.New(k))
				a, pt := cmp.Or(tt.app, app), cmp.Or(tt.pt, "web")

				err := call.do(t.Context(), c, a, pt)
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				for _, means := range []error{tick.ErrRefused, tick.ErrAccount, tick.ErrOverPlan} {
					if errors.Is(err, means) != (means == tt.means) {
						t.Errorf("errors.Is(err, %q) = %t, want it to mean %v to a tick", means, !(means == tt.means), tt.means)
					}
				}
				var limited interface{ PlanLimit() int }
				if tt.means == tick.ErrOverPlan && (!errors.As(err, &limited) || limited.PlanLimit() != tt.wantLimit) {
					t.Errorf("err = %v: want it to say the plan's limit %d to a tick", err, tt.wantLimit)
				}
				var ae *herokuapi.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, not an APIError", err)
				}
				if ae.Status != tt.wantStatus || ae.ID != tt.wantID || ae.Limit != tt.wantLimit {
					t.Errorf("APIError = %+v, want status %d id %q limit %d", ae, tt.wantStatus, tt.wantID, tt.wantLimit)
				}
				for _, want := range []string{a + "/" + pt, tt.wantInError} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %q, want it to contain %q", err, want)
					}
				}
				if strings.Contains(err.Error(), k) {
					t.Errorf("err = %q contains the API key", err)
				}
				// no retries: one failure, one request
				if n := len(s.Requests()); n != 1 {
					t.Errorf("%d requests sent, want 1", n)
				}
				if call.name == "scale" && s.Quantity(app, "web") != 2 {
					t.Errorf("fake quantity = %d after a failed scale, want 2", s.Quantity(app, "web"))
				}
			})
		}
	}
}

func fault(f herokusim.Fault) func(*herokusim.Server) {
	return func(s *herokusim.Server) { s.SetFault(f) }
}

// TestPlanLimitFromTheBody covers the shapes a refusal's "limit" may take;
// heroku-go's Error does not keep it, so the client reads the raw body.
func TestPlanLimitFromTheBody(t *testing.T) {
	const msg = `"id":"cannot_run_above_limit","message":"Cannot run more than 10 Standard-1X size dynos."`
	tests := []struct {
		name      string
		body      string
		wantLimit int
	}{
		{name: "number", body: `{` + msg + `,"limit":10,"size":"Standard-1X"}`, wantLimit: 10},
		// seen in the wild: the size as a number
		{name: "numeric size", body: `{` + msg + `,"limit":2,"size":11}`, wantLimit: 2},
		{name: "quoted number", body: `{` + msg + `,"limit":"10"}`, wantLimit: 10},
		{name: "absent", body: `{` + msg + `}`},
		{name: "zero", body: `{` + msg + `,"limit":0}`},
		{name: "negative", body: `{` + msg + `,"limit":-3}`},
		{name: "not a number", body: `{` + msg + `,"limit":"ten"}`},
		{name: "fraction", body: `{` + msg + `,"limit":2.5}`},
		// a body longer than the client peeks at still decodes whole
		{name: "long", body: `{` + msg + `,"limit":4,"padding":"` + strings.Repeat("x", 100<<10) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprint(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			err := herokuapi.New(srv.URL, secret.New(key)).Scale(t.Context(), app, "web", 11)
			var ae *herokuapi.APIError
			if !errors.As(err, &ae) || !errors.Is(err, herokuapi.ErrPlanLimit) {
				t.Fatalf("err = %v, want a plan-limit APIError", err)
			}
			if ae.Limit != tt.wantLimit {
				t.Errorf("Limit = %d, want %d", ae.Limit, tt.wantLimit)
			}
			if !strings.Contains(ae.Message, "Cannot run more than 10") {
				t.Errorf("Message = %q, want Heroku's message (the body must stay whole for heroku-go)", ae.Message)
			}
		})
	}
}

// TestNotAFormation covers a 2xx whose JSON parses but is not a formation,
// which must not read as zero dynos.
func TestNotAFormation(t *testing.T) {
	// the last two are lists, which the list call checks entry by entry
	for _, body := range []string{`{}`, `null`, `{"type":"web","quantity":-4}`, `[{}]`, `[{"type":"web","quantity":2},{"type":"worker","quantity":-4}]`} {
		t.Run(body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, body)
			}))
			t.Cleanup(srv.Close)
			c := herokuapi.New(srv.URL, secret.New(key))
			for _, call := range calls {
				if err := call.do(t.Context(), c, app, "web"); !errors.Is(err, herokuapi.ErrBadResponse) {
					t.Errorf("%s: err = %v, want ErrBadResponse", call.name, err)
				}
			}
		})
	}
}

func TestTransportFailuresWrappedAsIs(t *testing.T) {
	tests := []struct {
		name   string
		client func(s *herokusim.Server) *herokuapi.Client
		ctx    func(t *testing.T) context.Context
		check  func(t *testing.T, err error)
	}{
		{
			name: "client timeout",
			client: func(s *herokusim.Server) *herokuapi.Client {
				return newClient(s, herokuapi.WithTimeout(50*time.Millisecond))
			},
			ctx: func(t *testing.T) context.Context { return t.Context() },
			check: func(t *testing.T, err error) {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("err = %v, want a net.Error timeout", err)
				}
			},
		},
		{
			name:   "ctx deadline",
			client: func(s *herokusim.Server) *herokuapi.Client { return newClient(s) },
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want context.DeadlineExceeded", err)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, call := range calls {
			t.Run(tt.name+"/"+call.name, func(t *testing.T) {
				s := newFake(t)
				// far longer than any deadline here; Close releases it
				s.SetFault(herokusim.Fault{Delay: time.Minute})
				err := call.do(tt.ctx(t), tt.client(s), app, "web")
				if err == nil {
					t.Fatal("call succeeded against a stalled API")
				}
				var ae *herokuapi.APIError
				if errors.As(err, &ae) {
					t.Errorf("err = %v is an APIError, want the transport error", err)
				}
				if !strings.Contains(err.Error(), app+"/web") {
					t.Errorf("err = %q does not name the formation", err)
				}
				tt.check(t, err)
			})
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, err = herokuapi.New(url, secret.New(key)).Quantity(t.Context(), app, "web")
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Fatalf("err = %v, want a net.Error", err)
	}
	if errors.Is(err, herokuapi.ErrServer) {
		t.Errorf("err = %v counts as a server error", err)
	}
}

func TestRateLimitRemaining(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*herokusim.Server)
		want  int
	}{
		{name: "on success", setup: func(s *herokusim.Server) { s.SetRateLimitRemaining(1234) }, want: 1234},
		{name: "on a 429", setup: func(s *herokusim.Server) {
			s.SetRateLimitRemaining(0)
			s.SetFault(herokusim.Fault{Status: 429})
		}, want: 0},
		{name: "on a 404", setup: func(s *herokusim.Server) {
			s.SetRateLimitRemaining(77)
			s.SetFault(herokusim.Fault{Status: 404})
		}, want: 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			c := newClient(s)
			if _, known := c.RateLimitRemaining(); known {
				t.Fatal("remaining known before any call")
			}
			tt.setup(s)
			_, _ = c.Quantity(t.Context(), app, "web")
			got, known := c.RateLimitRemaining()
			if !known || got != tt.want {
				t.Errorf("RateLimitRemaining = %d, %v; want %d, true", got, known, tt.want)
			}
		})
	}
}

// TestKeyNeverInErrors includes answers that echo the key back, as a
// misbehaving proxy might.
func TestKeyNeverInErrors(t *testing.T) {
	faults := []herokusim.Fault{
		{Status: 401},
		{Status: 403, Message: "key " + key + " may not scale this app"},
		{Status: 402, Message: "account of key " + key + " is delinquent"},
		{Status: 422, ID: "cannot_run_above_limit", Limit: 3, Message: "key " + key + " cannot run more than 3"},
		{Status: 429},
		{Status: 500, Message: "Authorization: Bearer " + key},
		{Status: 502, Garbage: true},
		{Garbage: true},
	}
	for _, f := range faults {
		for _, call := range calls {
			t.Run(fmt.Sprintf("%d %v %s", f.Status, f.Garbage, call.name), func(t *testing.T) {
				s := newFake(t)
				s.SetFault(f)
				err := call.do(t.Context(), newClient(s), app, "web")
				if err == nil {
					t.Fatal("call succeeded")
				}
				for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					if strings.Contains(text, key) {
						t.Errorf("error text contains the key: %s", text)
					}
				}
				var ae *herokuapi.APIError
				if errors.As(err, &ae) && strings.Contains(ae.Message, key) {
					t.Errorf("APIError.Message contains the key: %s", ae.Message)
				}
			})
		}
	}
}
