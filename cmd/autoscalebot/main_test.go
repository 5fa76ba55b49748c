package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/herokusim/herokusimtest"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

const (
	apiKey      = "main-test-key-7c21a9"
	app         = "myapp"
	processType = "web"
	// waitLimit bounds every wait for the command; a slow build is waited
	// for separately.
	waitLimit = 30 * time.Second
)

var makeTool = tooltest.Tool{Name: "make", Install: "apt-get install make"}

// slowHeartbeat answers after delay, and says on hits when each request
// arrives, so a test can interrupt the command while a tick is in flight.
type slowHeartbeat struct {
	delay time.Duration
	hits  chan struct{}
}

func (h *slowHeartbeat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.hits <- struct{}{}:
	default:
	}
	select {
	case <-time.After(h.delay):
	case <-r.Context().Done():
		return
	}
	w.Write([]byte("ok"))
}

// world is a Heroku app at 1 dyno behind the fake Platform API, with a
// heartbeat slow enough that the first tick scales up.
type world struct {
	heroku    *herokusim.Server
	beat      *slowHeartbeat
	statePath string
	env       []string
}

func newWorld(t *testing.T, heartbeatDelay time.Duration) *world {
	t.Helper()
	w := &world{
		heroku:    herokusimtest.New(t, herokusim.WithToken(apiKey)),
		beat:      &slowHeartbeat{delay: heartbeatDelay, hits: make(chan struct{}, 1)},
		statePath: filepath.Join(t.TempDir(), "state.json"),
	}
	site := httptest.NewServer(w.beat)
	t.Cleanup(site.Close)
	w.heroku.SetFormation(app, processType, 1, "")
	w.env = append(os.Environ(),
		"AUTOSCALE_HEROKU_APP_NAME="+app,
		"AUTOSCALE_HEROKU_API_KEY="+apiKey,
		"AUTOSCALE_HEROKU_API_URL="+w.heroku.URL,
		"AUTOSCALE_HEARTBEAT_URL="+site.URL+"/heartbeat",
		"AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS=1",
		"AUTOSCALE_MAX_RESPONSE_TIME_IN_MS=50",
		"AUTOSCALE_MIN_RESPONSE_TIME_IN_MS=10",
		"AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER=1",
		"AUTOSCALE_POLICY=original", // one slow heartbeat scales: the streaks' story
		"AUTOSCALE_MAX_DYNOS=3",
		"AUTOSCALE_STATE_FILE="+w.statePath,
	)
	return w
}

