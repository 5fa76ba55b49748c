package templatetest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseShortTags(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any
	}{
		{"ref", `v: !Ref Thing`, map[string]any{"Ref": "Thing"}},
		{"getatt dotted", `v: !GetAtt Table.StreamArn`, map[string]any{"Fn::GetAtt": []any{"Table", "StreamArn"}}},
		{"getatt attribute with dots", `v: !GetAtt Db.Endpoint.Address`, map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{"getatt list", `v: !GetAtt [Table, Arn]`, map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}},
		{"sub string", `v: !Sub "arn:${AWS::Partition}:x"`, map[string]any{"Fn::Sub": "arn:${AWS::Partition}:x"}},
		{"sub with map", "v: !Sub\n  - ${A}\n  - A: !Ref B", map[string]any{"Fn::Sub": []any{"${A}", map[string]any{"A": map[string]any{"Ref": "B"}}}}},
		{"nested if/equals/not", `v: !If [C, !Not [!Equals [!Ref P, ""]], !Ref AWS::NoValue]`,
			map[string]any{"Fn::If": []any{"C",
				map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, ""}}}},
				map[string]any{"Ref": "AWS::NoValue"}}}},
		{"and/or/condition", `v: !And [!Condition A, !Or [!Condition B, !Condition C]]`,
			map[string]any{"Fn::And": []any{map[string]any{"Condition": "A"},
				map[string]any{"Fn::Or": []any{map[string]any{"Condition": "B"}, map[string]any{"Condition": "C"}}}}}},
		{"join select split", `v: !Join ["", [!Select [0, !Split ["/", !Ref P]]]]`,
			map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::Select": []any{int64(0),
				map[string]any{"Fn::Split": []any{"/", map[string]any{"Ref": "P"}}}}}}}}},
		{"long form untouched", `v: {"Fn::GetAtt": [T, Arn]}`, map[string]any{"Fn::GetAtt": []any{"T", "Arn"}}},
		{"typed scalars", "v: [true, 128, 1.5, null, \"30\", 2010-09-09]", []any{true, int64(128), 1.5, nil, "30", "2010-09-09"}},
		{"anchor and alias", "a: &x [1]\nv: *x", []any{int64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tmpl.Doc["v"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown tag", `v: !Reff X`, "unknown tag !Reff"},
		{"getatt without attribute", `v: !GetAtt Table`, "Resource.Attribute"},
		{"duplicate key", "v: 1\nv: 2", `duplicate key "v"`},
		{"not a mapping", `- a`, "not a mapping"},
		{"empty", ``, "empty template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadSample(t *testing.T) {
	tmpl := loadSample(t)
	r, err := tmpl.Resource("Subscription")
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "AWS::SNS::Subscription" || r.Condition != "HasEmail" || r.Properties["Protocol"] != "email" {
		t.Errorf("Subscription = %+v", r)
	}
	if _, err := tmpl.Resource("Missing"); err == nil {
		t.Error("Resource(Missing): want an error")
	}
	params := tmpl.Parameters()
	want := map[string]Parameter{
		"Name":  {Type: "String"},
		"Mode":  {Type: "String", Default: "off", HasDefault: true, AllowedValues: []string{"on", "off"}},
		"Size":  {Type: "Number", Default: "3", HasDefault: true},
		"Email": {Type: "String", Default: "", HasDefault: true},
		"Zones": {Type: "CommaDelimitedList", Default: "a, b", HasDefault: true},
	}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("Parameters() = %+v\nwant %+v", params, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "read template") {
		t.Fatalf("err = %v, want a read error", err)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "template.yaml"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s not at the repo root %s: %v", f, root, err)
		}
	}
	wd, _ := os.Getwd()
	if !strings.HasPrefix(wd, root) {
		t.Errorf("root %s is not above the working directory %s", root, wd)
	}
}

func TestRepoRootOutsideModule(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Fatal("RepoRoot outside any module: want an error")
	}
}

func loadSample(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load(filepath.Join("testdata", "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
