package herokusim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
)

const (
	app    = "shiny-app"
	token  = "test-token"
	accept = "application/vnd.heroku+json; version=3"
)

func newServer(t *testing.T, opts ...herokusim.Option) *herokusim.Server {
	t.Helper()
	s := herokusimtest.Unasserted(t, append([]herokusim.Option{herokusim.WithToken(token)}, opts...)...)
	s.SetFormation(app, "web", 2, "")
	s.SetFormation(app, "worker", 1, "standard-2X")
	return s
}

type answer struct {
	status int
	header http.Header
	body   string
}

// call sends a request as heroku-go would, with headers overridable.
func call(t *testing.T, s *herokusim.Server, method, path, body string, header map[string]string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", accept)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func errorID(t *testing.T, a answer) string {
	t.Helper()
	var e struct{ ID, Message string }
	if err := json.Unmarshal([]byte(a.body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", a.body, err)
	}
	if e.Message == "" {
		t.Errorf("error body %q has no message", a.body)
	}
	return e.ID
}

type formation struct {
	App struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"app"`
	Command   string    `json:"command"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	Quantity  int       `json:"quantity"`
	Size      string    `json:"size"`
	Type      string    `json:"type"`
	UpdatedAt time.Time `json:"updated_at"`
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantID     string         // error id, for failures
		wantQty    map[string]int // fake's quantities afterwards
	}{
		{name: "get formation", method: "GET", path: "/apps/" + app + "/formation/web", wantStatus: 200},
		{name: "update formation", method: "PATCH", path: "/apps/" + app + "/formation/web", body: `{"quantity":4}`,
			wantStatus: 200, wantQty: map[string]int{"web": 4, "worker": 1}},
		{name: "update size only", method: "PATCH", path: "/apps/" + app + "/formation/web", body: `{"size":"standard-2X"}`,
			wantStatus: 200, wantQty: map[string]int{"web": 2}},
		{name: "batch update", method: "PATCH", path: "/apps/" + app + "/formation",
			body:       `{"updates":[{"type":"web","quantity":3},{"type":"worker","quantity":0}]}`,
			wantStatus: 200, wantQty: map[string]int{"web": 3, "worker": 0}},
		{name: "batch with an unknown type changes nothing", method: "PATCH", path: "/apps/" + app + "/formation",
			body:       `{"updates":[{"type":"web","quantity":3},{"type":"clock","quantity":1}]}`,
			wantStatus: 404, wantID: "not_found", wantQty: map[string]int{"web": 2, "worker": 1}},
		{name: "list formations", method: "GET", path: "/apps/" + app + "/formation", wantStatus: 200},
		{name: "list unknown app", method: "GET", path: "/apps/other-app/formation", wantStatus: 404, wantID: "not_found"},
		{name: "rate limits", method: "GET", path: "/account/rate-limits", wantStatus: 200},
		{name: "unknown app", method: "GET", path: "/apps/other-app/formation/web", wantStatus: 404, wantID: "not_found"},
		{name: "unknown type", method: "GET", path: "/apps/" + app + "/formation/clock", wantStatus: 404, wantID: "not_found"},
		{name: "update unknown app", method: "PATCH", path: "/apps/other-app/formation/web", body: `{"quantity":4}`,
			wantStatus: 404, wantID: "not_found"},
		{name: "negative quantity", method: "PATCH", path: "/apps/" + app + "/formation/web", body: `{"quantity":-1}`,
			wantStatus: 422, wantID: "invalid_params", wantQty: map[string]int{"web": 2}},
		{name: "unknown endpoint", method: "GET", path: "/apps/" + app + "/dynos", wantStatus: 404, wantID: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			a := call(t, s, tt.method, tt.path, tt.body, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", a.status, a.body, tt.wantStatus)
			}
			if tt.wantID != "" {
				if id := errorID(t, a); id != tt.wantID {
					t.Errorf("error id = %q, want %q", id, tt.wantID)
				}
			}
			for typ, want := range tt.wantQty {
				if got := s.Quantity(app, typ); got != want {
					t.Errorf("quantity of %s = %d, want %d", typ, got, want)
				}
			}
			// the /dynos probe is documented but not served; everything
			// else here is a documented link with a valid body
			if v := s.Violations(); len(v) > 0 {
				t.Errorf("violations = %q, want none", v)
			}
		})
	}
}

