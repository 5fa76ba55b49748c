// Package jobstest starts what the job-queue recipes' tests run against: a
// throwaway Redis or Postgres on a free loopback port, job workers, and the
// recipe's heartbeat harness, each stopped when the test ends. Test support
// only: no product code imports it.
package jobstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Need skips the test under -short, and otherwise fails it, naming install,
// when any of the tools is missing: a tool is a command on PATH or a check
// to run. `make test-tools` installs them where it can.
func Need(t testing.TB, install string, tools ...any) {
	t.Helper()
	if testing.Short() {
		t.Skipf("a test with real job queues, not run under -short (it needs: %s)", install)
	}
	for _, tool := range tools {
		var err error
		switch tool := tool.(type) {
		case string:
			_, err = exec.LookPath(tool)
		case *exec.Cmd:
			var out []byte
			if out, err = tool.CombinedOutput(); err != nil {
				err = fmt.Errorf("%s: %w: %s", strings.Join(tool.Args, " "), err, bytes.TrimSpace(out))
			}
		default:
			t.Fatalf("jobstest.Need: a tool is a command name or an *exec.Cmd, not %T", tool)
		}
		if err != nil {
			t.Fatalf("missing what this test needs (%v); install it: %s (or make test-tools)", err, install)
		}
	}
}

// FreePort is a loopback port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Redis starts a redis-server of its own, without persistence, and returns
// its URL.
func Redis(t testing.TB) string {
	t.Helper()
	port := FreePort(t)
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	Start(t, "redis-server", cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, "redis-server", 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			return fmt.Errorf("PING: %q %v", line, err)
		}
		return nil
	})
	return "redis://" + addr + "/0"
}

// Start runs cmd in its own process group until the test ends, then stops
// the group: SIGTERM (a job library's warm shutdown), again 2 s later (RQ's
// cold shutdown, which kills its work horse, a session of its own), and
// SIGKILL 5 s later. Its output is shown if the test fails.
func Start(t testing.TB, name string, cmd *exec.Cmd) {
	t.Helper()
	var out syncBuffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &out
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.WaitDelay = 2 * time.Second // a child left holding the output must not hold the test
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		for _, next := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				syscall.Kill(-pgid, next)
				continue
			}
			break
		}
		<-done
		if t.Failed() && out.Len() > 0 {
			t.Logf("%s's output:\n%s", name, out.String())
		}
	})
}

// waitFor calls ready until it succeeds, failing the test past the limit.
func waitFor(t testing.TB, what string, limit time.Duration, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v: %v", what, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Len() int       { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Harness is a recipe's heartbeat run by a script in the recipe's language,
// which answers one JSON line on stdout for each JSON line on stdin:
//
//	{"op": "enqueue", "queue": "q", "job": "block"|"noop", "n": 3} → {"ok": true}
//	{"op": "probe", "auth": "Bearer …"} → {"status": 200, "headers": {…}}
//
// A "block" job runs until its worker is stopped; a "noop" job ends at once.
type Harness struct {
	in  *json.Encoder
	out *bufio.Scanner
	err *syncBuffer
}

// StartHarness starts cmd as a harness, stopped when the test ends.
func StartHarness(t testing.TB, cmd *exec.Cmd) *Harness {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{in: json.NewEncoder(stdin), out: bufio.NewScanner(stdout), err: &syncBuffer{}}
	h.out.Buffer(nil, 1<<20)
	cmd.Stderr = h.err
	Start(t, "the harness", cmd)
	t.Cleanup(func() { stdin.Close() })
	return h
}

func (h *Harness) call(t testing.TB, req, resp any) {
	t.Helper()
	if err := h.in.Encode(req); err != nil {
		t.Fatalf("harness: %v\n%s", err, h.err.String())
	}
	got := make(chan error, 1)
	go func() {
		if !h.out.Scan() {
			got <- errors.Join(errors.New("no answer"), h.out.Err())
			return
		}
		got <- json.Unmarshal(h.out.Bytes(), resp)
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("harness, %v: %v\nits stderr:\n%s", req, err, h.err.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("harness, %v: no answer in 30 s\nits stderr:\n%s", req, h.err.String())
	}
}

// Enqueue puts n jobs of the kind ("block" or "noop") on the queue with the
// job library.
func (h *Harness) Enqueue(t testing.TB, queue, job string, n int) {
	t.Helper()
	var resp struct{ OK bool }
	h.call(t, map[string]any{"op": "enqueue", "queue": queue, "job": job, "n": n}, &resp)
	if !resp.OK {
		t.Fatalf("enqueue %d %s jobs on %s: not ok", n, job, queue)
	}
}

// Probe asks the recipe's heartbeat with the given Authorization ("" for
// none).
func (h *Harness) Probe(t testing.TB, auth string) (int, map[string]string) {
	t.Helper()
	var resp struct {
		Status  int
		Headers map[string]string
	}
	h.call(t, map[string]any{"op": "probe", "auth": auth}, &resp)
	lower := map[string]string{}
	for k, v := range resp.Headers {
		lower[strings.ToLower(k)] = v
	}
	return resp.Status, lower
}

// Env is the environment with the given variables added.
func Env(vars ...string) []string { return append(os.Environ(), vars...) }
