package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/autoscalebot/autoscalebot/internal/settings/settingsyaml"
)

// compile checks a settings file's YAML and writes the form the Lambda
// function reads (settings.ReadCompiled): sam build runs it, so a file with
// a bad key or bad YAML fails the build, not every tick after the deploy.
func compile(args []string, env Env) error {
	fs := flag.NewFlagSet("compile", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var path, out string
	registerSettingsFlag(fs, &path, env.Getenv)
	fs.StringVar(&out, "o", "", "where to write the compiled file (required)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if path == "" || out == "" || fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "usage: autoscalebot compile -settings FILE.yaml -o FILE.json")
		return errUsage
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read settings file: %w", err)
	}
	compiled, err := settingsyaml.Compile(filepath.Base(path), data, env.Getenv)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, compiled, 0o644); err != nil {
		return fmt.Errorf("write compiled settings: %w", err)
	}
	fmt.Fprintf(env.Stdout, "compiled %s to %s\n", path, out)
	return nil
}
