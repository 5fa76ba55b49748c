package simulation

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Options say what a run keeps besides its scores.
type Options struct {
	// Ticks keeps every tick's summary and model state (for tests and replays).
	Ticks bool
	// Records keeps the history records the tick wrote, as a store would.
	Records bool
	// Points, when more than 0, keeps the run as at most about this many
	// buckets of minutes, for a chart.
	Points int
}

// Tick is one tick of a run as the model saw it.
type Tick struct {
	Second    int          // seconds since minute 0
	At        time.Time    // the ticker's clock
	LatencyMS float64      // the model's latency L(s), before noise; the job model's queue latency
	Backlog   float64      // requests queued when it ran; jobs waiting
	Serving   int          // dynos serving when it ran
	Probe     probe.Result // what the probe answered
	Summary   tick.Summary // what the tick did
	Requested int          // the formation's quantity after it
}

// Result is one run: its scores, and what Options asked to keep.
type Result struct {
	Scores
	InitialDynos int
	Ticks        []Tick
	Records      []state.Record
	Series       *Series
}

// Run replays tr through the real tick with settings s against model m:
// the request model, or the job model for a trace of jobs. The same inputs
// give the same result; with m.Noise 0 no random number is drawn.
func Run(ctx context.Context, s settings.Settings, m Model, tr Trace, opt Options) (Result, error) {
	if err := m.validateFor(tr); err != nil {
		return Result{}, err
	}
	if err := SignalFits(s, tr.Jobs); err != nil {
		return Result{}, err
	}
	if tr.Minutes() == 0 {
		return Result{}, fmt.Errorf("no traffic to simulate")
	}
	// The simulated formation always scales: dry run is a production switch.
	s.DryRun = false
	r := newRun(s, m, tr, opt)
	for minute, rpm := range tr.RPM {
		demand := m.demand(tr, rpm)
		for sec := minute * 60; sec < minute*60+60; sec++ {
			if err := r.second(ctx, sec, demand); err != nil {
				return Result{}, err
			}
		}
		if r.series != nil {
			r.series.minute(minute, rpm, demand, r.w.formation.requested)
		}
	}
	res := r.res
	res.Scores = r.sc.scores(tr.Minutes() * 60)
	res.Notices = r.w.notices.n
	res.Records = r.store.records
	if r.series != nil {
		res.Series = r.series.build(tr.Minutes())
	}
	return res, nil
}

// run is one Run in progress.
type run struct {
	w         *world
	t         *tick.Ticker
	store     *memStore
	sc        *scorer
	series    *seriesBuilder
	keepTicks bool
	res       Result
	tr        Trace
	nextTick  int
}

func newRun(s settings.Settings, m Model, tr Trace, opt Options) *run {
	initial := m.Initial
	if initial == 0 {
		initial, _ = s.Bounds(m.Start)
	}
	w := &world{
		model:   m,
		timeout: s.HeartbeatTimeout,
		serving: initial,
		booting: make([]int, 0, 16),
	}
	w.formation.world = w
	if m.Noise > 0 {
		w.rng = rand.New(rand.NewPCG(m.Seed, 0x70726f6265)) // "probe"
	}
	sc := newScorer(m.DynoPrice)
	if tr.Jobs {
		w.jobs, w.serving, sc.wholeMinutes = newJobQueue(m, tr.RPM, initial), 0, true
	}
	lo, hi := s.Thresholds()
	w.prober = prober{world: w, signal: s.Signal, minResponse: lo, maxResponse: hi, target: s.TargetUtilization()}
	w.formation.requested = initial
	r := &run{w: w, store: &memStore{keep: opt.Records}, sc: sc, keepTicks: opt.Ticks, tr: tr}
	r.res.InitialDynos = initial
	r.t = &tick.Ticker{
		Settings:  s,
		Store:     r.store,
		Formation: &w.formation,
		Prober:    &w.prober,
		Notifier:  &w.notices,
		Log:       discard,
		Now:       func() time.Time { return m.Start.Add(time.Duration(w.second) * time.Second) },
	}
	if opt.Points > 0 {
		r.series = newSeriesBuilder(tr.Minutes(), opt.Points)
	}
	return r
}

