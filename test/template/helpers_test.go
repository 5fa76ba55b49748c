package template

import (
	"path/filepath"
	"testing"

	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func loadRepoTemplate(t *testing.T) *templatetest.Template {
	t.Helper()
	tmpl, err := templatetest.Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}
