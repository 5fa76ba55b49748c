package docs

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// mayImport is the layers' rule, as CONTRIBUTING.md states it: entry points
// wire everything; orchestration uses the rules; adapters implement what
// orchestration declares (tick.Formation, tick.ErrRefused), so they import
// orchestration and the rules, and only entry points import adapters; the
// public kit imports nothing of ours; only tests import test support.
var mayImport = map[string][]string{
	"entry points":  {"entry points", "orchestration", "rules", "adapters", "foundations", "public"},
	"orchestration": {"orchestration", "rules", "foundations", "public"},
	"rules":         {"rules", "foundations", "public"},
	"adapters":      {"orchestration", "rules", "adapters", "foundations", "public"},
	"foundations":   {"foundations"},
	"public":        {"public"},
	"test support":  {"entry points", "orchestration", "rules", "adapters", "foundations", "public", "test support"},
}

// TestImportsFollowTheLayers: every import between the project's packages
// (tests aside) goes the way mayImport allows, each package's layer being
// the group CONTRIBUTING.md's layout lists it under.
func TestImportsFollowTheLayers(t *testing.T) {
	groups := layoutGroups(t)
	for _, g := range groups {
		if _, ok := mayImport[g.layer]; !ok {
			t.Errorf("CONTRIBUTING.md's layout has a group %q, which this test has no rule for", g.layer)
		}
	}
	module, imports := projectImports(t)
	layerOf := func(pkg string) string {
		dir := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/") + "/"
		best, layer := "", ""
		for _, g := range groups {
			for _, d := range g.dirs {
				if strings.HasPrefix(dir, d) && len(d) > len(best) {
					best, layer = d, g.layer
				}
			}
		}
		return layer
	}
	for pkg, deps := range imports {
		from := layerOf(pkg)
		for _, dep := range deps {
			if to := layerOf(dep); !slices.Contains(mayImport[from], to) {
				t.Errorf("%s (%s) imports %s (%s)", strings.TrimPrefix(pkg, module+"/"), from, strings.TrimPrefix(dep, module+"/"), to)
			}
		}
	}
}

// group is one "# layer: …" group of the layout block and its folders.
type group struct {
	layer string
	dirs  []string
}

func layoutGroups(t *testing.T) []group {
	t.Helper()
	var groups []group
	for line := range strings.Lines(layoutBlock(t)) {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case fields[0] == "#":
			layer, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
			groups = append(groups, group{layer: layer})
		case len(groups) > 0 && strings.HasSuffix(fields[0], "/"):
			groups[len(groups)-1].dirs = append(groups[len(groups)-1].dirs, fields[0])
		}
	}
	if len(groups) == 0 {
		t.Fatal("CONTRIBUTING.md's layout has no # groups")
	}
	return groups
}

// projectImports lists, for each of the module's packages, the module's
// packages its non-test files import.
func projectImports(t *testing.T) (module string, imports map[string][]string) {
	t.Helper()
	run := func(args ...string) string {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return string(out)
	}
	module = strings.TrimSpace(run("list", "-m"))
	imports = map[string][]string{}
	for line := range strings.Lines(run("list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")) {
		fields := strings.Fields(line)
		for _, dep := range fields[1:] {
			if strings.HasPrefix(dep, module+"/") {
				imports[fields[0]] = append(imports[fields[0]], dep)
			}
		}
	}
	return module, imports
}