func TestFormationAnswer(t *testing.T) {
	s := newServer(t)
	var got formation
	if err := json.Unmarshal([]byte(call(t, s, "GET", "/apps/"+app+"/formation/worker", "", nil).body), &got); err != nil {
		t.Fatal(err)
	}
	if got.App.Name != app || got.App.ID == "" || got.ID == "" || got.Command == "" ||
		got.Type != "worker" || got.Quantity != 1 || got.Size != "standard-2X" ||
		got.CreatedAt.IsZero() || got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("formation = %+v, want every field filled", got)
	}
	// Heroku accepts ids wherever it accepts names
	var byID formation
	if err := json.Unmarshal([]byte(call(t, s, "GET", "/apps/"+got.App.ID+"/formation/"+got.ID, "", nil).body), &byID); err != nil {
		t.Fatal(err)
	}
	if byID.ID != got.ID {
		t.Errorf("by ids = %+v, want %+v", byID, got)
	}
	var updated formation
	if err := json.Unmarshal([]byte(call(t, s, "PATCH", "/apps/"+app+"/formation/worker", `{"quantity":5}`, nil).body), &updated); err != nil {
		t.Fatal(err)
	}
	if updated.Quantity != 5 || !updated.UpdatedAt.After(got.UpdatedAt) || !updated.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("after update = %+v, before %+v", updated, got)
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations = %q, want none", v)
	}
}

// TestFormationList: the list holds each formation exactly as its own GET
// renders it, and an unknown app is refused with the single GET's body.
func TestFormationList(t *testing.T) {
	s := newServer(t)
	one := func(path string) formation {
		t.Helper()
		var f formation
		if err := json.Unmarshal([]byte(call(t, s, "GET", path, "", nil).body), &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	web, worker := one("/apps/"+app+"/formation/web"), one("/apps/"+app+"/formation/worker")
	want := []formation{web, worker}
	for _, ident := range []string{app, web.App.ID} {
		a := call(t, s, "GET", "/apps/"+ident+"/formation", "", nil)
		var got []formation
		if err := json.Unmarshal([]byte(a.body), &got); err != nil {
			t.Fatalf("list by %s: %v (%s)", ident, err, a.body)
		}
		if !slices.Equal(got, want) {
			t.Errorf("list by %s = %+v\nwant %+v", ident, got, want)
		}
	}
	unknownList := call(t, s, "GET", "/apps/other-app/formation", "", nil)
	unknownOne := call(t, s, "GET", "/apps/other-app/formation/web", "", nil)
	if unknownList.status != 404 || unknownList.body != unknownOne.body {
		t.Errorf("unknown app: list answered %d %s, want the single GET's 404 %s", unknownList.status, unknownList.body, unknownOne.body)
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations = %q, want none", v)
	}
}

func TestSchemaValidation(t *testing.T) {
	const one, batch = "/apps/" + app + "/formation/web", "/apps/" + app + "/formation"
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		wantProblem string // "" = accepted
	}{
		{name: "quantity", method: "PATCH", path: one, body: `{"quantity":3}`},
		{name: "size", method: "PATCH", path: one, body: `{"size":"standard-2X"}`},
		{name: "quantity and size", method: "PATCH", path: one, body: `{"quantity":3,"size":"performance-m"}`},
		{name: "batch", method: "PATCH", path: batch, body: `{"updates":[{"type":"web","quantity":3}]}`},
		{name: "quantity as text", method: "PATCH", path: one, body: `{"quantity":"three"}`, wantProblem: "expected integer"},
		{name: "fractional quantity", method: "PATCH", path: one, body: `{"quantity":2.5}`, wantProblem: "expected integer"},
		{name: "unknown property", method: "PATCH", path: one, body: `{"quantity":2,"bogus":1}`, wantProblem: "bogus"},
		{name: "misspelt quantity", method: "PATCH", path: one, body: `{"qty":2}`, wantProblem: "qty"},
		{name: "array body", method: "PATCH", path: one, body: `[{"quantity":2}]`, wantProblem: "expected object"},
		{name: "not JSON", method: "PATCH", path: one, body: `quantity=2`, wantProblem: "not JSON"},
		{name: "batch without updates", method: "PATCH", path: batch, body: `{}`, wantProblem: "updates"},
		{name: "batch update without type", method: "PATCH", path: batch, body: `{"updates":[{"quantity":3}]}`, wantProblem: "type"},
		{name: "batch update with bad type", method: "PATCH", path: batch, body: `{"updates":[{"type":"we b","quantity":3}]}`, wantProblem: "pattern"},
		{name: "batch update with unknown property", method: "PATCH", path: batch, body: `{"updates":[{"type":"web","quantity":3,"x":1}]}`, wantProblem: "'x'"},
		{name: "body on a get", method: "GET", path: one, body: `{"quantity":3}`, wantProblem: "takes no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			a := call(t, s, tt.method, tt.path, tt.body, nil)
			v := s.Violations()
			if tt.wantProblem == "" {
				if a.status != 200 || len(v) > 0 {
					t.Errorf("status %d, violations %q; want 200 and none", a.status, v)
				}
				return
			}
			if a.status != 422 || errorID(t, a) != "invalid_params" {
				t.Errorf("answer = %d %s, want 422 invalid_params", a.status, a.body)
			}
			if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), tt.wantProblem) {
				t.Errorf("violations = %q, want one about %q", v, tt.wantProblem)
			}
			if !strings.Contains(a.body, tt.wantProblem) {
				t.Errorf("error body %s does not explain the problem %q", a.body, tt.wantProblem)
			}
			if got := s.Quantity(app, "web"); got != 2 {
				t.Errorf("quantity = %d after a rejected request, want 2", got)
			}
		})
	}
}

