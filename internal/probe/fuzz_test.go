package probe

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzClassify checks the verdict rules for any status and latencies.
func FuzzClassify(f *testing.F) {
	ms := int64(time.Millisecond)
	f.Add(200, 50*ms, 200*ms, 1000*ms)
	f.Add(200, 200*ms, 200*ms, 1000*ms)
	f.Add(200, 1000*ms, 200*ms, 1000*ms)
	f.Add(200, 1001*ms, 200*ms, 1000*ms)
	f.Add(204, 0*ms, 200*ms, 1000*ms)
	f.Add(301, 10*ms, 200*ms, 1000*ms)
	f.Add(404, 5000*ms, 200*ms, 1000*ms)
	f.Add(503, 1*ms, 200*ms, 1000*ms)
	f.Add(600, 1*ms, 200*ms, 1000*ms)
	f.Add(0, 1*ms, 200*ms, 1000*ms)
	f.Add(200, 500*ms, 2000*ms, 1000*ms) // min above max
	f.Fuzz(func(t *testing.T, status int, latency, minR, maxR int64) {
		l, lo, hi := time.Duration(latency), time.Duration(minR), time.Duration(maxR)
		v, d := classify(status, l, lo, hi)
		if d == "" {
			t.Fatal("empty detail")
		}
		is2xx := status >= 200 && status < 300
		switch {
		case status >= 400 && status < 500:
			if v != Error {
				t.Fatalf("status %d: got %s, want error", status, v)
			}
		case status >= 500 || status < 100:
			if v != Fail {
				t.Fatalf("status %d: got %s, want fail", status, v)
			}
		case l > hi:
			if v != Fail {
				t.Fatalf("latency %s > max %s: got %s, want fail", l, hi, v)
			}
		case is2xx && l < lo:
			if v != Pass {
				t.Fatalf("2xx, latency %s < min %s: got %s, want pass", l, lo, v)
			}
		default:
			if v != OK {
				t.Fatalf("status %d latency %s in [%s,%s]: got %s, want ok", status, l, lo, hi, v)
			}
		}
	})
}

// FuzzProbeResponse sends arbitrary bytes back as the answer and checks the
// prober neither hangs nor panics and that its verdict agrees with the status
// it reports. Every dial, redirects included, reaches the in-memory server.
func FuzzProbeResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 503 Service Unavailable\r\n\r\n",
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.example/\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example/\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
		"HTTP/1.1 099 Odd\r\n\r\n",
		"HTTP/1.0 200\r\n\r\nbody until close",
		"SSH-2.0-OpenSSH_9.6\r\n",
		"\x16\x03\x01\x00\x05hello",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		// In-memory connections: thousands of runs must not use up loopback ports.
		p := New("http://heartbeat.test/", 2*time.Second, time.Hour, 2*time.Hour)
		tr := p.Client.Transport.(*http.Transport)
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			client, server := net.Pipe()
			go func() {
				defer server.Close()
				readRequest(server)
				_, _ = server.Write(answer)
			}()
			return client, nil
		}
		got := p.Probe(context.Background())
		switch {
		case got.Detail == "":
			t.Fatalf("empty detail: %+v", got)
		case got.Verdict != Fail && got.Verdict != Pass && got.Verdict != OK && got.Verdict != Error:
			t.Fatalf("unknown verdict: %+v", got)
		case got.Status >= 400 && got.Status < 500 && got.Verdict != Error:
			t.Fatalf("4xx must be a probe error: %+v", got)
		case got.Status >= 500 && got.Verdict != Fail:
			t.Fatalf("5xx must fail: %+v", got)
		case got.Verdict == Pass && (got.Status < 200 || got.Status > 299):
			t.Fatalf("only a 2xx passes: %+v", got)
		case got.Verdict == Pass && got.Latency <= 0:
			t.Fatalf("pass without a latency: %+v", got)
		case strings.ContainsFunc(got.Detail, func(r rune) bool { return r < ' ' }):
			t.Fatalf("control characters in detail: %q", got.Detail)
		}
	})
}
