package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// classify turns an HTTP answer into a verdict. The status wins over the
// latency: a 4xx means the probe itself is wrong (bug 8 of the original scaled
// to max on a 404), and a 5xx fails however fast it came.
func classify(status int, latency, minResponse, maxResponse time.Duration) (Verdict, string) {
	if v, d, decided := classifyStatus(status); decided {
		return v, d
	}
	d := httpPrefix(status)
	switch {
	case latency > maxResponse:
		return Fail, fmt.Sprintf("%s, slower than %s", d, maxResponse)
	case status >= 200 && status < 300 && latency < minResponse:
		return Pass, fmt.Sprintf("%s, faster than %s", d, minResponse)
	default:
		return OK, d
	}
}

// classifyStatus decides the answers whose status alone decides, whatever
// the signal: decided is false for the others.
func classifyStatus(status int) (v Verdict, detail string, decided bool) {
	d := httpPrefix(status)
	switch {
	case status < 100 || status > 599:
		// Go accepts any three digits; anything outside the defined classes is
		// a broken answer, like a non-HTTP one.
		return Fail, d + ": not a valid status", true
	case status >= 500:
		return Fail, d, true
	case status >= 400:
		return Error, d, true
	}
	return "", "", false
}

func httpPrefix(status int) string { return fmt.Sprintf("HTTP %03d", status) }

// classifyErr turns a transport error into a verdict. Errors are fails (the
// original counted every error as "too slow"), except those that adding
// dynos can never fix, which are probe errors: DNS, TLS and broken redirects.
// parent is the caller's context, to tell its cancellation from our timeout.
func classifyErr(parent context.Context, err error, bound time.Duration) (Verdict, string) {
	var (
		dnsErr      *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		rootsErr    x509.SystemRootsError
		verifyErr   *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		protoErr    textproto.ProtocolError
		netErr      net.Error
		timeoutText = timeoutDetail(bound)
	)
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		// The caller gave up (shutdown): nothing was learnt about the app.
		return Error, "probe canceled"
	case errors.Is(err, errTooManyRedirects):
		return Error, fmt.Sprintf("too many redirects (more than %d)", MaxRedirects)
	case errors.Is(err, errBadRedirect):
		return Error, errBadRedirect.Error()
	case errors.As(err, &dnsErr):
		// Also when the lookup timed out: the app was never reached.
		msg := dnsErr.Err
		if dnsErr.IsNotFound {
			msg = "no such host"
		}
		return Error, fmt.Sprintf("dns: lookup %s: %s", dnsErr.Name, msg)
	case errors.As(err, &unknownCA):
		return Error, tlsDetail(unknownCA)
	case errors.As(err, &hostErr):
		return Error, tlsDetail(hostErr)
	case errors.As(err, &invalidErr):
		return Error, tlsDetail(invalidErr)
	case errors.As(err, &rootsErr):
		return Error, tlsDetail(rootsErr)
	case errors.As(err, &verifyErr):
		return Error, tlsDetail(verifyErr.Err)
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		// An https URL pointed at a plain port: a configuration mistake.
		return Error, "tls: the server does not speak TLS"
	case errors.As(err, &alertErr):
		return Error, "tls: " + alertErr.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return Fail, timeoutText
	case errors.Is(err, syscall.ECONNREFUSED):
		return Fail, "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Fail, "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Fail, "connection closed before a complete answer"
	case errors.As(err, &protoErr), strings.Contains(err.Error(), "malformed HTTP"):
		// Garbage from whatever listens there: the app is not answering properly.
		return Fail, "non-HTTP answer"
	default:
		return Fail, "request failed: " + innerText(err)
	}
}

// tlsDetail gives "tls: certificate signed by unknown authority" and the like.
func tlsDetail(err error) string {
	return "tls: " + strings.TrimPrefix(err.Error(), "x509: ")
}

// innerText is the error without url.Error's "Get <url>:" prefix, printable
// and short: it may quote bytes a broken server sent.
func innerText(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, err.Error())
	const limit = 200
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}

// redactUser replaces the userinfo and the password, if any, in s.
func redactUser(s string, user *url.Userinfo) string {
	if u := user.String(); u != "" {
		s = strings.ReplaceAll(s, u, "[redacted]")
	}
	if pw, ok := user.Password(); ok && pw != "" {
		s = strings.ReplaceAll(s, pw, "[redacted]")
	}
	return s
}
