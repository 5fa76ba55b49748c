package cfntemplate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestTableInputOfDeployedTable(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	got, err := tmpl.TableInput("StateTable", "local-table")
	if err != nil {
		t.Fatal(err)
	}
	want := &dynamodb.CreateTableInput{
		TableName: aws.String("local-table"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TableInput =\n%+v\nwant\n%+v", got, want)
	}

	attr, err := tmpl.TTLAttribute("StateTable")
	if err != nil || attr != "expiresAt" {
		t.Errorf("TTLAttribute = %q, %v; want expiresAt", attr, err)
	}
	ttl, err := tmpl.TimeToLiveInput("StateTable", "local-table")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ttl.TableName) != "local-table" || aws.ToString(ttl.TimeToLiveSpecification.AttributeName) != "expiresAt" ||
		!aws.ToBool(ttl.TimeToLiveSpecification.Enabled) {
		t.Errorf("TimeToLiveInput = %+v", ttl)
	}
}

// TestTableInputAgreesWithExpansion compares TableInput with the table as the
// SAM translator passes it to CloudFormation, which parses YAML on its own.
func TestTableInputAgreesWithExpansion(t *testing.T) {
	requireSAMTranslator(t)
	doc := expand(t, withRequired(nil))
	props := dig(doc, "Resources", "StateTable", "Properties").(map[string]any)
	in, err := loadRepoTemplate(t).TableInput("StateTable", "x")
	if err != nil {
		t.Fatal(err)
	}
	var defs, keys []any
	for _, d := range in.AttributeDefinitions {
		defs = append(defs, map[string]any{"AttributeName": *d.AttributeName, "AttributeType": string(d.AttributeType)})
	}
	for _, k := range in.KeySchema {
		keys = append(keys, map[string]any{"AttributeName": *k.AttributeName, "KeyType": string(k.KeyType)})
	}
	if !reflect.DeepEqual(props["AttributeDefinitions"], defs) {
		t.Errorf("AttributeDefinitions: expansion %v, TableInput %v", props["AttributeDefinitions"], defs)
	}
	if !reflect.DeepEqual(props["KeySchema"], keys) {
		t.Errorf("KeySchema: expansion %v, TableInput %v", props["KeySchema"], keys)
	}
	if props["BillingMode"] != string(in.BillingMode) {
		t.Errorf("BillingMode: expansion %v, TableInput %v", props["BillingMode"], in.BillingMode)
	}
}

func TestTableInputWithIndexes(t *testing.T) {
	tmpl := loadSample(t)
	got, err := tmpl.TableInput("Table", "t")
	if err != nil {
		t.Fatal(err)
	}
	wantGSI := []types.GlobalSecondaryIndex{{
		IndexName: aws.String("byOwner"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("owner"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("at"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"state"}},
	}}
	if !reflect.DeepEqual(got.GlobalSecondaryIndexes, wantGSI) {
		t.Errorf("GlobalSecondaryIndexes = %+v, want %+v", got.GlobalSecondaryIndexes, wantGSI)
	}
	if len(got.AttributeDefinitions) != 3 || got.AttributeDefinitions[2].AttributeType != types.ScalarAttributeTypeN {
		t.Errorf("AttributeDefinitions = %+v", got.AttributeDefinitions)
	}
	if attr, _ := tmpl.TTLAttribute("Table"); attr != "ttl" {
		t.Errorf("TTLAttribute = %q, want ttl", attr)
	}
}

func TestTableInputErrors(t *testing.T) {
	tests := []struct {
		name, yaml, id, want string
	}{
		{"missing", "Resources: {}", "T", "resource T not found"},
		{"not a table", "Resources:\n  T: {Type: AWS::SNS::Topic, Properties: {}}", "T", "not AWS::DynamoDB::Table"},
		{"no keys", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions: [{AttributeName: a, AttributeType: S}]", "T", "KeySchema"},
		{"intrinsic billing mode", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: !Ref Mode\n      AttributeDefinitions: [{AttributeName: a, AttributeType: S}]\n      KeySchema: [{AttributeName: a, KeyType: HASH}]", "T", "BillingMode: want a literal string"},
		{"provisioned without throughput", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      AttributeDefinitions: [{AttributeName: a, AttributeType: S}]\n      KeySchema: [{AttributeName: a, KeyType: HASH}]", "T", "needs ProvisionedThroughput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.TableInput(tt.id, "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestTTLAttributeAbsent(t *testing.T) {
	tmpl, err := Parse([]byte("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TimeToLiveSpecification: {AttributeName: x, Enabled: false}"))
	if err != nil {
		t.Fatal(err)
	}
	attr, err := tmpl.TTLAttribute("T")
	if err != nil || attr != "" {
		t.Errorf("disabled TTL: got %q, %v; want none", attr, err)
	}
	in, err := tmpl.TimeToLiveInput("T", "x")
	if err != nil || in != nil {
		t.Errorf("TimeToLiveInput = %+v, %v; want nil", in, err)
	}
}