// second steps the model through second sec, whose minute's ideal is demand.
func (r *run) second(ctx context.Context, sec, demand int) error {
	w, m := r.w, r.w.model
	w.second = sec
	lambda := r.tr.lambda(sec)
	mu := m.CapacityRPM / 60 // requests per second one dyno serves
	// 1–2. The app moves on to the second: see requestsArrive and jobQueue.step.
	if w.jobs != nil {
		w.jobs.step(sec)
		w.latency = 1000 * w.jobs.latency
	} else {
		w.requestsArrive(lambda, mu)
	}
	// 3. The real tick, every interval.
	if sec == r.nextTick {
		r.nextTick += m.Interval
		if err := r.tick(ctx, sec); err != nil {
			return err
		}
	}
	// 4. Account the second.
	r.sc.second(w.formation.requested, demand, w.latency > m.SLOMS)
	// 5. The backlog moves on.
	if w.jobs == nil {
		w.backlog = max(0, w.backlog+lambda-float64(w.serving)*mu)
	}
	return nil
}

// requestsArrive is the request model's second: dynos that have finished
// booting start serving; the latency an arriving request sees at the rate
// lambda, and how busy a dyno is.
func (w *world) requestsArrive(lambda, mu float64) {
	m := w.model
	for len(w.booting) > 0 && w.booting[0] <= w.second {
		w.booting = w.booting[1:]
		w.serving++
	}
	w.latency = float64(w.timeout) / float64(time.Millisecond)
	if w.serving > 0 {
		capacity := float64(w.serving) * mu
		w.latency = m.BaseMS/(1-min(lambda/capacity, 0.95)) + 1000*w.backlog/capacity
	}
	w.recordBusy(lambda, mu)
}

// tick runs the real tick at second sec and keeps what the options ask.
func (r *run) tick(ctx context.Context, sec int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := r.w
	serving, backlog := w.serving, w.backlog
	if w.jobs != nil {
		serving, backlog = w.jobs.serving, float64(w.jobs.waiting.depth)
	}
	sum, err := r.t.Tick(ctx, "")
	if err != nil {
		return fmt.Errorf("tick at second %d: %w", sec, err)
	}
	if sum.Scaled {
		r.sc.scaled(sum.Current, sum.Target)
	}
	if r.series != nil {
		ms := float64(w.timeout) / float64(time.Millisecond)
		if w.prober.last.Status != 0 {
			// The response time users saw, whatever the signal,
			// so that runs of either signal share the chart's axis.
			ms = float64(w.prober.response) / float64(time.Millisecond)
		}
		r.series.tick(sec/60, ms, w.formation.requested)
	}
	if r.keepTicks {
		r.res.Ticks = append(r.res.Ticks, Tick{
			Second: sec, LatencyMS: w.latency, Probe: w.prober.last, Serving: serving,
			Summary: sum, Backlog: backlog, Requested: w.formation.requested, At: r.t.Now(),
		})
	}
	return nil
}

// world is the model's state, shared by the stand-ins.
type world struct {
	model     Model
	timeout   time.Duration
	second    int
	latency   float64   // L(second), ms; with jobs, the queue's latency
	backlog   float64   // requests waiting
	jobs      *jobQueue // the job model's; nil with requests
	busy      [utilizationWindow]busySecond
	serving   int
	booting   []int // ready times of the dynos still booting, earliest first
	rng       *rand.Rand
	formation formation
	prober    prober
	notices   notices
}

// formation is the app's formation: what is requested (and billed), and
// which of it is serving yet.
type formation struct {
	world     *world
	requested int
}

func (f *formation) Quantity(context.Context, string, string) (int, error) { return f.requested, nil }

