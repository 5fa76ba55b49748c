package settings_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

// TestVarsAreWhatLoadReads: Load reads exactly the variables Vars lists
// (but the state file, which the command reads), so the list cannot miss
// one nor keep a stale one.
func TestVarsAreWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	getenv := func(name string) string { read[name] = true; return "" }
	_, _ = settings.LoadLambda(getenv)
	_, _ = settings.Load(getenv)
	var listed []string
	for _, v := range settings.Vars() {
		listed = append(listed, v.Name)
		if !read[v.Name] && v.Name != settings.EnvStateFile {
			t.Errorf("%s is listed but Load never reads it", v.Name)
		}
		if !strings.HasPrefix(v.Name, "AUTOSCALE_") || v.Description == "" {
			t.Errorf("%+v: want an AUTOSCALE_ name and a description", v)
		}
	}
	for name := range read {
		if !slices.Contains(listed, name) {
			t.Errorf("Load reads %s, which Vars does not list", name)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(listed)))) != len(listed) {
		t.Errorf("a variable is listed twice: %v", listed)
	}
}

// TestGet: the command's reads outside Load get the same defaults.
func TestGet(t *testing.T) {
	env := map[string]string{settings.EnvProcessType: " worker "}
	getenv := func(name string) string { return env[name] }
	for _, tt := range []struct{ name, want string }{
		{settings.EnvProcessType, "worker"},
		{settings.EnvStateFile, ".autoscalebot/state.json"},
		{settings.EnvAppName, ""},
	} {
		if got := settings.Get(getenv, tt.name); got != tt.want {
			t.Errorf("Get(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func repoFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", name)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// settingsRow is one row of a settings table.
type settingsRow struct{ name, parameter, def, meaning string }

// The full table, in docs/settings.md, and the README's table of the
// settings everyone sets.
const (
	settingsHeader = "| variable | template parameter | default | meaning |"
	commonHeader   = "| setting | template parameter | default | what it is |"
)

func settingsTable(t *testing.T) []settingsRow {
	t.Helper()
	return tableIn(t, filepath.Join("docs", "settings.md"), settingsHeader)
}

// tableIn reads the settings table under header in the repository's file name.
func tableIn(t *testing.T, name, header string) []settingsRow {
	t.Helper()
	f, err := os.Open(repoFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []settingsRow
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == header:
			in = true
		case in && strings.HasPrefix(line, "| ---"):
		case in && strings.HasPrefix(line, "| "):
			cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
			if len(cells) != 4 {
				t.Fatalf("%s: settings row with %d cells: %s", name, len(cells), line)
			}
			rows = append(rows, settingsRow{strings.Trim(cells[0], "`"), cells[1], cells[2], cells[3]})
		case in:
			return rows
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !in {
		t.Fatalf("%s has no settings table", name)
	}
	return rows
}

// TestREADMECommonSettings: each of the README's settings everyone sets is
// a setting, once, with the parameter and default of the full table.
func TestREADMECommonSettings(t *testing.T) {
	full := map[string]settingsRow{}
	for _, r := range settingsTable(t) {
		full[r.name] = r
	}
	rows := tableIn(t, "README.md", commonHeader)
	if len(rows) == 0 {
		t.Fatal("README.md's table of common settings is empty")
	}
	seen := map[string]bool{}
	for _, r := range rows {
		want, ok := full[r.name]
		switch {
		case !ok:
			t.Errorf("README lists %s, which is not a setting", r.name)
		case seen[r.name]:
			t.Errorf("README lists %s twice", r.name)
		case r.parameter != want.parameter || r.def != want.def:
			t.Errorf("README: %s has parameter %s and default %s; docs/settings.md says %s and %s",
				r.name, r.parameter, r.def, want.parameter, want.def)
		}
		seen[r.name] = true
	}
}

// template returns the template's parameter defaults (absent: no default)
// and the function's environment, variable → the parameter it refers to
// ("" when it refers to something else).
func template(t *testing.T) (defaults map[string]*string, env map[string]string) {
	t.Helper()
	tpl, err := templatetest.Load(repoFile(t, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	params, _ := tpl.Doc["Parameters"].(map[string]any)
	defaults = map[string]*string{}
	for name, p := range params {
		var def *string
		if d, ok := p.(map[string]any)["Default"]; ok {
			s := fmt.Sprint(d)
			def = &s
		}
		defaults[name] = def
	}
	resources, _ := tpl.Doc["Resources"].(map[string]any)
	env = map[string]string{}
	for _, r := range resources {
		r, _ := r.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		environment, _ := props["Environment"].(map[string]any)
		vars, _ := environment["Variables"].(map[string]any)
		for name, v := range vars {
			if !strings.HasPrefix(name, "AUTOSCALE_") {
				continue
			}
			ref, _ := v.(map[string]any)["Ref"].(string)
			if _, isParam := params[ref]; !isParam {
				ref = ""
			}
			env[name] = ref
		}
	}
	if len(env) == 0 {
		t.Fatal("no function in template.yaml sets an AUTOSCALE_ variable")
	}
	return defaults, env
}

// TestTemplateAgrees: every AUTOSCALE_ variable the function gets is a
// known one, set from the parameter Vars names, whose default is Vars'.
func TestTemplateAgrees(t *testing.T) {
	defaults, env := template(t)
	for name, param := range env {
		v, ok := settings.Lookup(name)
		if !ok {
			t.Errorf("template.yaml sets %s, which settings does not know", name)
			continue
		}
		if param != v.Parameter {
			t.Errorf("template.yaml sets %s from parameter %q, settings says %q", name, param, v.Parameter)
		}
	}
	for _, v := range settings.Vars() {
		if v.Parameter == "" {
			continue
		}
		if _, ok := env[v.Name]; !ok {
			t.Errorf("template.yaml does not pass %s to the function (from %s)", v.Name, v.Parameter)
		}
		def, ok := defaults[v.Parameter]
		switch {
		case !ok:
			t.Errorf("template.yaml has no parameter %s (for %s)", v.Parameter, v.Name)
		case v.Default != "" && (def == nil || *def != v.Default):
			t.Errorf("parameter %s defaults to %s, settings to %q", v.Parameter, show(def), v.Default)
		}
		// Without a settings default, the template may supply a value (the
		// settings table says so), or default to "", which is the variable unset.
	}
}

// TestSettingsDocAgrees: the settings table of docs/settings.md lists Vars in order, with
// their parameters, defaults and descriptions. A variable without a default
// may show the template's ("`30` in the template"), which must be the
// template's; otherwise its default column is a word (required, off, —).
func TestSettingsDocAgrees(t *testing.T) {
	rows := settingsTable(t)
	defaults, _ := template(t)
	vars := settings.Vars()
	if len(rows) != len(vars) {
		t.Errorf("docs/settings.md lists %d settings, settings %d", len(rows), len(vars))
	}
	for i := range min(len(rows), len(vars)) {
		r, v := rows[i], vars[i]
		if r.name != v.Name {
			t.Errorf("docs/settings.md row %d is %s, want %s", i+1, r.name, v.Name)
			continue
		}
		wantParam := "`" + v.Parameter + "`"
		if v.Parameter == "" && !strings.Contains(r.parameter, "`") {
			wantParam = r.parameter // free text such as "— (the schedule)"
		}
		if r.parameter != wantParam {
			t.Errorf("docs/settings.md: %s's parameter is %s, want %s", v.Name, r.parameter, wantParam)
		}
		var wantDef string
		switch d := defaults[v.Parameter]; {
		case v.Default != "":
			wantDef = "`" + v.Default + "`"
		case v.Parameter != "" && d != nil && *d != "":
			wantDef = "`" + *d + "` in the template"
		case strings.Contains(r.def, "`"):
			wantDef = "a word such as required, off or — (there is no default)"
		default:
			wantDef = r.def
		}
		if r.def != wantDef {
			t.Errorf("docs/settings.md: %s's default is %s, want %s", v.Name, r.def, wantDef)
		}
		if r.meaning != v.Description {
			t.Errorf("docs/settings.md: %s means %q, settings says %q", v.Name, r.meaning, v.Description)
		}
	}
}

func show(s *string) string {
	if s == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q", *s)
}
