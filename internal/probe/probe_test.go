package probe

import (
	"bufio"
	"context"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// guard only stops a broken prober from hanging the suite; no assertion is
// made about speed.
const guard = 30 * time.Second

func TestProbe(t *testing.T) {
	instant := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "hello")
		}
	}

	tests := []struct {
		name       string
		prober     func(t *testing.T) *Prober
		want       Verdict
		wantStatus int
		wantDetail string // substring
	}{
		{
			name:   "fast 2xx passes",
			prober: httpProber(instant(200), time.Second, 5*time.Second, 10*time.Second),
			want:   Pass, wantStatus: 200, wantDetail: "HTTP 200, faster than 5s",
		},
		{
			name: "fast empty 204 passes",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			}, time.Second, 5*time.Second, 10*time.Second),
			want: Pass, wantStatus: 204, wantDetail: "HTTP 204",
		},
		{
			name:   "2xx in range is ok (min 0: nothing passes)",
			prober: httpProber(instant(200), time.Second, 0, 10*time.Second),
			want:   OK, wantStatus: 200, wantDetail: "HTTP 200",
		},
		{
			name: "headers early but body late is slow: latency is to the first body byte",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
				time.Sleep(300 * time.Millisecond)
				_, _ = io.WriteString(w, "late")
			}, 5*time.Second, 0, 50*time.Millisecond),
			want: Fail, wantStatus: 200, wantDetail: "slower than 50ms",
		},
		{
			name:   "304 not followed is ok, never a pass",
			prober: httpProber(instant(304), time.Second, 5*time.Second, 10*time.Second),
			want:   OK, wantStatus: 304, wantDetail: "HTTP 304",
		},
		{
			name:   "500 fails",
			prober: httpProber(instant(500), time.Second, 0, 10*time.Second),
			want:   Fail, wantStatus: 500, wantDetail: "HTTP 500",
		},
		{
			name:   "fast 503 still fails",
			prober: httpProber(instant(503), time.Second, 5*time.Second, 10*time.Second),
			want:   Fail, wantStatus: 503, wantDetail: "HTTP 503",
		},
		{
			name:   "404 is a probe error, not a fail (bug 8)",
			prober: httpProber(instant(404), time.Second, 5*time.Second, 10*time.Second),
			want:   Error, wantStatus: 404, wantDetail: "HTTP 404",
		},
		{
			name:   "401 is a probe error",
			prober: httpProber(instant(401), time.Second, 5*time.Second, 10*time.Second),
			want:   Error, wantStatus: 401, wantDetail: "HTTP 401",
		},
		{
			name: "no headers within the timeout fails",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			}, 200*time.Millisecond, 5*time.Second, 10*time.Second),
			want: Fail, wantDetail: "timeout after 200ms",
		},
		{
			name: "headers but no body within the timeout fails",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}, 200*time.Millisecond, 5*time.Second, 10*time.Second),
			want: Fail, wantStatus: 200, wantDetail: "HTTP 200, then timeout after 200ms",
		},
		{
			name: "redirect to a fast page passes",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/ok" {
					http.Redirect(w, r, "/ok", http.StatusFound)
					return
				}
				_, _ = io.WriteString(w, "ok")
			}, time.Second, 5*time.Second, 10*time.Second),
			want: Pass, wantStatus: 200, wantDetail: "HTTP 200",
		},
		{
			name: "redirect loop is a probe error",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
			}, time.Second, 5*time.Second, 10*time.Second),
			want: Error, wantDetail: "too many redirects",
		},
		{
			name: "redirect to a non-HTTP URL is a probe error",
			prober: httpProber(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "ftp://127.0.0.1/", http.StatusFound)
			}, time.Second, 5*time.Second, 10*time.Second),
			want: Error, wantDetail: "redirect to a non-HTTP URL",
		},
		{
			name: "connection refused fails",
			prober: func(t *testing.T) *Prober {
				return New("http://"+closedPort(t)+"/", time.Second, 5*time.Second, 10*time.Second)
			},
			want: Fail, wantDetail: "connection refused",
		},
		{
			name: "connection reset fails",
			prober: rawProber(func(c net.Conn) {
				readRequest(c)
				_ = c.(*net.TCPConn).SetLinger(0) // close sends RST
			}),
			want: Fail, wantDetail: "connection reset",
		},
		{
			name: "closed without an answer fails",
			prober: rawProber(func(c net.Conn) {
				readRequest(c)
			}),
			want: Fail, wantDetail: "connection closed",
		},
		{
			name: "non-HTTP answer fails",
			prober: rawProber(func(c net.Conn) {
				readRequest(c)
				_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02")
			}),
			want: Fail, wantDetail: "non-HTTP answer",
		},
		{
			name: "invalid status code fails",
			prober: rawProber(func(c net.Conn) {
				readRequest(c)
				_, _ = io.WriteString(c, "HTTP/1.1 600 Weird\r\nContent-Length: 2\r\n\r\nhi")
			}),
			want: Fail, wantStatus: 600, wantDetail: "not a valid status",
		},
		{
			name: "body cut short before the first byte fails",
			prober: rawProber(func(c net.Conn) {
				readRequest(c)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
			}),
			want: Fail, wantStatus: 200, wantDetail: "HTTP 200, then connection closed",
		},
		{
			name: "self-signed certificate is a probe error",
			prober: func(t *testing.T) *Prober {
				srv := httptest.NewUnstartedServer(instant(200))
				srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the expected handshake failure
				srv.StartTLS()
				t.Cleanup(srv.Close)
				return New(srv.URL, time.Second, 5*time.Second, 10*time.Second)
			},
			want: Error, wantDetail: "tls: ",
		},
		{
			name: "trusted certificate passes",
			prober: func(t *testing.T) *Prober {
				srv := httptest.NewTLSServer(instant(200))
				t.Cleanup(srv.Close)
				return trusting(New(srv.URL, time.Second, 5*time.Second, 10*time.Second), srv)
			},
			want: Pass, wantStatus: 200, wantDetail: "HTTP 200",
		},
		{
			name: "https to a plain HTTP server is a probe error",
			prober: func(t *testing.T) *Prober {
				srv := httptest.NewServer(instant(200))
				t.Cleanup(srv.Close)
				return New(strings.Replace(srv.URL, "http:", "https:", 1), time.Second, 5*time.Second, 10*time.Second)
			},
			want: Error, wantDetail: "does not speak TLS",
		},
		{
			name: "DNS failure is a probe error",
			prober: func(t *testing.T) *Prober {
				p := New("http://heartbeat.invalid/", time.Second, 5*time.Second, 10*time.Second)
				p.Client.Transport.(*http.Transport).DialContext = (&net.Dialer{Resolver: nxdomainResolver(t)}).DialContext
				return p
			},
			want: Error, wantDetail: "dns: lookup heartbeat.invalid: no such host",
		},
		{
			name: "invalid URL is a probe error",
			prober: func(t *testing.T) *Prober {
				return New("http://user:s3cret@[::1", time.Second, 5*time.Second, 10*time.Second)
			},
			want: Error, wantDetail: "invalid heartbeat URL",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.prober(t).Probe(context.Background())
			checkResult(t, got, tc.want, tc.wantStatus, tc.wantDetail)
		})
	}
}