func TestUndocumentedEndpointIsAViolation(t *testing.T) {
	s := newServer(t)
	call(t, s, "DELETE", "/apps/"+app+"/formation/web", "", nil)
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "no such link") {
		t.Errorf("violations = %q, want one about the undocumented link", v)
	}
}

func TestWithoutSchema(t *testing.T) {
	s, err := herokusim.New(herokusim.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.SetFormation(app, "web", 2, "")
	tests := []struct {
		name, body string
		wantStatus int
		wantQty    int
	}{
		{name: "valid", body: `{"quantity":3}`, wantStatus: 200, wantQty: 3},
		{name: "text quantity still refused", body: `{"quantity":"three"}`, wantStatus: 422, wantQty: 3},
		// the schema would refuse this; without it the fake is lenient
		{name: "unknown property tolerated", body: `{"quantity":4,"bogus":1}`, wantStatus: 200, wantQty: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, "PATCH", "/apps/"+app+"/formation/web", tt.body, nil)
			if a.status != tt.wantStatus || s.Quantity(app, "web") != tt.wantQty {
				t.Errorf("status %d quantity %d, want %d and %d", a.status, s.Quantity(app, "web"), tt.wantStatus, tt.wantQty)
			}
		})
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations = %q without a schema", v)
	}
}

