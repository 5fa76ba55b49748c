// Package settings reads and validates autoscalebot's configuration from
// environment variables named as in the original (with the AUTOSCALE_ prefix).
// It is the one list of those names (Vars); package settingsfile reads many
// formations from one YAML file, each through Load.
package settings

import (
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// Settings is the validated configuration of one autoscaler.
type Settings struct {
	AppName         string
	APIKey          secret.Value // local use; in Lambda usually read from SSM
	APIKeyParameter string       // name of an SSM SecureString holding the key
	APIURL          string
	ProcessType     string

	HeartbeatURL string
	// HeartbeatToken goes to the heartbeat as a bearer token: the heartbeat
	// kit answers its load headers only to a request with it. In Lambda it
	// may instead be read from the SSM parameter HeartbeatTokenParameter.
	HeartbeatToken          secret.Value
	HeartbeatTokenParameter string
	HeartbeatTimeout        time.Duration
	HeartbeatInterval       time.Duration // time between two ticks
	MaxResponseTime         time.Duration // strictly slower is a fail
	MinResponseTime         time.Duration // strictly faster is a pass

	// Signal is what a beat's latency is: the response time, or the router
	// queue time the heartbeat reports; the queue thresholds apply to the latter.
	Signal       probe.Signal
	MaxQueueTime time.Duration // with queue_time: strictly longer is a fail
	MinQueueTime time.Duration // with queue_time: strictly shorter is a pass
	// TargetUtilizationPct is the utilization signal's target, 1–100: a
	// beat above it fails, below half of it passes.
	TargetUtilizationPct int

	// The job_latency signal's: the queues the formation works (none:
	// every queue the heartbeat reports), the latency thresholds of the
	// highest of theirs, the jobs one dyno takes (0: latency alone sizes
	// the formation), and whether to keep every dyno while jobs run.
	JobQueues     []string
	MaxJobLatency time.Duration // strictly longer is a fail
	MinJobLatency time.Duration // strictly shorter is a pass
	JobsPerDyno   int
	LongJobs      bool

	FailsToScaleUp    int
	PassesToScaleDown int
	MaxDynos          Bound
	MinDynos          Bound
	Location          *time.Location
	Increment         int
	Cooldown          time.Duration

	ScaleDiffThreshold int           // 0: off
	ScaleDiffPeriod    time.Duration // 0: off

	NotifyIfNeedsExceedMax bool
	NotifyIfNeedsBelowMin  bool
	NotifyOnScaleFails     bool
	NotifyOnEveryScale     bool
	NotifyOnEveryPing      bool

	DryRun bool

	// Policy chooses the scaling rules; the rest of this block are the
	// proportional policy's (the original ignores them).
	Policy             Policy
	TargetResponseTime time.Duration // the latency to aim for
	BootTime           time.Duration // from a scale up until the new dynos serve
	ScaleDownWindow    time.Duration // scale down only to the most dynos wanted within it

	// Serverless deployment.
	TableName  string
	TopicARN   string
	HistoryTTL time.Duration
	// TickQueueURL is the SQS queue the scheduled invocation sends the
	// minute's later slots to (Lambda with an interval under 60 s).
	TickQueueURL string
	// FanOutAbove is the largest fleet the scheduled invocation ticks
	// itself; a larger one is fanned out over the tick queue (0: always).
	FanOutAbove int
	// PerFormationMetrics also publishes a fleet's metrics by app and
	// process type, each billed as a custom metric.
	PerFormationMetrics bool

	// FunctionTimeout is the Lambda function's timeout, when configured
	// (0: unknown); the probe must finish well inside it.
	FunctionTimeout time.Duration
}

// Slot is one entry of a time-of-day schedule: from Hour:Minute on, Value applies.
type Slot struct {
	Hour, Minute, Value int
}

// Bound is a dyno count that is either fixed or follows a time-of-day schedule.
type Bound struct {
	fixed int
	slots []Slot // sorted by hour and minute; empty for a fixed bound
}

// Fixed returns a bound that is n at every time of day.
func Fixed(n int) Bound { return Bound{fixed: n} }

// Schedule returns a bound that follows slots, sorted by hour and minute.
// It needs at least one slot.
func Schedule(slots []Slot) Bound {
	sorted := append([]Slot(nil), slots...)
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].Hour*60+sorted[i].Minute < sorted[j].Hour*60+sorted[j].Minute
	})
	return Bound{slots: sorted}
}

// IsSchedule reports whether the bound varies with the time of day.
func (b Bound) IsSchedule() bool { return len(b.slots) > 0 }

// Slots returns a copy of the schedule's slots, sorted (nil for a fixed bound).
func (b Bound) Slots() []Slot { return append([]Slot(nil), b.slots...) }

// At returns the value in force at local time t, and the schedule slot it comes
// from ("H:MM", empty for a fixed bound). Before the day's first slot, the
// previous day's last slot still applies.
func (b Bound) At(t time.Time) (value int, slot string) {
	if len(b.slots) == 0 {
		return b.fixed, ""
	}
	minute := t.Hour()*60 + t.Minute()
	current := b.slots[len(b.slots)-1] // wrap-around from yesterday
	for _, s := range b.slots {
		if s.Hour*60+s.Minute > minute {
			break
		}
		current = s
	}
	return current.Value, fmt.Sprintf("%d:%02d", current.Hour, current.Minute)
}

