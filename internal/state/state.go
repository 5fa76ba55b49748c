// Package state defines what autoscalebot remembers between ticks, and a
// file-backed store for running it outside AWS.
package state

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
)

// ErrConflict means another writer saved the state since it was loaded: the
// caller lost the race and must not act on its decision.
var ErrConflict = errors.New("state changed since it was loaded")

// Key identifies one autoscaled formation.
type Key struct {
	App         string `json:"app"`
	ProcessType string `json:"processType"`
}

func (k Key) String() string { return k.App + "/" + k.ProcessType }

// State is everything one formation's autoscaler carries from tick to tick.
// It is kept small and bounded: the full history lives in Records.
type State struct {
	// Version is the optimistic lock: a save succeeds only if the stored
	// version still equals Version, and stores Version+1. Zero: never saved.
	Version int64 `json:"version"`

	SlowStreak int      `json:"slowStreak"`
	FastStreak int      `json:"fastStreak"`
	Episodes   Episodes `json:"episodes"`

	// Quantity is the last formation quantity seen or set (0: unknown).
	Quantity    int       `json:"quantity"`
	LastScaleAt time.Time `json:"lastScaleAt,omitzero"`

	LastProbe    *ProbeRecord `json:"lastProbe,omitempty"`
	LastDecision *Record      `json:"lastDecision,omitempty"`

	// Recent scale events, oldest first, pruned to what the scale-diff window needs.
	Recent []ScaleEvent `json:"recent,omitempty"`

	// Paused stops all scaling while probing and recording go on.
	Paused bool `json:"paused,omitempty"`

	// Config is the part of the settings that status displays need, as of
	// the last tick (the state item is all an operator's command reads).
	Config *Config `json:"config,omitempty"`

	// PlanLimit is the most dynos the plan allows, as learnt from Heroku's
	// refusal (422 cannot_run_above_limit) during the current episode of
	// wanting more: the answer's "limit", or one fewer than the refused
	// quantity when it gave none. Scale-ups stop at it; 0 when none (so a
	// ceiling of 0 is not kept: such a plan is refused again each tick).
	PlanLimit int `json:"planLimit,omitempty"`

	// RateLimitRemaining is Heroku's RateLimit-Remaining as last seen (nil: unknown).
	RateLimitRemaining *int `json:"rateLimitRemaining,omitempty"`

	// Proportional is what the proportional policy carries from tick to
	// tick (nil until it runs).
	Proportional *Proportional `json:"proportional,omitempty"`
	// Tracking is what the tracking policy carries (nil until it runs).
	Tracking *Tracking `json:"tracking,omitempty"`

	// IdleBeats counts the job_latency signal's heartbeats in a row whose
	// job report had no job waiting or running (a probe error neither
	// counts nor breaks the run): the scale-down window to zero.
	IdleBeats int `json:"idleBeats,omitempty"`

	// EventIDs remember the most recent scheduler events handled, newest
	// last, so that a duplicated delivery is processed once: each as its
	// EventKey (whole ids in items written before keys; Handled reads both).
	EventIDs []string `json:"eventIds,omitempty"`
}

// EventKey is how a handled event id is remembered: 48 bits of its FNV-1a
// hash in base64url, 8 characters. EventBridge's ids are UUIDs (36
// characters, a slot's a few more); twenty of them would push the state
// item past 1 KB, DynamoDB's unit of a write, and double the cost of every
// save. A false match needs two of a formation's last twenty events to
// share 48 bits.
func EventKey(id string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h.Sum64())
	return base64.RawURLEncoding.EncodeToString(b[2:])
}

// Handled says whether the event id is among those remembered.
func (s State) Handled(id string) bool {
	key := EventKey(id)
	for _, e := range s.EventIDs {
		if e == key || e == id {
			return true
		}
	}
	return false
}

// Proportional is the proportional policy's memory: a smoothed latency and
// the dyno counts it wanted within the scale-down window. Bounded: Wanted
// only keeps a falling sequence (each count higher than every later one),
// pruned to the window and to a few entries.
type Proportional struct {
	LatencyMS float64   `json:"latencyMs"` // smoothed heartbeat latency
	At        time.Time `json:"at"`        // of the last heartbeat smoothed in
	Dynos     int       `json:"dynos"`     // serving while it was measured
	Wanted    []Want    `json:"wanted,omitempty"`
}

