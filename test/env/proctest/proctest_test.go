//go:build unix

package proctest

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// start runs script under sh with SysProcAttr and stops it at cleanup.
func start(t *testing.T, script string) *Process {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = SysProcAttr()
	p, err := Start(cmd)
	if err != nil {
		t.Fatalf("start sh: %v", err)
	}
	t.Cleanup(func() { p.Stop(5 * time.Second) })
	return p
}

func TestStopEndsTheWholeGroup(t *testing.T) {
	// The shell starts a child and waits for it: killing the shell alone
	// would leave the child running in the group.
	p := start(t, "sleep 60 & wait")
	if p.State() != nil {
		t.Fatalf("State before exit = %v, want nil", p.State())
	}
	p.Stop(5 * time.Second)
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited is not closed after Stop")
	}
	if p.State() == nil || p.State().Success() {
		t.Errorf("State after Stop = %v, want killed", p.State())
	}
	if err := groupGone(p.Pid()); err != nil {
		t.Errorf("process group %d still exists after Stop (%v)", p.Pid(), err)
	}
	p.Stop(5 * time.Second) // a second Stop is harmless
}

func TestExitedOnItsOwn(t *testing.T) {
	p := start(t, "exit 3")
	select {
	case <-p.Exited():
	case <-time.After(time.Minute): // a bound on a hang, not a timing check
		t.Fatal("Exited not closed after the process exited")
	}
	if got := p.State().ExitCode(); got != 3 {
		t.Errorf("exit code = %d, want 3", got)
	}
}

func TestStartError(t *testing.T) {
	_, err := Start(exec.Command("/nonexistent/" + strconv.Itoa(syscall.Getpid())))
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/") {
		t.Errorf("Start of a missing program: error = %v, want cmd.Start's", err)
	}
}

// groupGone waits for the process group to vanish and returns the last
// kill 0 error otherwise. The killed child is reaped by init, not by us, so
// it may linger briefly as a zombie; the bound is for a group that stays.
func groupGone(pgid int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(-pgid, 0)
		switch {
		case errors.Is(err, syscall.ESRCH):
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("kill 0: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
