package dynamostore_test

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Items in DynamoDB's JSON wire format ({"S": "…"}, {"N": "…"}, {"M": {…}}),
// as `aws dynamodb scan` prints them, so that a fixture can be read and
// compared by eye with what the console shows.

func toWire(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = toWire(e)
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": itemToWire(v.Value)}
	}
	panic(fmt.Sprintf("attribute value %T not handled", av))
}

func itemToWire(item map[string]types.AttributeValue) map[string]any {
	m := make(map[string]any, len(item))
	for k, v := range item {
		m[k] = toWire(v)
	}
	return m
}

type wireValue struct {
	S    *string              `json:"S"`
	N    *string              `json:"N"`
	BOOL *bool                `json:"BOOL"`
	NULL *bool                `json:"NULL"`
	SS   []string             `json:"SS"`
	L    []wireValue          `json:"L"`
	M    map[string]wireValue `json:"M"`
	isL  bool
	isM  bool
}

func (w *wireValue) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != 1 {
		return fmt.Errorf("attribute value %s: want exactly one type key", b)
	}
	type plain wireValue
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*w = wireValue(p)
	_, w.isL = raw["L"]
	_, w.isM = raw["M"]
	return nil
}

func (w wireValue) value() (types.AttributeValue, error) {
	switch {
	case w.S != nil:
		return &types.AttributeValueMemberS{Value: *w.S}, nil
	case w.N != nil:
		return &types.AttributeValueMemberN{Value: *w.N}, nil
	case w.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *w.BOOL}, nil
	case w.NULL != nil:
		return &types.AttributeValueMemberNULL{Value: *w.NULL}, nil
	case w.SS != nil:
		return &types.AttributeValueMemberSS{Value: slices.Clone(w.SS)}, nil
	case w.isL:
		l := make([]types.AttributeValue, len(w.L))
		for i, e := range w.L {
			v, err := e.value()
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case w.isM:
		m, err := wireItem(w.M)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("attribute value of an unhandled type")
}

func wireItem(m map[string]wireValue) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(m))
	for k, w := range m {
		v, err := w.value()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		item[k] = v
	}
	return item, nil
}
