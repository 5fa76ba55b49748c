//go:build unix && !linux

package proctest

import "syscall"

func setPdeathsig(*syscall.SysProcAttr) {}
