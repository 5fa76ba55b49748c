package settingsfile_test

import (
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
)

// loadYAML loads text as the settings file, locally or as the Lambda
// function does (with the stack's table and tick queue).
func loadYAML(text string, lambda bool) ([]settingsfile.Formation, error) {
	env := lambdaEnv(map[string]string{settings.EnvSettingsFile: "autoscalebot.yaml", settings.EnvAPIKey: fileTestKey})
	readFile := func(string) ([]byte, error) { return []byte(text), nil }
	if lambda {
		return settingsfile.LoadLambda(func(k string) string { return env[k] }, readFile)
	}
	return settingsfile.Load(func(k string) string { return env[k] }, readFile)
}

// TestYAMLSyntaxLines: a syntax error is named at the line where the file
// goes wrong, not where yaml.v3 says its enclosing block began.
func TestYAMLSyntaxLines(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{name: "a slip of indentation deep in a formation",
			yaml: "FORMATIONS:\n  - HEROKU_APP_NAME: shop\n    MAX_DYNOS: 3\n    MIN_DYNOS: 1\n   INCREMENT: 2\n",
			want: "line 5: YAML syntax: did not find expected '-' indicator"},
		{name: "a bracket never closed",
			yaml: "HEROKU_APP_NAME: shop\nMAX_DYNOS: {\"0:00\": 2\nMIN_DYNOS: 1\n",
			want: "line 2: YAML syntax: did not find expected ',' or '}'"},
		{name: "a quoted value running over lines, then a slip",
			yaml: "HEROKU_APP_NAME: \"shop\n  and more\"\nMAX_DYNOS: 3\n MIN_DYNOS: 1\n",
			want: "line 4: YAML syntax: mapping values are not allowed in this context"},
		{name: "on the last line, without a newline",
			yaml: "HEROKU_APP_NAME: shop\nMAX_DYNOS: [3",
			want: "line 2: YAML syntax: did not find expected ',' or ']'"},
		{name: "an alias of nothing",
			yaml: "HEROKU_APP_NAME: shop\nMAX_DYNOS: *many\n",
			want: "line 2: YAML syntax: unknown anchor 'many' referenced"},
		{name: "in a second document",
			yaml: "HEROKU_APP_NAME: shop\nHEARTBEAT_URL: https://shop.example.com/up\n---\nMAX_DYNOS: [3\n",
			want: "line 4: YAML syntax: did not find expected ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, lambda := range []bool{false, true} {
				_, err := loadYAML(tt.yaml, lambda)
				got := fileProblems(t, err)
				if len(got) != 1 || got[0] != tt.want {
					t.Errorf("lambda %v: problems %q, want %q", lambda, got, tt.want)
				}
			}
		})
	}
}

// TestSchedulesAsUsersWriteThem: a schedule's times need no quotes, in a
// flow map or a block one (a YAML library that read {9:00: 5} as 9:
// "00: 5" would refuse them).
func TestSchedulesAsUsersWriteThem(t *testing.T) {
	const formation = "HEROKU_APP_NAME: shop\nHEARTBEAT_URL: https://shop.example.com/up\n"
	tests := []struct{ name, yaml, want string }{
		{"a flow map", "MAX_DYNOS: {0:00: 2, 9:00: 5}\n", `{"0:00":2,"9:00":5}`},
		{"a block map", "MAX_DYNOS:\n  0:00: 2\n  9:00: 5\n", `{"0:00":2,"9:00":5}`},
		{"a leading zero is a decimal, as in MAX_DYNOS: 010", "MAX_DYNOS: {0:00: 02, 9:00: 010}\n", `{"0:00":2,"9:00":10}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fleet, err := loadYAML(formation+tt.yaml, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := fleet[0].Settings.MaxDynos.String(); got != tt.want {
				t.Errorf("MAX_DYNOS %s, want %s", got, tt.want)
			}
		})
	}
}

// TestAliasExpansionIsBounded: a short file of aliases cannot make the
// loader render gigabytes: its values, aliases expanded, are bounded
// together and the file is read no further.
func TestAliasExpansionIsBounded(t *testing.T) {
	// One formation of four long values named two thousand times: about
	// 80 MB of values from a file of 36 KB.
	var b strings.Builder
	b.WriteString("FORMATIONS:\n  - &f\n    MAX_DYNOS: &l [" + strings.Repeat("1,", 5000) + "1]\n")
	b.WriteString("    MIN_DYNOS: *l\n    COOLDOWN_IN_SECONDS: *l\n    INCREMENT: *l\n")
	b.WriteString(strings.Repeat("  - *f\n", 2000))
	for _, lambda := range []bool{false, true} {
		_, err := loadYAML(b.String(), lambda)
		got := fileProblems(t, err)
		if len(got) != 1 || !strings.HasPrefix(got[0], "line 6: INCREMENT: the file's values add up to more than 4 MiB") {
			t.Errorf("lambda %v: problems %.300q, want only the bound's", lambda, got)
		}
	}
}
