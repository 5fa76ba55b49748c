// Package settingsyaml reads a settings file's YAML into the document the
// settings loader checks, and compiles it into the form the Lambda function
// reads without a YAML library (settings.ReadCompiled).
//
// YAML libraries: the file is read with go.yaml.in/yaml/v3, the maintained
// continuation of gopkg.in/yaml.v3 (YAML 1.2's core schema, long fuzzed);
// its Node tree carries the line of every key and value. Its syntax errors,
// though, give the line where the enclosing block began (an indentation
// slip on line 6 is "line 3"), so a file it rejects is parsed again with
// github.com/goccy/go-yaml (no dependencies of its own), whose syntax errors
// give the offending token's line and column.
package settingsyaml

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"go.yaml.in/yaml/v3"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// Reader reads settings files' YAML with readFile (os.ReadFile when nil).
func Reader(readFile func(string) ([]byte, error)) settings.FileReader {
	if readFile == nil {
		readFile = os.ReadFile
	}
	return func(path string) (settings.Document, []settings.FileProblem, error) {
		data, err := readFile(path)
		if err != nil {
			return settings.Document{}, nil, err
		}
		root, problems := Parse(data)
		return settings.Document{Name: path, Root: root}, problems, nil
	}
}

// Compile reads a settings file's YAML (named name in messages) and returns
// its compiled form. A file with problems whatever the environment (its
// syntax, its shape, its keys: settings.CheckDocument) is a
// *settings.FileError listing them, without the API key getenv holds.
func Compile(name string, data []byte, getenv func(string) string) ([]byte, error) {
	root, problems := Parse(data)
	doc := settings.Document{Name: name, Root: root}
	if problems := settings.CheckDocument(doc, problems, getenv); len(problems) > 0 {
		return nil, &settings.FileError{File: name, Problems: problems}
	}
	out, err := settings.EncodeCompiled(doc)
	if errors.Is(err, settings.ErrCompiledTooLarge) {
		return nil, &settings.FileError{File: name, Problems: []settings.FileProblem{{Msg: err.Error()}}}
	}
	return out, err
}

// Parse reads data's one YAML document. Without one (empty, a syntax
// error) the root is nil and the problems say why; a second document is a
// problem beside the first's root.
func Parse(data []byte) (*settings.Node, []settings.FileProblem) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil // the loader reports an empty file
	case err != nil:
		return nil, []settings.FileProblem{syntax(data, err)}
	}
	var problems []settings.FileProblem
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			problems = append(problems, syntax(data, err))
		} else {
			problems = append(problems, settings.FileProblem{Line: next.Line, Msg: "a second YAML document: the file holds one (remove the ---)"})
		}
	}
	if len(doc.Content) == 0 {
		return nil, problems
	}
	c := converter{seen: map[*yaml.Node]*settings.Node{}, doing: map[*yaml.Node]bool{}}
	return c.node(doc.Content[0]), problems
}

// converter copies yaml.v3's tree. An alias's target is converted once and
// shared, as in yaml.v3's tree, except an alias inside the node it names
// (a: &x [*x]), which is left without a target: a cycle could not be
// compiled, and no setting could use it.
type converter struct {
	seen  map[*yaml.Node]*settings.Node
	doing map[*yaml.Node]bool
}

func (c converter) node(n *yaml.Node) *settings.Node {
	if out, ok := c.seen[n]; ok {
		return out
	}
	out := &settings.Node{Line: n.Line}
	c.seen[n] = out
	c.doing[n] = true
	defer delete(c.doing, n)
	switch n.Kind {
	case yaml.MappingNode:
		out.Kind = settings.MapNode
	case yaml.SequenceNode:
		out.Kind = settings.ListNode
	case yaml.AliasNode:
		out.Kind = settings.AliasNode
		if n.Alias != nil && !c.doing[n.Alias] {
			out.Alias = c.node(n.Alias)
		}
	default:
		out.Kind = settings.ScalarNode
		out.Value, out.Null, out.JSON = n.Value, n.Tag == "!!null", scalarJSON(n)
	}
	for _, child := range n.Content {
		out.Content = append(out.Content, c.node(child))
	}
	return out
}

// scalarJSON keeps YAML's numbers, booleans and null as JSON's (so 2 is a
// dyno count and "2" is not, as in the environment's JSON form); anything
// else is a string, which the loader quotes and names as not a number.
func scalarJSON(n *yaml.Node) string {
	switch n.Tag {
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return strconv.FormatInt(i, 10)
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	case "!!bool":
		var v bool
		if n.Decode(&v) == nil {
			return strconv.FormatBool(v)
		}
	case "!!null":
		return "null"
	}
	return "" // the loader writes it as a JSON string
}

var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntax reports a file the YAML reader rejected, where goccy's parser
// places the error, else as the reader said.
func syntax(data []byte, err error) settings.FileProblem {
	if line, column, msg, ok := locateSyntaxError(data); ok {
		return settings.FileProblem{Line: line, Column: column, Msg: "YAML syntax: " + msg}
	}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return settings.FileProblem{Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return settings.FileProblem{Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// locateSyntaxError parses data with goccy's parser for the position of
// its first syntax error. Duplicate keys are left to the loader, which
// reports every one of them with the rest.
func locateSyntaxError(data []byte) (line, column int, msg string, ok bool) {
	_, err := goccyparser.ParseBytes(data, 0, goccyparser.AllowDuplicateMapKey())
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false
	}
	return se.Token.Position.Line, se.Token.Position.Column, se.Message, true
}
