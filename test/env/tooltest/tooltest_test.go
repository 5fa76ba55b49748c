package tooltest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder stops the calling goroutine at Fatal or Skip and keeps the message.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRequire(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present-tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := func(context.Context, string) error { return errors.New("module x missing") }
	tests := []struct {
		name      string
		short     bool
		tool      Tool
		wantPath  string
		wantFatal string
		wantSkip  string
	}{
		{name: "present", tool: Tool{Name: "present-tool"}, wantPath: filepath.Join(dir, "present-tool")},
		{name: "missing fails with the install command", tool: Tool{Name: "absent-tool", Install: "apt-get install absent"},
			wantFatal: "absent-tool not found on PATH: install it with apt-get install absent"},
		{name: "broken fails naming the problem", tool: Tool{Name: "present-tool", Install: "pip install x", Check: broken},
			wantFatal: "present-tool: module x missing: install it with pip install x"},
		{name: "short skips even when present", short: true, tool: Tool{Name: "present-tool"}, wantSkip: "-short: skipped, needs present-tool"},
		{name: "short skips when missing", short: true, tool: Tool{Name: "absent-tool"}, wantSkip: "-short: skipped, needs absent-tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", dir)
			setShort(t, tt.short)
			r := &recorder{TB: t}
			var got string
			done := make(chan struct{})
			go func() {
				defer close(done)
				got = Require(r, tt.tool)
			}()
			<-done
			if got != tt.wantPath || r.fatal != tt.wantFatal || r.skip != tt.wantSkip {
				t.Errorf("Require = %q, fatal %q, skip %q; want %q, fatal %q, skip %q", got, r.fatal, r.skip, tt.wantPath, tt.wantFatal, tt.wantSkip)
			}
		})
	}
}

func TestPythonImports(t *testing.T) {
	python := Require(t, Tool{Name: "python3", Install: "Python 3"})
	if err := pythonImports("json")(t.Context(), python); err != nil {
		t.Errorf("import json: %v", err)
	}
	err := pythonImports("no_such_module_here")(t.Context(), python)
	if err == nil || !strings.Contains(err.Error(), "no_such_module_here") {
		t.Errorf("import of a missing module: %v, want an error naming it", err)
	}
}

func setShort(t *testing.T, short bool) {
	t.Helper()
	old := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", fmt.Sprint(short)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("test.short", old) })
}
