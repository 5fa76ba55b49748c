package herokuapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Sentinels a caller branches on with errors.Is; every APIError unwraps to
// one of them (or to none, for a status with no special meaning). Heroku
// gives several meanings to one status, so the error id decides too. Those
// a tick treats apart also match what they mean to it (tick.ErrRefused,
// tick.ErrAccount, tick.ErrOverPlan).
var (
	ErrRateLimited  error = &sentinel{msg: "heroku rate limit reached"}                                  // 429 rate_limit
	ErrPlanLimit    error = &sentinel{msg: "heroku plan limit reached", means: tick.ErrOverPlan}         // 422 cannot_run_above_limit
	ErrAccount      error = &sentinel{msg: "heroku account needs attention", means: tick.ErrAccount}     // 402 (delinquent), 422 verification_needed, 403 suspended
	ErrInvalid      error = &sentinel{msg: "heroku refused the request as invalid"}                      // 422 invalid_params and any other 422
	ErrUnauthorized error = &sentinel{msg: "heroku rejected the API key", means: tick.ErrRefused}        // 401, 403
	ErrNotFound     error = &sentinel{msg: "heroku app or process type unknown", means: tick.ErrRefused} // 404
	ErrServer       error = &sentinel{msg: "heroku server error"}                                        // 5xx
	ErrBadResponse  error = &sentinel{msg: "heroku response unreadable"}                                 // a 2xx whose body is not a formation
)

// sentinel is one of the errors above: its message, and what it means to a
// tick, if anything.
type sentinel struct {
	msg   string
	means error
}

func (s *sentinel) Error() string { return s.msg }

// Is matches what the error means to a tick.
func (s *sentinel) Is(target error) bool { return s.means != nil && target == s.means }

// Heroku's error ids that change what a status means
// (https://devcenter.heroku.com/articles/platform-api-reference#errors).
const (
	idCannotRunAboveLimit = "cannot_run_above_limit" // 422, with the plan's "limit"
	idVerificationNeeded  = "verification_needed"    // 422: billing information missing
	idSuspended           = "suspended"              // 403: account or app suspended
)

// APIError is an answer from the Platform API that was not a success, or a
// success that could not be read.
type APIError struct {
	Status  int    // HTTP status
	ID      string // Heroku's error id, such as "rate_limit"
	Message string
	// Limit is the "limit" of a cannot_run_above_limit answer: the most
	// dynos of that size Heroku lets the app run. 0 when the answer has none.
	Limit int
	Err   error // the sentinel, or nil
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

// PlanLimit is the plan's limit a cannot_run_above_limit answer gave, for
// the tick (0 when none).
func (e *APIError) PlanLimit() int { return e.Limit }

func sentinelFor(status int, id string) error {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusPaymentRequired:
		return ErrAccount
	case status == http.StatusUnprocessableEntity && id == idCannotRunAboveLimit:
		return ErrPlanLimit
	case status == http.StatusUnprocessableEntity && id == idVerificationNeeded:
		return ErrAccount
	case status == http.StatusUnprocessableEntity:
		return ErrInvalid
	case status == http.StatusForbidden && id == idSuspended:
		return ErrAccount
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
// a cancelled ctx) as they are. info is what the transport saw of the call.
func classify(err error, info *callInfo) error {
	status := int(info.status.Load())
	var herr heroku.Error
	if errors.As(err, &herr) {
		ae := &APIError{Status: herr.StatusCode, ID: herr.ID, Message: herr.Error(), Err: sentinelFor(herr.StatusCode, herr.ID)}
		if errors.Is(ae.Err, ErrPlanLimit) {
			ae.Limit = int(info.limit.Load())
		}
		return ae
	}
	if status != 0 && status/100 != 2 {
		// heroku-go drops the status when the error body is not JSON
		// (say, a proxy's HTML page); our transport kept it.
		return &APIError{Status: status, Message: http.StatusText(status), Err: sentinelFor(status, "")}
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
