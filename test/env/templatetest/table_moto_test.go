package templatetest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

// TestTableInputCreatesTheTable creates the deployed table's twin in moto, as
// the end-to-end tests do, and reads its definition back.
func TestTableInputCreatesTheTable(t *testing.T) {
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templatetest.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const name = "autoscalebot-state"
	create, err := tmpl.TableInput("StateTable", name)
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := tmpl.TimeToLiveInput("StateTable", name)
	if err != nil || ttl == nil {
		t.Fatalf("TimeToLiveInput = %v, %v; want the template's TTL", ttl, err)
	}

	moto := awstest.StartMoto(t)
	client := dynamodb.NewFromConfig(moto.Config(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.CreateTable(ctx, create); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := client.UpdateTimeToLive(ctx, ttl); err != nil {
		t.Fatalf("enable ttl: %v", err)
	}

	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	table := desc.Table
	if table.BillingModeSummary == nil || table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", table.BillingModeSummary)
	}
	keys := map[string]types.KeyType{}
	for _, k := range table.KeySchema {
		keys[aws.ToString(k.AttributeName)] = k.KeyType
	}
	if len(keys) != 2 || keys["pk"] != types.KeyTypeHash || keys["sk"] != types.KeyTypeRange {
		t.Errorf("key schema = %v, want pk HASH, sk RANGE", keys)
	}
	got, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expiresAt" ||
		d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("ttl = %+v, want enabled on expiresAt", got.TimeToLiveDescription)
	}
}
