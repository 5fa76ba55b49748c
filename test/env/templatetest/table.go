package templatetest

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableInput builds the CreateTable request for the AWS::DynamoDB::Table
// logicalID from the template's own key schema, attribute definitions,
// billing mode and indexes, so a local table matches the deployed one.
// tableName is the name to create it under.
func (t *Template) TableInput(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	props, err := t.tableProperties(logicalID)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName)}

	defs, err := list(props, "AttributeDefinitions")
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}
	for i, d := range defs {
		name, err1 := literal(d, "AttributeName")
		typ, err2 := literal(d, "AttributeType")
		if err := firstErr(err1, err2); err != nil {
			return nil, fmt.Errorf("table %s: AttributeDefinitions[%d]: %w", logicalID, i, err)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(name),
			AttributeType: types.ScalarAttributeType(typ),
		})
	}

	if in.KeySchema, err = keySchema(props); err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}

	mode := "PROVISIONED" // CloudFormation's default
	if _, ok := props["BillingMode"]; ok {
		if mode, err = literal(props, "BillingMode"); err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
	}
	in.BillingMode = types.BillingMode(mode)
	if in.BillingMode == types.BillingModeProvisioned {
		if in.ProvisionedThroughput, err = throughput(props); err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
	}

	if _, ok := props["GlobalSecondaryIndexes"]; ok {
		idx, err := list(props, "GlobalSecondaryIndexes")
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
		for i, raw := range idx {
			name, ks, proj, err := index(raw)
			if err != nil {
				return nil, fmt.Errorf("table %s: GlobalSecondaryIndexes[%d]: %w", logicalID, i, err)
			}
			gsi := types.GlobalSecondaryIndex{IndexName: name, KeySchema: ks, Projection: proj}
			if in.BillingMode == types.BillingModeProvisioned {
				m, _ := raw.(map[string]any)
				if gsi.ProvisionedThroughput, err = throughput(m); err != nil {
					return nil, fmt.Errorf("table %s: GlobalSecondaryIndexes[%d]: %w", logicalID, i, err)
				}
			}
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
		}
	}
	if _, ok := props["LocalSecondaryIndexes"]; ok {
		idx, err := list(props, "LocalSecondaryIndexes")
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", logicalID, err)
		}
		for i, raw := range idx {
			name, ks, proj, err := index(raw)
			if err != nil {
				return nil, fmt.Errorf("table %s: LocalSecondaryIndexes[%d]: %w", logicalID, i, err)
			}
			in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes,
				types.LocalSecondaryIndex{IndexName: name, KeySchema: ks, Projection: proj})
		}
	}
	return in, nil
}

// TTLAttribute returns the attribute named by the table's enabled
// TimeToLiveSpecification, or "" when the table has no TTL.
func (t *Template) TTLAttribute(logicalID string) (string, error) {
	props, err := t.tableProperties(logicalID)
	if err != nil {
		return "", err
	}
	spec, ok := props["TimeToLiveSpecification"].(map[string]any)
	if !ok {
		return "", nil
	}
	if enabled, _ := spec["Enabled"].(bool); !enabled {
		return "", nil
	}
	name, err := literal(spec, "AttributeName")
	if err != nil {
		return "", fmt.Errorf("table %s: TimeToLiveSpecification: %w", logicalID, err)
	}
	return name, nil
}

// TimeToLiveInput builds the UpdateTimeToLive request that turns on the
// table's TTL as the template does; nil when the template sets no TTL.
func (t *Template) TimeToLiveInput(logicalID, tableName string) (*dynamodb.UpdateTimeToLiveInput, error) {
	attr, err := t.TTLAttribute(logicalID)
	if err != nil || attr == "" {
		return nil, err
	}
	return &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(tableName),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attr),
			Enabled:       aws.Bool(true),
		},
	}, nil
}

func (t *Template) tableProperties(logicalID string) (map[string]any, error) {
	r, err := t.Resource(logicalID)
	if err != nil {
		return nil, err
	}
	if r.Type != "AWS::DynamoDB::Table" {
		return nil, fmt.Errorf("resource %s is %s, not AWS::DynamoDB::Table", logicalID, r.Type)
	}
	if r.Properties == nil {
		return nil, fmt.Errorf("table %s has no properties", logicalID)
	}
	return r.Properties, nil
}

func keySchema(m map[string]any) ([]types.KeySchemaElement, error) {
	keys, err := list(m, "KeySchema")
	if err != nil {
		return nil, err
	}
	var out []types.KeySchemaElement
	for i, k := range keys {
		name, err1 := literal(k, "AttributeName")
		typ, err2 := literal(k, "KeyType")
		if err := firstErr(err1, err2); err != nil {
			return nil, fmt.Errorf("KeySchema[%d]: %w", i, err)
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(name), KeyType: types.KeyType(typ)})
	}
	return out, nil
}

func index(raw any) (*string, []types.KeySchemaElement, *types.Projection, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, nil, fmt.Errorf("not a mapping")
	}
	name, err := literal(m, "IndexName")
	if err != nil {
		return nil, nil, nil, err
	}
	ks, err := keySchema(m)
	if err != nil {
		return nil, nil, nil, err
	}
	pm, ok := m["Projection"].(map[string]any)
	if !ok {
		return nil, nil, nil, fmt.Errorf("missing Projection")
	}
	proj := &types.Projection{}
	if _, ok := pm["ProjectionType"]; ok {
		pt, err := literal(pm, "ProjectionType")
		if err != nil {
			return nil, nil, nil, err
		}
		proj.ProjectionType = types.ProjectionType(pt)
	}
	if _, ok := pm["NonKeyAttributes"]; ok {
		attrs, err := list(pm, "NonKeyAttributes")
		if err != nil {
			return nil, nil, nil, err
		}
		for _, a := range attrs {
			s, ok := a.(string)
			if !ok {
				return nil, nil, nil, fmt.Errorf("NonKeyAttributes: %v is not a literal string", a)
			}
			proj.NonKeyAttributes = append(proj.NonKeyAttributes, s)
		}
	}
	return aws.String(name), ks, proj, nil
}

func throughput(m map[string]any) (*types.ProvisionedThroughput, error) {
	pt, ok := m["ProvisionedThroughput"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("PROVISIONED billing needs ProvisionedThroughput")
	}
	r, ok1 := pt["ReadCapacityUnits"].(int64)
	w, ok2 := pt["WriteCapacityUnits"].(int64)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("ProvisionedThroughput needs literal integer capacity units")
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}, nil
}

// literal returns m[key] as a plain string; intrinsic functions are refused
// because a test table cannot depend on deploy-time values.
func literal(v any, key string) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("not a mapping")
	}
	s, ok := m[key].(string)
	if !ok {
		return "", fmt.Errorf("%s: want a literal string, got %v", key, m[key])
	}
	return s, nil
}

func list(m map[string]any, key string) ([]any, error) {
	l, ok := m[key].([]any)
	if !ok || len(l) == 0 {
		return nil, fmt.Errorf("%s: want a non-empty list", key)
	}
	return l, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
