package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLayoutMatchesTheTree: the layout in CONTRIBUTING.md names folders
// that exist, and every folder of Go code is listed, itself or under a
// listed folder, so the map cannot go stale as packages come and go.
func TestLayoutMatchesTheTree(t *testing.T) {
	listed := layout(t)
	if len(listed) == 0 {
		t.Fatal("CONTRIBUTING.md has no layout block under ## Development")
	}
	for _, dir := range listed {
		if info, err := os.Stat(filepath.Join(root, dir)); err != nil || !info.IsDir() {
			t.Errorf("CONTRIBUTING.md lists %s, which is not a folder here", dir)
		}
	}
	for _, dir := range goFolders(t) {
		covered := slices.ContainsFunc(listed, func(l string) bool {
			return dir == strings.TrimSuffix(l, "/") || strings.HasPrefix(dir, l)
		})
		if !covered {
			t.Errorf("%s holds Go code but CONTRIBUTING.md's layout does not list it", dir)
		}
	}
}

// layout returns the folders (ending in /) that begin the lines of the
// first code block after "## Development".
func layout(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for line := range strings.Lines(layoutBlock(t)) {
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.HasSuffix(fields[0], "/") && !strings.HasPrefix(fields[0], "#") {
			dirs = append(dirs, fields[0])
		}
	}
	return dirs
}

// layoutBlock is the first code block after "## Development" in
// CONTRIBUTING.md.
func layoutBlock(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "CONTRIBUTING.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), "## Development")
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, _ := strings.Cut(rest, "```")
	return block
}

// goFolders lists the folders holding .go files, but testdata and what is
// not the project's (node_modules, build output, dot folders).
func goFolders(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "tmp" || name == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for dir := range seen {
		out = append(out, dir)
	}
	slices.Sort(out)
	return out
}
