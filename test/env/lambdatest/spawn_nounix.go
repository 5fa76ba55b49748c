//go:build !unix

package lambdatest

import (
	"errors"
	"os/exec"
)

var errNamespacesUnavailable = errors.New("cannot hide the system time zone database: needs Linux mount namespaces")

func command([]string, []string, Options) (*exec.Cmd, error) {
	return nil, errors.New("the Lambda emulator harness needs a Unix system")
}

func startError(err error, _ Options) error { return err }

// HandleReexec is needed on Linux only.
func HandleReexec() {}