// checkScaledAndRecorded fails the test unless the scale to 2 dynos was
// made at Heroku and recorded in the state file, history included.
func (w *world) checkScaledAndRecorded(t *testing.T, stdout string) {
	t.Helper()
	if !strings.Contains(stdout, "dynos 1 → 2") {
		t.Errorf("the tick in flight did not report its scale:\n%s", stdout)
	}
	if q := w.heroku.Quantity(app, processType); q != 2 {
		t.Errorf("Heroku has %d dynos, want 2: the tick in flight did not scale", q)
	}
	store := state.NewFileStore(w.statePath)
	key := state.Key{App: app, ProcessType: processType}
	s, err := store.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if s.Quantity != 2 {
		t.Errorf("the state file says %d dynos, want 2: a scale call made and not recorded", s.Quantity)
	}
	recs, err := store.History(context.Background(), key, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	scales := 0
	for _, r := range recs {
		if r.Kind == state.KindScale && r.OK {
			scales++
		}
	}
	if scales != 1 {
		t.Errorf("history holds %d successful scales, want 1: %+v", scales, recs)
	}
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// command builds the command once per test run, as `make command` does.
func command(t *testing.T) string {
	t.Helper()
	tooltest.SkipShort(t, "builds the command")
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "autoscalebot-main-test-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "autoscalebot")
		out, err := exec.Command("go", "build", "-trimpath", "-o", built, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

// syncBuffer is an output read while the command still writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// started is a running command with its output captured.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{} // closed once the command has ended
}

func start(t *testing.T, cmd *exec.Cmd) *started {
	t.Helper()
	s := &started{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &s.stdout, &s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait() // its state is cmd.ProcessState
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
	return s
}

// wait returns the command's exit state, failing the test if it runs on.
func (s *started) wait(t *testing.T) *os.ProcessState {
	t.Helper()
	select {
	case <-s.done:
		return s.cmd.ProcessState
	case <-time.After(waitLimit):
		t.Fatalf("still running %s after the interrupt:\n%s\n%s", waitLimit, s.stdout.String(), s.stderr.String())
		return nil
	}
}

// awaitHit waits for the heartbeat to be probed: a tick is then in flight.
func awaitHit(t *testing.T, w *world, s *started, limit time.Duration) {
	t.Helper()
	select {
	case <-w.beat.hits:
	case <-s.done:
		t.Fatalf("ended before probing (%v):\n%s\n%s", s.cmd.ProcessState, s.stdout.String(), s.stderr.String())
	case <-time.After(limit):
		t.Fatalf("no probe within %s:\n%s\n%s", limit, s.stdout.String(), s.stderr.String())
	}
}

// awaitScaleCall waits until the scale request has reached Heroku.
func awaitScaleCall(t *testing.T, w *world) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for _, r := range w.heroku.Requests() {
			if r.Method == http.MethodPatch {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no scale call reached Heroku")
}

// TestInterruptFinishesTheTickInFlight runs the built command against a
// slow heartbeat and the fake Platform API and interrupts it mid-tick, as
// Ctrl-C does.
func TestInterruptFinishesTheTickInFlight(t *testing.T) {
	tests := []struct {
		name string
		// heartbeat is the probe's latency; scaleDelay holds back Heroku's
		// answer to the scale call.
		heartbeat, scaleDelay time.Duration
		duringScale           bool // interrupt once the scale call is made, not during the probe
		interrupts            int
	}{
		{name: "during the probe", heartbeat: 1500 * time.Millisecond, interrupts: 1},
		{name: "during the scale call", heartbeat: 100 * time.Millisecond, scaleDelay: 1500 * time.Millisecond, duringScale: true, interrupts: 1},
		{name: "twice abandons it", heartbeat: 20 * time.Second, interrupts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := command(t)
			w := newWorld(t, tt.heartbeat)
			if tt.scaleDelay > 0 {
				w.heroku.SetFault(herokusim.Fault{Delay: tt.scaleDelay, Method: http.MethodPatch, Count: 1})
			}
			cmd := exec.Command(bin, "run")
			cmd.Env = w.env
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			s := start(t, cmd)
			awaitHit(t, w, s, waitLimit)
			if tt.duringScale {
				awaitScaleCall(t, w)
			}
			sent := time.Now()
			for range tt.interrupts {
				if err := cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // two presses, not one
			}
			ps := s.wait(t)
			stdout, stderr := s.stdout.String(), s.stderr.String()
			if strings.Contains(stdout+stderr, apiKey) {
				t.Errorf("the API key was printed:\n%s\n%s", stdout, stderr)
			}
			if !strings.Contains(stderr, "stopping once the tick in flight is done") {
				t.Errorf("the first interrupt was not acknowledged:\n%s", stderr)
			}
			if tt.interrupts == 2 {
				if ps.ExitCode() != 130 || !strings.Contains(stderr, "abandoned") {
					t.Errorf("exit %d, stderr:\n%s\nwant 130 and the tick said to be abandoned", ps.ExitCode(), stderr)
				}
				if waited := time.Since(sent); waited > tt.heartbeat/2 {
					t.Errorf("a second interrupt took %s to end the command: it must not wait for the tick", waited)
				}
				if q := w.heroku.Quantity(app, processType); q != 1 {
					t.Errorf("Heroku has %d dynos after an abandoned probe, want 1", q)
				}
				return
			}
			if ps.ExitCode() != 0 {
				t.Errorf("exit %d after one interrupt, want 0:\n%s\n%s", ps.ExitCode(), stdout, stderr)
			}
			if n := strings.Count(stdout, "  myapp/web  heartbeat"); n != 1 {
				t.Errorf("%d tick lines, want 1: no tick starts after an interrupt:\n%s", n, stdout)
			}
			w.checkScaledAndRecorded(t, stdout)
		})
	}
}

// TestMakeRunInterrupted runs `make run` in its own process group and
// interrupts the whole group mid-tick, as a terminal's Ctrl-C does (make,
// the command and anything between them all get SIGINT).
func TestMakeRunInterrupted(t *testing.T) {
	makePath := tooltest.Require(t, makeTool)
	command(t) // warms the build cache, so make's build is quick
	w := newWorld(t, 1500*time.Millisecond)

	// Signals this process handles are default again in its children; an
	// ignored SIGINT (a test started in the background) would stay ignored
	// in make and let the test pass without make seeing the interrupt.
	handled := make(chan os.Signal, 1)
	signal.Notify(handled, os.Interrupt)
	defer signal.Stop(handled)

	cmd := exec.Command(makePath, "--no-print-directory", "run")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = w.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := start(t, cmd)
	awaitHit(t, w, s, 5*time.Minute) // make builds the command first
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	ps := s.wait(t)
	out := s.stdout.String() + s.stderr.String()

	if strings.Contains(out, "Error") || strings.Contains(out, "***") {
		t.Errorf("make reported a failure after Ctrl-C:\n%s", out)
	}
	// GNU make, once its child has ended, re-raises the interrupt on itself
	// (a shell shows status 130 and no message): the command's own status
	// shows only through make's silence above, and the test above checks it.
	status, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !(status.Signaled() && status.Signal() == syscall.SIGINT) && ps.ExitCode() != 0 {
		t.Errorf("make ended with %v, want ended by the interrupt or exit 0:\n%s", ps, out)
	}
	w.checkScaledAndRecorded(t, s.stdout.String())
}
