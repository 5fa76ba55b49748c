package settingsyaml_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settings/settingsyaml"
)

const buildKey = "HRKU-build-machine-key-0123"

func getenv(k string) string {
	if k == settings.EnvAPIKey {
		return buildKey
	}
	return ""
}

// TestCompile: a file compiles when nothing is wrong with it whatever the
// environment; otherwise the build fails with every such problem, where
// it is, and never the API key.
func TestCompile(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // the problems; none: it compiles
	}{
		{name: "a fleet", yaml: "TIME_ZONE: Europe/Paris\nFORMATIONS:\n  - HEROKU_APP_NAME: shop\n    MAX_DYNOS: {\"0:00\": 2, \"9:00\": 5}\n"},
		{name: "values are checked at load, with the environment", yaml: "HEROKU_APP_NAME: shop\nMAX_DYNOS: lots\n"},
		{name: "syntax, at the token", yaml: "FORMATIONS:\n  - HEROKU_APP_NAME: shop\n   MAX_DYNOS: 3\n",
			want: []string{"line 3, column 4: YAML syntax: "}},
		{name: "keys and shape, all at once", yaml: "MAX_DYNSO: 3\nFORMATIONS:\n  - HEROKU_APP_NAME: shop\n    TABLE_NAME: t\n  - 7\n",
			want: []string{
				"line 1: MAX_DYNSO: unknown setting; did you mean MAX_DYNOS?",
				"line 4: FORMATIONS[0]: TABLE_NAME: only the top level may set it",
				"line 5: FORMATIONS[1]: a formation must be a map of settings",
			}},
		{name: "empty", yaml: "# nothing\n", want: []string{"the file is empty"}},
		{name: "not a map", yaml: "- shop\n", want: []string{"line 1: the file must be a map of settings (KEY: value), not a list"}},
		{name: "the API key is not shown", yaml: buildKey + ": 1\n", want: []string{"line 1: [redacted]: unknown setting"}},
		{name: "aliases that expand past the bound", yaml: bomb(), want: []string{"its compiled form is over 4 MiB"}},
		{name: "aliases whose values add up past the file's bound", yaml: valuesBomb(), want: []string{
			"line 6: INCREMENT: the file's values add up to more than 4 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := settingsyaml.Compile("autoscalebot.yaml", []byte(tt.yaml), getenv)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				if !strings.Contains(string(out), `"format":"autoscalebot-settings/1"`) {
					t.Errorf("compiled form %s", out)
				}
				return
			}
			var fe *settings.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *settings.FileError", err, err)
			}
			if len(fe.Problems) != len(tt.want) {
				t.Fatalf("problems:\n%v\nwant %d", err, len(tt.want))
			}
			for i, p := range fe.Problems {
				if !strings.HasPrefix(p.String(), tt.want[i]) {
					t.Errorf("problem %d: %q, want it to begin %q", i, p, tt.want[i])
				}
			}
			if strings.Contains(err.Error(), buildKey) || !strings.HasPrefix(err.Error(), "invalid settings file autoscalebot.yaml:") {
				t.Errorf("error %q: want it to name the file, and never the key", err)
			}
		})
	}
}

// bomb is a small file whose aliases expand to a large one: one
// formation of a long list, named again and again.
func bomb() string {
	var b strings.Builder
	b.WriteString("FORMATIONS:\n  - &f\n    HEROKU_APP_NAME: shop\n    MAX_DYNOS: [" + strings.Repeat("1,", 5000) + "1]\n")
	b.WriteString(strings.Repeat("  - *f\n", 200))
	return b.String()
}

// valuesBomb names one formation of four long values two thousand times:
// about 80 MB of values from a file of 36 KB.
func valuesBomb() string {
	var b strings.Builder
	b.WriteString("FORMATIONS:\n  - &f\n    MAX_DYNOS: &l [" + strings.Repeat("1,", 5000) + "1]\n")
	b.WriteString("    MIN_DYNOS: *l\n    COOLDOWN_IN_SECONDS: *l\n    INCREMENT: *l\n")
	b.WriteString(strings.Repeat("  - *f\n", 2000))
	return b.String()
}

// TestCompiledReadsBack: what the function reads is what the command reads:
// the same document, named after the YAML file.
func TestCompiledReadsBack(t *testing.T) {
	yaml := "MAX_DYNOS: &m 4\nFORMATIONS:\n  - HEROKU_APP_NAME: shop\n    MIN_DYNOS: \"\"\n  - HEROKU_APP_NAME: blog\n    MAX_DYNOS: *m\n    MIN_DYNOS: {\"0:00\": 1, 9:00: 0x2}\n"
	out, err := settingsyaml.Compile("autoscalebot.yaml", []byte(yaml), getenv)
	if err != nil {
		t.Fatal(err)
	}
	doc, problems, err := settings.ReadCompiled(func(string) ([]byte, error) { return out, nil })("/var/task/autoscalebot.json")
	if err != nil || len(problems) > 0 {
		t.Fatalf("ReadCompiled: %v %v", problems, err)
	}
	root, _ := settingsyaml.Parse([]byte(yaml))
	if doc.Name != "autoscalebot.yaml" || !sameTree(doc.Root, root, 0) {
		t.Errorf("read back %q %+v, want the YAML's document", doc.Name, doc.Root)
	}
}

func sameTree(a, b *settings.Node, depth int) bool {
	if a == nil || b == nil || depth > 32 {
		return a == b
	}
	if a.Kind != b.Kind || a.Line != b.Line || a.Value != b.Value || a.Null != b.Null || a.JSON != b.JSON ||
		len(a.Content) != len(b.Content) || !sameTree(a.Alias, b.Alias, depth+1) {
		return false
	}
	for i := range a.Content {
		if !sameTree(a.Content[i], b.Content[i], depth+1) {
			return false
		}
	}
	return true
}

// TestReadCompiledRefusesOtherFiles: the function given the YAML itself, or
// a file of another format version, says what to do instead of misreading
// it; the loader reports that as the file's problem.
func TestReadCompiledRefusesOtherFiles(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"the YAML", "HEROKU_APP_NAME: shop\n", "not a compiled settings file (invalid character"},
		{"another format", `{"format":"autoscalebot-settings/9","root":{"k":2}}`, `not a compiled settings file (format "autoscalebot-settings/9", want "autoscalebot-settings/1")`},
		{"no root", `{"format":"autoscalebot-settings/1"}`, "the file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{settings.EnvSettingsFile: "/var/task/autoscalebot.json", settings.EnvTableName: "t"}
			_, err := settings.LoadFleetLambda(func(k string) string { return env[k] },
				settings.ReadCompiled(func(string) ([]byte, error) { return []byte(tt.data), nil }))
			var fe *settings.FileError
			if !errors.As(err, &fe) || len(fe.Problems) != 1 || !strings.HasPrefix(fe.Problems[0].Msg, tt.want) {
				t.Fatalf("error %v, want one problem beginning %q", err, tt.want)
			}
		})
	}
}

// TestCompileWithoutEnvironment: no environment to read is no API key to
// take out, not a panic.
func TestCompileWithoutEnvironment(t *testing.T) {
	_, err := settingsyaml.Compile("autoscalebot.yaml", []byte("MAX_DYNSO: 1\n"), nil)
	var fe *settings.FileError
	if !errors.As(err, &fe) || len(fe.Problems) != 1 {
		t.Fatalf("error %v, want the unknown key", err)
	}
}
