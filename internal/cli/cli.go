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
  autoscalebot run  [-settings FILE] [-state FILE] [-duration D] [-v]
                                                       tick every AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS
  autoscalebot once [-settings FILE] [-state FILE] [-json] [-v]
                                                       one tick, printing the decision
  autoscalebot pause  [-app A] [-type T] [-table T | -stack S | -state FILE]
  autoscalebot resume [-app A] [-type T] [-table T | -stack S | -state FILE]
                                                       stop or restart scaling (probing and recording go on)
  autoscalebot status  [-app A] [-type T] [-json] [-table T | -stack S | -state FILE]   what each formation is doing now
  autoscalebot history [-since 24h] [-app A] [-type T] [-only-scales] [-limit N] [-json] [-chart FILE.svg] [-table|-stack|-state]
  autoscalebot simulate (-profile NAME [-days N] | -trace FILE.csv | -history [-app A] [-type T] [-since 7d] [-table|-stack|-state])
                        [-settings FILE [-app A] [-type T]] [-with 'KEY=VALUE ...']... [-json] [-chart FILE.svg] [model flags: see simulate -h]
                                                       replay traffic through these settings and score them against the ideal
  autoscalebot check -settings FILE                    name every problem the Lambda function would meet with this settings
                                                       file (exit 1), else print one line per formation; sam build runs it

Settings come from AUTOSCALE_* environment variables (see docs/settings.md), or from
a settings file of many formations (-settings FILE, or AUTOSCALE_SETTINGS_FILE):
run and once then tick every formation of the file at once; simulate takes the
one -app and -type choose (the file's first by default); status, history, pause
and resume take -settings for the state file or table the file names; check
reads the file as the Lambda function does, in the environment a fleet's stack
gives it: each variable the template sets, from this environment when set here,
else as the template's defaults set it (the API key and the other variables the
stack does not set are ignored). Without AUTOSCALE_HEARTBEAT_URL, "run" starts
a demo against a simulated app.
Without AUTOSCALE_HEROKU_API_KEY it is a dry run: it decides and records, and changes nothing.
Ctrl-C lets the tick in flight finish, then exits; a second Ctrl-C abandons it.
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
	// Interrupts delivers Ctrl-C and SIGTERM (nil: none). For run and once
	// the first lets the tick in flight finish, then the command ends as
	// usual (0 when all went well); a second abandons the tick at once.
	// Other commands stop at the first.
	Interrupts <-chan os.Signal
}

// errInterrupted is the cause of an abandoned command.
var errInterrupted = errors.New("interrupted")

// exitInterrupted is what shells report for a command ended by SIGINT.
const exitInterrupted = 128 + 2

// interrupts turns env.Interrupts into the two ways a command stops. With
// graceful set the first interrupt closes the returned channel (finish the
// tick in flight, start no other) and a second cancels the returned context;
// otherwise the first cancels it. release stops watching.
func interrupts(ctx context.Context, env Env, graceful bool) (_ context.Context, stop <-chan struct{}, release func()) {
	ctx, abort := context.WithCancelCause(ctx)
	stopping := make(chan struct{})
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case sig := <-env.Interrupts:
				if graceful && n == 1 {
					fmt.Fprintf(env.Stderr, "autoscalebot: %v: stopping once the tick in flight is done; interrupt again to abandon it\n", sig)
					close(stopping)
					continue
				}
				abort(errInterrupted)
				return
			}
		}
	}()
	return ctx, stopping, func() { close(done); abort(nil) }
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
	ticks := args[0] == "run" || args[0] == "once"
	ctx, stop, release := interrupts(ctx, env, ticks)
	defer release()
	var err error
	switch args[0] {
	case "run":
		err = run(ctx, stop, args[1:], env)
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
	case "check":
		err = check(args[1:], env)
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
	if errors.Is(context.Cause(ctx), errInterrupted) {
		if ticks {
			fmt.Fprintf(env.Stderr, "autoscalebot: %v again: the tick in flight was abandoned (its line above says how far it got)\n", errInterrupted)
		} else {
			fmt.Fprintf(env.Stderr, "autoscalebot: %v\n", errInterrupted)
		}
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "autoscalebot: %v\n", err)
		return 1
	}
	return 0
}