// Boundaries are exact, so the clock is faked: equal to min or max is ok,
// one nanosecond either side passes or fails (both comparisons are strict).
func TestProbeLatencyBoundaries(t *testing.T) {
	const minR, maxR = 200 * time.Millisecond, time.Second
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		status  int
		latency time.Duration
		want    Verdict
	}{
		{"just under min passes", 200, minR - time.Nanosecond, Pass},
		{"exactly min is ok", 200, minR, OK},
		{"between is ok", 200, 500 * time.Millisecond, OK},
		{"exactly max is ok", 200, maxR, OK},
		{"just over max fails", 200, maxR + time.Nanosecond, Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(srv.URL, 5*time.Second, minR, maxR)
			p.now = stepClock(tc.latency)
			got := p.Probe(context.Background())
			if got.Verdict != tc.want || got.Latency != tc.latency {
				t.Errorf("got %+v, want verdict %s with latency %s", got, tc.want, tc.latency)
			}
		})
	}
}

func TestProbeCallerContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		ctx        func() (context.Context, context.CancelFunc)
		want       Verdict
		wantDetail string
	}{
		{
			name: "caller's deadline sooner than the timeout is a timeout",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 150*time.Millisecond)
			},
			want: Fail, wantDetail: "timeout after",
		},
		{
			name: "caller's cancellation decides nothing",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: Error, wantDetail: "probe canceled",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			got := New(srv.URL, guard, 5*time.Second, 10*time.Second).Probe(ctx)
			checkResult(t, got, tc.want, 0, tc.wantDetail)
		})
	}
}

// A 100 MB body must not be read: the server sees the client hang up long
// before it has written everything.
func TestProbeHugeBodyIsNotRead(t *testing.T) {
	const size = 100 << 20
	written := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		chunk := make([]byte, 32<<10)
		var n int64
		for n < size {
			k, err := w.Write(chunk)
			n += int64(k)
			if err != nil {
				break
			}
		}
		written <- n
	}))
	t.Cleanup(srv.Close)

	got := New(srv.URL, guard, 5*time.Second, 10*time.Second).Probe(context.Background())
	checkResult(t, got, Pass, 200, "HTTP 200")
	select {
	case n := <-written:
		if n >= size {
			t.Errorf("server wrote the whole %d-byte body: the prober read it all", n)
		}
	case <-time.After(guard):
		t.Fatal("server still writing: the prober never hung up")
	}
}

// A body that trickles forever must end at the deadline with the verdict
// decided by its first byte.
func TestProbeTricklingBodyEnds(t *testing.T) {
	hungUp := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(hungUp)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := io.WriteString(w, "x"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	}))
	t.Cleanup(srv.Close)

	done := make(chan Result, 1)
	go func() {
		done <- New(srv.URL, 300*time.Millisecond, 5*time.Second, 10*time.Second).Probe(context.Background())
	}()
	select {
	case got := <-done:
		checkResult(t, got, Pass, 200, "HTTP 200")
	case <-time.After(guard):
		t.Fatal("probe never returned on a trickling body")
	}
	select {
	case <-hungUp:
	case <-time.After(guard):
		t.Fatal("server never saw the prober hang up")
	}
}

