package template

import (
	"reflect"
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
