//go:build unix && !linux

package lambdatest

import (
	"errors"
	"os/exec"

	"github.com/autoscalebot/autoscalebot/test/env/proctest"
)

var errNamespacesUnavailable = errors.New("cannot hide the system time zone database: needs Linux mount namespaces")

func command(argv, env []string, opts Options) (*exec.Cmd, error) {
	if opts.HideSystemZoneinfo {
		return nil, errNamespacesUnavailable
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = proctest.SysProcAttr()
	return cmd, nil
}

func startError(err error, _ Options) error { return err }

// HandleReexec is needed on Linux only.
func HandleReexec() {}
