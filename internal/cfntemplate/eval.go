package cfntemplate

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Resolve evaluates a template document (before or after the SAM transform)
// for the given parameter values, as CloudFormation does at deploy time:
// parameters left out take their Default and every value must meet its
// constraints; Conditions are evaluated; resources and outputs whose condition
// is false are dropped; Fn::If becomes the chosen branch; AWS::NoValue removes
// its property or list item; Refs to parameters, and ${Parameter} in Fn::Sub
// strings, become their values. Other intrinsics (Refs to resources,
// Fn::GetAtt, the rest of Fn::Sub) are left as they are.
// doc is not modified.
func Resolve(doc map[string]any, params map[string]string) (map[string]any, error) {
	e, err := newEvaluator(doc, params)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(doc))
	for section, v := range doc {
		switch section {
		case "Resources", "Outputs":
			entries, _ := v.(map[string]any)
			kept := make(map[string]any, len(entries))
			for id, entry := range entries {
				if m, ok := entry.(map[string]any); ok {
					if name, ok := m["Condition"].(string); ok {
						holds, err := e.condition(name)
						if err != nil {
							return nil, fmt.Errorf("%s %s: %w", section, id, err)
						}
						if !holds {
							continue
						}
					}
				}
				r, keep, err := e.walk(entry)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", section, id, err)
				}
				if keep {
					kept[id] = r
				}
			}
			out[section] = kept
		default:
			out[section] = v
		}
	}
	return out, nil
}

// Environment returns the environment variables the function logicalID
// (AWS::Serverless::Function or AWS::Lambda::Function) gets when deployed with
// params. refs supplies the values of everything else the variables refer to:
// resource logical ids ("StateTable": "my-table"), pseudo parameters, or
// "Resource.Attribute" for Fn::GetAtt and ${Resource.Attribute}.
func (t *Template) Environment(logicalID string, params, refs map[string]string) (map[string]string, error) {
	doc, err := Resolve(t.Doc, params)
	if err != nil {
		return nil, err
	}
	resources, _ := doc["Resources"].(map[string]any)
	fn, ok := resources[logicalID].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("function %s not found (or its condition is false)", logicalID)
	}
	props, _ := fn["Properties"].(map[string]any)
	env, _ := props["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)

	e, err := newEvaluator(t.Doc, params)
	if err != nil {
		return nil, err
	}
	lookup := maps.Clone(refs)
	if lookup == nil {
		lookup = map[string]string{}
	}
	maps.Copy(lookup, e.values)

	out := make(map[string]string, len(vars))
	for name, v := range vars {
		s, err := text(v, lookup)
		if err != nil {
			return nil, fmt.Errorf("function %s: variable %s: %w", logicalID, name, err)
		}
		out[name] = s
	}
	return out, nil
}

type evaluator struct {
	params     map[string]any // the Parameters section
	values     map[string]string
	conditions map[string]any
	memo       map[string]bool
	visiting   map[string]bool
}

func newEvaluator(doc map[string]any, given map[string]string) (*evaluator, error) {
	e := &evaluator{
		values:   map[string]string{},
		memo:     map[string]bool{},
		visiting: map[string]bool{},
	}
	e.params, _ = doc["Parameters"].(map[string]any)
	e.conditions, _ = doc["Conditions"].(map[string]any)
	for name := range given {
		if _, ok := e.params[name]; !ok {
			return nil, fmt.Errorf("parameter %s is not in the template", name)
		}
	}
	names := make([]string, 0, len(e.params))
	for name := range e.params {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []string
	for _, name := range names {
		spec, _ := e.params[name].(map[string]any)
		value, ok := given[name]
		if !ok {
			d, has := spec["Default"]
			if !has {
				problems = append(problems, fmt.Sprintf("%s: no value and no default", name))
				continue
			}
			value = scalarString(d)
		}
		if err := check(spec, value); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", name, value, err))
			continue
		}
		e.values[name] = value
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("parameters: %s", strings.Join(problems, "; "))
	}
	return e, nil
}

