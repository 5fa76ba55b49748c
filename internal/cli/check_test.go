package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

// TestCheckCommand: check names every problem the Lambda function would
// meet with the file in a fleet's stack (exit 1), values and Lambda's own
// rules included, never the API key; a good file prints one line per
// formation (exit 0).
func TestCheckCommand(t *testing.T) {
	const key = "HRKU-check-test-key"
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yaml", "HEARTBEAT_URL: https://x.example.com/up\nFORMATIONS:\n  - HEROKU_APP_NAME: shop\n"+
		"  - HEROKU_APP_NAME: blog\n    POLICY: proportional\n    MAX_DYNOS: {0:00: 2, 9:00: 5}\n"+
		"    HEROKU_API_KEY_PARAMETER: /autoscalebot/blog-key\n    DRY_RUN: true\n")
	bad := write("bad.yaml", "FORMATIONS:\n  - HEROKU_APP_NAME: shop\n    HEARTBEAT_URL: /relative\n    MAX_DYNSO: 4\n"+
		"  - HEROKU_APP_NAME: blog\n    HEARTBEAT_URL: ftp://"+key+"@blog.example.com/up\n    "+key+": 1\n")
	noHeartbeat := write("no-heartbeat.yaml", "HEROKU_APP_NAME: shop\n")
	lambdaOnly := write("lambda-only.yaml", "HEROKU_APP_NAME: shop\nHEARTBEAT_URL: https://x.example.com/up\n"+
		"HEROKU_API_KEY_PARAMETER: /team/shop-key\nHEARTBEAT_TIMEOUT_IN_MS: 28000\n")
	goodLines := []string{
		"shop/web: heartbeat https://x.example.com/up, signal response_time, policy tracking, min 1, max 3, key /autoscalebot/heroku-api-key",
		`blog/web: heartbeat https://x.example.com/up, signal response_time, policy proportional, min 1, max {"0:00":2,"9:00":5}, key /autoscalebot/blog-key, dry run`,
	}

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout []string // every line
		stderr []string // in this order
	}{
		{name: "a good file", args: []string{"-settings", good}, stdout: goodLines},
		{name: "the file from the variable", args: nil, env: map[string]string{settings.EnvSettingsFile: good}, stdout: goodLines},
		{name: "an unknown key and a bad value, without the key", args: []string{"-settings", bad}, code: 1, stderr: []string{
			"autoscalebot: invalid settings file " + bad + ":",
			`line 3: FORMATIONS[0] (shop/web): HEARTBEAT_URL: "/relative": not an absolute URL`,
			"line 4: FORMATIONS[0] (shop/web): MAX_DYNSO: unknown setting; did you mean MAX_DYNOS?",
			`line 6: FORMATIONS[1] (blog/web): HEARTBEAT_URL: "ftp://[redacted]@blog.example.com/up": scheme must be http or https`,
			"line 7: FORMATIONS[1] (blog/web): [redacted]: unknown setting",
		}},
		{name: "Lambda's own rules: the role's parameters, the function's timeout", args: []string{"-settings", lambdaOnly}, code: 1, stderr: []string{
			`line 3: HEROKU_API_KEY_PARAMETER: "/team/shop-key": the function's role may read only AUTOSCALE_HEROKU_API_KEY_PARAMETER ("/autoscalebot/heroku-api-key") and parameters under /autoscalebot/`,
			`line 4: HEARTBEAT_TIMEOUT_IN_MS: "28000": the probe must end at least 5s before the function timeout (AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS=30)`,
		}},
		{name: "what the stack gives, from the environment", args: []string{"-settings", lambdaOnly},
			env:    map[string]string{settings.EnvFunctionTimeout: "60", settings.EnvAPIKeyParameter: "/team/shop-key"},
			stdout: []string{"shop/web: heartbeat https://x.example.com/up, signal response_time, policy tracking, min 1, max 3, key /team/shop-key"}},
		{name: "a formation without a heartbeat", args: []string{"-settings", noHeartbeat}, code: 1, stderr: []string{
			"line 1: HEARTBEAT_URL: required"}},
		{name: "the stack's heartbeat parameter, from the environment", args: []string{"-settings", noHeartbeat},
			env:    map[string]string{settings.EnvHeartbeatURL: "https://shop.example.com/up"},
			stdout: []string{"shop/web: heartbeat https://shop.example.com/up, signal response_time, policy tracking, min 1, max 3, key /autoscalebot/heroku-api-key"}},
		{name: "what the stack does not set is not read", args: []string{"-settings", noHeartbeat},
			env: map[string]string{settings.EnvHeartbeatURL: "https://shop.example.com/up", settings.EnvFanOutAbove: "x",
				settings.EnvStateFile: "/nowhere/state.json"},
			stdout: []string{"shop/web: heartbeat https://shop.example.com/up, signal response_time, policy tracking, min 1, max 3, key /autoscalebot/heroku-api-key"}},
		{name: "no such file", args: []string{"-settings", filepath.Join(dir, "absent.yaml")}, code: 1, stderr: []string{"read settings file"}},
		{name: "no file named", args: nil, code: 2, stderr: []string{"usage: autoscalebot check -settings FILE"}},
		{name: "an argument too many", args: []string{"-settings", good, "extra"}, code: 2, stderr: []string{"usage: autoscalebot check -settings FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{settings.EnvAPIKey: key}
			for k, v := range tt.env {
				env[k] = v
			}
			code, stdout, stderr := runCLI(t, env, append([]string{"check"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, key) {
				t.Errorf("the API key is in the output:\n%s%s", stdout, stderr)
			}
			if tt.stdout != nil {
				if want := strings.Join(tt.stdout, "\n") + "\n"; stdout != want || stderr != "" {
					t.Errorf("stdout:\n%s\nwant:\n%s\nstderr %q", stdout, want, stderr)
				}
			}
			at := 0
			for _, w := range tt.stderr {
				i := strings.Index(stderr[at:], w)
				if i < 0 {
					t.Fatalf("stderr:\n%s\nwant, in order:\n%s", stderr, strings.Join(tt.stderr, "\n"))
				}
				at += i + len(w)
			}
			if tt.code != 0 && stdout != "" {
				t.Errorf("stdout %q, want nothing on failure", stdout)
			}
		})
	}
}

// TestCheckEnvironmentIsTheStacks: the environment check gives the loader
// is the one template.yaml gives a fleet's function: each variable it sets
// from a parameter holds the parameter's default (the variable's own
// default, when the template's is that), each it sets from the stack's
// resources has a value, and no other is set.
func TestCheckEnvironmentIsTheStacks(t *testing.T) {
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templatetest.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	params := tmpl.Parameters()
	vars, _ := templatetest.Dig(tmpl.Doc, "Resources", "AutoscalerFunction", "Properties", "Environment", "Variables").(map[string]any)
	if len(vars) == 0 {
		t.Fatal("template.yaml's AutoscalerFunction sets no environment")
	}
	getenv := stackEnv(func(string) string { return "" }, "/var/task/autoscalebot.yaml")
	for _, v := range settings.Vars() {
		t.Run(v.Name, func(t *testing.T) {
			got := settings.Get(getenv, v.Name)
			value, set := vars[v.Name]
			ref, _ := templatetest.Dig(value, "Ref").(string)
			param, isParam := params[ref]
			switch {
			case !set:
				if getenv(v.Name) != "" {
					t.Errorf("%q, want it unset: the stack does not set it", getenv(v.Name))
				}
			case isParam:
				if got != param.Default {
					t.Errorf("%q in force, want the default of the template's %s, %q", got, ref, param.Default)
				}
			case v.Name == settings.EnvSettingsFile:
				if got != "/var/task/autoscalebot.yaml" {
					t.Errorf("%q, want the file checked", got)
				}
			default: // the stack's table, topic or tick queue
				if got == "" {
					t.Errorf("unset; the stack sets it to %s", fmt.Sprint(value))
				}
			}
		})
	}
}

// TestCheckDocs: the example of check in docs/deploy.md is its output for
// the example file, which the fleet steps there copy to autoscalebot.yaml.
func TestCheckDocs(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "check", "-settings", filepath.Join("..", "..", "autoscalebot.example.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "   $ autoscalebot check -settings autoscalebot.yaml\n"
	for _, line := range strings.SplitAfter(stdout, "\n") {
		if line != "" {
			want += "   " + line
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), want) {
		t.Errorf("docs/deploy.md's example of check is not its output; it should read:\n%s", want)
	}
}

// TestCheckNeverShowsTheHeartbeatToken: a token in the environment, pasted
// into the file, is as redacted as the API key.
func TestCheckNeverShowsTheHeartbeatToken(t *testing.T) {
	const token = "hb-check-token-93a1"
	path := filepath.Join(t.TempDir(), "leak.yaml")
	text := "HEROKU_APP_NAME: shop\nHEARTBEAT_URL: https://x.example.com/up?t=" + token + "\nSIGNAL: job_latency\nJOB_QUEUES: " + token + " x\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, map[string]string{settings.EnvHeartbeatToken: token}, "check", "-settings", path)
	if code != 1 || strings.Contains(stdout+stderr, token) || !strings.Contains(stderr, `JOB_QUEUES: "[redacted] x"`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want the bad queue named without the token", code, stdout, stderr)
	}
}
