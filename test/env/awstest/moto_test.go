//go:build unix

package awstest

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

func TestMain(m *testing.M) { Main(m) }

func TestStartMotoServesAndStops(t *testing.T) {
	tooltest.Require(t, tooltest.Moto)
	var m *Moto
	t.Run("serve", func(t *testing.T) {
		m = StartMoto(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client := dynamodb.NewFromConfig(m.Config(t))
		name := UniqueName(t, "tbl")
		CreateTable(ctx, t, client, name)
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("describe table: %v", err)
		}
		if got := out.Table.BillingModeSummary; got == nil || got.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", got)
		}
		ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("describe ttl: %v", err)
		}
		if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != TTLAttribute {
			t.Errorf("ttl attribute = %q, want %q", got, TTLAttribute)
		}
	})
	// The subtest's cleanup has run: the whole process group must be gone.
	pid := m.proc.Pid()
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after cleanup (kill 0: %v)", pid, err)
	}
}

func TestSharedMotoIsShared(t *testing.T) {
	a, b := SharedMoto(t), SharedMoto(t)
	if a != b {
		t.Errorf("SharedMoto returned two servers: %s and %s", a.Endpoint, b.Endpoint)
	}
}

func TestEnv(t *testing.T) {
	m := &Moto{Endpoint: "http://127.0.0.1:1234"}
	want := map[string]string{
		"AWS_ENDPOINT_URL":      "http://127.0.0.1:1234",
		"AWS_REGION":            "us-east-1",
		"AWS_DEFAULT_REGION":    "us-east-1",
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
	}
	got := map[string]string{}
	for _, kv := range m.Env() {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestUniqueName(t *testing.T) {
	a, b := UniqueName(t, "x"), UniqueName(t, "x")
	if a == b {
		t.Errorf("two calls gave the same name %q", a)
	}
	long := UniqueName(t, strings.Repeat("p/", 100))
	if len(long) > 80 || strings.ContainsAny(long, "/ ") {
		t.Errorf("UniqueName(long) = %q: want ≤ 80 safe characters", long)
	}
}
