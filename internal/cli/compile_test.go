package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settings/settingsyaml"
)

// TestCompileCommand: compile writes the file the Lambda function reads,
// which loads as the YAML does; a file with a bad key fails (exit 1) naming
// the line, writes nothing and never shows the API key.
func TestCompileCommand(t *testing.T) {
	const key = "HRKU-compile-test-key"
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yaml", "HEARTBEAT_URL: https://x.example.com/up\nFORMATIONS:\n  - HEROKU_APP_NAME: shop\n  - HEROKU_APP_NAME: blog\n    MAX_DYNOS: {\"0:00\": 2, \"9:00\": 5}\n")
	bad := write("bad.yaml", "HEARTBEAT_URL: https://x.example.com/up\nFORMATIONS:\n  - HEROKU_APP_NAME: shop\n    "+key+": 1\n")
	env := map[string]string{settings.EnvAPIKey: key}

	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string
		compiled bool
	}{
		{name: "a good file", args: []string{"-settings", good}, code: 0, compiled: true},
		{name: "a bad key", args: []string{"-settings", bad}, code: 1, stderr: "line 4: FORMATIONS[0]: [redacted]: unknown setting"},
		{name: "no output", args: []string{"-settings", good, "-o", ""}, code: 2, stderr: "usage: autoscalebot compile"},
		{name: "no file", args: []string{"-settings", filepath.Join(dir, "absent.yaml")}, code: 1, stderr: "read settings file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "autoscalebot.json")
			args := append([]string{"compile", "-o", out}, tt.args...)
			code, _, stderr := runCLI(t, env, args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) || strings.Contains(stderr, key) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q, without the key", code, stderr, tt.code, tt.stderr)
			}
			_, err := os.Stat(out)
			if tt.compiled != (err == nil) {
				t.Fatalf("compiled file written: %v, want %v", err == nil, tt.compiled)
			}
			if !tt.compiled {
				return
			}
			load := func(path string, read settings.FileReader) []settings.Formation {
				t.Helper()
				fleet, err := settings.LoadFleet(func(k string) string {
					if k == settings.EnvSettingsFile {
						return path
					}
					return ""
				}, read)
				if err != nil {
					t.Fatal(err)
				}
				return fleet
			}
			fromYAML, fromCompiled := load(good, settingsyaml.Reader(nil)), load(out, settings.ReadCompiled(nil))
			if len(fromYAML) != 2 || !reflect.DeepEqual(fromYAML[1].Settings, fromCompiled[1].Settings) || fromYAML[1].Name != fromCompiled[1].Name {
				t.Errorf("the compiled file loads %+v, want the YAML's %+v", fromCompiled, fromYAML)
			}
		})
	}
}
