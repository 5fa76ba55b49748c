package logkey_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
)

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// constants returns logkey's constants, name → value, read from its source.
func constants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "logkey.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("constant %s is not a string literal", name.Name)
				}
				consts[name.Name], _ = strconv.Unquote(lit.Value)
			}
		}
	}
	return consts
}

func TestKeys(t *testing.T) {
	consts := constants(t)
	var values []string
	for name, v := range consts {
		if !camelCase.MatchString(v) {
			t.Errorf("%s = %q is not camelCase", name, v)
		}
		values = append(values, v)
	}
	slices.Sort(values)
	if d := slices.Compact(slices.Clone(values)); len(d) != len(values) {
		t.Errorf("two constants spell the same key: %v", values)
	}
	all := logkey.All()
	slices.Sort(all)
	if !slices.Equal(all, values) {
		t.Errorf("All() =\n%v\nwant every constant:\n%v", all, values)
	}
}

// slogAttrFuncs build one attribute from a key and a value.
var slogAttrFuncs = []string{"String", "Int", "Int64", "Uint64", "Float64", "Bool", "Time", "Duration", "Any", "Group"}

// loggerMethods take key-value pairs or attributes after their first n arguments.
var loggerMethods = map[string]int{
	"Debug": 1, "Info": 1, "Warn": 1, "Error": 1,
	"DebugContext": 2, "InfoContext": 2, "WarnContext": 2, "ErrorContext": 2,
	"Log": 3, "LogAttrs": 3, "With": 0,
}

// TestEveryLogCallUsesTheKeys reads every non-test Go file of the module and
// fails on a slog attribute or key-value pair whose key is not one of
// logkey's constants (a literal, or another package's name).
func TestEveryLogCallUsesTheKeys(t *testing.T) {
	consts := constants(t)
	root := moduleRoot(t)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		inLogkey := filepath.Dir(rel) == filepath.Join("internal", "logkey")
		checkKey := func(key ast.Expr) {
			if !isLogkeyConst(key, consts, inLogkey) {
				t.Errorf("%s:%d: log key %s is not a logkey constant", rel, fset.Position(key.Pos()).Line, render(key))
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if isSlogAttr(call) {
				if len(call.Args) > 0 {
					checkKey(call.Args[0])
				}
				return true
			}
			// Methods of a logger, or slog's package-level functions of the same names.
			skip, ok := loggerMethods[sel.Sel.Name]
			if !ok {
				return true
			}
			for i := skip; i < len(call.Args); i++ {
				// Without types a variable holding an slog.Attr would pass for a
				// key here; the code base passes attributes as slog calls only,
				// or as a slice spread into LogAttrs, whose elements are slog
				// calls checked where they are built.
				if isSlogAttr(call.Args[i]) || (call.Ellipsis.IsValid() && i == len(call.Args)-1) {
					continue
				}
				checkKey(call.Args[i])
				i++ // its value
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d Go files under %s; the walk missed the module", files, root)
	}
}

func isSlogAttr(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && isPackage(sel.X, "slog") && slices.Contains(slogAttrFuncs, sel.Sel.Name)
}

func isPackage(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isLogkeyConst(e ast.Expr, consts map[string]string, inLogkey bool) bool {
	switch k := e.(type) {
	case *ast.SelectorExpr:
		_, ok := consts[k.Sel.Name]
		return ok && isPackage(k.X, "logkey")
	case *ast.Ident:
		_, ok := consts[k.Name]
		return ok && inLogkey
	}
	return false
}

func render(e ast.Expr) string {
	switch k := e.(type) {
	case *ast.BasicLit:
		return k.Value
	case *ast.Ident:
		return k.Name
	case *ast.SelectorExpr:
		return render(k.X) + "." + k.Sel.Name
	}
	return "(expression)"
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
