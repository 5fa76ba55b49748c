package cfntemplate

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestResolveConditions(t *testing.T) {
	tests := []struct {
		name          string
		params        map[string]string
		wantResources []string
		wantReserved  any // nil: property absent
		wantLayers    []any
		wantOutputs   []string
	}{
		{
			name:          "defaults",
			params:        map[string]string{"Name": "app"},
			wantResources: []string{"Fn", "Table", "Topic"},
			wantLayers:    []any{"layer-always"},
			wantOutputs:   []string{"Greeting", "Where", "Zones"},
		},
		{
			name:          "on",
			params:        map[string]string{"Name": "app", "Mode": "on"},
			wantResources: []string{"Either", "Fn", "Table", "Topic"},
			wantReserved:  int64(1),
			wantLayers:    []any{"layer-on", "layer-always"},
			wantOutputs:   []string{"Greeting", "Where", "Zones"},
		},
		{
			name:          "email",
			params:        map[string]string{"Name": "app", "Email": "a@b.c"},
			wantResources: []string{"Either", "Fn", "Subscription", "Table", "Topic"},
			wantLayers:    []any{"layer-always"},
			wantOutputs:   []string{"Greeting", "SubscriptionArn", "Where", "Zones"},
		},
		{
			name:          "on with email",
			params:        map[string]string{"Name": "app", "Email": "a@b.c", "Mode": "on"},
			wantResources: []string{"Both", "Either", "Fn", "Subscription", "Table", "Topic"},
			wantReserved:  int64(1),
			wantLayers:    []any{"layer-on", "layer-always"},
			wantOutputs:   []string{"Greeting", "SubscriptionArn", "Where", "Zones"},
		},
	}
	tmpl := loadSample(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Resolve(tmpl.Doc, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(doc["Resources"]); !reflect.DeepEqual(got, tt.wantResources) {
				t.Errorf("resources = %v, want %v", got, tt.wantResources)
			}
			if got := keys(doc["Outputs"]); !reflect.DeepEqual(got, tt.wantOutputs) {
				t.Errorf("outputs = %v, want %v", got, tt.wantOutputs)
			}
			props := dig(doc, "Resources", "Fn", "Properties").(map[string]any)
			if got := props["ReservedConcurrentExecutions"]; got != tt.wantReserved {
				t.Errorf("ReservedConcurrentExecutions = %#v, want %#v", got, tt.wantReserved)
			}
			if got := props["Layers"]; !reflect.DeepEqual(got, tt.wantLayers) {
				t.Errorf("Layers = %#v, want %#v", got, tt.wantLayers)
			}
			if got := props["MemorySize"]; got != "3" {
				t.Errorf("MemorySize = %#v, want the parameter's value", got)
			}
			if got := dig(props, "Role"); !reflect.DeepEqual(got, map[string]any{"Fn::GetAtt": []any{"FnRole", "Arn"}}) {
				t.Errorf("Role = %#v, want Fn::GetAtt left alone", got)
			}
			if got := dig(doc, "Outputs", "Zones", "Value", "Fn::Join"); !reflect.DeepEqual(got, []any{",", []any{"a", "b"}}) {
				t.Errorf("Zones output = %#v, want the list parameter split", got)
			}
			if got := dig(doc, "Outputs", "Greeting", "Value"); got != "hi app, ${Literal}" {
				t.Errorf("Greeting output = %#v, want the Fn::Sub fully resolved", got)
			}
			if got := dig(doc, "Outputs", "Where", "Value"); !reflect.DeepEqual(got, map[string]any{"Fn::Sub": "app in ${AWS::Region}"}) {
				t.Errorf("Where output = %#v, want the parameter put in and the pseudo parameter left", got)
			}
		})
	}
	// The input document is not modified.
	if _, ok := dig(tmpl.Doc, "Resources", "Fn", "Properties").(map[string]any)["ReservedConcurrentExecutions"].(map[string]any); !ok {
		t.Error("Resolve modified its input")
	}
}

func TestResolveRejectsBadParameters(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"required missing", map[string]string{}, "Name: no value and no default"},
		{"not allowed", map[string]string{"Name": "app", "Mode": "maybe"}, "not one of the allowed values"},
		{"pattern", map[string]string{"Name": "App1"}, "does not match"},
		{"below min", map[string]string{"Name": "app", "Size": "0"}, "below 1"},
		{"above max", map[string]string{"Name": "app", "Size": "11"}, "above 10"},
		{"not a number", map[string]string{"Name": "app", "Size": "many"}, "not a number"},
		{"unknown", map[string]string{"Name": "app", "Nmae": "x"}, "Nmae is not in the template"},
	}
	tmpl := loadSample(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tmpl.Doc, tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestResolveConditionErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"cycle", "Conditions:\n  A: !Condition B\n  B: !Condition A\nResources:\n  R: {Type: X, Condition: A}", "refers to itself"},
		{"undefined", "Resources:\n  R: {Type: X, Condition: Nope}", "Nope is not defined"},
		{"bad equals", "Conditions:\n  A: !Equals [x]\nResources:\n  R: {Type: X, Condition: A}", "two values"},
		{"bad if", "Resources:\n  R: {Type: X, Properties: {P: !If [x, y]}}", "Fn::If needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Resolve(tmpl.Doc, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	tmpl := loadSample(t)
	refs := map[string]string{"Table": "tbl", "Table.Arn": "arn:tbl", "AWS::Region": "us-east-1"}
	got, err := tmpl.Environment("Fn", map[string]string{"Name": "app", "Mode": "on"}, refs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"NAME":      "app",
		"MODE":      "enabled",
		"TABLE":     "tbl",
		"TABLE_ARN": "arn:tbl",
		"GREETING":  "hello app in us-east-1, ${Literal}",
		"PAIR":      "app-3",
		"JOINED":    "app,x",
		"YES":       "true",
		"COUNT":     "7",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Environment =\n%v\nwant\n%v", got, want)
	}

	_, err = tmpl.Environment("Fn", map[string]string{"Name": "app"}, map[string]string{"Table": "tbl"})
	if err == nil || !strings.Contains(err.Error(), "no value for") {
		t.Errorf("missing refs: err = %v, want it to name what is missing", err)
	}
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dig follows map keys; nil when a step is missing.
func dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
