//go:build unix && !linux

package awstest

import "syscall"

func setPdeathsig(*syscall.SysProcAttr) {}