func TestAuthAndAccept(t *testing.T) {
	tests := []struct {
		name       string
		header     map[string]string
		wantStatus int
		wantID     string
		wantAuth   bool // recorded as carrying an Authorization header
	}{
		{name: "right token", wantStatus: 200, wantAuth: true},
		{name: "compact accept", header: map[string]string{"Accept": "application/vnd.heroku+json;version=3"}, wantStatus: 200, wantAuth: true},
		{name: "no authorization", header: map[string]string{"Authorization": ""}, wantStatus: 401, wantID: "unauthorized"},
		{name: "wrong token", header: map[string]string{"Authorization": "Bearer nope"}, wantStatus: 401, wantID: "unauthorized", wantAuth: true},
		{name: "empty bearer", header: map[string]string{"Authorization": "Bearer "}, wantStatus: 401, wantID: "unauthorized", wantAuth: true},
		{name: "basic auth", header: map[string]string{"Authorization": "Basic dXNlcjp0ZXN0LXRva2Vu"}, wantStatus: 401, wantID: "unauthorized", wantAuth: true},
		{name: "no accept", header: map[string]string{"Accept": ""}, wantStatus: 400, wantID: "bad_request", wantAuth: true},
		{name: "plain json accept", header: map[string]string{"Accept": "application/json"}, wantStatus: 400, wantID: "bad_request", wantAuth: true},
		{name: "wrong version", header: map[string]string{"Accept": "application/vnd.heroku+json; version=2"}, wantStatus: 400, wantID: "bad_request", wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			a := call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"quantity":3}`, tt.header)
			if a.status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", a.status, a.body, tt.wantStatus)
			}
			if tt.wantID != "" {
				if id := errorID(t, a); id != tt.wantID {
					t.Errorf("error id = %q, want %q", id, tt.wantID)
				}
				if s.Quantity(app, "web") != 2 {
					t.Errorf("a refused request changed the quantity to %d", s.Quantity(app, "web"))
				}
				if strings.Contains(a.body, token) {
					t.Errorf("error body %s echoes the token", a.body)
				}
			}
			r := s.Requests()
			if len(r) != 1 || r[0].Status != tt.wantStatus || r[0].Auth != tt.wantAuth {
				t.Errorf("requests = %+v", r)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       herokusim.Fault
		wantStatus  []int // for three requests in a row
		wantID      string
		wantGarbage bool
	}{
		{name: "once", fault: herokusim.Fault{Status: 429, Count: 1}, wantStatus: []int{429, 200, 200}, wantID: "rate_limit"},
		{name: "twice", fault: herokusim.Fault{Status: 503, Count: 2}, wantStatus: []int{503, 503, 200}, wantID: "service_unavailable"},
		{name: "until cleared", fault: herokusim.Fault{Status: 500}, wantStatus: []int{500, 500, 500}, wantID: "internal_server_error"},
		{name: "own id and message", fault: herokusim.Fault{Status: 403, ID: "suspended", Message: "Account suspended.", Count: 1},
			wantStatus: []int{403, 200, 200}, wantID: "suspended"},
		{name: "payment required", fault: herokusim.Fault{Status: 402, Count: 1}, wantStatus: []int{402, 200, 200}, wantID: "delinquent"},
		{name: "verification needed", fault: herokusim.Fault{Status: 422, ID: "verification_needed", Count: 1},
			wantStatus: []int{422, 200, 200}, wantID: "verification_needed"},
		{name: "garbage", fault: herokusim.Fault{Garbage: true, Count: 1}, wantStatus: []int{200, 200, 200}, wantGarbage: true},
		{name: "short delay then served", fault: herokusim.Fault{Delay: time.Millisecond, Count: 1}, wantStatus: []int{200, 200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.SetFault(tt.fault)
			for i, want := range tt.wantStatus {
				a := call(t, s, "GET", "/apps/"+app+"/formation/web", "", nil)
				if a.status != want {
					t.Fatalf("request %d: status = %d, want %d", i, a.status, want)
				}
				switch {
				case i == 0 && tt.wantID != "":
					if id := errorID(t, a); id != tt.wantID {
						t.Errorf("error id = %q, want %q", id, tt.wantID)
					}
				case i == 0 && tt.wantGarbage:
					if json.Valid([]byte(a.body)) {
						t.Errorf("garbage body %q is valid JSON", a.body)
					}
				case want == 200 && !json.Valid([]byte(a.body)):
					t.Errorf("request %d: body %q is not JSON", i, a.body)
				}
			}
			s.SetFault(herokusim.Fault{})
			if a := call(t, s, "GET", "/apps/"+app+"/formation/web", "", nil); a.status != 200 {
				t.Errorf("after clearing: status = %d", a.status)
			}
		})
	}
}

func TestDelayEndsWhenClientGivesUp(t *testing.T) {
	s := newServer(t)
	s.SetFault(herokusim.Fault{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/account/rate-limits", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("answered despite an hour's delay")
	}
	// Close (in cleanup) must not hang on the held request; the recorded
	// request has no status as none was sent.
	if r := s.Requests(); len(r) != 1 || r[0].Status != 0 {
		t.Errorf("requests = %+v", r)
	}
}

func TestRateLimitHeader(t *testing.T) {
	s := newServer(t)
	check := func(want string, a answer) {
		t.Helper()
		if got := a.header.Get("RateLimit-Remaining"); got != want {
			t.Errorf("RateLimit-Remaining = %q (status %d), want %q", got, a.status, want)
		}
	}
	check("4500", call(t, s, "GET", "/apps/"+app+"/formation/web", "", nil))
	s.SetRateLimitRemaining(12)
	check("12", call(t, s, "GET", "/apps/"+app+"/formation/web", "", nil))
	check("12", call(t, s, "GET", "/apps/nope-app/formation/web", "", nil))
	check("12", call(t, s, "GET", "/apps/"+app+"/formation/web", "", map[string]string{"Authorization": ""}))
	s.SetFault(herokusim.Fault{Status: 429, Count: 1})
	check("12", call(t, s, "GET", "/apps/"+app+"/formation/web", "", nil))
	a := call(t, s, "GET", "/account/rate-limits", "", nil)
	check("12", a)
	if strings.TrimSpace(a.body) != `{"remaining":12}` {
		t.Errorf("rate-limits body = %s", a.body)
	}
}

func TestPlanMax(t *testing.T) {
	// Heroku's answer, as real clients have logged it (the size is the refused formation's).
	const web = `{"id":"cannot_run_above_limit","limit":3,"size":"Standard-1X","message":"Cannot run more than 3 Standard-1X size dynos.","url":"https://devcenter.heroku.com/articles/dyno-size#default-scaling-limits"}`
	const worker = `{"id":"cannot_run_above_limit","limit":3,"size":"Standard-2X","message":"Cannot run more than 3 Standard-2X size dynos.","url":"https://devcenter.heroku.com/articles/dyno-size#default-scaling-limits"}`
	tests := []struct {
		name, path, body string
		wantStatus       int
		wantBody         string
		wantWeb          int
	}{
		{name: "at the limit", path: "/apps/" + app + "/formation/web", body: `{"quantity":3}`, wantStatus: 200, wantWeb: 3},
		{name: "above", path: "/apps/" + app + "/formation/web", body: `{"quantity":4}`, wantStatus: 422, wantBody: web, wantWeb: 2},
		{name: "above in a batch", path: "/apps/" + app + "/formation",
			body: `{"updates":[{"type":"web","quantity":3},{"type":"worker","quantity":9}]}`, wantStatus: 422, wantBody: worker, wantWeb: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.SetPlanMax(3)
			a := call(t, s, "PATCH", tt.path, tt.body, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", a.status, a.body, tt.wantStatus)
			}
			if got := strings.TrimSpace(a.body); tt.wantBody != "" && got != tt.wantBody {
				t.Errorf("body = %s\nwant %s", got, tt.wantBody)
			}
			if got := s.Quantity(app, "web"); got != tt.wantWeb {
				t.Errorf("web = %d, want %d", got, tt.wantWeb)
			}
		})
	}
}

func TestOnScale(t *testing.T) {
	s := newServer(t)
	type event struct {
		typ string
		qty int
	}
	var got []event
	s.OnScale(func(a, typ string, qty int) {
		if a != app {
			t.Errorf("hook app = %q", a)
		}
		got = append(got, event{typ, qty})
	})
	call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"quantity":3}`, nil)
	call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"size":"standard-2X"}`, nil) // no quantity, no event
	call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"quantity":"x"}`, nil)       // refused, no event
	call(t, s, "PATCH", "/apps/"+app+"/formation", `{"updates":[{"type":"web","quantity":1},{"type":"worker","quantity":4}]}`, nil)
	want := []event{{"web", 3}, {"web", 1}, {"worker", 4}}
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
}

