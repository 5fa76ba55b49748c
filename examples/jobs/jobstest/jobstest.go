// Package jobstest starts what the job-queue recipes' tests run against: a
// throwaway Redis or Postgres on a free loopback port, job workers, and the
// recipe's heartbeat harness, each stopped when the test ends. Test support
// only: no product code imports it.
package jobstest

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/autoscalebot/autoscalebot/heartbeat"
	"github.com/autoscalebot/autoscalebot/test/env/proctest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// The programs the recipes' tests need, for tooltest.Require: under -short
// the tests skip naming them, otherwise a missing one fails its test with
// the command that installs it (`make test-tools` installs them all).
var (
	RedisServer = tooltest.Tool{Name: "redis-server", Install: "apt-get install redis-server"}
	Sidekiq     = tooltest.Tool{Name: "sidekiq", Install: "apt-get install ruby-sidekiq",
		Check: runs("ruby", "-e", `require "sidekiq/api"`)}
	// Python is Debian's interpreter, which has Debian's python3-celery and
	// python3-rq, whatever python3 comes first on PATH.
	Python = "/usr/bin/python3"
	Celery = tooltest.Tool{Name: Python, Install: "apt-get install python3-celery python3-redis",
		Check: runs(Python, "-c", "import celery, redis")}
	RQ   = tooltest.Tool{Name: Python, Install: "apt-get install python3-rq", Check: runs(Python, "-c", "import rq")}
	Node = tooltest.Tool{Name: "node", Install: "apt-get install nodejs npm; cd examples/jobs/bullmq && npm ci"}
)

// Require is tooltest.Require for each tool, the -short skip naming them all
// with their installs; it returns the last one's path.
func Require(t testing.TB, tools ...tooltest.Tool) string {
	t.Helper()
	var installs []string
	for _, tool := range tools {
		installs = append(installs, tool.Install)
	}
	tooltest.SkipShort(t, "needs "+strings.Join(installs, "; "))
	var path string
	for _, tool := range tools {
		path = tooltest.Require(t, tool)
	}
	return path
}

// runs is a tool check: the command succeeds.
func runs(name string, args ...string) func(ctx context.Context, _ string) error {
	return func(ctx context.Context, _ string) error {
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
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
// cold shutdown, which kills its work horse, a session of its own that a
// kill of the group would miss), and SIGKILL 2 s after that. Its output is
// shown if the test fails.
func Start(t testing.TB, name string, cmd *exec.Cmd) {
	t.Helper()
	var out syncBuffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &out
	}
	attr := proctest.SysProcAttr()
	if cmd.SysProcAttr != nil { // a user to run as
		attr.Credential = cmd.SysProcAttr.Credential
	}
	cmd.SysProcAttr = attr
	cmd.WaitDelay = 2 * time.Second // a child left holding the output must not hold the test
	p, err := proctest.Start(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		for range 2 {
			syscall.Kill(-p.Pid(), syscall.SIGTERM)
			select {
			case <-p.Exited():
			case <-time.After(2 * time.Second):
				continue
			}
			break
		}
		p.Stop(5 * time.Second)
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

// StartHarness starts cmd as a harness, stopped when the test ends, with
// Token as the app's heartbeat token.
func StartHarness(t testing.TB, cmd *exec.Cmd) *Harness {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, heartbeat.TokenEnv+"="+Token)
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