// Tracking is the tracking policy's memory: two moving averages of the
// load in dynos' worth of work, the last heartbeat's latency and dynos
// serving, the idle latency as learnt, when a saturation began, and the
// dyno counts it wanted within the hold (a falling sequence, as
// Proportional's). Small and bounded.
type Tracking struct {
	At      time.Time `json:"at"`      // of the last heartbeat read
	Fast    float64   `json:"fast"`    // the load, averaged over a couple of minutes
	Slow    float64   `json:"slow"`    // the load, averaged over five
	Serving int       `json:"serving"` // dynos serving at the last heartbeat
	Load    float64   `json:"load"`    // the load the last heartbeat showed
	LastMS  float64   `json:"lastMs"`  // the last heartbeat's latency (queue time with utilization)
	// LastUtil is the last heartbeat's utilization, with that signal.
	LastUtil float64 `json:"lastUtil,omitzero"`
	AvgMS    float64 `json:"avgMs,omitzero"` // the latency's moving average (geometric)
	IdleMS   float64 `json:"idleMs,omitzero"`
	// SaturatedAt is the first of the heartbeats in a row that found
	// every serving dyno busy (zero: the last one did not).
	SaturatedAt time.Time `json:"saturatedAt,omitzero"`
	Wanted      []Want    `json:"wanted,omitempty"`
	// BusySince is the first of the heartbeats in a row that found the
	// serving dynos saturated, counting those that found new capacity
	// draining the backlog (zero: the last one did not). DrainUntil is
	// when capacity added during such a run is taken to have drained the
	// backlog the run built.
	BusySince  time.Time `json:"busySince,omitzero"`
	DrainUntil time.Time `json:"drainUntil,omitzero"`
}

// Want is a dyno count the proportional policy wanted at a time.
type Want struct {
	At    time.Time `json:"at"`
	Dynos int       `json:"dynos"`
}

// Episodes records which once-per-episode notices have been sent and not yet
// cleared, so a condition that holds for hours sends one message, not one a minute.
type Episodes struct {
	AboveMax   bool `json:"aboveMax,omitempty"`
	BelowMin   bool `json:"belowMin,omitempty"`
	ProbeError bool `json:"probeError,omitempty"`
	ScaleDiff  bool `json:"scaleDiff,omitempty"`
	// HerokuError is set while the Platform API refuses the key (401/403),
	// the account (402, 422 verification_needed, 403 suspended), or cannot
	// find the app or process type (404).
	HerokuError bool `json:"herokuError,omitempty"`
}

// Config is a snapshot of the settings a status display needs.
type Config struct {
	MinDynos      string `json:"minDynos"` // as written in the environment: a number or a schedule
	MaxDynos      string `json:"maxDynos"`
	TimeZone      string `json:"timeZone"`
	MaxResponseMS int64  `json:"maxResponseMs"`
	MinResponseMS int64  `json:"minResponseMs"`
	DryRun        bool   `json:"dryRun,omitempty"`
	Policy        string `json:"policy,omitempty"` // AUTOSCALE_POLICY; empty in items written before there was a choice
	// Signal is set with the queue_time and utilization signals only
	// (absent: response_time, as before they existed), with the queue
	// thresholds then in force, and the utilization target with that signal.
	Signal               probe.Signal `json:"signal,omitempty"`
	MaxQueueMS           int64        `json:"maxQueueMs,omitempty"`
	MinQueueMS           int64        `json:"minQueueMs,omitempty"`
	TargetUtilizationPct int          `json:"targetUtilizationPct,omitempty"`
	// With the job_latency signal: its thresholds, the queues worked
	// (comma-separated; empty: every queue reported), the jobs a dyno
	// takes (0: unset) and whether busy jobs hold every dyno.
	MaxJobLatencyMS int64  `json:"maxJobLatencyMs,omitempty"`
	MinJobLatencyMS int64  `json:"minJobLatencyMs,omitempty"`
	JobQueues       string `json:"jobQueues,omitempty"`
	JobsPerDyno     int    `json:"jobsPerDyno,omitempty"`
	LongJobs        bool   `json:"longJobs,omitempty"`
}

