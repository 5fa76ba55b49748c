package templatetest

import (
	"path/filepath"
	"testing"
)

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadRepoTemplate(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
