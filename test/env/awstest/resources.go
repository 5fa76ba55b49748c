package awstest

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

// TTLAttribute is the state table's time-to-live attribute (epoch seconds),
// as template.yaml declares it.
const TTLAttribute = "expiresAt"

var nameSeq atomic.Int64

// UniqueName returns a name for a table, topic or queue that no other test
// sharing the same moto uses: prefix, the test's name and a sequence number,
// limited to the characters and length (80) that all three services accept.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range prefix + "-" + t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	suffix := "-" + strconv.FormatInt(nameSeq.Add(1), 10)
	name := b.String()
	if max := 80 - len(suffix); len(name) > max {
		name = name[:max]
	}
	return name + suffix
}

// stateTableID is the logical id of the state table in the repository's
// template.yaml.
const stateTableID = "StateTable"

// stateTemplate is the repository's template.yaml, read once.
var stateTemplate = sync.OnceValues(func() (*templatetest.Template, error) {
	root, err := templatetest.RepoRoot()
	if err != nil {
		return nil, err
	}
	return templatetest.Load(filepath.Join(root, "template.yaml"))
})

// CreateTable creates a twin of the deployed state table, from template.yaml's
// own definition (keys, billing mode, TTL on TTLAttribute), and waits until
// it is active.
func CreateTable(ctx context.Context, t testing.TB, client *dynamodb.Client, name string) {
	t.Helper()
	tpl, err := stateTemplate()
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	create, err := tpl.TableInput(stateTableID, name)
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	ttl, err := tpl.TimeToLiveInput(stateTableID, name)
	if err != nil || ttl == nil {
		t.Fatalf("create table %s: template TTL = %v, %v", name, ttl, err)
	}
	if _, err := client.CreateTable(ctx, create); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", name, err)
	}
	if _, err := client.UpdateTimeToLive(ctx, ttl); err != nil {
		t.Fatalf("enable ttl on %s: %v", name, err)
	}
}
