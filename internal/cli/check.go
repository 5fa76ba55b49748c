package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
)

// stackStandIns are what a fleet's stack gives the function where the
// process environment gives nothing and the variable has no default of its
// own: the template's defaults for the key parameter and the timeout, and
// stand-ins for what the stack creates (its table, topic and tick queue,
// which a fleet's stack always has). A test holds them to template.yaml.
var stackStandIns = map[string]string{
	settings.EnvAPIKeyParameter: "/autoscalebot/heroku-api-key",
	settings.EnvFunctionTimeout: "30",
	settings.EnvTableName:       "autoscalebot-state",
	settings.EnvTopicARN:        "arn:aws:sns:us-east-1:123456789012:autoscalebot-notices",
	settings.EnvTickQueueURL:    "https://sqs.us-east-1.amazonaws.com/123456789012/autoscalebot-ticks",
}

// stackEnv is the Lambda function's environment as a fleet's stack sets it,
// with the settings file at path: each variable the template sets, from
// getenv (a deploy's parameter overrides, given as AUTOSCALE_* variables)
// or else as the template does by default. The variables the stack does not
// set (the API key, FAN_OUT_ABOVE) are unset, whatever getenv holds.
func stackEnv(getenv func(string) string, path string) func(string) string {
	return func(name string) string {
		if name == settings.EnvSettingsFile {
			return path
		}
		v, ok := settings.Lookup(name)
		if !ok || v.Parameter == "" && stackStandIns[name] == "" {
			return ""
		}
		if value := strings.TrimSpace(getenv(name)); value != "" {
			return value
		}
		return stackStandIns[name] // or nothing: the variable's default
	}
}

// check loads a settings file as the Lambda function does (the same
// loader, in the stack's environment) and names every problem it would
// meet, or prints each formation's essentials. sam build runs it, so a bad
// file fails the build rather than every invocation after the deploy.
func check(args []string, env Env) error {
	fs := newFlagSet("check", env)
	var path string
	registerSettingsFlag(fs, &path, env.Getenv)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if path == "" || fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "usage: autoscalebot check -settings FILE")
		return errUsage
	}
	fleet, err := settingsfile.LoadLambda(stackEnv(env.Getenv, path), nil)
	// The stack never has the key or the token, so the loader cannot take them out.
	redact := func(s string) string {
		for _, name := range []string{settings.EnvAPIKey, settings.EnvHeartbeatToken} {
			if secret := strings.TrimSpace(env.Getenv(name)); secret != "" {
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
		return s
	}
	if err != nil {
		return errors.New(redact(err.Error()))
	}
	var b strings.Builder
	for _, f := range fleet {
		s := f.Settings
		fmt.Fprintf(&b, "%s/%s: heartbeat %s, signal %s, policy %s, min %s, max %s, key %s",
			s.AppName, s.ProcessType, redactURL(s.HeartbeatURL), s.Signal, s.Policy, s.MinDynos, s.MaxDynos, s.APIKeyParameter)
		if s.HeartbeatTokenParameter != "" {
			b.WriteString(", heartbeat token " + s.HeartbeatTokenParameter)
		}
		if s.DryRun {
			b.WriteString(", dry run")
		}
		b.WriteByte('\n')
	}
	_, err = fmt.Fprint(env.Stdout, redact(b.String()))
	return err
}
