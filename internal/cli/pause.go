package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// pauseAttempts bounds the retries when a tick saves between our load and save.
const pauseAttempts = 5

// setPaused turns the operator pause on or off for one formation. It takes
// effect on the next tick without a redeploy: probing and recording go on,
// scaling stops.
func setPaused(ctx context.Context, args []string, env Env, paused bool) error {
	fs := newFlagSet(commandName(paused), env)
	var sf storeFlags
	sf.register(fs, env.Getenv)
	app := fs.String("app", settings.Get(env.Getenv, settings.EnvAppName), "Heroku app (env "+settings.EnvAppName+")")
	processType := fs.String("type", settings.Get(env.Getenv, settings.EnvProcessType), "process type (env "+settings.EnvProcessType+")")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *app == "" {
		return errors.New("-app is required (or " + settings.EnvAppName + ")")
	}
	store, where, err := sf.open(ctx)
	if err != nil {
		return err
	}
	return pauseIn(ctx, storeAt{store, where}, state.Key{App: *app, ProcessType: *processType}, paused, env.Stdout)
}

// storeAt is a state store and where it lives, as messages name it.
type storeAt struct {
	store stateStore
	where string
}

// pauseIn sets the flag, reading again if a tick saves between the load and
// the save.
func pauseIn(ctx context.Context, at storeAt, key state.Key, paused bool, out io.Writer) error {
	store, where := at.store, at.where
	name := commandName(paused)
	for range pauseAttempts {
		s, err := store.Load(ctx, key)
		if err != nil {
			return fmt.Errorf("%s %s: %w", name, key, err)
		}
		if s.Paused == paused {
			fmt.Fprintf(out, "%s is already %s (%s)\n", key, pausedWord(paused), where)
			return nil
		}
		s.Paused = paused
		_, err = store.Save(ctx, key, s)
		if errors.Is(err, state.ErrConflict) {
			continue // a tick saved in between: read again
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", name, key, err)
		}
		fmt.Fprintf(out, "%s is now %s (%s); the next tick %s\n", key, pausedWord(paused), where,
			map[bool]string{true: "probes and records but does not scale", false: "scales again"}[paused])
		return nil
	}
	return fmt.Errorf("%s %s: the state kept changing; try again", name, key)
}

func commandName(paused bool) string {
	if paused {
		return "pause"
	}
	return "resume"
}

func pausedWord(paused bool) string {
	if paused {
		return "paused"
	}
	return "running"
}
