//go:build unix

package lambdatest

import "syscall"

// killGroup kills the process group led by pid (every process here is
// started with Setpgid, so its pid names its group).
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
