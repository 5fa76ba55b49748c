// Package proctest runs a helper process of a test (a local server, an
// emulator) in a process group of its own, watches for its exit and stops
// it with everything it started.
package proctest

import (
	"os"
	"os/exec"
	"sync"
	"time"
)

// Process is one started helper process.
type Process struct {
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has been reaped
	stopOnce sync.Once
}

// Start starts cmd and reaps it when it exits. cmd.SysProcAttr should be
// SysProcAttr() or an extension of it, so that Stop reaches the whole group.
// The error is cmd.Start's as is: the caller names the process.
func Start(cmd *exec.Cmd) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process id, which also names its process group.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// State is how the process exited; nil until Exited is closed.
func (p *Process) State() *os.ProcessState {
	select {
	case <-p.exited:
		return p.cmd.ProcessState
	default:
		return nil
	}
}

// Stop kills the process group and waits up to timeout for the process to
// be reaped. It is safe to call more than once.
func (p *Process) Stop(timeout time.Duration) {
	p.stopOnce.Do(func() {
		KillGroup(p.Pid())
		select {
		case <-p.exited:
		case <-time.After(timeout):
		}
	})
}
