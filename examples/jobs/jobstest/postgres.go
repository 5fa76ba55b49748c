package jobstest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// PostgresInstall is how to get Postgres's server programs.
const PostgresInstall = "apt-get install postgresql"

// PostgresBin is the directory of Postgres's server programs (initdb,
// postgres), which Debian keeps off PATH; "" when there is none.
func PostgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil { // a link on PATH to Debian's directory
			return filepath.Dir(real)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Postgres starts a throwaway cluster of its own (initdb in a temporary
// directory, trust authentication, no fsync) on a free loopback port and
// returns a URL for its superuser. Postgres refuses to run as root: as root,
// the cluster belongs to and runs as the postgres user (or nobody). Under
// -short the test is skipped; without Postgres it fails naming the install.
func Postgres(t testing.TB) string {
	t.Helper()
	tooltest.SkipShort(t, "needs Postgres ("+PostgresInstall+")")
	bin := PostgresBin()
	if bin == "" {
		t.Fatalf("initdb not found on PATH nor in /usr/lib/postgresql/*/bin: install it with %s", PostgresInstall)
	}
	dir, err := os.MkdirTemp("", "jobstest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cred := runAs(t, dir)
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := FreePort(t)
	server := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", fmt.Sprint(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	server.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	Start(t, "postgres", server)
	waitFor(t, "postgres", 30*time.Second, func() error {
		out, err := exec.Command(filepath.Join(bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", fmt.Sprint(port)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pg_isready: %v %s", err, out)
		}
		return nil
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// runAs is who runs the cluster: this user, or when root, the postgres user
// (else nobody), who is given dir.
func runAs(t testing.TB, dir string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		if u, err = user.Lookup("nobody"); err != nil {
			t.Fatalf("running as root, and neither a postgres nor a nobody user to run Postgres as: %v", err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}