// check applies a parameter's constraints the way CloudFormation does.
func check(spec map[string]any, value string) error {
	if av, ok := spec["AllowedValues"].([]any); ok {
		allowed := false
		for _, a := range av {
			allowed = allowed || scalarString(a) == value
		}
		if !allowed {
			return fmt.Errorf("not one of the allowed values")
		}
	}
	if p, ok := spec["AllowedPattern"].(string); ok {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return fmt.Errorf("AllowedPattern: %w", err)
		}
		if !re.MatchString(value) {
			return fmt.Errorf("does not match %s", p)
		}
	}
	if n, ok := number(spec["MinLength"]); ok && float64(len(value)) < n {
		return fmt.Errorf("shorter than %v", n)
	}
	if n, ok := number(spec["MaxLength"]); ok && float64(len(value)) > n {
		return fmt.Errorf("longer than %v", n)
	}
	if spec["Type"] == "Number" {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		if n, ok := number(spec["MinValue"]); ok && f < n {
			return fmt.Errorf("below %v", n)
		}
		if n, ok := number(spec["MaxValue"]); ok && f > n {
			return fmt.Errorf("above %v", n)
		}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func (e *evaluator) condition(name string) (bool, error) {
	if v, ok := e.memo[name]; ok {
		return v, nil
	}
	expr, ok := e.conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not defined", name)
	}
	if e.visiting[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	e.visiting[name] = true
	v, err := e.boolean(expr)
	delete(e.visiting, name)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.memo[name] = v
	return v, nil
}

func (e *evaluator) boolean(expr any) (bool, error) {
	fn, arg, ok := intrinsic(expr)
	if !ok {
		return false, fmt.Errorf("not a condition function: %v", expr)
	}
	switch fn {
	case "Condition":
		name, _ := arg.(string)
		return e.condition(name)
	case "Fn::Equals":
		args, _ := arg.([]any)
		if len(args) != 2 {
			return false, fmt.Errorf("Fn::Equals needs two values")
		}
		a, err := e.scalar(args[0])
		if err != nil {
			return false, err
		}
		b, err := e.scalar(args[1])
		if err != nil {
			return false, err
		}
		return a == b, nil
	case "Fn::Not":
		args, _ := arg.([]any)
		if len(args) != 1 {
			return false, fmt.Errorf("Fn::Not needs one condition")
		}
		v, err := e.boolean(args[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		args, _ := arg.([]any)
		if len(args) < 2 {
			return false, fmt.Errorf("%s needs at least two conditions", fn)
		}
		and := fn == "Fn::And"
		for _, a := range args {
			v, err := e.boolean(a)
			if err != nil {
				return false, err
			}
			if v != and {
				return v, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("%s is not supported in a condition", fn)
}

// scalar resolves an Fn::Equals operand: a literal or a Ref to a parameter.
func (e *evaluator) scalar(v any) (string, error) {
	if fn, arg, ok := intrinsic(v); ok {
		name, _ := arg.(string)
		if fn != "Ref" {
			return "", fmt.Errorf("%s is not supported in Fn::Equals", fn)
		}
		value, ok := e.values[name]
		if !ok {
			return "", fmt.Errorf("ref %s: not a parameter", name)
		}
		return value, nil
	}
	return scalarString(v), nil
}

// walk resolves v; keep is false when v is AWS::NoValue.
func (e *evaluator) walk(v any) (out any, keep bool, err error) {
	switch x := v.(type) {
	case map[string]any:
		if fn, arg, ok := intrinsic(x); ok {
			switch fn {
			case "Ref":
				name, _ := arg.(string)
				if name == "AWS::NoValue" {
					return nil, false, nil
				}
				if value, ok := e.values[name]; ok {
					return e.typed(name, value), true, nil
				}
				return x, true, nil
			case "Fn::If":
				args, _ := arg.([]any)
				name, _ := firstOf(args).(string)
				if len(args) != 3 || name == "" {
					return nil, false, fmt.Errorf("Fn::If needs [condition, then, else]")
				}
				holds, err := e.condition(name)
				if err != nil {
					return nil, false, err
				}
				if holds {
					return e.walk(args[1])
				}
				return e.walk(args[2])
			case "Fn::Sub":
				if s, ok := arg.(string); ok {
					return e.sub(s), true, nil
				}
			}
		}
		m := make(map[string]any, len(x))
		for k, item := range x {
			r, keep, err := e.walk(item)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", k, err)
			}
			if keep {
				m[k] = r
			}
		}
		return m, true, nil
	case []any:
		l := make([]any, 0, len(x))
		for i, item := range x {
			r, keep, err := e.walk(item)
			if err != nil {
				return nil, false, fmt.Errorf("[%d]: %w", i, err)
			}
			if keep {
				l = append(l, r)
			}
		}
		return l, true, nil
	}
	return v, true, nil
}

// sub puts parameter values into an Fn::Sub string; the result stays an
// Fn::Sub while other variables (resources, pseudo parameters) remain.
func (e *evaluator) sub(tmpl string) any {
	remaining := false
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if value, ok := e.values[name]; ok {
			return value
		}
		remaining = remaining || !strings.HasPrefix(name, "!")
		return m
	})
	if remaining {
		return map[string]any{"Fn::Sub": out}
	}
	return subVar.ReplaceAllStringFunc(out, func(m string) string { return "${" + m[3:] })
}

// typed returns a parameter's value as Ref does: list types become lists.
func (e *evaluator) typed(name, value string) any {
	spec, _ := e.params[name].(map[string]any)
	typ, _ := spec["Type"].(string)
	if typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
		parts := strings.Split(value, ",")
		l := make([]any, len(parts))
		for i, p := range parts {
			l[i] = strings.TrimSpace(p)
		}
		return l
	}
	return value
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// text renders a value that must be a string at deploy time, looking names up
// in values. It understands literals, Ref, Fn::GetAtt, Fn::Sub and Fn::Join.
func text(v any, values map[string]string) (string, error) {
	fn, arg, ok := intrinsic(v)
	if !ok {
		if _, isMap := v.(map[string]any); isMap {
			return "", fmt.Errorf("not a string: %v", v)
		}
		if _, isList := v.([]any); isList {
			return "", fmt.Errorf("not a string: %v", v)
		}
		return scalarString(v), nil
	}
	lookup := func(name string) (string, error) {
		s, ok := values[name]
		if !ok {
			return "", fmt.Errorf("no value for %s", name)
		}
		return s, nil
	}
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		return lookup(name)
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return "", fmt.Errorf("Fn::GetAtt needs [resource, attribute]")
		}
		return lookup(scalarString(parts[0]) + "." + scalarString(parts[1]))
	case "Fn::Sub":
		tmpl, _ := arg.(string)
		var vars map[string]any
		if l, ok := arg.([]any); ok && len(l) == 2 {
			tmpl, _ = l[0].(string)
			vars, _ = l[1].(map[string]any)
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var s string
			var err error
			if inner, ok := vars[name]; ok {
				s, err = text(inner, values)
			} else {
				s, err = lookup(name)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return s
		})
		return out, firstErr
	case "Fn::Join":
		args, _ := arg.([]any)
		if len(args) != 2 {
			return "", fmt.Errorf("Fn::Join needs [delimiter, list]")
		}
		items, _ := args[1].([]any)
		parts := make([]string, len(items))
		for i, item := range items {
			s, err := text(item, values)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, scalarString(args[0])), nil
	}
	return "", fmt.Errorf("%s is not supported here", fn)
}

// intrinsic reports whether v is a one-key intrinsic function mapping.
func intrinsic(v any) (fn string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

func firstOf(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}
