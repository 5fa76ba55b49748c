// Package herokusim is a stand-in for the parts of the Heroku Platform API
// that autoscalebot calls: formation info, list and update, batch update, and
// the account's rate limit, answering with Heroku's real error bodies. The local
// demo runs on it, so it ships in the command; tests start it through
// herokusimtest, which adds checks against heroku-go's own schema.json (kept out
// of this package so the command does not link a JSON-schema validator).
package herokusim

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the API key the fake accepts unless WithToken says otherwise.
const DefaultToken = "fake-heroku-api-key"

// DefaultRateLimitRemaining is what RateLimit-Remaining says until
// SetRateLimitRemaining changes it: a full Heroku bucket.
const DefaultRateLimitRemaining = 4500

// msgNoApp is Heroku's message for an app it does not know.
const msgNoApp = "Couldn't find that app."

const (
	acceptType    = "application/vnd.heroku+json"
	acceptVersion = "3"
	defaultSize   = "standard-1X"
	maxBody       = 1 << 20
)

// Option configures a Server.
type Option func(*config)

type config struct {
	token   string
	checker Checker
}

// WithToken sets the bearer token the fake accepts.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// Checker holds the fake's traffic to a contract; herokusimtest's checks
// requests and answers against heroku-go's schema.json. Each method returns
// the problems found, none for a good message.
type Checker interface {
	CheckRequest(method, path string, body []byte) []string
	CheckAnswer(method, path string, body []byte) []string
}

// WithChecker makes the fake check every request (a request that fails is
// answered 422 invalid_params, as Heroku does) and its own successful
// answers, and keep each problem for Violations.
func WithChecker(c Checker) Option { return func(cfg *config) { cfg.checker = c } }

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Body   string
	Auth   bool   // an Authorization header was present (its value is not kept)
	Accept string // the Accept header
	Status int    // the status answered; 0 while in flight or if the client gave up
}

// Fault makes the fake misbehave on the next Count requests (every request
// while Count is 0, until SetFault(Fault{}) clears it).
type Fault struct {
	// Status answers with this status and a Heroku error body
	// {"id":ID,"message":Message}; the ID defaults from Status, the
	// Message from the ID (see ErrorFor).
	Status  int
	ID      string
	Message string
	// Limit, when positive, adds the "limit" that Heroku's
	// cannot_run_above_limit answer carries.
	Limit int
	// Garbage answers with a body that is not JSON, with Status or 200.
	Garbage bool
	// Delay holds the answer back this long, or until the client gives up.
	// With no Status or Garbage the request is then served normally.
	Delay time.Duration
	Count int
	// Method limits the fault to requests of this method ("PATCH" to fail
	// only the scale); empty means every request.
	Method string
}

func (f Fault) active() bool { return f.Status != 0 || f.Garbage || f.Delay > 0 }

type key struct{ app, processType string }

type formation struct {
	id, command, size string
	quantity          int
	created, updated  time.Time
}

// Server is a running fake Platform API on a loopback port.
type Server struct {
	URL string // base URL, for the client's API URL setting

	srv       *httptest.Server
	checker   Checker
	closed    chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	token       string            // the one API key accepted
	apps        map[string]string // name → id
	formations  map[key]*formation
	fault       Fault
	faultLeft   int
	remaining   int
	planMax     int
	requests    []Request
	violations  []string
	scaleHooks  []func(app, processType string, quantity int)
	lastUpdated time.Time
}

// New starts a fake on 127.0.0.1. The caller must Close it.
func New(opts ...Option) (*Server, error) {
	cfg := config{token: DefaultToken}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		token:      cfg.token,
		closed:     make(chan struct{}),
		apps:       map[string]string{},
		formations: map[key]*formation{},
		remaining:  DefaultRateLimitRemaining,
	}
	s.checker = cfg.checker
	mux := http.NewServeMux()
	mux.HandleFunc("GET /apps/{app}/formation/{type}", s.getFormation)
	mux.HandleFunc("GET /apps/{app}/formation", s.listFormations)
	mux.HandleFunc("PATCH /apps/{app}/formation/{type}", s.updateFormation)
	mux.HandleFunc("PATCH /apps/{app}/formation", s.batchUpdate)
	mux.HandleFunc("GET /account/rate-limits", s.rateLimits)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "The requested API endpoint was not found.")
	})
	s.srv = httptest.NewServer(s.front(mux))
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the server, releasing any request held back by a Delay fault.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// SetFormation creates or replaces the formation of app's processType. An
// empty size means standard-1X.
func (s *Server) SetFormation(app, processType string, quantity int, size string) {
	if size == "" {
		size = defaultSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[app]; !ok {
		s.apps[app] = newID()
	}
	now := s.now()
	k := key{app, processType}
	f, ok := s.formations[k]
	if !ok {
		f = &formation{id: newID(), command: "bin/" + processType, created: now}
		s.formations[k] = f
	}
	f.quantity, f.size, f.updated = quantity, size, now
}

// Quantity returns the current quantity of app's processType, or -1 if the
// fake has no such formation.
func (s *Server) Quantity(app, processType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.formations[key{app, processType}]
	if !ok {
		return -1
	}
	return f.quantity
}

// SetToken changes the API key the fake accepts from now on, as when a key
// is rotated and the old one revoked.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetFault sets how the next requests misbehave; the zero Fault clears it.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.faultLeft = f, f.Count
}

