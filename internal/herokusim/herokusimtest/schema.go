package herokusimtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaURL names the loaded document inside the compiler; it is never fetched.
const schemaURL = "file:///heroku-go/schema.json"

// SchemaPath returns the path of the schema.json that ships in the
// heroku-go/v5 module directory (it is not embedded in the Go package).
// It runs the go command, so it suits tests, not deployed binaries.
func SchemaPath() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/heroku/heroku-go/v5").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("find heroku-go module: %w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("find heroku-go module: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("find heroku-go module: not in the module graph")
	}
	return filepath.Join(dir, "schema.json"), nil
}

// link is one endpoint of the hyper-schema.
type link struct {
	method  string
	href    *regexp.Regexp
	literal int                // characters outside template variables: more is more specific
	request *jsonschema.Schema // the link's "schema", nil if it takes no body
	target  *jsonschema.Schema // the link's "targetSchema", nil if none
}

// validator checks requests, and the fake's own answers, against the links
// of heroku-go's schema. It is read-only once loaded, so it is shared.
type validator struct {
	links []link
}

// validators caches loaded schemas by path: loading compiles every link of
// the whole document (about half a second), and tests start many servers.
var validators = struct {
	sync.Mutex
	byPath map[string]*validator
}{byPath: map[string]*validator{}}

func cachedValidator(path string) (*validator, error) {
	validators.Lock()
	defer validators.Unlock()
	if v, ok := validators.byPath[path]; ok {
		return v, nil
	}
	v, err := loadValidator(path)
	if err != nil {
		return nil, err
	}
	validators.byPath[path] = v
	return v, nil
}

// hrefVar matches a template variable such as
// {(%23%2Fdefinitions%2Fapp%2Fdefinitions%2Fidentity)}.
var hrefVar = regexp.MustCompile(`\{\([^}]*\)\}`)

func loadValidator(path string) (*validator, error) {
	doc, err := readSchema(path)
	if err != nil {
		return nil, err
	}
	found, err := schemaLinks(doc)
	if err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", path, err)
	}
	v, err := compileLinks(doc, found)
	if err != nil {
		return nil, fmt.Errorf("load schema %s: %w", path, err)
	}
	// Most specific first, so a literal segment wins over a variable that
	// would also match it.
	slices.SortStableFunc(v.links, func(a, b link) int { return b.literal - a.literal })
	return v, nil
}

// readSchema reads the schema document, ready for the compiler.
func readSchema(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", path, err)
	}
	// The root $schema is interagent's own hyper-schema URL, which the
	// compiler would try to download; the document is draft-04 underneath.
	// The root id would rebase every "#/definitions/..." reference onto
	// api.heroku.com, which is not loaded either: refer to it by schemaURL.
	delete(doc, "$schema")
	delete(doc, "id")
	dropBadPatterns(doc)
	return doc, nil
}

// pendingLink is a link of the schema and where its request and target
// schemas are, before they are compiled.
type pendingLink struct {
	link
	requestPtr, targetPtr string
}

// schemaLinks lists every link of every definition, closing the objects of
// strict definitions (in doc) as it goes.
func schemaLinks(doc map[string]any) ([]pendingLink, error) {
	defs, _ := doc["definitions"].(map[string]any)
	if len(defs) == 0 {
		return nil, errors.New("no definitions")
	}
	var found []pendingLink
	for name, d := range defs {
		def, _ := d.(map[string]any)
		strict, _ := def["strictProperties"].(bool)
		if strict {
			closeObject(def)
		}
		links, _ := def["links"].([]any)
		for i, l := range links {
			lm, _ := l.(map[string]any)
			method, _ := lm["method"].(string)
			href, _ := lm["href"].(string)
			if method == "" || href == "" {
				continue
			}
			re, literal, err := hrefPattern(href)
			if err != nil {
				return nil, fmt.Errorf("link %s %s: %w", method, href, err)
			}
			p := pendingLink{link: link{method: strings.ToUpper(method), href: re, literal: literal}}
			base := "#/definitions/" + name + "/links/" + strconv.Itoa(i)
			if s, ok := lm["schema"].(map[string]any); ok {
				p.requestPtr = base + "/schema"
				if strict {
					closeObject(s)
				}
			}
			if _, ok := lm["targetSchema"].(map[string]any); ok {
				p.targetPtr = base + "/targetSchema"
			}
			found = append(found, p)
		}
	}
	return found, nil
}

