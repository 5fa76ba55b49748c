// Package lambdatest runs a Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie) on loopback ports, for
// end-to-end tests and benchmarks. `make test` installs the emulator into
// .tools/bin and puts it on PATH.
package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/test/env/proctest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// EmulatorCommand is the emulator's executable name.
const EmulatorCommand = "aws-lambda-rie"

// The emulator reads these (internal/lambda/rie/handlers.go): the invocation
// timeout in seconds (default 300) and the memory size in MB, which it only
// reports (default 3008). It forwards its whole environment to the bootstrap.
const (
	EnvFunctionTimeout = "AWS_LAMBDA_FUNCTION_TIMEOUT"
	EnvFunctionMemory  = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
	EnvFunctionName    = "AWS_LAMBDA_FUNCTION_NAME"
)

const (
	buildTimeout  = 5 * time.Minute
	readyTimeout  = 15 * time.Second
	stopTimeout   = 5 * time.Second
	startAttempts = 3 // a free port can be taken before the emulator binds it
	maxOutput     = 32 << 20

	// defaultTimeoutSeconds is the function timeout given to the emulator
	// when env sets none: Lambda's own default, not the emulator's 300.
	defaultTimeoutSeconds = "3"
	invokeMargin          = 30 * time.Second
)

// built is the bootstrap of this test binary.
var built struct {
	once sync.Once
	path string
	err  error
}

