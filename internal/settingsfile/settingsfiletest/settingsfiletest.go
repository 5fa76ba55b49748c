// Package settingsfiletest gives tests a settings file as the Lambda function
// reads it: a file in its package, whatever the path its environment names.
package settingsfiletest

import (
	"os"
	"path/filepath"
	"testing"
)

// Reader reads yaml, written to a file of tb's temporary directory as the
// build ships it, whatever the path it is asked for; pass it to
// settingsfile.LoadLambda.
func Reader(tb testing.TB, yaml string) func(string) ([]byte, error) {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "autoscalebot.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		tb.Fatalf("write the settings file: %v", err)
	}
	return func(string) ([]byte, error) { return os.ReadFile(file) }
}
