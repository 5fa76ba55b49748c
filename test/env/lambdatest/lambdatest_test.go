package lambdatest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// echoDir holds testdata/echofn, built once for the test binary.
var echoDir string

func TestMain(m *testing.M) {
	lambdatest.HandleReexec()
	dir, err := os.MkdirTemp("", "lambdatest-echofn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// echoResponse is what testdata/echofn returns.
type echoResponse struct {
	Env         map[string]*string `json:"env"`
	DeadlineMS  int64              `json:"deadlineMs"`
	PID         int                `json:"pid"`
	Invocations int64              `json:"invocations"`
	ZoneError   string             `json:"zoneError,omitempty"`
}

var echoOnce sync.Once

// echoFn returns testdata/echofn, built on first use.
func echoFn(t *testing.T) string {
	t.Helper()
	path := filepath.Join(echoDir, "bootstrap")
	echoOnce.Do(func() { lambdatest.BuildPackage(t, "./test/env/lambdatest/testdata/echofn", path) })
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("echofn was not built: %v", err)
	}
	return path
}

func requireEmulator(t *testing.T) {
	t.Helper()
	tooltest.Require(t, tooltest.Emulator)
}

func TestInvokeForwardsEnvironmentOnly(t *testing.T) {
	requireEmulator(t)
	t.Setenv("LAMBDATEST_FROM_TEST_PROCESS", "leaked")
	e := lambdatest.Start(t, echoFn(t), []string{"GREETING=hello=world"})

	got := lambdatest.Decode[echoResponse](t, e.Invoke(t, map[string]any{
		"env": []string{"GREETING", "LAMBDATEST_FROM_TEST_PROCESS", "AWS_LAMBDA_FUNCTION_NAME"},
	}))
	if v := got.Env["GREETING"]; v == nil || *v != "hello=world" {
		t.Errorf("GREETING = %v, want hello=world", v)
	}
	if v := got.Env["LAMBDATEST_FROM_TEST_PROCESS"]; v != nil {
		t.Errorf("the test process's environment reached the function: %q", *v)
	}
	if v := got.Env["AWS_LAMBDA_FUNCTION_NAME"]; v == nil || *v == "" {
		t.Errorf("AWS_LAMBDA_FUNCTION_NAME not set by the emulator")
	}
}

func TestFunctionTimeout(t *testing.T) {
	requireEmulator(t)
	tests := []struct {
		name string
		env  []string
		want time.Duration
	}{
		{"Lambda's default", nil, 3 * time.Second},
		{"from the environment", []string{lambdatest.EnvFunctionTimeout + "=7"}, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := lambdatest.Start(t, echoFn(t), tt.env)
			got := lambdatest.Decode[echoResponse](t, e.Invoke(t, map[string]any{}))
			left := time.Duration(got.DeadlineMS) * time.Millisecond
			if left <= tt.want-2*time.Second || left > tt.want {
				t.Errorf("time left at the start = %s, want just under %s", left, tt.want)
			}
		})
	}
}

func TestInvocationPastTimeoutIsAnError(t *testing.T) {
	requireEmulator(t)
	e := lambdatest.Start(t, echoFn(t), []string{lambdatest.EnvFunctionTimeout + "=1"})
	fe := lambdatest.MustError(t, e.Invoke(t, map[string]any{"sleepMs": 1500}))
	if fe.Type != lambdatest.TimedOut {
		t.Errorf("error = %+v, want type %s", fe, lambdatest.TimedOut)
	}
}

func TestHandlerErrorBody(t *testing.T) {
	requireEmulator(t)
	e := lambdatest.Start(t, echoFn(t), nil)
	raw := e.Invoke(t, map[string]any{"fail": "no such thing"})
	fe, ok := lambdatest.ErrorOf(raw)
	if !ok || fe.Message != "no such thing" || fe.Type == "" {
		t.Errorf("ErrorOf(%s) = %+v, %t; want the handler's message and a type", raw, fe, ok)
	}
	if _, ok := lambdatest.ErrorOf(e.Invoke(t, map[string]any{})); ok {
		t.Error("ErrorOf reports an error for a successful invocation")
	}
}

func TestOutputHasFunctionStdout(t *testing.T) {
	requireEmulator(t)
	e := lambdatest.Start(t, echoFn(t), nil)
	e.Invoke(t, map[string]any{"print": "line-from-the-function"})
	if out := e.Output(); !strings.Contains(out, "line-from-the-function") {
		t.Errorf("Output() lacks the function's stdout:\n%s", out)
	}
}