// String renders the bound as it would be written in the environment.
func (b Bound) String() string {
	if len(b.slots) == 0 {
		return strconv.Itoa(b.fixed)
	}
	parts := make([]string, len(b.slots))
	for i, s := range b.slots {
		parts[i] = fmt.Sprintf("%q:%d", fmt.Sprintf("%d:%02d", s.Hour, s.Minute), s.Value)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Bounds returns the min and max dyno counts in force at now (converted to
// the configured time zone). When they cross, max wins, as in the original.
func (s Settings) Bounds(now time.Time) (lo, hi int) {
	local := now
	if s.Location != nil {
		local = now.In(s.Location)
	}
	lo, _ = s.MinDynos.At(local)
	hi, _ = s.MaxDynos.At(local)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// Thresholds are the latencies a beat is compared with: the queue-time
// ones when the signal is queue time, the job latency ones with
// job_latency, else the response-time ones. With the utilization signal
// the latency is the queue time, and these are the queue-time ones too,
// though the verdict compares utilization.
func (s Settings) Thresholds() (lo, hi time.Duration) {
	switch s.Signal {
	case probe.QueueTime, probe.Utilization:
		return s.MinQueueTime, s.MaxQueueTime
	case probe.JobLatency:
		return s.MinJobLatency, s.MaxJobLatency
	}
	return s.MinResponseTime, s.MaxResponseTime
}

// TargetUtilization is the utilization signal's target as a share, 0–1.
func (s Settings) TargetUtilization() float64 { return float64(s.TargetUtilizationPct) / 100 }

// LogValue lists the settings for a start-up log line. The API key and the
// heartbeat token are only said to be set or not; a password in the
// heartbeat URL is masked.
func (s Settings) LogValue() slog.Value {
	zone := "UTC"
	if s.Location != nil {
		zone = s.Location.String()
	}
	return slog.GroupValue(
		slog.String(logkey.App, s.AppName),
		slog.String(logkey.ProcessType, s.ProcessType),
		slog.String(logkey.APIURL, s.APIURL),
		slog.Bool(logkey.APIKeySet, !s.APIKey.IsZero()),
		slog.String(logkey.APIKeyParameter, s.APIKeyParameter),
		slog.String(logkey.HeartbeatURL, redactURL(s.HeartbeatURL)),
		slog.Bool(logkey.HeartbeatTokenSet, !s.HeartbeatToken.IsZero()),
		slog.String(logkey.HeartbeatTokenParameter, s.HeartbeatTokenParameter),
		slog.String(logkey.HeartbeatTimeout, s.HeartbeatTimeout.String()),
		slog.String(logkey.HeartbeatInterval, s.HeartbeatInterval.String()),
		slog.String(logkey.MaxResponseTime, s.MaxResponseTime.String()),
		slog.String(logkey.MinResponseTime, s.MinResponseTime.String()),
		slog.String(logkey.Signal, string(s.Signal)),
		slog.String(logkey.MaxQueueTime, s.MaxQueueTime.String()),
		slog.String(logkey.MinQueueTime, s.MinQueueTime.String()),
		slog.Int(logkey.TargetUtilization, s.TargetUtilizationPct),
		slog.String(logkey.JobQueues, strings.Join(s.JobQueues, ",")),
		slog.String(logkey.MaxJobLatency, s.MaxJobLatency.String()),
		slog.String(logkey.MinJobLatency, s.MinJobLatency.String()),
		slog.Int(logkey.JobsPerDyno, s.JobsPerDyno),
		slog.Bool(logkey.LongJobs, s.LongJobs),
		slog.Int(logkey.FailsToScaleUp, s.FailsToScaleUp),
		slog.Int(logkey.PassesToScaleDown, s.PassesToScaleDown),
		slog.String(logkey.MaxDynos, s.MaxDynos.String()),
		slog.String(logkey.MinDynos, s.MinDynos.String()),
		slog.String(logkey.TimeZone, zone),
		slog.Int(logkey.Increment, s.Increment),
		slog.String(logkey.Cooldown, s.Cooldown.String()),
		slog.Int(logkey.ScaleDiffThreshold, s.ScaleDiffThreshold),
		slog.String(logkey.ScaleDiffPeriod, s.ScaleDiffPeriod.String()),
		slog.Bool(logkey.NotifyIfNeedsExceedMax, s.NotifyIfNeedsExceedMax),
		slog.Bool(logkey.NotifyIfNeedsBelowMin, s.NotifyIfNeedsBelowMin),
		slog.Bool(logkey.NotifyOnScaleFails, s.NotifyOnScaleFails),
		slog.Bool(logkey.NotifyOnEveryScale, s.NotifyOnEveryScale),
		slog.Bool(logkey.NotifyOnEveryPing, s.NotifyOnEveryPing),
		slog.Bool(logkey.DryRun, s.DryRun),
		slog.String(logkey.Policy, string(s.Policy)),
		slog.String(logkey.TargetResponseTime, s.TargetResponseTime.String()),
		slog.String(logkey.BootTime, s.BootTime.String()),
		slog.String(logkey.ScaleDownWindow, s.ScaleDownWindow.String()),
		slog.String(logkey.Table, s.TableName),
		slog.String(logkey.Topic, s.TopicARN),
		slog.String(logkey.TickQueue, s.TickQueueURL),
		slog.Int(logkey.FanOutAbove, s.FanOutAbove),
		slog.Bool(logkey.PerFormationMetrics, s.PerFormationMetrics),
		slog.String(logkey.HistoryTTL, s.HistoryTTL.String()),
		slog.String(logkey.FunctionTimeout, s.FunctionTimeout.String()),
	)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Redacted()
}
