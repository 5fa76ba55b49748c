// Package demo runs autoscalebot against a simulated app on loopback, so a
// newcomer can watch it scale up and back down within a minute before
// pointing it at a real app. Nothing here talks to the internet.
package demo

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
	"github.com/autoscalebot/autoscalebot/internal/settings"
)

// App and process type the demo scales.
const (
	AppName     = "demo-app"
	ProcessType = "web"
	token       = "demo-token"
)

// Cycle is the length of one simulated day: quiet, then a rush, then quiet.
const Cycle = time.Minute

// Load is the simulated traffic at elapsed time into the cycle, in units of
// work a single dyno needs unitLatency each to serve.
func Load(elapsed time.Duration) float64 {
	switch e := elapsed % Cycle; {
	case e < 5*time.Second:
		return 1
	case e < 25*time.Second:
		return 20 // the rush
	default:
		return 1
	}
}

// unitLatency is the response time one unit of load costs one dyno.
const unitLatency = 40 * time.Millisecond

// App is a simulated web app whose response time rises with load and falls
// as dynos are added.
type App struct {
	mu    sync.Mutex
	dynos int
	start time.Time
	now   func() time.Time
	sleep func(time.Duration)
}

// NewApp returns an app running dynos dynos, whose cycle starts now.
func NewApp(dynos int) *App {
	return &App{dynos: dynos, start: time.Now(), now: time.Now, sleep: time.Sleep}
}

// SetDynos changes the simulated capacity (the fake Heroku calls it on each scale).
func (a *App) SetDynos(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dynos = n
}

// Latency is how long a request takes now.
func (a *App) Latency() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	dynos := max(a.dynos, 1)
	return time.Duration(Load(a.now().Sub(a.start)) * float64(unitLatency) / float64(dynos))
}

// ServeHTTP answers after the simulated latency.
func (a *App) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.sleep(a.Latency())
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "ok")
}

// Env is a running demo: the simulated app and a fake Heroku Platform API.
type Env struct {
	HeartbeatURL string
	HerokuURL    string
	App          *App

	heroku *herokusim.Server
	server *http.Server
}

// Start runs the simulated app and the fake Platform API on loopback.
func Start() (*Env, error) {
	app := NewApp(1)
	fake, err := herokusim.New(herokusim.WithToken(token))
	if err != nil {
		return nil, fmt.Errorf("start demo heroku: %w", err)
	}
	fake.SetFormation(AppName, ProcessType, 1, "")
	fake.OnScale(func(a, t string, quantity int) {
		if a == AppName && t == ProcessType {
			app.SetDynos(quantity)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("start demo app: %w", err)
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // returns when Close is called
	return &Env{
		HeartbeatURL: "http://" + ln.Addr().String() + "/heartbeat",
		HerokuURL:    fake.URL,
		App:          app,
		heroku:       fake,
		server:       srv,
	}, nil
}

// Close stops the app and the fake API.
func (e *Env) Close() {
	e.server.Close()
	e.heroku.Close()
}

// Getenv returns the demo's settings, falling back to getenv for anything
// the demo does not set (so AUTOSCALE_NOTIFY_* and friends still apply).
func (e *Env) Getenv(getenv func(string) string) func(string) string {
	demo := map[string]string{
		settings.EnvAppName:           AppName,
		settings.EnvProcessType:       ProcessType,
		settings.EnvAPIKey:            token,
		settings.EnvAPIURL:            e.HerokuURL,
		settings.EnvHeartbeatURL:      e.HeartbeatURL,
		settings.EnvHeartbeatTimeout:  "2000",
		settings.EnvHeartbeatInterval: "1",
		settings.EnvMaxResponseTime:   "300",
		settings.EnvMinResponseTime:   "100",
		// A minute's day ticking every second: the original's streaks, whose
		// pace is counted in heartbeats; tracking's averages and hold are
		// minutes long.
		settings.EnvPolicy:             string(settings.PolicyOriginal),
		settings.EnvFailsToScaleUp:     "3",
		settings.EnvPassesToScaleDown:  "5",
		settings.EnvMinDynos:           "1",
		settings.EnvMaxDynos:           "4",
		settings.EnvNotifyOnEveryScale: "true",
		settings.EnvDryRun:             "false",
	}
	return func(name string) string {
		if v, ok := demo[name]; ok {
			return v
		}
		return getenv(name)
	}
}

// Banner explains what the demo is and how to leave it.
func (e *Env) Banner() string {
	return "DEMO MODE: AUTOSCALE_HEARTBEAT_URL is not set, so autoscalebot is scaling a simulated app\n" +
		"on " + e.HeartbeatURL + " through a local stand-in for the Heroku Platform API.\n" +
		"Traffic rushes 5–25 s into each minute: watch web go 1 → 2 → 3 dynos, then back to 1.\n" +
		"To autoscale a real app:\n" +
		"  AUTOSCALE_HEROKU_APP_NAME=my-app AUTOSCALE_HEARTBEAT_URL=https://my-app.herokuapp.com/heartbeat make run\n" +
		"(a dry run until you also set AUTOSCALE_HEROKU_API_KEY). Stop with Ctrl-C.\n"
}