// Thresholds are the latencies beats were compared with, in ms: the
// queue-time ones with the queue_time signal (and with utilization, whose
// latency is the queue time), the job latency ones with job_latency, else
// the response-time ones.
func (c Config) Thresholds() (minMS, maxMS int64) {
	switch c.Signal {
	case probe.QueueTime, probe.Utilization:
		return c.MinQueueMS, c.MaxQueueMS
	case probe.JobLatency:
		return c.MinJobLatencyMS, c.MaxJobLatencyMS
	}
	return c.MinResponseMS, c.MaxResponseMS
}

// JobCounts are a job report's totals as records keep them (the
// job_latency signal): the report's latency is the record's.
type JobCounts struct {
	Waiting int    `json:"waiting"`          // jobs ready to run
	Busy    int    `json:"busy"`             // jobs running
	Queues  int    `json:"queues"`           // queues reported
	Oldest  string `json:"oldest,omitempty"` // the queue whose job has waited longest; empty when none waits
}

// JobCountsOf are the totals of a probe's job report; nil without one.
func JobCountsOf(r probe.Result) *JobCounts {
	if r.Jobs == nil {
		return nil
	}
	return &JobCounts{Waiting: r.Jobs.Depth(), Busy: r.Jobs.Busy(), Queues: len(r.Jobs.Queues), Oldest: r.Jobs.Oldest()}
}

// String is "12 waiting, 3 busy, oldest in default".
func (j JobCounts) String() string {
	s := fmt.Sprintf("%d waiting, %d busy", j.Waiting, j.Busy)
	if j.Oldest != "" {
		s += ", oldest in " + j.Oldest
	}
	return s
}

// Reason says why a tick chose its target. Its values are internal/decision's
// (which imports this package, so the type lives here and decision aliases
// it); they are stored as written, so the names are stable.
type Reason string

// ProbeRecord is the last heartbeat, kept for status displays.
type ProbeRecord struct {
	At        time.Time     `json:"at"`
	Verdict   probe.Verdict `json:"verdict"`
	LatencyMS int64         `json:"latencyMs"`
	Status    int           `json:"status,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	Source    probe.Source  `json:"latencySource,omitempty"` // with the queue_time and utilization signals
	// UtilizationPct is what the heartbeat reported with the utilization signal.
	UtilizationPct *float64 `json:"utilizationPct,omitempty"`
	// Jobs is what the heartbeat reported with the job_latency signal.
	Jobs *JobCounts `json:"jobs,omitempty"`
}

// ScaleEvent is one completed attempt to change the formation.
type ScaleEvent struct {
	At     time.Time `json:"at"`
	From   int       `json:"from"`
	To     int       `json:"to"`
	Reason Reason    `json:"reason"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error,omitempty"`
}

// Record kinds.
const (
	KindDecision = "decision"
	KindScale    = "scale"
)

// Record is one history entry: a tick's decision, or a scale attempt.
type Record struct {
	At        time.Time     `json:"at"`
	Kind      string        `json:"kind"`
	App       string        `json:"app"`
	Type      string        `json:"processType"`
	Verdict   probe.Verdict `json:"verdict,omitempty"`
	LatencyMS int64         `json:"latencyMs"`
	Source    probe.Source  `json:"latencySource,omitempty"` // with the queue_time and utilization signals
	// UtilizationPct is what the heartbeat reported with the utilization signal.
	UtilizationPct *float64 `json:"utilizationPct,omitempty"`
	// Jobs is what the heartbeat reported with the job_latency signal.
	Jobs    *JobCounts `json:"jobs,omitempty"`
	Status  int        `json:"status,omitempty"`
	Current int        `json:"current"`
	Target  int        `json:"target"`
	Min     int        `json:"min"`
	Max     int        `json:"max"`
	Reason  Reason     `json:"reason"`
	OK      bool       `json:"ok,omitempty"`
	Error   string     `json:"error,omitempty"`
	DryRun  bool       `json:"dryRun,omitempty"`
	Paused  bool       `json:"paused,omitempty"`
	Policy  string     `json:"policy,omitempty"` // the rules that decided; empty before there was a choice
}
