//go:build unix

package proctest

import "syscall"

// SysProcAttr starts a process in a process group of its own, so that Stop
// also reaches its children (the python child of a wrapper script, the
// bootstrap an emulator starts), and on Linux has the kernel kill it if the
// test binary dies without running its cleanups.
func SysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setPdeathsig(attr)
	return attr
}

// KillGroup kills the process group led by pid.
func KillGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