func TestStopThenStartIsAColdStart(t *testing.T) {
	requireEmulator(t)
	if runtime.GOOS != "linux" {
		t.Skip("finds the bootstrap through /proc")
	}
	fn := echoFn(t)
	first := lambdatest.Start(t, fn, nil)
	if _, ok := first.BootstrapPID(); ok {
		t.Error("a bootstrap runs before the first invocation; the emulator starts it lazily")
	}
	a := lambdatest.Decode[echoResponse](t, first.Invoke(t, map[string]any{}))
	b := lambdatest.Decode[echoResponse](t, first.Invoke(t, map[string]any{}))
	if a.PID != b.PID || b.Invocations != 2 {
		t.Errorf("warm invocations: pids %d, %d, count %d; want one process, count 2", a.PID, b.PID, b.Invocations)
	}
	if pid, ok := first.BootstrapPID(); !ok || pid != a.PID {
		t.Errorf("BootstrapPID() = %d, %t; want %d", pid, ok, a.PID)
	}
	peak, err := first.BootstrapPeakMemory()
	if err != nil || peak < 1<<20 {
		t.Errorf("BootstrapPeakMemory() = %d, %v; want at least 1 MiB", peak, err)
	}

	first.Stop()
	if alive(a.PID) {
		t.Errorf("bootstrap %d still runs after Stop", a.PID)
	}
	second := lambdatest.Start(t, fn, nil)
	c := lambdatest.Decode[echoResponse](t, second.Invoke(t, map[string]any{}))
	if c.PID == a.PID || c.Invocations != 1 {
		t.Errorf("after a restart: pid %d (was %d), count %d; want a new process, count 1", c.PID, a.PID, c.Invocations)
	}
}

// alive reports whether pid runs, waiting briefly for it to go; a zombie
// left for a non-reaping init counts as gone.
func alive(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return false
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// TestHideSystemZoneinfo checks the hiding itself with a function that has
// no embedded database: it can load a zone normally and cannot when hidden.
func TestHideSystemZoneinfo(t *testing.T) {
	requireEmulator(t)
	if _, err := time.LoadLocation("America/Vancouver"); err != nil {
		t.Skipf("this machine has no time zone database to hide: %v", err)
	}
	fn := echoFn(t)
	emptyDir := t.TempDir()
	tests := []struct {
		name      string
		hide      bool
		wantError bool
	}{
		{"visible", false, false},
		{"hidden", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// ZONEINFO alone hides nothing: Go falls back to the system directories.
			e := lambdatest.StartWith(t, fn, []string{"ZONEINFO=" + emptyDir},
				lambdatest.Options{HideSystemZoneinfo: tt.hide})
			got := lambdatest.Decode[echoResponse](t, e.Invoke(t, map[string]any{"zone": "America/Vancouver"}))
			if (got.ZoneError != "") != tt.wantError {
				t.Errorf("LoadLocation error = %q, want an error: %t", got.ZoneError, tt.wantError)
			}
		})
	}
}

func TestErrorOf(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want lambdatest.FunctionError
		ok   bool
	}{
		{"handler error", `{"errorMessage":"boom","errorType":"errorString"}`, lambdatest.FunctionError{Message: "boom", Type: "errorString"}, true},
		{"timeout", "Task timed out after 3.00 seconds", lambdatest.FunctionError{Message: "Task timed out after 3.00 seconds", Type: lambdatest.TimedOut}, true},
		{"result", `{"app":"a","scaled":true}`, lambdatest.FunctionError{}, false},
		{"not JSON", `oops`, lambdatest.FunctionError{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := lambdatest.ErrorOf([]byte(tt.raw))
			if got != tt.want || ok != tt.ok {
				t.Errorf("ErrorOf(%s) = %+v, %t; want %+v, %t", tt.raw, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestScheduledEventHasFreshID(t *testing.T) {
	a, b := lambdatest.ScheduledEvent(t), lambdatest.ScheduledEvent(t)
	if a.ID == "" || a.ID == b.ID {
		t.Errorf("ids %q and %q, want two different ones", a.ID, b.ID)
	}
	if a.Source != "aws.events" || a.DetailType != "Scheduled Event" {
		t.Errorf("event = %+v, want the scheduled event of events/scheduled.json", a)
	}
	if time.Since(a.Time) > time.Minute {
		t.Errorf("time = %s, want now", a.Time)
	}
}