func TestRequestsRecorded(t *testing.T) {
	s := newServer(t)
	call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"quantity":3}`, nil)
	call(t, s, "GET", "/apps/"+app+"/formation/web", "", map[string]string{"Authorization": "", "Accept": "text/html"})
	call(t, s, "GET", "/apps/"+app+"/formation", "", nil)
	want := []herokusim.Request{
		{Method: "PATCH", Path: "/apps/" + app + "/formation/web", Body: `{"quantity":3}`, Auth: true, Accept: accept, Status: 200},
		{Method: "GET", Path: "/apps/" + app + "/formation/web", Auth: false, Accept: "text/html", Status: 401},
		{Method: "GET", Path: "/apps/" + app + "/formation", Auth: true, Accept: accept, Status: 200},
	}
	if got := s.Requests(); !slices.Equal(got, want) {
		t.Errorf("requests = %+v\nwant %+v", got, want)
	}
	if s.Count("PATCH") != 1 || s.Count("GET") != 2 || s.Count("") != 3 {
		t.Errorf("counts PATCH %d GET %d all %d, want 1, 2, 3", s.Count("PATCH"), s.Count("GET"), s.Count(""))
	}
}

func TestFaultForOneMethod(t *testing.T) {
	s := newServer(t)
	s.SetFault(herokusim.Fault{Status: 429, Method: "PATCH", Count: 1})
	if a := call(t, s, "GET", "/apps/"+app+"/formation/web", "", nil); a.status != 200 {
		t.Fatalf("GET answered %d; the fault is for PATCH only", a.status)
	}
	if a := call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"quantity":2}`, nil); a.status != 429 {
		t.Fatalf("PATCH answered %d, want the fault's 429", a.status)
	}
	if a := call(t, s, "PATCH", "/apps/"+app+"/formation/web", `{"quantity":2}`, nil); a.status != 200 {
		t.Errorf("second PATCH answered %d; the fault was for one request", a.status)
	}
}

func TestUnknownQuantityIsMinusOne(t *testing.T) {
	s := newServer(t)
	if got := s.Quantity("nope-app", "web"); got != -1 {
		t.Errorf("Quantity of an unknown formation = %d, want -1", got)
	}
}