// SetRateLimitRemaining sets the RateLimit-Remaining header sent on every
// answer and the body of GET /account/rate-limits.
func (s *Server) SetRateLimitRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remaining = n
}

// SetPlanMax makes any update to a quantity above n fail as Heroku does
// past the plan's dyno limit: 422 cannot_run_above_limit with "limit": n.
// n <= 0 removes the limit.
func (s *Server) SetPlanMax(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planMax = n
}

// OnScale registers fn to run after every successful quantity update, for
// example to change the simulated capacity in the demo. fn runs on the
// request's goroutine, outside the fake's lock.
func (s *Server) OnScale(fn func(app, processType string, quantity int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scaleHooks = append(s.scaleHooks, fn)
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Count returns how many requests of method the fake has received
// (all methods when method is empty).
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			n++
		}
	}
	return n
}

// Violations returns every way a request, or the fake's own successful
// answer, broke the Checker's contract (always empty without one).
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// now returns a second-resolution UTC time that never repeats or goes
// back, so updated_at moves on every change. Callers hold mu.
func (s *Server) now() time.Time {
	t := time.Now().UTC().Truncate(time.Second)
	if !t.After(s.lastUpdated) {
		t = s.lastUpdated.Add(time.Second)
	}
	s.lastUpdated = t
	return t
}

// statusRecorder keeps the status, and the body of a success, so the fake
// can check its own answers.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.status/100 == 2 {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// front does what every endpoint shares: recording, schema checks,
// faults, rate-limit header, authentication and content negotiation.
func (s *Server) front(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "Could not read the request body.")
			return
		}
		var problems []string
		if s.checker != nil {
			problems = s.checker.CheckRequest(r.Method, r.URL.Path, body)
		}
		idx, fault, remaining := s.record(r, body, problems)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			s.mu.Lock()
			s.requests[idx].Status = rec.status
			s.mu.Unlock()
		}()
		if !s.wait(r, fault.Delay) {
			return
		}
		rec.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
		if answerFault(rec, fault) {
			return
		}
		switch {
		case !s.authorized(r):
			writeError(rec, http.StatusUnauthorized, "unauthorized", "Invalid credentials provided.")
		case !acceptable(r.Header.Get("Accept")):
			writeError(rec, http.StatusBadRequest, "bad_request",
				"Accept must be "+acceptType+"; version="+acceptVersion+".")
		case len(problems) > 0:
			writeError(rec, http.StatusUnprocessableEntity, "invalid_params", strings.Join(problems, "; "))
		default:
			r.Body = io.NopCloser(bytes.NewReader(body))
			mux.ServeHTTP(rec, r)
			s.checkAnswer(r, rec)
		}
	})
}

// record keeps the request and its schema problems, and takes the fault
// that applies to it and the rate limit to report.
func (s *Server) record(r *http.Request, body []byte, problems []string) (idx int, fault Fault, remaining int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx = len(s.requests)
	s.requests = append(s.requests, Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Body:   string(body),
		Auth:   r.Header.Get("Authorization") != "",
		Accept: r.Header.Get("Accept"),
	})
	s.violations = append(s.violations, problems...)
	return idx, s.takeFault(r.Method), s.remaining
}

