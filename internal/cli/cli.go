// Package cli is the autoscalebot command: run the autoscaler on this
// computer, or one tick of it.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/demo"
	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/runner"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

const usage = `autoscalebot keeps a Heroku app's dynos matched to its load.

Usage:
  autoscalebot run  [-state FILE] [-duration D] [-v]   tick every AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS
  autoscalebot once [-state FILE] [-json] [-v]         one tick, printing the decision
  autoscalebot pause  [-app A] [-type T] [-table T | -stack S | -state FILE]
  autoscalebot resume [-app A] [-type T] [-table T | -stack S | -state FILE]
                                                       stop or restart scaling (probing and recording go on)
  autoscalebot status  [-app A] [-type T] [-json] [-table T | -stack S | -state FILE]   what each formation is doing now
  autoscalebot history [-since 24h] [-app A] [-type T] [-only-scales] [-limit N] [-json] [-chart FILE.svg] [-table|-stack|-state]
  autoscalebot simulate (-profile NAME [-days N] | -trace FILE.csv | -history [-app A] [-type T] [-since 7d] [-table|-stack|-state])
                        [-with 'KEY=VALUE ...']... [-json] [-chart FILE.svg] [model flags: see simulate -h]
                                                       replay traffic through these settings and score them against the ideal

Settings come from AUTOSCALE_* environment variables (see the README). Without
AUTOSCALE_HEARTBEAT_URL, "run" starts a demo against a simulated app.
Without AUTOSCALE_HEROKU_API_KEY it is a dry run: it decides and records, and changes nothing.
`

// operationTimeout bounds a one-shot command against AWS, so a hung
// connection ends with an error instead of a terminal that never returns.
const operationTimeout = 2 * time.Minute

func withTimeout(ctx context.Context, run func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	return run(ctx)
}

// errUsage means the command line was wrong and usage has been printed.
var errUsage = errors.New("usage")

// Env is what the command reads from its surroundings.
type Env struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
}

// Main runs the command and returns its exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = run(ctx, args[1:], env)
	case "once":
		err = once(ctx, args[1:], env)
	case "pause":
		err = withTimeout(ctx, func(ctx context.Context) error { return setPaused(ctx, args[1:], env, true) })
	case "resume":
		err = withTimeout(ctx, func(ctx context.Context) error { return setPaused(ctx, args[1:], env, false) })
	case "status":
		err = withTimeout(ctx, func(ctx context.Context) error { return status(ctx, args[1:], env) })
	case "history":
		err = withTimeout(ctx, func(ctx context.Context) error { return history(ctx, args[1:], env) })
	case "simulate":
		err = simulateCmd(ctx, args[1:], env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "autoscalebot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, errUsage) {
		return 2 // the flag package has printed what was wrong
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "autoscalebot: %v\n", err)
		return 1
	}
	return 0
}

type localFlags struct {
	statePath string
	verbose   bool
}

func (f *localFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.statePath, "state", settings.Get(getenv, settings.EnvStateFile), "state file (env "+settings.EnvStateFile+")")
	fs.BoolVar(&f.verbose, "v", false, "log every tick as JSON on stderr")
}

func newFlagSet(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, usage, "\nFlags of "+name+":\n")
		fs.PrintDefaults()
	}
	return fs
}

func run(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("run", env)
	var lf localFlags
	lf.register(fs, env.Getenv)
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	getenv := env.Getenv
	if getenv(settings.EnvHeartbeatURL) == "" {
		d, err := demo.Start()
		if err != nil {
			return err
		}
		defer d.Close()
		getenv = d.Getenv(getenv)
		fmt.Fprint(env.Stdout, d.Banner())
		// A fresh state each demo, away from a real app's state file.
		dir, err := os.MkdirTemp("", "autoscalebot-demo-")
		if err != nil {
			return fmt.Errorf("demo state: %w", err)
		}
		defer os.RemoveAll(dir)
		lf.statePath = filepath.Join(dir, "state.json")
	}
	s, err := settings.Load(getenv)
	if err != nil {
		return err
	}
	t, err := buildLocal(ctx, s, lf, env)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "autoscaling %s/%s every %s: heartbeat %s, %d–%d dynos%s\n",
		s.AppName, s.ProcessType, s.HeartbeatInterval, redactURL(s.HeartbeatURL), minOf(s, env.Now()), maxOf(s, env.Now()), modeNote(t.Settings))
	runner.Run(ctx, t, t.Settings.HeartbeatInterval, func(sum tick.Summary, err error) {
		fmt.Fprintln(env.Stdout, runner.Line(env.Now(), sum, err))
	})
	return nil
}

func once(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("once", env)
	var lf localFlags
	lf.register(fs, env.Getenv)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	s, err := settings.Load(env.Getenv)
	if err != nil {
		return err
	}
	t, err := buildLocal(ctx, s, lf, env)
	if err != nil {
		return err
	}
	sum, err := t.Tick(ctx, "")
	if *asJSON && err == nil {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintln(env.Stdout, runner.Line(env.Now(), sum, err))
	return err
}

// buildLocal wires a ticker for this computer: a state file, notices on the
// console, and real Heroku only when a key is given and dry run is off.
func buildLocal(ctx context.Context, s settings.Settings, lf localFlags, env Env) (*tick.Ticker, error) {
	store := state.NewFileStore(lf.statePath)
	level := slog.LevelWarn
	if lf.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))

	var formation tick.Formation
	switch {
	case s.APIKey.IsZero():
		// Nothing to read the formation with: simulate it from the last
		// known quantity, or the minimum in force now.
		s.DryRun = true
		stored, err := store.Load(ctx, state.Key{App: s.AppName, ProcessType: s.ProcessType})
		if err != nil {
			return nil, err
		}
		initial := stored.Quantity
		if initial == 0 {
			initial = minOf(s, env.Now())
		}
		formation = herokuapi.NewDryRun(nil, initial)
	case s.DryRun:
		formation = herokuapi.NewDryRun(herokuapi.New(s.APIURL, s.APIKey), 0)
	default:
		formation = herokuapi.New(s.APIURL, s.APIKey)
	}
	return &tick.Ticker{
		Settings:  s,
		Store:     store,
		Formation: formation,
		Prober:    tick.NewProber(s),
		Notifier:  notify.NewConsole(env.Stdout),
		Log:       log,
		Now:       env.Now,
	}, nil
}

func modeNote(s settings.Settings) string {
	if !s.DryRun {
		return ""
	}
	if s.APIKey.IsZero() {
		return " [dry run: no AUTOSCALE_HEROKU_API_KEY, the formation is simulated]"
	}
	return " [dry run: reads the formation, never changes it]"
}

func minOf(s settings.Settings, now time.Time) int { lo, _ := s.Bounds(now); return lo }
func maxOf(s settings.Settings, now time.Time) int { _, hi := s.Bounds(now); return hi }

var (
	_ tick.Store    = (*state.FileStore)(nil)
	_ tick.Notifier = (*notify.Console)(nil)
)