type localFlags struct {
	statePath    string
	settingsPath string
	verbose      bool
}

func (f *localFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.statePath, "state", settings.Get(getenv, settings.EnvStateFile), "state file (env "+settings.EnvStateFile+")")
	registerSettingsFlag(fs, &f.settingsPath, getenv)
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

func run(ctx context.Context, stop <-chan struct{}, args []string, env Env) error {
	fs := newFlagSet("run", env)
	var lf localFlags
	lf.register(fs, env.Getenv)
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *duration > 0 {
		// The end of -duration is a stop like Ctrl-C: the tick in flight finishes.
		stop = stopAfter(ctx, stop, *duration)
	}

	if lf.settingsPath != "" {
		return runFleet(ctx, stop, fs, lf, env)
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
	t, err := buildLocal(ctx, s, newLocalParts(lf, env), env)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "autoscaling %s/%s every %s: heartbeat %s, %d–%d dynos%s\n",
		s.AppName, s.ProcessType, s.HeartbeatInterval, redactURL(s.HeartbeatURL), minOf(s, env.Now()), maxOf(s, env.Now()), modeNote(t.Settings))
	runner.Run(ctx, stop, t, t.Settings.HeartbeatInterval, func(sum tick.Summary, err error) {
		fmt.Fprintln(env.Stdout, runner.Line(env.Now(), sum, err))
	})
	return nil
}

// stopAfter returns a channel closed when stop closes or d has passed.
func stopAfter(ctx context.Context, stop <-chan struct{}, d time.Duration) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-stop:
		case <-timer.C:
		case <-ctx.Done():
		}
	}()
	return out
}

func once(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("once", env)
	var lf localFlags
	lf.register(fs, env.Getenv)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if lf.settingsPath != "" {
		return onceFleet(ctx, fs, lf, *asJSON, env)
	}
	s, err := settings.Load(env.Getenv)
	if err != nil {
		return err
	}
	t, err := buildLocal(ctx, s, newLocalParts(lf, noticesFor(env, *asJSON)), env)
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

// localParts are what every formation ticked on this computer shares: one
// state file (one FileStore, which serialises its writers), one log, one
// console.
type localParts struct {
	store   *state.FileStore
	log     *slog.Logger
	console *notify.Console
	// heroku is the Platform API for formations that may read it (nil: a
	// client of their own). A fleet shares one, which reads each app's
	// formations once per tick.
	heroku func(s settings.Settings) tick.Formation
}

func newLocalParts(lf localFlags, env Env) localParts {
	level := slog.LevelWarn
	if lf.verbose {
		level = slog.LevelInfo
	}
	return localParts{
		store:   state.NewFileStore(lf.statePath),
		log:     slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
		console: notify.NewConsole(env.Stdout),
	}
}

// buildLocal wires a ticker for this computer: a state file, notices on the
// console, and real Heroku only when a key is given and dry run is off.
func buildLocal(ctx context.Context, s settings.Settings, parts localParts, env Env) (*tick.Ticker, error) {
	store := parts.store

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
		formation = herokuapi.NewDryRun(parts.live(s), 0)
	default:
		formation = parts.live(s)
	}
	return &tick.Ticker{
		Settings:  s,
		Store:     store,
		Formation: formation,
		Prober:    tick.NewProber(s),
		Notifier:  parts.console,
		Log:       parts.log,
		Now:       env.Now,
	}, nil
}

// live is the real Platform API for s.
func (p localParts) live(s settings.Settings) tick.Formation {
	if p.heroku != nil {
		return p.heroku(s)
	}
	return herokuapi.New(s.APIURL, s.APIKey)
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
