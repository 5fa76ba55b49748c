// Package awstest runs moto_server, a local stand-in for DynamoDB, SNS, SQS
// and SSM, for tests of the packages that talk to AWS.
package awstest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/autoscalebot/autoscalebot/test/env/proctest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// Region is the region every test client and child process uses.
const Region = "us-east-1"

// AccountID is the account moto acts as (its default), as it appears in ARNs.
const AccountID = "123456789012"

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// Moto is one running moto_server on a loopback port.
type Moto struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string

	proc   *proctest.Process
	output *tailBuffer
}

// StartMoto starts a moto_server for this test alone and stops it at cleanup.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	m, err := start(tooltest.Require(t, tooltest.Moto))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.stop)
	return m
}

var shared struct {
	once sync.Once
	moto *Moto
	err  error
}

// SharedMoto returns the one moto_server of this test binary, starting it on
// first use. Tests that share it must use unique resource names (UniqueName).
// Call Main from TestMain so that the server is stopped when the binary exits.
func SharedMoto(t testing.TB) *Moto {
	t.Helper()
	bin := tooltest.Require(t, tooltest.Moto)
	shared.once.Do(func() { shared.moto, shared.err = start(bin) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.moto
}

// Main runs the tests and then stops the shared moto_server, if one was
// started. Use it as the whole body of TestMain:
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.moto != nil {
		shared.moto.stop()
	}
	os.Exit(code)
}

func start(bin string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	out := &tailBuffer{max: 64 << 10}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = out
	cmd.Stderr = out
	// Its own process group, so that stop also reaches the python child of a
	// wrapper script (pyenv shims, venv launchers).
	cmd.SysProcAttr = proctest.SysProcAttr()
	proc, err := proctest.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	m := &Moto{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		proc:     proc,
		output:   out,
	}
	if err := m.waitReady(startTimeout); err != nil {
		m.stop()
		return nil, fmt.Errorf("start moto_server on port %d: %w\noutput:\n%s", port, err, out.String())
	}
	return m, nil
}

// waitReady polls until moto answers any HTTP request, the process exits,
// or the timeout passes.
func (m *Moto) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint+"/moto-api/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-m.proc.Exited():
			return fmt.Errorf("moto_server exited early: %v", m.proc.State())
		case <-ctx.Done():
			return fmt.Errorf("moto_server did not answer within %s", timeout)
		case <-tick.C:
		}
	}
}

// stop kills the process group and waits for the process to be reaped.
func (m *Moto) stop() { m.proc.Stop(stopTimeout) }

// Config returns an SDK configuration that sends every service to this moto,
// with dummy static credentials, and ignores the user's ~/.aws files.
func (m *Moto) Config(t testing.TB) aws.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(m.Endpoint),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatalf("load aws config for moto: %v", err)
	}
	return cfg
}

// Env returns the environment a child process (the function's bootstrap)
// needs to talk to this moto, as KEY=value strings.
func (m *Moto) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + m.Endpoint,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
	}
}

// freePort picks a free loopback port below the usual ephemeral ranges
// (Linux 32768+, macOS 49152+): a busy machine can run out of ephemeral
// ports (tests opening many short connections leave tens of thousands in
// TIME_WAIT), and outgoing connections cannot then take moto's port before
// it binds.
func freePort() (int, error) {
	const lo, hi = 20000, 32000
	for range 100 {
		port := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d on 127.0.0.1", lo, hi)
}

// tailBuffer keeps the last max bytes written: moto logs every request, and
// only the end matters when it fails to start.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
