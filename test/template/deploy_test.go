package template

// Tests of the project's own deployment files: template.yaml (linted, and
// expanded by the SAM translator), samconfig.toml and events/scheduled.json.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

const toolWait = 2 * time.Minute

// required are the parameters without a default.
var required = map[string]string{
	"HerokuAppName": "my-app",
	"HeartbeatUrl":  "https://my-app.herokuapp.com/heartbeat",
}

func TestCfnLint(t *testing.T) {
	bin := tooltest.Require(t, tooltest.CfnLint)
	ctx, cancel := context.WithTimeout(context.Background(), toolWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--format", "parseable", "--", "template.yaml")
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// TestParameters checks every parameter is documented and grouped for the
// console, and that yes/no parameters only take "true" or "false".
func TestParameters(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	params := tmpl.Parameters()
	grouped := map[string]int{}
	groups, _ := templatetest.Dig(tmpl.Doc, "Metadata", "AWS::CloudFormation::Interface", "ParameterGroups").([]any)
	for _, g := range groups {
		for _, name := range templatetest.AsList(templatetest.Dig(g, "Parameters")) {
			grouped[name.(string)]++
		}
	}
	for name := range grouped {
		if _, ok := params[name]; !ok {
			t.Errorf("interface groups name %s, which is not a parameter", name)
		}
	}
	for name, p := range params {
		if p.Description == "" {
			t.Errorf("%s has no Description", name)
		}
		if grouped[name] != 1 {
			t.Errorf("%s is in %d parameter groups, want 1", name, grouped[name])
		}
		if p.Default == "true" || p.Default == "false" {
			if !reflect.DeepEqual(p.AllowedValues, []string{"true", "false"}) {
				t.Errorf("%s: AllowedValues = %v, want [true false]", name, p.AllowedValues)
			}
		}
	}
}

var makeTool = tooltest.Tool{Name: "make", Install: "apt-get install make"}

// TestBuildPackagesSettingsFile runs the target sam build runs: with a
// settings file at the repository root it checks it as the function will
// load it and ships it in the package, readable by the function, under the
// name the template's function reads (AUTOSCALE_SETTINGS_FILE); without one
// nothing ships (not even an earlier build's); a file with problems fails
// the build naming each by its line, a bad value as well as a bad key.
func TestBuildPackagesSettingsFile(t *testing.T) {
	bin := tooltest.Require(t, makeTool)
	root := repoRoot(t)
	allowed := loadRepoTemplate(t).Parameters()["SettingsFile"].AllowedValues
	if len(allowed) != 2 || allowed[0] != "" {
		t.Fatalf("SettingsFile AllowedValues = %q, want empty and the one file the build ships", allowed)
	}
	source := allowed[1]
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	// The default is the file at the repository root, where sam build runs
	// make (in a copy of CodeUri: ., the repository).
	if !regexp.MustCompile(`(?m)^SETTINGS_FILE \?= ` + regexp.QuoteMeta(source) + `$`).Match(makefile) {
		t.Errorf("the Makefile has no SETTINGS_FILE ?= %s, the file the template's SettingsFile names", source)
	}
	m := regexp.MustCompile(`(?m)^PACKAGED_SETTINGS := (\S+)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("the Makefile names no PACKAGED_SETTINGS")
	}
	packaged := string(m[1])
	template, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(template, []byte("AUTOSCALE_SETTINGS_FILE: !If [HasSettingsFile, /var/task/"+packaged+",")) {
		t.Errorf("the template's function does not read /var/task/%s, the file the build ships", packaged)
	}

	dir := t.TempDir()
	good, bad := filepath.Join(dir, "fleet.yaml"), filepath.Join(dir, "bad.yaml")
	content := "FORMATIONS:\n  - HEROKU_APP_NAME: shop\n    HEARTBEAT_URL: https://shop.example.com/up\n    MAX_DYNOS: {0:00: 2, 9:00: 4}\n"
	for path, text := range map[string]string{
		good: content,
		bad:  content + "    MAX_DYNSO: 5\n  - HEROKU_APP_NAME: blog\n    HEARTBEAT_URL: /relative\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, settings string
		fails          []string // the build's errors: none when it succeeds
		shipped        bool
	}{
		{name: "with a settings file", settings: good, shipped: true},
		{name: "without one", settings: filepath.Join(dir, "absent.yaml")},
		{name: "with a bad key and a bad value", settings: bad, fails: []string{
			"line 5: FORMATIONS[0] (shop/web): MAX_DYNSO: unknown setting; did you mean MAX_DYNOS?",
			`line 7: FORMATIONS[1] (blog/web): HEARTBEAT_URL: "/relative": not an absolute URL`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			artifacts := t.TempDir()
			// A previous build's file must not ship with this one.
			if err := os.WriteFile(filepath.Join(artifacts, packaged), []byte("stale"), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), toolWait)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "--no-print-directory", "build-AutoscalerFunction",
				"ARTIFACTS_DIR="+artifacts, "SETTINGS_FILE="+tt.settings)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			path := filepath.Join(artifacts, packaged)
			if len(tt.fails) > 0 {
				if err == nil {
					t.Fatalf("make build-AutoscalerFunction succeeded:\n%s\nwant it to fail naming:\n%s", out, strings.Join(tt.fails, "\n"))
				}
				for _, want := range tt.fails {
					if !strings.Contains(string(out), want) {
						t.Errorf("make build-AutoscalerFunction: %v\n%s\nwant it to name %q", err, out, want)
					}
				}
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a failed build left %s in the package (%v)", packaged, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("make build-AutoscalerFunction: %v\n%s", err, out)
			}
			if info, err := os.Stat(filepath.Join(artifacts, "bootstrap")); err != nil || info.Size() == 0 {
				t.Fatalf("no bootstrap in the package: %v", err)
			}
			info, err := os.Stat(path)
			if !tt.shipped {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the package holds %s (%v), want none", packaged, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("the package has no %s: %v", packaged, err)
			}
			// Lambda runs the function as a user other than the package's owner.
			if info.Mode().Perm()&0o004 == 0 {
				t.Errorf("%s has mode %v: the function's user could not read it", packaged, info.Mode().Perm())
			}
			shipped, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(shipped) != content {
				t.Errorf("the package's %s holds %q, want the settings file", packaged, shipped)
			}
			// The function's own loader, with the stack's environment.
			env := map[string]string{
				settings.EnvSettingsFile:    "/var/task/" + packaged,
				settings.EnvTableName:       "autoscalebot",
				settings.EnvAPIKeyParameter: "/autoscalebot/heroku-api-key",
				settings.EnvTickQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/ticks",
			}
			fleet, err := settingsfile.LoadLambda(func(k string) string { return env[k] }, func(name string) ([]byte, error) {
				if name != env[settings.EnvSettingsFile] {
					return nil, fmt.Errorf("read %s, want the template's %s", name, env[settings.EnvSettingsFile])
				}
				return os.ReadFile(path)
			})
			if err != nil {
				t.Fatalf("the function loads the package's %s: %v", packaged, err)
			}
			if len(fleet) != 1 || fleet[0].Name != "FORMATIONS[0] (shop/web)" || fleet[0].Settings.MaxDynos.String() != `{"0:00":2,"9:00":4}` {
				t.Errorf("the package's %s loads %+v, want shop/web with its schedule", packaged, fleet)
			}
		})
	}
}

func TestSamconfig(t *testing.T) {
	python := tooltest.Require(t, tooltest.Tool{Name: "python3", Install: "Python 3.11 or later"})
	ctx, cancel := context.WithTimeout(context.Background(), toolWait)
	defer cancel()
	script := `import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))`
	out, err := exec.CommandContext(ctx, python, "-c", script, filepath.Join(repoRoot(t), "samconfig.toml")).Output()
	if err != nil {
		t.Fatalf("parse samconfig.toml: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"version":                                     0.1,
		"default.global.parameters.stack_name":        "autoscalebot",
		"default.deploy.parameters.resolve_s3":        true,
		"default.deploy.parameters.capabilities":      "CAPABILITY_IAM",
		"default.deploy.parameters.confirm_changeset": true,
	} {
		if got := templatetest.Dig(cfg, strings.Split(path, ".")...); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	overrides, _ := templatetest.Dig(cfg, "default", "deploy", "parameters", "parameter_overrides").(string)
	params, err := splitOverrides(overrides)
	if err != nil {
		t.Fatal(err)
	}
	for name := range required {
		if params[name] == "" {
			t.Errorf("parameter_overrides lacks the required %s", name)
		}
	}
	declared := loadRepoTemplate(t).Parameters()
	for name := range params {
		if _, ok := declared[name]; !ok {
			t.Errorf("parameter_overrides sets %s, which template.yaml does not declare", name)
		}
	}
	// The region is the user's (AWS profile or AWS_REGION), as for the
	// aws commands of the README and docs/deploy.md: a pinned one would deploy where the API key's
	// SSM parameter is not.
	for _, section := range []string{"global", "deploy", "build"} {
		if r := templatetest.Dig(cfg, "default", section, "parameters", "region"); r != nil {
			t.Errorf("samconfig.toml pins default.%s.parameters.region = %v", section, r)
		}
	}
}

// TestTableUsesTheFreeKey: without an SSESpecification (or with SSEEnabled
// false) DynamoDB encrypts the table with the AWS owned key at no charge;
// SSEEnabled true switches to the aws/dynamodb KMS key, billed per request.
// moto ignores the property, so it is read here.
func TestTableUsesTheFreeKey(t *testing.T) {
	r, err := loadRepoTemplate(t).Resource("StateTable")
	if err != nil {
		t.Fatal(err)
	}
	if enabled := templatetest.Dig(r.Properties, "SSESpecification", "SSEEnabled"); enabled != nil && enabled != false {
		t.Errorf("StateTable SSESpecification.SSEEnabled = %#v: the KMS key costs per request; leave it out", enabled)
	}
}

func TestSplitOverrides(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{`A="x y" B=z C=""`, map[string]string{"A": "x y", "B": "z", "C": ""}, true},
		{`MaxDynos="{\"0:00\":2}"`, map[string]string{"MaxDynos": `{"0:00":2}`}, true},
		{`A="open`, nil, false},
		{`novalue`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitOverrides(tt.in)
			if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("splitOverrides(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestScheduledEvent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       time.Time       `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID == "" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Account == "" ||
		ev.Time.IsZero() || ev.Region == "" || string(ev.Detail) != "{}" {
		t.Errorf("not an EventBridge scheduled event: %+v", ev)
	}
	if len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], "arn:aws:events:"+ev.Region+":"+ev.Account+":rule/") {
		t.Errorf("resources = %v, want the rule's ARN", ev.Resources)
	}
}

// splitOverrides parses SAM's parameter_overrides string: Key=Value pairs
// separated by spaces, values optionally double-quoted with \" escapes.
func splitOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		key, rest, ok := strings.Cut(s, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return nil, fmt.Errorf("parameter_overrides: %q is not Key=Value", s)
		}
		var value strings.Builder
		if strings.HasPrefix(rest, `"`) {
			i, closed := 1, false
			for ; i < len(rest); i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
					value.WriteByte(rest[i])
					continue
				}
				if rest[i] == '"' {
					closed = true
					break
				}
				value.WriteByte(rest[i])
			}
			if !closed {
				return nil, fmt.Errorf("parameter_overrides: unterminated quote after %s=", key)
			}
			s = rest[i+1:]
		} else {
			v, after, _ := strings.Cut(rest, " ")
			value.WriteString(v)
			s = after
		}
		out[key] = value.String()
	}
	return out, nil
}