// BuildBootstrap builds ./functions/autoscaler for this machine, as the
// Makefile builds it for Lambda (CGO off, -tags lambda.norpc, -trimpath), into
// tmp/bootstrap at the repository root, once per test binary, and returns
// its path.
func BuildBootstrap(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		root, err := templatetest.RepoRoot()
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(root, "tmp", "bootstrap")
		built.err = build(root, "./functions/autoscaler", built.path)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// BuildPackage builds the main package pkg (a path relative to the
// repository root, like ./test/env/lambdatest/testdata/echofn) for this
// machine with the bootstrap's flags, into the file out.
func BuildPackage(t testing.TB, pkg, out string) {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if err := build(root, pkg, out); err != nil {
		t.Fatal(err)
	}
}

// build runs go build in root. The binary is written beside out and renamed
// into place, so that a concurrent test binary never executes a half-written
// file.
func build(root, pkg, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", tmp.Name(), pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

// Options changes how Start runs the emulator.
type Options struct {
	// HideSystemZoneinfo runs the emulator and the bootstrap in a private
	// mount namespace where the system time zone directories Go reads
	// (/usr/share/zoneinfo and the rest) are empty, as on provided.al2023, so
	// that only a database embedded in the binary can load a zone. Linux
	// only, and the package's TestMain must call HandleReexec first. The test
	// is skipped where user namespaces are not allowed.
	HideSystemZoneinfo bool
}

// Emulator is one running aws-lambda-rie with its bootstrap.
type Emulator struct {
	// URL is the invocation endpoint.
	URL string

	proc     *proctest.Process
	out      *outputBuffer
	timeout  time.Duration
	stopOnce sync.Once
}

// Start runs bootstrap under the emulator on two free loopback ports and
// stops both at the end of the test. env is the whole environment of the
// emulator and so of the function: nothing is inherited from the test
// process. AWS_LAMBDA_FUNCTION_TIMEOUT defaults to Lambda's 3 seconds. The
// emulator starts the bootstrap at the first invocation, as Lambda does
// for a cold start.
func Start(t testing.TB, bootstrap string, env []string) *Emulator {
	t.Helper()
	return StartWith(t, bootstrap, env, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, bootstrap string, env []string, opts Options) *Emulator {
	t.Helper()
	rie := tooltest.Require(t, tooltest.Emulator)
	env = slices.Clone(env)
	if lookup(env, EnvFunctionTimeout) == "" {
		env = append(env, EnvFunctionTimeout+"="+defaultTimeoutSeconds)
	}
	seconds, err := strconv.Atoi(lookup(env, EnvFunctionTimeout))
	if err != nil || seconds <= 0 {
		t.Fatalf("%s=%q: want a whole number of seconds", EnvFunctionTimeout, lookup(env, EnvFunctionTimeout))
	}

	var lastErr error
	for range startAttempts {
		e, err := start(rie, bootstrap, env, opts)
		if errors.Is(err, errNamespacesUnavailable) {
			t.Skip(err)
		}
		if err == nil {
			e.timeout = time.Duration(seconds) * time.Second
			t.Cleanup(e.Stop)
			return e
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

var errPortTaken = errors.New("port taken")

func start(rie, bootstrap string, env []string, opts Options) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	apiAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	argv := []string{rie,
		"--runtime-interface-emulator-address", apiAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap}

	out := &outputBuffer{max: maxOutput}
	cmd, err := command(argv, env, opts)
	if err != nil {
		return nil, err
	}
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Stdout, cmd.Stderr = out, out
	proc, err := proctest.Start(cmd)
	if err != nil {
		return nil, startError(err, opts)
	}
	e := &Emulator{
		URL:  "http://" + apiAddr + "/2015-03-31/functions/function/invocations",
		proc: proc,
		out:  out,
	}
	if err := e.waitReady(apiAddr); err != nil {
		e.Stop()
		if strings.Contains(out.String(), "address already in use") {
			return nil, fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return nil, fmt.Errorf("start %s: %w\noutput:\n%s", EmulatorCommand, err, out.String())
	}
	return e, nil
}

// waitReady waits until the emulator accepts connections. Only a TCP
// connection is made: any HTTP request to the emulator would be an invocation.
func (e *Emulator) waitReady(addr string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.proc.Exited():
			return fmt.Errorf("exited before listening: %v", e.proc.State())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %s", addr, readyTimeout)
		}
	}
}

// Invoke sends event (JSON-encoded unless it is []byte or json.RawMessage)
// to the function and returns the response body. A handler error is a
// normal response (an errorMessage/errorType body: see ErrorOf); any other
// HTTP status, such as the 502 of a bootstrap that exited during init,
// fails the test.
func (e *Emulator) Invoke(t testing.TB, event any) (raw []byte) {
	t.Helper()
	var body []byte
	switch v := event.(type) {
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		var err error
		if body, err = json.Marshal(event); err != nil {
			t.Fatalf("encode event: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout+invokeMargin)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v\nemulator output:\n%s", err, e.Output())
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("invoke: read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: HTTP %d: %s\nemulator output:\n%s", resp.StatusCode, buf.Bytes(), e.Output())
	}
	return buf.Bytes()
}

// Output returns what the emulator and the bootstrap have written to
// stdout and stderr so far.
func (e *Emulator) Output() string { return e.out.String() }

// Stop kills the bootstrap and the emulator and waits for the emulator to
// exit; the next Start is a cold start. It is safe to call more than once.
func (e *Emulator) Stop() {
	e.stopOnce.Do(func() {
		// The emulator starts the bootstrap in a process group of its own,
		// so killing the emulator's group would leave it running.
		for _, pid := range childPIDs(e.proc.Pid()) {
			proctest.KillGroup(pid)
		}
		e.proc.Stop(stopTimeout)
	})
}

// BootstrapPID returns the process id of the running bootstrap (Linux only:
// it is found through /proc). ok is false before the first invocation.
func (e *Emulator) BootstrapPID() (pid int, ok bool) {
	pids := childPIDs(e.proc.Pid())
	if len(pids) != 1 {
		return 0, false
	}
	return pids[0], true
}

// BootstrapPeakMemory returns the bootstrap's peak resident set size in
// bytes (VmHWM of /proc/PID/status; Linux only).
func (e *Emulator) BootstrapPeakMemory() (int64, error) {
	pid, ok := e.BootstrapPID()
	if !ok {
		return 0, errors.New("bootstrap peak memory: no bootstrap process (not invoked yet, or not Linux)")
	}
	return peakRSS(pid)
}

// BootstrapCPU returns the CPU time the running bootstrap has used so far,
// all its threads together (Linux only). Unlike response times, it does not
// grow when other processes load the machine.
func (e *Emulator) BootstrapCPU() (time.Duration, error) {
	pid, ok := e.BootstrapPID()
	if !ok {
		return 0, errors.New("bootstrap cpu time: no bootstrap process (not invoked yet, or not Linux)")
	}
	return cpuTime(pid)
}

func lookup(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val // the last one wins, as in exec
		}
	}
	return v
}

// freePorts picks n distinct free loopback ports below the usual ephemeral
// ranges, so that the many short connections of a test run do not take them
// before the emulator binds them.
func freePorts(n int) ([]int, error) {
	const lo, hi = 20000, 32000
	var ports []int
	for range 200 {
		port := lo + rand.IntN(hi-lo)
		if slices.Contains(ports, port) {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		if ports = append(ports, port); len(ports) == n {
			return ports, nil
		}
	}
	return nil, fmt.Errorf("no %d free ports in %d-%d on 127.0.0.1", n, lo, hi)
}

// outputBuffer collects the processes' output, up to max bytes.
type outputBuffer struct {
	mu        sync.Mutex
	max       int
	buf       bytes.Buffer
	truncated bool
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + "\n[output truncated]"
	}
	return b.buf.String()
}
