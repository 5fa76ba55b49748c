//go:build !unix

package proctest

import (
	"os"
	"syscall"
)

// SysProcAttr is nil where there are no process groups.
func SysProcAttr() *syscall.SysProcAttr { return nil }

// KillGroup kills the process pid alone: there are no process groups here.
func KillGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