// wait holds the answer for delay; false when the caller or the server
// gave up first.
func (s *Server) wait(r *http.Request, delay time.Duration) bool {
	if delay <= 0 {
		return true
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// answerFault answers with the fault's garbage or error body, if it has
// one, and says whether it did.
func answerFault(rec *statusRecorder, fault Fault) bool {
	switch {
	case fault.Garbage:
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(cmp.Or(fault.Status, http.StatusOK))
		_, _ = io.WriteString(rec, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		return true
	case fault.Status != 0:
		body := ErrorFor(fault.Status, fault.ID)
		body.Message = cmp.Or(fault.Message, body.Message)
		if fault.Limit > 0 {
			body.Limit = fault.Limit
		}
		writeJSON(rec, fault.Status, body)
		return true
	}
	return false
}

// checkAnswer holds a successful answer to the schema too.
func (s *Server) checkAnswer(r *http.Request, rec *statusRecorder) {
	if s.checker == nil || rec.status/100 != 2 {
		return
	}
	if bad := s.checker.CheckAnswer(r.Method, r.URL.Path, rec.body.Bytes()); len(bad) > 0 {
		s.mu.Lock()
		s.violations = append(s.violations, bad...)
		s.mu.Unlock()
	}
}

// takeFault returns the fault for a request of method. Callers hold mu.
func (s *Server) takeFault(method string) Fault {
	f := s.fault
	if !f.active() || (f.Method != "" && f.Method != method) {
		return Fault{}
	}
	if f.Count > 0 {
		s.faultLeft--
		if s.faultLeft <= 0 {
			s.fault = Fault{}
		}
	}
	return f
}

func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && tok != "" && tok == token
}

func acceptable(h string) bool {
	mt, params, err := mime.ParseMediaType(h)
	return err == nil && mt == acceptType && params["version"] == acceptVersion
}

// ErrorBody is a Heroku error answer. Every one has an id and a message;
// the plan-limit refusal adds the limit, the dyno size and a url.
type ErrorBody struct {
	ID      string `json:"id"`
	Limit   int    `json:"limit,omitempty"`
	Size    string `json:"size,omitempty"`
	Message string `json:"message"`
	URL     string `json:"url,omitempty"`
}

// Error ids and statuses are Heroku's documented ones
// (https://devcenter.heroku.com/articles/platform-api-reference#errors).
// Messages are those seen in real answers where known; for delinquent and
// suspended, whose wording Heroku does not publish, the documented meaning.
var knownErrors = map[string]string{
	"bad_request":           "Bad Request",
	"unauthorized":          "Invalid credentials provided.",
	"delinquent":            "This account is delinquent: a payment is overdue, or the account's payment method must be confirmed to continue.",
	"forbidden":             "You do not have access to the app.",
	"suspended":             "This account or app has been suspended.",
	"not_found":             "Couldn't find that app.",
	"invalid_params":        "Invalid parameters.",
	"verification_needed":   "Please verify your account to use this feature (please enter a credit card). For more information, see https://devcenter.heroku.com/categories/billing Verify now at https://heroku.com/verify",
	"rate_limit":            "Your account reached the API rate limit. Please wait a few minutes before making new requests.",
	"internal_server_error": "Internal server error.",
	"service_unavailable":   "The API is temporarily unavailable.",
}

// ErrorFor returns Heroku's answer for status and id; an empty id is the
// usual one for status.
func ErrorFor(status int, id string) ErrorBody {
	if id == "" {
		id = defaultID(status)
	}
	return ErrorBody{ID: id, Message: cmp.Or(knownErrors[id], http.StatusText(status))}
}

func defaultID(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusPaymentRequired:
		return "delinquent"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusNotFound:
		return "not_found"
	case status == http.StatusUnprocessableEntity:
		return "invalid_params"
	case status == http.StatusServiceUnavailable:
		return "service_unavailable"
	case status >= 500:
		return "internal_server_error"
	default:
		return "bad_request"
	}
}

// planLimitBody is Heroku's refusal of a quantity above the plan's limit
// for the dyno size, as real answers have carried it since 2015.
func planLimitBody(limit int, size string) ErrorBody {
	// Heroku names sizes capitalised in messages ("Standard-1X", "Free").
	if size != "" {
		size = strings.ToUpper(size[:1]) + size[1:]
	}
	return ErrorBody{
		ID:      "cannot_run_above_limit",
		Limit:   limit,
		Size:    size,
		Message: fmt.Sprintf("Cannot run more than %d %s size dynos.", limit, size),
		URL:     "https://devcenter.heroku.com/articles/dyno-size#default-scaling-limits",
	}
}

// formationJSON is Heroku's Formation object.
type formationJSON struct {
	App struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"app"`
	Command   string `json:"command"`
	CreatedAt string `json:"created_at"`
	ID        string `json:"id"`
	Quantity  int    `json:"quantity"`
	Size      string `json:"size"`
	Type      string `json:"type"`
	UpdatedAt string `json:"updated_at"`
}

func (s *Server) render(k key, f *formation) formationJSON {
	var out formationJSON
	out.App.ID, out.App.Name = s.apps[k.app], k.app
	out.Command = f.command
	out.CreatedAt = f.created.Format(time.RFC3339)
	out.ID = f.id
	out.Quantity = f.quantity
	out.Size = f.size
	out.Type = k.processType
	out.UpdatedAt = f.updated.Format(time.RFC3339)
	return out
}

// appNamed finds an app by name or id, as Heroku accepts either, and
// returns its name ("" if unknown). Callers hold mu.
func (s *Server) appNamed(ident string) string {
	for name, id := range s.apps {
		if ident == name || ident == id {
			return name
		}
	}
	return ""
}

// lookup finds a formation by app name or id and by process type or
// formation id, as Heroku accepts either. Callers hold mu.
func (s *Server) lookup(appIdent, formIdent string) (key, *formation, string) {
	app := s.appNamed(appIdent)
	if app == "" {
		return key{}, nil, msgNoApp
	}
	for k, f := range s.formations {
		if k.app == app && (k.processType == formIdent || f.id == formIdent) {
			return k, f, ""
		}
	}
	return key{}, nil, fmt.Sprintf("Couldn't find that process type (%s).", formIdent)
}

func (s *Server) getFormation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	k, f, msg := s.lookup(r.PathValue("app"), r.PathValue("type"))
	if f == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", msg)
		return
	}
	out := s.render(k, f)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// listFormations answers every process type of the app, ordered by type so
// the answer is the same each time; an app without one gets [], not null.
func (s *Server) listFormations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	app := s.appNamed(r.PathValue("app"))
	if app == "" {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", msgNoApp)
		return
	}
	out := []formationJSON{}
	for k, f := range s.formations {
		if k.app == app {
			out = append(out, s.render(k, f))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b formationJSON) int { return strings.Compare(a.Type, b.Type) })
	writeJSON(w, http.StatusOK, out)
}

type update struct {
	Type     string  `json:"type"`
	Quantity *int    `json:"quantity"`
	Size     *string `json:"size"`
}

func (s *Server) updateFormation(w http.ResponseWriter, r *http.Request) {
	var u update
	if err := decodeBody(r, &u); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Invalid JSON body: "+err.Error())
		return
	}
	u.Type = r.PathValue("type")
	out, status, refusal := s.apply(r.PathValue("app"), []update{u})
	if status != http.StatusOK {
		writeJSON(w, status, refusal)
		return
	}
	writeJSON(w, http.StatusOK, out[0])
}

func (s *Server) batchUpdate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Updates []update `json:"updates"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Invalid JSON body: "+err.Error())
		return
	}
	if len(body.Updates) == 0 {
		writeError(w, http.StatusUnprocessableEntity, "invalid_params", "Updates must not be empty.")
		return
	}
	out, status, refusal := s.apply(r.PathValue("app"), body.Updates)
	if status != http.StatusOK {
		writeJSON(w, status, refusal)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// apply checks every update first and then applies them all, so a batch
// either succeeds whole or changes nothing.
func (s *Server) apply(app string, updates []update) ([]formationJSON, int, ErrorBody) {
	type change struct {
		k key
		f *formation
		u update
	}
	s.mu.Lock()
	changes := make([]change, 0, len(updates))
	for _, u := range updates {
		k, f, msg := s.lookup(app, u.Type)
		if f == nil {
			s.mu.Unlock()
			return nil, http.StatusNotFound, ErrorBody{ID: "not_found", Message: msg}
		}
		if u.Quantity != nil && *u.Quantity < 0 {
			s.mu.Unlock()
			return nil, http.StatusUnprocessableEntity, ErrorBody{ID: "invalid_params", Message: "Quantity must be zero or more."}
		}
		if u.Quantity != nil && s.planMax > 0 && *u.Quantity > s.planMax {
			size := f.size
			if u.Size != nil {
				size = *u.Size
			}
			s.mu.Unlock()
			return nil, http.StatusUnprocessableEntity, planLimitBody(s.planMax, size)
		}
		changes = append(changes, change{k, f, u})
	}
	now := s.now()
	out := make([]formationJSON, 0, len(changes))
	for _, c := range changes {
		if c.u.Quantity != nil {
			c.f.quantity = *c.u.Quantity
		}
		if c.u.Size != nil {
			c.f.size = *c.u.Size
		}
		c.f.updated = now
		out = append(out, s.render(c.k, c.f))
	}
	hooks := slices.Clone(s.scaleHooks)
	s.mu.Unlock()

	for _, c := range changes {
		if c.u.Quantity == nil {
			continue
		}
		for _, h := range hooks {
			h(c.k.app, c.k.processType, *c.u.Quantity)
		}
	}
	return out, http.StatusOK, ErrorBody{}
}

func (s *Server) rateLimits(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := s.remaining
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int{"remaining": n})
}

func decodeBody(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, id, message string) {
	writeJSON(w, status, ErrorBody{ID: id, Message: message})
}

// newID returns a random UUID (version 4), the shape of Heroku's ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
