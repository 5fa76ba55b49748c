// Package probe requests the heartbeat URL once and turns the answer into a
// Verdict: fail, pass, ok or a probe error.
package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults used when a Prober field is left at zero.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 64 << 10 // bytes read and discarded after the first
	MaxRedirects   = 10
)

// Prober sends one heartbeat request per Probe call.
type Prober struct {
	Client      *http.Client
	URL         string
	Timeout     time.Duration // bounds the whole probe, body included; ≤0 means DefaultTimeout
	MinResponse time.Duration // a 2xx strictly faster than this passes
	MaxResponse time.Duration // anything strictly slower than this fails
	// Signal is what the latency compared with MinResponse and MaxResponse
	// is; with QueueTime it is read from the heartbeat's headers. With
	// Utilization the verdict compares the reported utilization with
	// TargetUtilization instead, and the latency is the queue time.
	Signal Signal
	// TargetUtilization is the utilization signal's target, 0–1: above it
	// a beat fails, below half of it a 2xx passes.
	TargetUtilization float64
	MaxBody           int64 // body bytes read at most; ≤0 means DefaultMaxBody

	now func() time.Time // latency clock; tests replace it to hit the boundaries exactly
}

// errTooManyRedirects and errBadRedirect come from CheckRedirect, so the
// classifier can tell a broken redirect chain (a probe error) from a failure.
var (
	errTooManyRedirects = errors.New("too many redirects")
	errBadRedirect      = errors.New("redirect to a non-HTTP URL")
)

// New returns a Prober with its own client.
func New(url string, timeout, minResponse, maxResponse time.Duration) *Prober {
	return &Prober{
		Client:      NewClient(),
		URL:         url,
		Timeout:     timeout,
		MinResponse: minResponse,
		MaxResponse: maxResponse,
		MaxBody:     DefaultMaxBody,
	}
}

// NewClient returns the HTTP client New uses. Keep-alives are off so that
// every beat pays for connect and TLS like the original did, which keeps
// beats comparable and avoids stale pooled connections after a Lambda freeze.
// It speaks HTTP/1.1, as the original's urllib2 did, from the command as
// from the Lambda function (which speaks nothing else).
// Compression is off so MaxBody counts bytes on the wire and the first body
// byte is the server's, not the decompressor's.
func NewClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{KeepAlive: -1}).DialContext,
			DisableKeepAlives:      true,
			DisableCompression:     true,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: checkRedirect,
		// No Client.Timeout: the probe's context bounds the request and the body.
	}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return errTooManyRedirects
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return errBadRedirect
	}
	return nil
}

// Probe sends one GET and classifies the answer. Latency runs from just
// before the request to the first body byte (or the end of an empty body):
// that is what the original measured, and unlike httptrace's
// GotFirstResponseByte it is not fooled by an app that flushes its headers
// early and computes the page afterwards. After the first byte at most MaxBody
// bytes are read and discarded, within the same deadline; the rest of the body
// cannot change the verdict.
func (p *Prober) Probe(ctx context.Context) Result {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	maxBody := p.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	now := p.now
	if now == nil {
		now = time.Now
	}
	client := p.Client
	if client == nil {
		client = NewClient()
	}

	// The bound reported on a timeout: ours, or the caller's if that is sooner.
	bound := timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < bound {
			bound = max(left.Round(time.Millisecond), 0)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(pctx, http.MethodGet, p.URL, nil)
	if err != nil {
		// url.Parse errors quote the URL, password included: say nothing more.
		return Result{Verdict: Error, Detail: "invalid heartbeat URL"}
	}
	req.Header.Set("User-Agent", "autoscalebot-heartbeat")

	start := now()
	resp, err := client.Do(req)
	if err != nil {
		v, d := classifyErr(ctx, err, bound)
		return Result{Verdict: v, Detail: p.redact(d)}
	}
	defer resp.Body.Close()

	latency, err := firstByte(resp.Body, start, now)
	if err != nil {
		res := Result{Status: resp.StatusCode}
		v, d := classifyErr(ctx, err, bound)
		switch {
		case resp.StatusCode >= 400 && resp.StatusCode < 600:
			// The status alone decides; a broken body changes nothing.
			res.Verdict, res.Detail = classify(resp.StatusCode, 0, p.MinResponse, p.MaxResponse)
		case v == Error:
			res.Verdict, res.Detail = Error, httpPrefix(resp.StatusCode)+", then "+d
		default:
			res.Verdict, res.Detail = Fail, httpPrefix(resp.StatusCode)+", then "+d
		}
		res.Detail = p.redact(res.Detail)
		return res
	}

	// Bounded drain: stops at maxBody bytes or the deadline, whichever is
	// first; errors here are ignored because the verdict is already known.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))

	return p.answer(resp.StatusCode, resp.Header, latency)
}

// answer classifies an answer that came in time, by the prober's signal.
func (p *Prober) answer(status int, h http.Header, latency time.Duration) Result {
	var src Source
	if p.Signal == QueueTime || p.Signal == Utilization {
		latency, src = queueLatency(h, latency)
	}
	var res Result
	if p.Signal == Utilization {
		res = p.utilizationResult(status, h, latency)
	} else {
		res = Answered(status, latency, p.MinResponse, p.MaxResponse)
	}
	res.Source = src
	if src != "" && res.Verdict != Error {
		res.Detail += "; " + sourceDetail(src, latency, h)
	}
	return res
}

// firstByte reads until at least one body byte or the end of the body and
// returns the time since start. A clean end of an empty body is not an error.
func firstByte(body io.Reader, start time.Time, now func() time.Time) (time.Duration, error) {
	var buf [512]byte
	for {
		n, err := body.Read(buf[:])
		if n > 0 || errors.Is(err, io.EOF) {
			return now().Sub(start), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// redact removes the URL's userinfo from a detail, in case an error message
// from below ever quotes it.
func (p *Prober) redact(detail string) string {
	u, err := url.Parse(p.URL)
	if err != nil || u.User == nil {
		return detail
	}
	return redactUser(detail, u.User)
}