// compileLinks compiles the request and target schema of every link.
func compileLinks(doc map[string]any, found []pendingLink) (*validator, error) {
	patched, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema refers to %s, which is not loaded", u)
	}
	if err := c.AddResource(schemaURL, bytes.NewReader(patched)); err != nil {
		return nil, err
	}
	// Compile everything now: after one failed Compile, jsonschema v5.3.1
	// panics on the next one, and compiled schemas are safe to share.
	compile := func(ptr string) (*jsonschema.Schema, error) {
		if ptr == "" {
			return nil, nil
		}
		return c.Compile(schemaURL + ptr)
	}
	v := &validator{}
	for _, p := range found {
		if p.request, err = compile(p.requestPtr); err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
		if p.target, err = compile(p.targetPtr); err != nil {
			return nil, fmt.Errorf("compile: %w", err)
		}
		v.links = append(v.links, p.link)
	}
	return v, nil
}

// closeObject applies prmd's strictProperties to a schema that lists its
// properties: nothing else is allowed. Plain JSON Schema would let a
// misspelt key through, and Heroku would ignore it without a word.
func closeObject(s map[string]any) {
	if _, has := s["additionalProperties"]; !has && s["properties"] != nil {
		s["additionalProperties"] = false
	}
}

// dropBadPatterns removes every "pattern" that Go's regexp cannot compile
// (a few of Heroku's use lookahead). The compiler checks the whole document
// against the draft-04 meta-schema, so one such pattern on any endpoint would
// stop all validation; none of them is on an endpoint the fake serves.
func dropBadPatterns(v any) {
	switch t := v.(type) {
	case map[string]any:
		if p, ok := t["pattern"].(string); ok {
			if _, err := regexp.Compile(p); err != nil {
				delete(t, "pattern")
			}
		}
		for _, c := range t {
			dropBadPatterns(c)
		}
	case []any:
		for _, c := range t {
			dropBadPatterns(c)
		}
	}
}

// hrefPattern turns an href template into a regexp over request paths, and
// counts its literal characters.
func hrefPattern(href string) (*regexp.Regexp, int, error) {
	var b strings.Builder
	b.WriteString("^")
	last, literal := 0, 0
	for _, m := range hrefVar.FindAllStringIndex(href, -1) {
		b.WriteString(regexp.QuoteMeta(href[last:m[0]]))
		b.WriteString("[^/]+")
		literal += m[0] - last
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(href[last:]))
	b.WriteString("$")
	literal += len(href) - last
	re, err := regexp.Compile(b.String())
	return re, literal, err
}

// find returns the link documented for method and path, if any.
func (v *validator) find(method, path string) (link, bool) {
	for _, l := range v.links {
		if l.method == method && l.href.MatchString(path) {
			return l, true
		}
	}
	return link{}, false
}

// CheckRequest reports every way a request breaks the schema: an
// undocumented endpoint, or a body that does not match the link's schema.
func (v *validator) CheckRequest(method, path string, body []byte) []string {
	where := method + " " + path
	l, ok := v.find(method, path)
	if !ok {
		return []string{where + ": no such link in the schema"}
	}
	if l.request == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			return []string{where + ": the link takes no body"}
		}
		return nil
	}
	return validate(l.request, where, body)
}

// CheckAnswer reports every way a successful answer breaks the link's
// targetSchema, so the fake cannot drift from what Heroku sends.
func (v *validator) CheckAnswer(method, path string, body []byte) []string {
	l, ok := v.find(method, path)
	if !ok || l.target == nil {
		return nil
	}
	return validate(l.target, "answer to "+method+" "+path, body)
}

func validate(s *jsonschema.Schema, where string, body []byte) []string {
	var inst any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&inst); err != nil {
		return []string{fmt.Sprintf("%s: body is not JSON: %v", where, err)}
	}
	if dec.More() {
		return []string{where + ": body has data after the JSON value"}
	}
	err := s.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{fmt.Sprintf("%s: %v", where, err)}
	}
	var out []string
	var leaves func(*jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := e.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, fmt.Sprintf("%s: %s: %s", where, loc, e.Message))
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
	return out
}
