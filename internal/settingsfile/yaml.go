package settingsfile

// The settings file's YAML: one library reads it, for the command and the
// Lambda function alike.
//
// The library is go.yaml.in/yaml/v3, which the YAML organisation maintains
// since go-yaml's author left gopkg.in/yaml.v3 unmaintained: a port of
// libyaml, YAML 1.2's core schema, no dependencies, and a Node tree with
// every key's and value's line (templatetest reads template.yaml with it
// too). github.com/goccy/go-yaml, the other candidate, places syntax errors
// at their token, but reads a schedule as users write it, {9:00: 5}, as the
// key 9 with the value "00: 5"; yaml.v3 reads it as YAML says, "9:00": 5.
// Its syntax errors give no column, and syntaxLine finds their line.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parseYAML reads data's one YAML document. Without one (empty, a syntax
// error) the root is nil and the problems say why; a second document is a
// problem beside the first's root.
func parseYAML(data []byte) (*yaml.Node, []Problem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil // the loader reports an empty file
	case err != nil:
		return nil, []Problem{syntax(data, err)}
	}
	var problems []Problem
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			problems = append(problems, syntax(data, err))
		} else {
			problems = append(problems, Problem{Line: next.Line, Msg: "a second YAML document: the file holds one (remove the ---)"})
		}
	}
	if len(doc.Content) == 0 {
		return nil, problems
	}
	return doc.Content[0], problems
}

var yamlError = regexp.MustCompile(`^yaml: (?:line ([0-9]+): )?(.*)$`)

// syntaxProblem splits a yaml.v3 error into the line it names (0: none)
// and what is wrong.
func syntaxProblem(err error) (line int, msg string) {
	m := yamlError.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, err.Error()
	}
	line, _ = strconv.Atoi(m[1])
	return line, m[2]
}

// unsaid is what yaml.v3's scanner knows of a problem but leaves out of
// its message.
var unsaid = map[string]string{
	"found unexpected end of stream": "a quoted value is never closed",
}

// syntax reports a file yaml.v3 rejected, at the line where it went wrong.
func syntax(data []byte, err error) Problem {
	line, msg := syntaxProblem(err)
	if at := syntaxLine(data, msg); at > 0 {
		line = at
	}
	if more := unsaid[msg]; more != "" {
		msg += " (" + more + ")"
	}
	return Problem{Line: line, Msg: "YAML syntax: " + msg}
}

// syntaxLine is the first line at whose end the file fails as it does as a
// whole (with the problem msg): where it went wrong, where yaml.v3 names
// the line the enclosing block began on (an indentation slip on line 6 is
// its "line 3"). The file's beginnings are bisected, a few parses; 0 when
// no beginning fails so.
func syntaxLine(data []byte, msg string) int {
	var ends []int // the offset past each line
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(lines int) bool {
		dec := yaml.NewDecoder(bytes.NewReader(data[:ends[lines-1]]))
		for {
			var doc yaml.Node
			err := dec.Decode(&doc)
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) {
				return false
			}
			_, got := syntaxProblem(err)
			return got == msg
		}
	}
	lo, hi := 1, len(ends)
	if !fails(hi) {
		return 0
	}
	for lo < hi {
		if mid := (lo + hi) / 2; fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// valueText renders a YAML value as the environment would hold it: a
// scalar as written (numbers, booleans and strings alike), a map or a list
// as compact JSON in the file's order (a schedule such as
// {"0:00": 2, "9:00": 5}), which the loader then checks like any value.
func valueText(n *yaml.Node) (string, string) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode {
		if n.ShortTag() == nullTag {
			return "", `no value (write "" for the built-in default)`
		}
		return n.Value, ""
	}
	var b strings.Builder
	if msg := writeJSON(&b, n, 0); msg != "" {
		return "", msg
	}
	return b.String(), ""
}

func writeJSON(b *strings.Builder, n *yaml.Node, depth int) string {
	if depth > maxValueDepth {
		return "nested too deeply"
	}
	if b.Len() > maxValueBytes {
		return "too long"
	}
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(resolveAlias(n.Content[i]).Value))
			b.WriteByte(':')
			if msg := writeJSON(b, n.Content[i+1], depth+1); msg != "" {
				return msg
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if msg := writeJSON(b, c, depth+1); msg != "" {
				return msg
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		b.WriteString(scalarJSON(n))
	default:
		return "not a value: " + kindName(n)
	}
	return ""
}

// nullTag is YAML's empty value: ~, null, or nothing at all.
const nullTag = "!!null"

// scalarJSON keeps YAML's numbers, booleans and null as JSON's (so 2 is a
// dyno count and "2" is not, as in the environment's JSON form); anything
// else is a JSON string, which the loader quotes and names as not a number.
func scalarJSON(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int":
		// Decimals are parsed here: aliases can repeat a long list of them,
		// and yaml.v3 sets up a decoder for each Decode. 010 is then 10, as
		// YAML 1.2 and the loader read MAX_DYNOS: 010 (yaml.v3: octal 8).
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err == nil || n.Decode(&i) == nil {
			return strconv.FormatInt(i, 10)
		}
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if (err == nil || n.Decode(&f) == nil) && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	case "!!bool":
		var v bool
		if n.Decode(&v) == nil {
			return strconv.FormatBool(v)
		}
	case nullTag:
		return "null"
	}
	return jsonString(n.Value)
}

func jsonString(s string) string {
	out, _ := json.Marshal(s) // a string always encodes
	return string(out)
}

// resolveAlias follows *anchor references to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxValueDepth; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == nullTag {
			return "an empty value"
		}
		return fmt.Sprintf("the value %s", strconv.Quote(truncate(n.Value, 40)))
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}
