package lambdatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/autoscalebot/autoscalebot/test/env/proctest"
)

// reexecEnv, when set, makes the test binary the zoneinfo-hiding wrapper:
// its value is the emulator's argv as JSON.
const reexecEnv = "LAMBDATEST_HIDE_ZONEINFO_EXEC"

// zoneinfoDirs are the system directories Go's time package reads
// (platformZoneSources in time/zoneinfo_unix.go). After $ZONEINFO and these,
// it tries the embedded time/tzdata, then $GOROOT/lib/time/zoneinfo.zip,
// which a -trimpath binary only finds when GOROOT is set.
var zoneinfoDirs = []string{"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ", "/etc/zoneinfo"}

var errNamespacesUnavailable = errors.New("cannot hide the system time zone database: user and mount namespaces are not allowed here")

func command(argv, env []string, opts Options) (*exec.Cmd, error) {
	// If the test binary dies without its cleanups, the emulator goes too
	// (Pdeathsig); the bootstrap then exits when its runtime API connection
	// fails.
	attr := proctest.SysProcAttr()
	if !opts.HideSystemZoneinfo {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		cmd.SysProcAttr = attr
		return cmd, nil
	}
	if lookup(env, "GOROOT") != "" {
		return nil, errors.New("hide system zoneinfo: GOROOT is set, and Go would read $GOROOT/lib/time/zoneinfo.zip")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("hide system zoneinfo: %w", err)
	}
	encoded, err := json.Marshal(argv)
	if err != nil {
		return nil, fmt.Errorf("hide system zoneinfo: %w", err)
	}
	// The test binary runs again as a wrapper in new user and mount
	// namespaces (the user namespace lets a non-root user mount), covers the
	// zone directories with empty tmpfs mounts and execs the emulator there.
	// -test.run=^$ keeps a binary whose TestMain lacks HandleReexec from
	// running the tests again.
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(env[:len(env):len(env)], reexecEnv+"="+string(encoded))
	attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	cmd.SysProcAttr = attr
	return cmd, nil
}

func startError(err error, opts Options) error {
	if opts.HideSystemZoneinfo && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES)) {
		return fmt.Errorf("%w (%v)", errNamespacesUnavailable, err)
	}
	return fmt.Errorf("start %s: %w", EmulatorCommand, err)
}

// HandleReexec must be the first call in the TestMain of a package that
// uses Options.HideSystemZoneinfo. In the wrapper process it hides the zone
// directories and execs the emulator, and never returns; otherwise it
// returns at once.
func HandleReexec() {
	encoded, ok := os.LookupEnv(reexecEnv)
	if !ok {
		return
	}
	if err := hideZoneinfoAndExec(encoded); err != nil {
		fmt.Fprintln(os.Stderr, "lambdatest wrapper:", err)
		os.Exit(2)
	}
}

func hideZoneinfoAndExec(encoded string) error {
	var argv []string
	if err := json.Unmarshal([]byte(encoded), &argv); err != nil || len(argv) == 0 {
		return fmt.Errorf("bad %s: %q", reexecEnv, encoded)
	}
	// Private, so that the mounts stay inside this namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	for _, dir := range zoneinfoDirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NODEV|syscall.MS_NOSUID, "size=64k"); err != nil {
			return fmt.Errorf("hide %s: %w", dir, err)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
			return fmt.Errorf("%s is still visible after mounting over it (%d entries, %v)", dir, len(entries), err)
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, reexecEnv+"=") {
			env = append(env, kv)
		}
	}
	return syscall.Exec(argv[0], argv, env)
}
