// Package templatetest reads the project's CloudFormation/SAM template, so that
// tests build local stand-ins (the DynamoDB table) exactly as the deployed
// stack defines them. It does not evaluate the template: the tests deploy it
// into moto for that (test/env/stacktest).
package templatetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed template. Short-form intrinsic tags (!Ref, !Sub, …)
// are rewritten to their JSON long forms ({"Ref": …}, {"Fn::Sub": …}), so Doc
// has the same shape as the template in JSON.
type Template struct {
	Doc map[string]any
}

// Resource is one entry of the template's Resources section.
type Resource struct {
	Type       string
	Condition  string
	Properties map[string]any
}

// Parameter is one entry of the template's Parameters section.
type Parameter struct {
	Type          string
	Default       string
	HasDefault    bool
	AllowedValues []string
	Description   string
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a YAML or JSON template.
func Parse(data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, errors.New("empty template")
	}
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	return &Template{Doc: doc}, nil
}

// Resource returns the resource with the given logical id.
func (t *Template) Resource(logicalID string) (Resource, error) {
	resources, _ := t.Doc["Resources"].(map[string]any)
	raw, ok := resources[logicalID].(map[string]any)
	if !ok {
		return Resource{}, fmt.Errorf("resource %s not found", logicalID)
	}
	r := Resource{}
	r.Type, _ = raw["Type"].(string)
	r.Condition, _ = raw["Condition"].(string)
	r.Properties, _ = raw["Properties"].(map[string]any)
	return r, nil
}

// Parameters returns the template's parameters by name.
func (t *Template) Parameters() map[string]Parameter {
	raw, _ := t.Doc["Parameters"].(map[string]any)
	out := make(map[string]Parameter, len(raw))
	for name, v := range raw {
		m, _ := v.(map[string]any)
		p := Parameter{}
		p.Type, _ = m["Type"].(string)
		p.Description, _ = m["Description"].(string)
		if d, ok := m["Default"]; ok {
			p.Default, p.HasDefault = scalarString(d), true
		}
		if av, ok := m["AllowedValues"].([]any); ok {
			for _, a := range av {
				p.AllowedValues = append(p.AllowedValues, scalarString(a))
			}
		}
		out[name] = p
	}
	return out
}

// RepoRoot returns the nearest directory at or above the working directory
// that holds go.mod, so tests in any package find template.yaml.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// shortTags maps CloudFormation's YAML short forms to their JSON keys.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!FindInMap":    "Fn::FindInMap",
	"!GetAtt":       "Fn::GetAtt",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Join":         "Fn::Join",
	"!Length":       "Fn::Length",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!Sub":          "Fn::Sub",
	"!ToJsonString": "Fn::ToJsonString",
	"!Transform":    "Fn::Transform",
	"!And":          "Fn::And",
	"!Equals":       "Fn::Equals",
	"!If":           "Fn::If",
	"!Not":          "Fn::Not",
	"!Or":           "Fn::Or",
}

func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return convertTagged(n)
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func convertTagged(n *yaml.Node) (any, error) {
	key, ok := shortTags[n.Tag]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	if n.Kind == yaml.ScalarNode {
		if key == "Fn::GetAtt" {
			// !GetAtt Resource.Attribute: the attribute itself may contain dots.
			res, attr, found := strings.Cut(n.Value, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, n.Value)
			}
			return map[string]any{key: []any{res, attr}}, nil
		}
		return map[string]any{key: n.Value}, nil
	}
	inner := *n
	inner.Tag = ""
	v, err := convert(&inner)
	if err != nil {
		return nil, err
	}
	return map[string]any{key: v}, nil
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return f, nil
	default: // strings, and timestamps, which CloudFormation keeps as text
		return n.Value, nil
	}
}

// scalarString renders a scalar as CloudFormation passes it around: as text.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
