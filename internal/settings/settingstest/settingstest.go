// Package settingstest gives tests a settings file as the Lambda function
// reads it: compiled from its YAML, as the build compiles it.
package settingstest

import (
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settings/settingsyaml"
)

// Compile compiles yaml as `autoscalebot compile` does (under the name
// autoscalebot.yaml), failing t if it does not compile.
func Compile(t testing.TB, yaml string) []byte {
	t.Helper()
	out, err := settingsyaml.Compile("autoscalebot.yaml", []byte(yaml), func(string) string { return "" })
	if err != nil {
		t.Fatalf("compile the settings file: %v", err)
	}
	return out
}

// Reader reads yaml's compiled form whatever the path, as the function
// reads the file the build put in its package.
func Reader(t testing.TB, yaml string) settings.FileReader {
	t.Helper()
	out := Compile(t, yaml)
	return settings.ReadCompiled(func(string) ([]byte, error) { return out, nil })
}
