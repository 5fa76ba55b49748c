package herokuapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	heroku "github.com/heroku/heroku-go/v5"
)

// Sentinels a caller branches on; every APIError unwraps to one of them
// (or to none, for a status with no special meaning).
var (
	ErrRateLimited  = errors.New("heroku rate limit reached")          // 429
	ErrPlanLimit    = errors.New("heroku plan limit reached")          // 422, e.g. scaling beyond the plan
	ErrUnauthorized = errors.New("heroku rejected the API key")        // 401, 403
	ErrNotFound     = errors.New("heroku app or process type unknown") // 404
	ErrServer       = errors.New("heroku server error")                // 5xx
	ErrBadResponse  = errors.New("heroku response unreadable")         // a 2xx whose body is not a formation
)

// APIError is an answer from the Platform API that was not a success, or a
// success that could not be read.
type APIError struct {
	Status  int    // HTTP status
	ID      string // Heroku's error id, such as "rate_limit"
	Message string
	Err     error // the sentinel, or nil
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("heroku: %d", e.Status)
	if e.ID != "" {
		s += " " + e.ID
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }

func sentinelFor(status int) error {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusUnprocessableEntity:
		return ErrPlanLimit
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status >= 500:
		return ErrServer
	}
	return nil
}

// classify turns what heroku-go returned into an APIError where the API
// answered, and leaves transport failures (timeouts, refused connections,
// a cancelled ctx) as they are. status is the HTTP status seen for the
// call, 0 if none arrived.
func classify(err error, status int) error {
	var herr heroku.Error
	if errors.As(err, &herr) {
		return &APIError{Status: herr.StatusCode, ID: herr.ID, Message: herr.Error(), Err: sentinelFor(herr.StatusCode)}
	}
	if status != 0 && status/100 != 2 {
		// heroku-go drops the status when the error body is not JSON
		// (say, a proxy's HTML page); our transport kept it.
		return &APIError{Status: status, Message: http.StatusText(status), Err: sentinelFor(status)}
	}
	if status == 0 || isTransport(err) {
		return err
	}
	return &APIError{Status: status, Message: "unreadable body: " + err.Error(), Err: ErrBadResponse}
}

// isTransport reports a failure of the network or of ctx rather than of
// the answer's content, even when it struck while the body was read.
func isTransport(err error) bool {
	var ne net.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// Refused reports whether Heroku refused the request for a reason only a
// person can fix: a bad or under-privileged key (401/403), or an unknown app
// or process type (404).
func (e *APIError) Refused() bool {
	return errors.Is(e.Err, ErrUnauthorized) || errors.Is(e.Err, ErrNotFound)
}

// OverPlan reports whether Heroku refused a quantity as beyond the plan (422).
func (e *APIError) OverPlan() bool { return errors.Is(e.Err, ErrPlanLimit) }
