package herokuapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
)

// maxErrorPeek bounds how much of an error answer is read to find its
// "limit"; Heroku's error bodies are a few hundred bytes.
const maxErrorPeek = 64 << 10

// rateLimitRecorder sits under heroku.Transport, which turns error answers
// into errors before the caller sees them: here every raw response still
// passes, so its RateLimit-Remaining header, its status and the fields of
// an error body that heroku.Error does not keep can be noted.
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
	if info, ok := req.Context().Value(callKey{}).(*callInfo); ok {
		info.status.Store(int32(resp.StatusCode))
		if resp.StatusCode/100 != 2 && resp.Body != nil {
			info.limit.Store(int32(peekLimit(resp)))
		}
	}
	return resp, nil
}

// peekLimit reads the "limit" of an error body (heroku.Error keeps only id,
// message and url) and leaves the body whole for heroku-go to decode.
func peekLimit(resp *http.Response) int {
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorPeek))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return 0
	}
	// json.Number takes 10 and "10" alike; anything else is no limit.
	var body struct {
		Limit json.Number `json:"limit"`
	}
	if json.Unmarshal(head, &body) != nil {
		return 0
	}
	n, err := strconv.Atoi(body.Limit.String())
	if err != nil || n <= 0 || n > 1<<20 {
		return 0
	}
	return n
}

// CancelRequest exists because http.Client calls it through
// heroku.Transport on a timeout, and heroku.Transport logs a warning when
// the transport below lacks it. Cancellation itself travels in the
// request's context.
func (rateLimitRecorder) CancelRequest(*http.Request) {}

// callInfo is what the recorder saw of one call.
type callInfo struct {
	status atomic.Int32 // 0 if no answer arrived
	limit  atomic.Int32 // an error body's "limit", 0 if none
}

type callKey struct{}

// withCall returns a ctx under which the recorder notes what it sees of
// the call, so errors keep the status where heroku-go drops it, and the
// plan's limit, which heroku-go never reads.
func withCall(ctx context.Context) (context.Context, *callInfo) {
	info := new(callInfo)
	return context.WithValue(ctx, callKey{}, info), info
}
