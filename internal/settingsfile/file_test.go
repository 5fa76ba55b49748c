package settingsfile_test

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

const fileTestKey = "hrku-FILE-SECRET-0123456789"

// fleetEnv is a getenv over vars plus the settings file in testdata/fleet.
func fleetEnv(file string, vars map[string]string) func(string) string {
	env := map[string]string{}
	if file != "" {
		env[settings.EnvSettingsFile] = filepath.Join("testdata", "fleet", file)
	}
	for k, v := range vars {
		env[k] = v
	}
	return func(name string) string { return env[name] }
}

// loadFleetFile loads testdata/fleet/file.
func loadFleetFile(t *testing.T, file string, vars map[string]string) []settingsfile.Formation {
	t.Helper()
	fleet, err := settingsfile.Load(fleetEnv(file, vars), nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", file, err)
	}
	return fleet
}

func fileProblems(t *testing.T, err error) []string {
	t.Helper()
	var fe *settingsfile.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *settingsfile.Error", err, err)
	}
	lines := make([]string, len(fe.Problems))
	for i, p := range fe.Problems {
		lines[i] = p.String()
	}
	return lines
}

// TestLoadFleetParses: the YAML and the JSON spelling of the issue's
// example read the same, schedules written as maps and as strings alike.
func TestLoadFleetParses(t *testing.T) {
	vancouver, err := time.LoadLocation("America/Vancouver")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	type want struct {
		name, app, processType, maxDynos, minDynos string
		maxResponse                                time.Duration
		dryRun                                     bool
	}
	three := []want{
		{"FORMATIONS[0] (shop/web)", "shop", "web", `{"0:00":2,"9:00":6,"18:00":3}`, "1", 800 * time.Millisecond, false},
		{"FORMATIONS[1] (shop/worker)", "shop", "worker", "3", "0", 800 * time.Millisecond, true},
		{"FORMATIONS[2] (blog/web)", "blog", "web", `{"0:00":1,"12:00":4}`, "1", 1500 * time.Millisecond, false},
	}
	tests := []struct {
		name, file string
		want       []want
	}{
		{name: "yaml", file: "three.yaml", want: three},
		{name: "json is yaml too", file: "three.json", want: three},
		{name: "no FORMATIONS: the top level is one formation", file: "single.yaml", want: []want{
			{"shop/web", "shop", "web", "4", "1", time.Second, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fleet := loadFleetFile(t, tt.file, nil)
			if len(fleet) != len(tt.want) {
				t.Fatalf("%d formations, want %d", len(fleet), len(tt.want))
			}
			for i, w := range tt.want {
				f, s := fleet[i], fleet[i].Settings
				got := want{f.Name, s.AppName, s.ProcessType, s.MaxDynos.String(), s.MinDynos.String(), s.MaxResponseTime, s.DryRun}
				if got != w {
					t.Errorf("formation %d:\n got %+v\nwant %+v", i, got, w)
				}
				if tt.file != "single.yaml" && (s.Location.String() != vancouver.String() || s.APIKeyParameter != "/autoscalebot/heroku-api-key") {
					t.Errorf("formation %d did not take the top level's zone and key parameter: %v %q", i, s.Location, s.APIKeyParameter)
				}
				// Getenv gives the same settings back, for commands that
				// derive variants (simulate -with).
				again, err := settings.Load(f.Getenv)
				if err != nil || again.MaxDynos.String() != s.MaxDynos.String() || again.AppName != s.AppName {
					t.Errorf("Load(formation %d's Getenv) = %v, %v", i, again.MaxDynos, err)
				}
			}
		})
	}
}

// TestLoadFleetPrecedence: the formation's entry, then the file's top
// level, then the environment, then the built-in default.
func TestLoadFleetPrecedence(t *testing.T) {
	env := map[string]string{
		settings.EnvMaxResponseTime: "900",
		settings.EnvMinResponseTime: "100",
		settings.EnvIncrement:       "2",
		settings.EnvAppName:         "from-env",
	}
	fleet := loadFleetFile(t, "precedence.yaml", env)
	if len(fleet) != 2 {
		t.Fatalf("%d formations, want 2", len(fleet))
	}
	own, inherits := fleet[0].Settings, fleet[1].Settings
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"entry beats top level and environment", own.MaxResponseTime, 700 * time.Millisecond},
		{"top level beats environment", inherits.MaxResponseTime, 800 * time.Millisecond},
		{"top level beats environment, in every formation", own.MinResponseTime, 300 * time.Millisecond},
		{"environment beats built-in default", inherits.Increment, 2},
		{"built-in default when nothing sets it", inherits.FailsToScaleUp, 3},
		{"top level beats built-in default", inherits.Cooldown, 2 * time.Minute},
		{`"" in an entry is the built-in default`, own.Cooldown, time.Duration(0)},
		{"entry beats environment for the app", own.AppName, "own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// ownOrPrefix is what a Lambda formation's key parameter may be, with
// the environment's own parameter /stack/own-key.
const ownOrPrefix = `the function's role may read only AUTOSCALE_HEROKU_API_KEY_PARAMETER ("/stack/own-key") and parameters under /autoscalebot/`

// lambdaEnv is a Lambda environment with the stack's table and tick queue,
// then vars.
func lambdaEnv(vars map[string]string) map[string]string {
	env := map[string]string{
		settings.EnvTableName:    "autoscalebot",
		settings.EnvTickQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/autoscalebot-ticks",
	}
	maps.Copy(env, vars)
	return env
}

// lambdaYAMLProblems are testdata/fleet/lambda.yaml's in an empty Lambda
// environment.
var lambdaYAMLProblems = []string{
	`line 3: FORMATIONS[0] (shop/web): HEROKU_API_KEY_PARAMETER: required (or AUTOSCALE_HEROKU_API_KEY)`,
	`TABLE_NAME: required`,
	`TICK_QUEUE_URL: required when AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS is under 60 (30)`,
}

// TestLoadFleetErrors: every problem of a file at once, by line,
// formation and key.
func TestLoadFleetErrors(t *testing.T) {
	badEnvMax := `FORMATIONS[%d] (%s): AUTOSCALE_MAX_DYNOS (environment): "abc": not a whole number or a JSON object of "H:MM": dynos`
	tests := []struct {
		name   string
		file   string
		env    map[string]string
		lambda bool
		want   []string
	}{
		{
			name: "every kind of key and value problem",
			file: "problems.yaml",
			env:  map[string]string{settings.EnvMaxDynos: "abc"},
			want: []string{
				`line 1: TIME_ZONE: "Mars/Olympus": unknown time zone (use an IANA name like Europe/Paris)`,
				`line 2: MAX_DYNOZ: unknown setting; did you mean MAX_DYNOS?`,
				`line 3: AUTOSCALE_INCREMENT: write it without the AUTOSCALE_ prefix: INCREMENT`,
				`line 4: HEROKU_API_KEY: not allowed in the file: a secret does not belong in a file: use HEROKU_API_KEY_PARAMETER, or AUTOSCALE_HEROKU_API_KEY in the environment`,
				`line 8: FORMATIONS[0] (shop/web): MAX_DYNOS: {"0:00":2,"25:00":6,"9:00":"five"}: schedule key "25:00" is not H:MM (hour 0-23, minute 0-59); schedule value at "9:00" is not a number`,
				`line 9: FORMATIONS[0] (shop/web): TABLE_NAME: only the top level may set it: the stack has one table`,
				`line 10: FORMATIONS[1] (shop/web): HEROKU_APP_NAME: shop/web is also FORMATIONS[0]: give each app and process type once`,
				`line 11: FORMATIONS[1] (shop/web): HEARTBEAT_URL: "/relative": not an absolute URL (like https://example.com/path)`,
				`line 13: FORMATIONS[1] (shop/web): MIN_DYNOS: given twice (first on line 12)`,
				`line 17: FORMATIONS[2] (blog/web): MAX_DYNOS: "x": not a whole number or a JSON object of "H:MM": dynos`,
				`line 18: FORMATIONS[3]: a formation must be a map of settings (HEROKU_APP_NAME: …), not the value "just a string"`,
				`line 19: FORMATIONS[4]: HEROKU_APP_NAME: required`,
				`line 20: FORMATIONS[4]: DRY_RUN: "yes": not a boolean (true, false, 1 or 0)`,
				`line 21: FORMATIONS[4]: COOLDOWN_IN_SECONDS: no value (write "" for the built-in default)`,
				strings.Replace(badEnvMax, "%d] (%s)", "1] (shop/web)", 1),
				strings.Replace(badEnvMax, "%d] (%s)", "4]", 1),
			},
		},
		{
			name: "typos get a suggestion",
			file: "typos.yaml",
			env:  map[string]string{settings.EnvAppName: "shop", settings.EnvHeartbeatURL: "https://shop.example.com/up"},
			want: []string{
				`line 1: max_dynos: unknown setting; did you mean MAX_DYNOS?`,
				`line 2: FORMATION: unknown setting; did you mean FORMATIONS?`,
			},
		},
		{
			name: "YAML syntax error at its line",
			file: "syntax.yaml",
			want: []string{`line 3: YAML syntax: did not find expected ',' or ']'`},
		},
		{
			// yaml.v3 says line 3, where the list began.
			name: "an indentation slip on its own line",
			file: "indentation.yaml",
			want: []string{`line 6: YAML syntax: did not find expected '-' indicator`},
		},
		{
			name: "an unclosed quote where it opens",
			file: "unclosed-quote.yaml",
			want: []string{`line 5: YAML syntax: found unexpected end of stream (a quoted value is never closed)`},
		},
		{
			name: "a second document",
			file: "two-documents.yaml",
			want: []string{`line 3: a second YAML document: the file holds one (remove the ---)`},
		},
		{
			name: "empty file",
			file: "empty.yaml",
			want: []string{`the file is empty: give settings, and a FORMATIONS list for more than one formation`},
		},
		{
			name: "a list instead of a map",
			file: "list.yaml",
			want: []string{`line 1: the file must be a map of settings (KEY: value), not a list`},
		},
		{
			name: "FORMATIONS not a list",
			file: "formations-shape.yaml",
			want: []string{`line 3: FORMATIONS: must be a list of formations (- HEROKU_APP_NAME: …), not a map`},
		},
		{
			name: "FORMATIONS empty",
			file: "formations-empty.yaml",
			want: []string{`line 2: FORMATIONS: empty: give at least one formation`},
		},
		{
			name: "keys that make no sense in a formation",
			file: "nested.yaml",
			want: []string{
				`line 4: FORMATIONS[0] (shop/web): FORMATIONS: only the top level holds the list of formations`,
				`line 6: FORMATIONS[0] (shop/web): STATE_FILE: only the top level may set it: one state file holds every formation`,
				`line 7: FORMATIONS[0] (shop/web): AUTOSCALE_SETTINGS_FILE: write it without the AUTOSCALE_ prefix: SETTINGS_FILE`,
				`line 8: FORMATIONS[0] (shop/web): SETTINGS_FILE: not allowed in the file: a settings file cannot name another`,
				`line 9: FORMATIONS[0] (shop/web): a key must be a setting's name, not a list`,
			},
		},
		{
			name: "a shared value's problem is said once; a clash is said for its formation, in the file's names",
			file: "shared.yaml",
			want: []string{
				`line 4: INCREMENT: "0": must be at least 1`,
				`line 5: FORMATIONS[1] (blog/web): MIN_DYNOS: "3": must not exceed MAX_DYNOS (2)`,
				`line 11: FORMATIONS[1] (blog/web): MIN_RESPONSE_TIME_IN_MS: "900": must not exceed MAX_RESPONSE_TIME_IN_MS (500 ms)`,
			},
		},
		{
			name: "a bad environment value every formation takes is said once",
			file: "duplicates.yaml",
			env:  map[string]string{settings.EnvMaxDynos: "abc"},
			want: []string{
				`line 6: FORMATIONS[2] (shop/web): HEROKU_APP_NAME: shop/web is also FORMATIONS[0]: give each app and process type once`,
				`AUTOSCALE_MAX_DYNOS (environment): "abc": not a whole number or a JSON object of "H:MM": dynos`,
			},
		},
		{
			name: "YAML values of the wrong kind",
			file: "values.yaml",
			want: []string{
				`line 3: MAX_DYNOS: {"0:00":2,"9:00":2.5,"12:00":[1],"18:00":"3","9:00":4}: schedule value 2.5 at "9:00" is not a whole number; schedule value at "12:00" is not a number`,
				`line 4: MIN_DYNOS: [1,2]: not a whole number or a JSON object of "H:MM": dynos`,
				`line 5: HEARTBEAT_TIMEOUT_IN_MS: "1e3": not a whole number`,
				`line 6: DRY_RUN: "yes": not a boolean (true, false, 1 or 0)`,
				`line 7: INCREMENT: no value (write "" for the built-in default)`,
				`line 8: TIME_ZONE: {"zone":"UTC"}: unknown time zone (use an IANA name like Europe/Paris)`,
			},
		},
		{
			name:   "Lambda: what the stack lacks is said once, what a formation lacks for it",
			file:   "lambda.yaml",
			lambda: true,
			want:   lambdaYAMLProblems,
		},
		{
			name:   "Lambda: each key parameter is the stack's own or under the prefix the role may read",
			file:   "lambda-keys.yaml",
			env:    lambdaEnv(map[string]string{settings.EnvAPIKeyParameter: "/stack/own-key"}),
			lambda: true,
			want: []string{
				`line 6: FORMATIONS[1] (blog/web): HEROKU_API_KEY_PARAMETER: "/team/blog-key": ` + ownOrPrefix,
				`line 10: FORMATIONS[3] (docs/web): HEROKU_API_KEY_PARAMETER: "/autoscalebot/": ` + ownOrPrefix,
				`line 12: FORMATIONS[4] (mail/web): HEROKU_API_KEY_PARAMETER: "/autoscalebotx/key": ` + ownOrPrefix,
			},
		},
		{
			name: "Lambda: a formation's heartbeat token parameter is the stack's own or under the prefix",
			file: "lambda-tokens.yaml",
			env: lambdaEnv(map[string]string{settings.EnvHeartbeatTokenParameter: "/stack/own-token",
				settings.EnvHeartbeatInterval: "60"}),
			lambda: true,
			want: []string{
				`line 10: FORMATIONS[1] (blog/worker): HEARTBEAT_TOKEN_PARAMETER: "/team/blog-token": the function's role may read only AUTOSCALE_HEARTBEAT_TOKEN_PARAMETER ("/stack/own-token") and parameters under /autoscalebot/`,
			},
		},
		{
			name: "locally any key parameter will do",
			file: "lambda-keys.yaml",
			want: []string{},
		},
		{
			name:   "Lambda: a top-level key parameter outside the prefix is said once",
			file:   "lambda-shared-key.yaml",
			env:    lambdaEnv(nil),
			lambda: true,
			want:   []string{`line 2: HEROKU_API_KEY_PARAMETER: "/heroku/key": the function's role may read only parameters under /autoscalebot/`},
		},
		{
			name: "Lambda: a fleet above FAN_OUT_ABOVE needs the tick queue",
			file: "fan-out.yaml",
			env: lambdaEnv(map[string]string{settings.EnvHeartbeatInterval: "60", settings.EnvTickQueueURL: "",
				settings.EnvAPIKeyParameter: "/autoscalebot/k"}),
			lambda: true,
			want:   []string{`TICK_QUEUE_URL: required in Lambda for a fleet of more than FAN_OUT_ABOVE (2) formations, which are fanned out over the tick queue (3 here)`},
		},
		{
			name:   "Lambda: a fleet above FAN_OUT_ABOVE with the tick queue",
			file:   "fan-out.yaml",
			env:    lambdaEnv(map[string]string{settings.EnvHeartbeatInterval: "60", settings.EnvAPIKeyParameter: "/autoscalebot/k"}),
			lambda: true,
			want:   []string{},
		},
		{
			name: "Lambda: a fleet of FAN_OUT_ABOVE formations is ticked without the queue",
			file: "lambda.yaml",
			env: lambdaEnv(map[string]string{settings.EnvHeartbeatInterval: "60", settings.EnvTickQueueURL: "",
				settings.EnvFanOutAbove: "2", settings.EnvAPIKeyParameter: "/autoscalebot/k"}),
			lambda: true,
			want:   []string{},
		},
		{
			name: "Lambda: one formation more than the environment's FAN_OUT_ABOVE",
			file: "lambda.yaml",
			env: lambdaEnv(map[string]string{settings.EnvHeartbeatInterval: "60", settings.EnvTickQueueURL: "",
				settings.EnvFanOutAbove: "1", settings.EnvAPIKeyParameter: "/autoscalebot/k"}),
			lambda: true,
			want:   []string{`TICK_QUEUE_URL: required in Lambda for a fleet of more than AUTOSCALE_FAN_OUT_ABOVE (1) formations, which are fanned out over the tick queue (2 here)`},
		},
		{
			name:   "Lambda: the missing queue is said once, for the interval, when the fleet needs it too",
			file:   "lambda.yaml",
			env:    map[string]string{settings.EnvFanOutAbove: "0"},
			lambda: true,
			want:   lambdaYAMLProblems,
		},
		{
			name: "the fleet's fan-out and metrics are the top level's",
			file: "fleet-wide.yaml",
			want: []string{
				`line 4: FORMATIONS[0] (shop/web): FAN_OUT_ABOVE: only the top level may set it: the scheduled invocation ticks the whole fleet one way`,
				`line 5: FORMATIONS[0] (shop/web): PER_FORMATION_METRICS: only the top level may set it: the stack publishes one fleet's metrics`,
			},
		},
		{
			name: "environment values the file overrides are not checked",
			file: "three.yaml",
			env: map[string]string{
				settings.EnvAPIKey:       fileTestKey,
				settings.EnvTimeZone:     "Mars",
				settings.EnvHeartbeatURL: "https://" + fileTestKey + "@x.example.com/",
			},
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := settingsfile.Load
			if tt.lambda {
				load = settingsfile.LoadLambda
			}
			fleet, err := load(fleetEnv(tt.file, tt.env), nil)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if len(fleet) == 0 {
					t.Fatal("no formations")
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded with %d formations, want problems", len(fleet))
			}
			got := fileProblems(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !strings.HasPrefix(err.Error(), "invalid settings file "+filepath.Join("testdata", "fleet", tt.file)+":\n") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

// TestEverySettingIsAFileKey: the file's keys come from Vars, so a
// setting added there is a key of the file with no other change.
func TestEverySettingIsAFileKey(t *testing.T) {
	for _, v := range settings.Vars() {
		key := strings.TrimPrefix(v.Name, "AUTOSCALE_")
		t.Run(key, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "one.yaml")
			if err := os.WriteFile(path, []byte(key+": \"\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{settings.EnvSettingsFile: path}
			_, err := settingsfile.Load(func(k string) string { return env[k] }, nil)
			if err == nil {
				return
			}
			msg := err.Error()
			allowed := v.Name == settings.EnvAPIKey || v.Name == settings.EnvHeartbeatToken || v.Name == settings.EnvSettingsFile
			if got := strings.Contains(msg, key+": not allowed in the file"); got != allowed {
				t.Errorf("not allowed: %v, want %v:\n%s", got, allowed, msg)
			}
			if strings.Contains(msg, "unknown setting") {
				t.Errorf("%s is not a key of the file:\n%s", key, msg)
			}
		})
	}
}

// TestLoadFleetRedactsKey: a value holding the API key, or the heartbeat
// token, is shown without it.
func TestLoadFleetRedactsKey(t *testing.T) {
	for _, variable := range []string{settings.EnvAPIKey, settings.EnvHeartbeatToken} {
		env := map[string]string{variable: fileTestKey}
		dir := t.TempDir()
		path := filepath.Join(dir, "leak.yaml")
		content := "HEROKU_APP_NAME: shop\nHEARTBEAT_URL: " + fileTestKey + "\nTIME_ZONE: " + fileTestKey + "\n" + fileTestKey + ": 1\n"
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		env[settings.EnvSettingsFile] = path
		for name, load := range map[string]func(func(string) string, func(string) ([]byte, error)) ([]settingsfile.Formation, error){
			"local": settingsfile.Load, "lambda": settingsfile.LoadLambda,
		} {
			_, err := load(func(k string) string { return env[k] }, nil)
			if err == nil {
				t.Fatalf("%s, %s: want problems", variable, name)
			}
			if strings.Contains(err.Error(), fileTestKey) {
				t.Errorf("%s, %s: the secret is in the error:\n%v", variable, name, err)
			}
			if n := strings.Count(err.Error(), "[redacted]"); n < 3 {
				t.Errorf("%s, %s: want the secret redacted in each of 3 messages, got:\n%v", variable, name, err)
			}
		}
	}
}

// TestLoadFleetWithoutFile: without the variable, the environment's one
// formation, exactly as Load reads it.
func TestLoadFleetWithoutFile(t *testing.T) {
	env := map[string]string{
		settings.EnvAppName:      "shop",
		settings.EnvHeartbeatURL: "https://shop.example.com/up",
		settings.EnvMaxDynos:     `{"0:00":2,"9:00":5}`,
	}
	getenv := func(k string) string { return env[k] }
	fleet, err := settingsfile.Load(getenv, func(string) ([]byte, error) {
		t.Error("read a file without " + settings.EnvSettingsFile)
		return nil, fs.ErrNotExist
	})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := settings.Load(getenv)
	if len(fleet) != 1 || fleet[0].Name != "shop/web" || fleet[0].Settings.MaxDynos.String() != want.MaxDynos.String() {
		t.Errorf("got %+v", fleet)
	}
	env[settings.EnvIncrement] = "0"
	_, err = settingsfile.Load(getenv, nil)
	var e *settings.Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), settings.EnvIncrement) {
		t.Errorf("bad environment: want the environment's *settings.Error, got %v", err)
	}
}

// TestLoadRefusesSettingsFile: an entry point that reads one formation
// says so instead of silently ignoring the file.
func TestLoadRefusesSettingsFile(t *testing.T) {
	getenv := fleetEnv("three.yaml", map[string]string{
		settings.EnvAppName: "shop", settings.EnvHeartbeatURL: "https://shop.example.com/up",
	})
	for name, load := range map[string]func(func(string) string) (settings.Settings, error){
		"Load": settings.Load, "LoadLambda": settings.LoadLambda,
	} {
		if _, err := load(getenv); err == nil || !strings.Contains(err.Error(), settings.EnvSettingsFile+`: "testdata/fleet/three.yaml": this entry point reads one formation`) {
			t.Errorf("%s with a settings file: %v", name, err)
		}
	}
}

func TestLoadFleetMissingFile(t *testing.T) {
	_, err := settingsfile.Load(fleetEnv("nope.yaml", nil), nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") || !strings.Contains(err.Error(), settings.EnvSettingsFile) {
		t.Errorf("missing file: %v", err)
	}
}

// TestExampleFileLoads: the commented example at the repository root is a
// working file (once its key parameter is allowed for the Lambda).
func TestExampleFileLoads(t *testing.T) {
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{settings.EnvSettingsFile: filepath.Join(root, "autoscalebot.example.yaml"), settings.EnvTableName: "autoscalebot",
		settings.EnvTickQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/autoscalebot-ticks"}
	for name, load := range map[string]func(func(string) string, func(string) ([]byte, error)) ([]settingsfile.Formation, error){
		"local": settingsfile.Load, "lambda": settingsfile.LoadLambda,
	} {
		fleet, err := load(func(k string) string { return env[k] }, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(fleet) < 3 {
			t.Errorf("%s: %d formations, want the example's several", name, len(fleet))
		}
	}
}

// FuzzLoadFleet: any file ends in formations or an *Error, never a panic,
// locally and in Lambda; problems name something, and the API key never
// shows.
func FuzzLoadFleet(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fleet", "*"))
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x [*x]\nFORMATIONS: [{MAX_DYNOS: *x}]"))
	f.Add([]byte("FORMATIONS: [{HEROKU_APP_NAME: " + fileTestKey + "}]"))
	env := map[string]string{
		settings.EnvSettingsFile: "fuzz.yaml",
		settings.EnvAPIKey:       fileTestKey,
		settings.EnvHeartbeatURL: "https://example.com/up",
		settings.EnvTableName:    "t",
		settings.EnvTickQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/ticks",
	}
	getenv := func(k string) string { return env[k] }
	f.Fuzz(func(t *testing.T, data []byte) {
		readFile := func(string) ([]byte, error) { return data, nil }
		if _, err := settingsfile.LoadLambda(getenv, readFile); err != nil {
			checkFileError(t, err)
		}
		fleet, err := settingsfile.Load(getenv, readFile)
		if err != nil {
			checkFileError(t, err)
			return
		}
		if len(fleet) == 0 {
			t.Fatal("no error and no formation")
		}
		seen := map[string]bool{}
		for _, fm := range fleet {
			pair := fm.Settings.AppName + "/" + fm.Settings.ProcessType
			if seen[pair] {
				t.Errorf("%s twice", pair)
			}
			seen[pair] = true
		}
	})
}

// checkFileError: a bad file is an *Error whose every problem says
// something, without the API key.
func checkFileError(t *testing.T, err error) {
	t.Helper()
	var fe *settingsfile.Error
	if !errors.As(err, &fe) || len(fe.Problems) == 0 {
		t.Fatalf("error %v (%T) is not a *settingsfile.Error with problems", err, err)
	}
	for _, p := range fe.Problems {
		if p.Msg == "" {
			t.Errorf("a problem without a message: %+v", p)
		}
	}
	if strings.Contains(err.Error(), fileTestKey) {
		t.Errorf("the API key is in the error: %v", err)
	}
}
