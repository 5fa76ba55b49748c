package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/runner"
	"github.com/autoscalebot/autoscalebot/internal/secret"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/settingsfile"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// fleetParallel bounds the formations ticked at once on this computer: each
// holds a connection to its heartbeat and to Heroku. Past it, a formation
// waits for a slot, at most one probe timeout.
const fleetParallel = 16

func registerSettingsFlag(fs *flag.FlagSet, path *string, getenv func(string) string) {
	fs.StringVar(path, "settings", settings.Get(getenv, settings.EnvSettingsFile),
		"a YAML settings file of many formations (env "+settings.EnvSettingsFile+")")
}

// loadFleet reads the settings file at path; the -settings flag is the
// variable, so the file's precedence over the environment is the same.
func loadFleet(getenv func(string) string, path string) ([]settingsfile.Formation, error) {
	withFile := func(name string) string {
		if name == settings.EnvSettingsFile {
			return path
		}
		return getenv(name)
	}
	return settingsfile.Load(withFile, nil)
}

// fleetFromFlags loads the file and settles the state file: -state when
// given, else the file's STATE_FILE, else the environment's.
func fleetFromFlags(fs *flag.FlagSet, lf *localFlags, env Env) ([]settingsfile.Formation, error) {
	fleet, err := loadFleet(env.Getenv, lf.settingsPath)
	if err != nil {
		return nil, err
	}
	stateSet := false
	fs.Visit(func(f *flag.Flag) { stateSet = stateSet || f.Name == "state" })
	if !stateSet {
		lf.statePath = settings.Get(fleet[0].Getenv, settings.EnvStateFile)
	}
	return fleet, nil
}

// lockedWriter makes each Write whole when formations print at once.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func lockOutput(env Env) Env {
	env.Stdout = &lockedWriter{w: env.Stdout}
	env.Stderr = &lockedWriter{w: env.Stderr}
	return env
}

// noticesFor keeps stdout for the JSON alone: notices go to stderr then.
func noticesFor(env Env, asJSON bool) Env {
	if asJSON {
		env.Stdout = env.Stderr
	}
	return env
}

// buildFleet wires one ticker per formation, sharing the state file, the log
// and the console, and one Heroku account per API URL (the key is the
// environment's, the same for all), which reads each app's formations once
// per round: call the returned startRound before each tick of the fleet.
func buildFleet(ctx context.Context, fleet []settingsfile.Formation, lf localFlags, env Env) ([]runner.Ticker, []*tick.Ticker, func(context.Context), error) {
	parts := newLocalParts(lf, env)
	accounts := map[string]*herokuapi.Account{}
	parts.heroku = func(s settings.Settings) tick.Formation {
		if accounts[s.APIURL] == nil {
			key := secret.NewSource("heroku API key", func(context.Context) (secret.Value, error) { return s.APIKey, nil },
				env.Now, parts.log)
			accounts[s.APIURL] = herokuapi.NewAccount(key, func(key secret.Value) herokuapi.API {
				return herokuapi.New(s.APIURL, key)
			})
		}
		return accounts[s.APIURL]
	}
	tickers := make([]runner.Ticker, len(fleet))
	built := make([]*tick.Ticker, len(fleet))
	for i, f := range fleet {
		t, err := buildLocal(ctx, f.Settings, parts, env)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		tickers[i], built[i] = t, t
	}
	startRound := func(ctx context.Context) {
		for _, a := range accounts {
			<-a.Start(ctx) // the environment's key: read at once
		}
	}
	return tickers, built, startRound, nil
}

// fleetResult is one formation's tick, for -json.
type fleetResult struct {
	Formation string       `json:"formation"`
	Summary   tick.Summary `json:"summary"`
	Error     string       `json:"error,omitempty"`
}

// onceFleet ticks every formation of the file at once and prints one line
// each, in the file's order. It fails, naming each, when any formation did.
func onceFleet(ctx context.Context, fs *flag.FlagSet, lf localFlags, asJSON bool, env Env) error {
	fleet, err := fleetFromFlags(fs, &lf, env)
	if err != nil {
		return err
	}
	env = lockOutput(env)
	tickers, _, startRound, err := buildFleet(ctx, fleet, lf, noticesFor(env, asJSON))
	if err != nil {
		return err
	}
	startRound(ctx)
	outcomes := runner.TickAll(ctx, tickers, fleetParallel, nil)
	if asJSON {
		results := make([]fleetResult, len(outcomes))
		for i, o := range outcomes {
			results[i] = fleetResult{Formation: fleet[i].Name, Summary: o.Summary}
			if o.Err != nil {
				results[i].Error = o.Err.Error()
			}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		for _, o := range outcomes {
			fmt.Fprintln(env.Stdout, runner.Line(env.Now(), o.Summary, o.Err))
		}
	}
	return fleetFailures(fleet, outcomes)
}

func fleetFailures(fleet []settingsfile.Formation, outcomes []runner.Outcome) error {
	var failed []string
	for i, o := range outcomes {
		if o.Err != nil {
			failed = append(failed, fleet[i].Name)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d formations failed: %s", len(failed), len(fleet), strings.Join(failed, ", "))
}

// runFleet ticks every formation of the file each interval, printing each
// line as its tick ends, until stopped. A failed formation is reported and
// ticked again next time, like a failed tick of one formation.
func runFleet(ctx context.Context, stop <-chan struct{}, fs *flag.FlagSet, lf localFlags, env Env) error {
	fleet, err := fleetFromFlags(fs, &lf, env)
	if err != nil {
		return err
	}
	env = lockOutput(env)
	tickers, built, startRound, err := buildFleet(ctx, fleet, lf, env)
	if err != nil {
		return err
	}
	interval := fleet[0].Settings.HeartbeatInterval // the file's top level or the environment: one for all
	fmt.Fprintf(env.Stdout, "autoscaling %d formation%s from %s every %s (state %s):\n",
		len(fleet), plural(len(fleet)), lf.settingsPath, interval, lf.statePath)
	for i, f := range fleet {
		s := f.Settings
		fmt.Fprintf(env.Stdout, "  %s: heartbeat %s, %d–%d dynos%s\n",
			f.Name, redactURL(s.HeartbeatURL), minOf(s, env.Now()), maxOf(s, env.Now()), modeNote(built[i].Settings))
	}
	runner.Every(ctx, stop, interval, func() {
		startRound(ctx) // each tick reads each app's formations afresh
		runner.TickAll(ctx, tickers, fleetParallel, func(_ int, o runner.Outcome) {
			fmt.Fprintln(env.Stdout, runner.Line(env.Now(), o.Summary, o.Err))
		})
	})
	return nil
}

// pickFormation is the formation of the file that -app and -type name (each
// optional), or the file's first when neither is given.
func pickFormation(fleet []settingsfile.Formation, app, processType string) (settingsfile.Formation, error) {
	if app == "" && processType == "" {
		return fleet[0], nil
	}
	var names []string
	for _, f := range fleet {
		s := f.Settings
		if (app == "" || s.AppName == app) && (processType == "" || s.ProcessType == processType) {
			return f, nil
		}
		names = append(names, s.AppName+"/"+s.ProcessType)
	}
	return settingsfile.Formation{}, errors.New("no formation of the settings file matches -app " + quoteOr(app) +
		" -type " + quoteOr(processType) + " (it has " + strings.Join(names, ", ") + ")")
}

func quoteOr(v string) string {
	if v == "" {
		return "(any)"
	}
	return fmt.Sprintf("%q", v)
}
