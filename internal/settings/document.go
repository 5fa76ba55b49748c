package settings

// A settings file reaches the loader as a Document: a tree of Nodes that the
// YAML reader (package settingsyaml, for the command) or the compiled file
// (ReadCompiled, for the Lambda function) gives. The function reads the
// compiled form, written at build time by `autoscalebot compile`, so that
// it links no YAML library: their package initialization and code cost every
// cold start, for a file that cannot change once deployed.

import (
	"encoding/json"
	"fmt"
	"os"
)

// NodeKind is what a Node holds.
type NodeKind uint8

// The kinds of node, as YAML has them.
const (
	ScalarNode NodeKind = iota + 1
	MapNode
	ListNode
	AliasNode
)

// Node is one node of a settings file: YAML's, without YAML's library.
type Node struct {
	Kind NodeKind `json:"k"`
	Line int      `json:"l,omitempty"` // 1-based
	// Value is a scalar as written; Null marks YAML's empty value (~, null,
	// or nothing at all).
	Value string `json:"v,omitempty"`
	Null  bool   `json:"n,omitempty"`
	// JSON is a scalar as a schedule's JSON holds it: YAML's numbers and
	// booleans bare, any other scalar a JSON string.
	JSON string `json:"j,omitempty"`
	// Content is a map's keys and values in turn, or a list's items.
	Content []*Node `json:"c,omitempty"`
	// Alias is the node an alias (*name) refers to.
	Alias *Node `json:"a,omitempty"`
}

// Document is a settings file read: the name its problems are reported
// under and its root node (nil when the file has none to read).
type Document struct {
	Name string
	Root *Node
}

// A FileReader reads the settings file at path. problems say why a file has
// no document to read (its YAML syntax, say); err is a failure to read the
// file at all.
type FileReader func(path string) (doc Document, problems []FileProblem, err error)

// compiledFormat marks a compiled settings file, and its version: a file
// compiled by another version of the format is refused, not misread.
const compiledFormat = "autoscalebot-settings/1"

// MaxCompiledBytes bounds a compiled file. Its document's values are
// bounded already (the loader reads no more than 4 MiB of them, aliases
// expanded, so encoding stays in the tens of MiB); this bounds the tree
// around them. A thousand formations compile to a few hundred KB.
const MaxCompiledBytes = 4 << 20

// compiled is the file `autoscalebot compile` writes and the function reads.
type compiled struct {
	Format string `json:"format"`
	Source string `json:"source"` // the YAML file's name, for messages
	Root   *Node  `json:"root"`
}

// ErrCompiledTooLarge is a document whose compiled form would pass
// MaxCompiledBytes.
var ErrCompiledTooLarge = fmt.Errorf("its compiled form is over %d MiB (aliases expand to a copy of what they name)", MaxCompiledBytes>>20)

// EncodeCompiled writes doc as the compiled settings file.
func EncodeCompiled(doc Document) ([]byte, error) {
	out, err := json.Marshal(compiled{Format: compiledFormat, Source: doc.Name, Root: doc.Root})
	if err != nil {
		return nil, fmt.Errorf("encode compiled settings: %w", err)
	}
	if len(out) > MaxCompiledBytes {
		return nil, ErrCompiledTooLarge
	}
	return out, nil
}

// ReadCompiled reads compiled settings files with readFile (os.ReadFile
// when nil). A file that is not one (the YAML itself, say) is a problem
// that says how to make one.
func ReadCompiled(readFile func(string) ([]byte, error)) FileReader {
	if readFile == nil {
		readFile = os.ReadFile
	}
	return func(path string) (Document, []FileProblem, error) {
		data, err := readFile(path)
		if err != nil {
			return Document{}, nil, err
		}
		var c compiled
		if len(data) > MaxCompiledBytes {
			err = ErrCompiledTooLarge
		} else if err = json.Unmarshal(data, &c); err == nil && c.Format != compiledFormat {
			err = fmt.Errorf("format %q, want %q", c.Format, compiledFormat)
		}
		if err != nil {
			return Document{Name: path}, []FileProblem{{Msg: "not a compiled settings file (" + err.Error() +
				"): the Lambda function reads the file `autoscalebot compile` makes of the YAML, which sam build" +
				" runs (make build-AutoscalerFunction)"}}, nil
		}
		if c.Source == "" {
			c.Source = path
		}
		return Document{Name: c.Source, Root: c.Root}, nil, nil
	}
}
