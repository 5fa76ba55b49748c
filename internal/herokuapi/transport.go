package herokuapi

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
)

// rateLimitRecorder sits under heroku.Transport, which turns error answers
// into errors before the caller sees them: here every raw response still
// passes, so its RateLimit-Remaining header and status can be kept.
type rateLimitRecorder struct {
	base      http.RoundTripper
	remaining *atomic.Int64 // -1 until a header arrives
}

func (t rateLimitRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if v := resp.Header.Get("RateLimit-Remaining"); v != "" {
		if n, perr := strconv.Atoi(v); perr == nil && n >= 0 {
			t.remaining.Store(int64(n))
		}
	}
	if st, ok := req.Context().Value(statusKey{}).(*atomic.Int32); ok {
		st.Store(int32(resp.StatusCode))
	}
	return resp, nil
}

// CancelRequest exists because http.Client calls it through
// heroku.Transport on a timeout, and heroku.Transport logs a warning when
// the transport below lacks it. Cancellation itself travels in the
// request's context.
func (rateLimitRecorder) CancelRequest(*http.Request) {}

type statusKey struct{}

// withStatus returns a ctx under which the recorder notes the HTTP status
// of the call, so errors keep it even where heroku-go drops it.
func withStatus(ctx context.Context) (context.Context, *atomic.Int32) {
	st := new(atomic.Int32)
	return context.WithValue(ctx, statusKey{}, st), st
}