// The URL's password never reaches a detail, whatever the failure.
func TestProbeDetailHidesPassword(t *testing.T) {
	const pw = "s3cret-pw"
	redirectLoop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	}))
	t.Cleanup(redirectLoop.Close)
	garbage := rawServer(t, func(c net.Conn) {
		readRequest(c)
		_, _ = io.WriteString(c, "garbage with no space\r\n")
	})

	tests := []struct {
		name string
		url  string
	}{
		{"refused", "http://bot:" + pw + "@" + closedPort(t) + "/"},
		{"redirect loop", strings.Replace(redirectLoop.URL, "http://", "http://bot:"+pw+"@", 1)},
		{"garbage", "http://bot:" + pw + "@" + garbage + "/"},
		{"invalid URL", "http://bot:" + pw + "@[::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := New(tc.url, 2*time.Second, 5*time.Second, 10*time.Second).Probe(context.Background())
			if strings.Contains(got.Detail, pw) || got.Detail == "" {
				t.Errorf("detail %q: want it non-empty and without the password", got.Detail)
			}
		})
	}
}

func BenchmarkProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	p := New(srv.URL, 5*time.Second, time.Second, 2*time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if got := p.Probe(context.Background()); got.Verdict != Pass {
			b.Fatalf("got %+v, want pass", got)
		}
	}
}

func checkResult(t *testing.T, got Result, want Verdict, wantStatus int, wantDetail string) {
	t.Helper()
	if got.Verdict != want || got.Status != wantStatus || !strings.Contains(got.Detail, wantDetail) {
		t.Errorf("got %+v, want verdict %s, status %d, detail containing %q", got, want, wantStatus, wantDetail)
	}
}

func httpProber(h http.HandlerFunc, timeout, minR, maxR time.Duration) func(t *testing.T) *Prober {
	return func(t *testing.T) *Prober {
		t.Helper()
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return New(srv.URL+"/", timeout, minR, maxR)
	}
}

func rawProber(handle func(net.Conn)) func(t *testing.T) *Prober {
	return func(t *testing.T) *Prober {
		t.Helper()
		return New("http://"+rawServer(t, handle)+"/", 2*time.Second, 5*time.Second, 10*time.Second)
	}
}

// rawServer accepts TCP connections on loopback, runs handle on each and
// closes it afterwards. It returns host:port.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(guard))
				handle(c)
			})
		}
	})
	return ln.Addr().String()
}

// readRequest consumes the request head, so that closing afterwards is a
// clean close rather than a reset caused by unread data.
func readRequest(c net.Conn) {
	_, _ = http.ReadRequest(bufio.NewReader(c))
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// stepClock reads t0 on its first call and t0+d afterwards, so the measured
// latency is exactly d.
func stepClock(d time.Duration) func() time.Time {
	t0 := time.Unix(1_700_000_000, 0)
	calls := 0
	return func() time.Time {
		calls++
		if calls == 1 {
			return t0
		}
		return t0.Add(d)
	}
}

// nxdomainResolver answers every DNS query with NXDOMAIN from a loopback UDP
// server, so DNS failures are tested without leaving the machine.
func nxdomainResolver(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := nxdomain(buf[:n]); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", pc.LocalAddr().String())
		},
	}
}

// nxdomain builds the NXDOMAIN reply to query q: same id and question, no
// records.
func nxdomain(q []byte) []byte {
	const header = 12
	if len(q) < header {
		return nil
	}
	i := header
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	end := i + 1 + 4 // root label, type, class
	if end > len(q) {
		return nil
	}
	r := append([]byte(nil), q[:end]...)
	r[2] = 0x80 | q[2]&0x01 // response, standard query, recursion desired as asked
	r[3] = 0x80 | 3         // recursion available, NXDOMAIN
	copy(r[4:header], []byte{0, 1, 0, 0, 0, 0, 0, 0})
	return r
}

// TestProbeSpeaksHTTP1: a heartbeat that offers HTTP/2 is probed over
// HTTP/1.1, as the original's urllib2 did.
func TestProbeSpeaksHTTP1(t *testing.T) {
	var proto string
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto = r.Proto
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	p := trusting(New(srv.URL, time.Second, 5*time.Second, 10*time.Second), srv)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if r := p.Probe(ctx); r.Verdict != Pass {
		t.Fatalf("probe: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if proto != "HTTP/1.1" {
		t.Errorf("the heartbeat was asked over %s, want HTTP/1.1", proto)
	}
}

// trusting makes p trust srv's certificate, and nothing else of its client.
func trusting(p *Prober, srv *httptest.Server) *Prober {
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr := p.Client.Transport.(*http.Transport)
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tr.TLSClientConfig.RootCAs = roots
	return p
}
