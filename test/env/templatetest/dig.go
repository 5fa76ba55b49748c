package templatetest

// Dig follows map keys through a decoded template (or anything decoded from
// JSON or YAML); nil when a step is missing.
func Dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// AsList is v as a list: nil for nil, a list as it is, anything else as a
// list of one (CloudFormation accepts a lone value where it takes a list).
func AsList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}
