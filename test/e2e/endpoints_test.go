package e2e

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// TestCallsTheHostsTheSDKResolves: in a FIPS deployment and in the European
// Sovereign Cloud, the function and `autoscalebot status -table` call
// exactly the hosts the SDK resolves for that region, partition and switch,
// never a commercial-partition or non-FIPS host. Every HTTPS connection goes
// through a proxy that notes the host it is asked for and refuses it, so
// nothing reaches AWS.
func TestCallsTheHostsTheSDKResolves(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and the command, and runs the bootstrap under the Lambda emulator")
	bootstrap := lambdatest.BuildBootstrap(t)
	command := filepath.Join(t.TempDir(), "autoscalebot")
	lambdatest.BuildPackage(t, "./cmd/autoscalebot", command)
	beat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer beat.Close()

	tests := []struct {
		name    string
		region  string
		fips    bool
		partOf  string // every host ends so
		include string // and holds this
	}{
		{"FIPS in us-east-1", "us-east-1", true, ".amazonaws.com", "-fips."},
		{"European Sovereign Cloud", "eusc-de-east-1", false, ".amazonaws.eu", ".eusc-de-east-1."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dynamoHost, ssmHost := resolvedHosts(t, tt.region, tt.fips)
			for _, host := range []string{dynamoHost, ssmHost} {
				if !strings.HasSuffix(host, tt.partOf+":443") || !strings.Contains(host, tt.include) {
					t.Fatalf("the SDK resolves %s; want a host in %s holding %q", host, tt.partOf, tt.include)
				}
			}
			proxy := newRefusingProxy(t)
			env := []string{
				"AWS_REGION=" + tt.region,
				"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
				"AWS_USE_FIPS_ENDPOINT=" + map[bool]string{true: "true", false: "false"}[tt.fips],
				"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
				"HTTPS_PROXY=" + proxy.url,
			}

			fnEnv := append(slices.Clone(env),
				settings.EnvAppName+"=app",
				settings.EnvAPIKeyParameter+"=/autoscalebot/key",
				settings.EnvTableName+"=state",
				settings.EnvHeartbeatURL+"="+beat.URL,
				settings.EnvHeartbeatInterval+"=60",
				lambdatest.EnvFunctionTimeout+"=30",
			)
			fn := lambdatest.Start(t, bootstrap, fnEnv)
			raw := fn.Invoke(t, lambdatest.ScheduledEvent(t))
			if fe, failed := lambdatest.ErrorOf(raw); !failed || fe.Type == "ConfigurationError" {
				t.Errorf("the invocation answered %s; want it to fail on the refused AWS calls", raw)
			}
			if got, want := proxy.hosts(), sorted(dynamoHost, ssmHost); !slices.Equal(got, want) {
				t.Errorf("the function asked for %v; the SDK resolves %v\n%s", got, want, fn.Output())
			}

			proxy.reset()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, command, "status", "-table", "state")
			cmd.Env = append(env, "HOME="+t.TempDir(), "PATH=/usr/bin:/bin")
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("status succeeded with every AWS call refused:\n%s", out)
			}
			if got, want := proxy.hosts(), sorted(dynamoHost); !slices.Equal(got, want) {
				t.Errorf("status asked for %v; the SDK resolves %v", got, want)
			}
		})
	}
}

// resolvedHosts is where the SDK's own resolvers send DynamoDB and SSM.
func resolvedHosts(t *testing.T, region string, fips bool) (dynamoHost, ssmHost string) {
	t.Helper()
	ctx := context.Background()
	d, err := dynamodb.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx,
		dynamodb.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssm.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx,
		ssm.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(fips)})
	if err != nil {
		t.Fatal(err)
	}
	return d.URI.Host + ":443", s.URI.Host + ":443"
}

func sorted(hosts ...string) []string { return slices.Sorted(slices.Values(hosts)) }

// refusingProxy notes the host of each CONNECT and refuses it.
type refusingProxy struct {
	url   string
	mu    sync.Mutex
	asked map[string]bool
}

func newRefusingProxy(t *testing.T) *refusingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &refusingProxy{url: "http://" + ln.Addr().String(), asked: map[string]bool{}}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(conn)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *refusingProxy) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	p.mu.Lock()
	p.asked[req.Host] = true
	p.mu.Unlock()
	_, _ = conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
}

func (p *refusingProxy) hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for h := range p.asked {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

func (p *refusingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.asked)
}
