// Package tooltest holds the one policy for tests that need a local stand-in
// (moto_server, the Lambda emulator, cfn-lint, the SAM translator): under
// `go test -short` they are skipped with a message naming the tool, so the
// pure tests need nothing but Go; otherwise a missing tool fails the test
// with the command that installs it (`make test` installs them all).
package tooltest

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// Tool is one outside program a test depends on.
type Tool struct {
	Name    string // what it is called on PATH
	Install string // how to get it
	// Check, when set, runs after the program is found and says whether it
	// works (a Python module that must import, say).
	Check func(ctx context.Context, path string) error
}

// The stand-ins the tests use.
var (
	Moto = Tool{Name: "moto_server", Install: `pip install "moto[server]"`}
	// Emulator is the Lambda Runtime Interface Emulator.
	Emulator = Tool{Name: "aws-lambda-rie", Install: "make test-tools (go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie)"}
	CfnLint  = Tool{Name: "cfn-lint", Install: "pip install cfn-lint"}
	// SAMTranslator is the Python module that expands the Serverless transform.
	SAMTranslator = Tool{Name: "python3", Install: "pip install aws-sam-translator boto3", Check: pythonImports("samtranslator", "boto3")}
)

// checkTimeout bounds a tool's self-check.
const checkTimeout = 30 * time.Second

// Require returns the path of tool, skipping the test under -short and
// failing it when the tool is missing or broken.
func Require(t testing.TB, tool Tool) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: skipped, needs %s", tool.Name)
	}
	path, err := exec.LookPath(tool.Name)
	if err != nil {
		t.Fatalf("%s not found on PATH: install it with %s", tool.Name, tool.Install)
	}
	if tool.Check != nil {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		defer cancel()
		if err := tool.Check(ctx, path); err != nil {
			t.Fatalf("%s: %v: install it with %s", tool.Name, err, tool.Install)
		}
	}
	return path
}

// SkipShort skips a test that needs no single tool but is not pure (it
// builds the bootstrap, say) under -short.
func SkipShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: skipped, %s", why)
	}
}

func pythonImports(modules ...string) func(context.Context, string) error {
	return func(ctx context.Context, python string) error {
		code := ""
		for _, m := range modules {
			code += "import " + m + "\n"
		}
		if out, err := exec.CommandContext(ctx, python, "-c", code).CombinedOutput(); err != nil {
			return &importError{out: string(out), err: err}
		}
		return nil
	}
}

type importError struct {
	out string
	err error
}

func (e *importError) Error() string {
	return "python modules missing (" + e.err.Error() + "): " + e.out
}
func (e *importError) Unwrap() error { return e.err }