// Scale always succeeds. New dynos serve after the boot delay; a scale
// down stops the dynos not serving yet first, the latest to be ready first.
func (f *formation) Scale(_ context.Context, _, _ string, quantity int) error {
	w := f.world
	switch {
	case w.jobs != nil:
		w.jobs.scale(w.second, quantity)
	case quantity > f.requested:
		ready := w.second + w.model.BootSeconds
		for range quantity - f.requested {
			w.booting = append(w.booting, ready)
		}
	default:
		remove := f.requested - quantity
		fromBooting := min(remove, len(w.booting))
		w.booting = w.booting[:len(w.booting)-fromBooting]
		w.serving -= remove - fromBooting
	}
	f.requested = quantity
	return nil
}

// The simulated Platform API has no rate limit to report.
func (f *formation) RateLimitRemaining() (int, bool) { return 0, false }
func (f *formation) RefreshRateLimit(context.Context) (int, error) {
	return 0, fmt.Errorf("no rate limit in a simulation")
}

// prober answers with the model's latency, scattered by the noise. With
// the queue_time signal its latency is the model's queue time instead: the
// wait before a dyno takes the request (the backlog's, and the queueing at
// the current load), without the service time and so without its noise,
// as the heartbeat package's headers would report it.
//
// With the utilization signal it answers the utilization the heartbeat kit
// would report (see utilization) beside that queue time.
type prober struct {
	world                    *world
	signal                   probe.Signal
	minResponse, maxResponse time.Duration // the signal's thresholds
	target                   float64       // the utilization signal's
	last                     probe.Result
	response                 time.Duration // the last answer's response time, whatever the signal
}

func (p *prober) Probe(context.Context) probe.Result {
	w := p.world
	if w.jobs != nil {
		return p.jobsAnswer()
	}
	ms := w.latency
	var z float64 // the utilization's noise
	if w.rng != nil {
		// Drawn on every tick, answered or not, so that runs of different
		// settings see the same noise at the same tick.
		ms *= math.Exp(w.model.Noise * w.rng.NormFloat64())
		if p.signal == probe.Utilization {
			z = w.rng.NormFloat64()
		}
	}
	timeoutMS := float64(w.timeout) / float64(time.Millisecond)
	if w.serving == 0 || ms > timeoutMS {
		// No dyno to answer, or not in time.
		p.last = probe.TimedOut(w.timeout)
		return p.last
	}
	p.response = millis(ms)
	switch p.signal {
	case probe.QueueTime:
		p.last = probe.Answered(200, millis(w.queueMS()), p.minResponse, p.maxResponse)
		p.last.Source = probe.SourceQueueP95
	case probe.Utilization:
		p.last = probe.AnsweredUtilization(200, w.utilization(z), millis(w.queueMS()), p.target)
		p.last.Source = probe.SourceQueueP95
	default:
		p.last = probe.Answered(200, p.response, p.minResponse, p.maxResponse)
	}
	return p.last
}

// queueMS is the model's queue time: its latency less the service time.
func (w *world) queueMS() float64 { return max(0, w.latency-w.model.BaseMS) }

func millis(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// notices counts what would have been sent.
type notices struct{ n int }

func (c *notices) Notify(context.Context, notify.Notice) error { c.n++; return nil }

// memStore keeps the one formation's state in memory, with the version
// check the real stores make; history only when asked (a year is a million records).
type memStore struct {
	s       state.State
	keep    bool
	records []state.Record
}

func (m *memStore) Load(context.Context, state.Key) (state.State, error) { return m.s, nil }

func (m *memStore) Save(_ context.Context, _ state.Key, s state.State) (state.State, error) {
	if s.Version != m.s.Version {
		return state.State{}, state.ErrConflict
	}
	s.Version++
	m.s = s
	return s, nil
}

func (m *memStore) Append(_ context.Context, _ state.Key, recs ...state.Record) error {
	if m.keep {
		m.records = append(m.records, recs...)
	}
	return nil
}

// discard drops the tick's log lines: a year is half a million of them.
var discard = slog.New(slog.DiscardHandler)

var (
	_ tick.Store     = (*memStore)(nil)
	_ tick.Formation = (*formation)(nil)
	_ tick.Prober    = (*prober)(nil)
	_ tick.Notifier  = (*notices)(nil)
)
