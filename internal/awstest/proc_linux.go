package awstest

import "syscall"

// setPdeathsig makes the kernel kill moto if the test binary dies without
// running its cleanups (a panic, a timeout, kill -9).
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
