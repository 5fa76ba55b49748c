// Package metrics writes one CloudWatch Embedded Metric Format (EMF) line per
// tick. In Lambda the line goes to stdout, and CloudWatch Logs turns it into
// metrics: no PutMetricData call, no extra permission, no cost beyond the log.
//
// Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// Namespace is the CloudWatch namespace of every metric written here.
const Namespace = "Autoscalebot"

// Dimension names: every metric is published with exactly these two.
const (
	DimensionApp         = "App"
	DimensionProcessType = "ProcessType"
)

// Metric names. The dashboard and alarms in template.yaml use these names.
const (
	HeartbeatLatency         = "HeartbeatLatency"         // ms to the heartbeat's first body byte; only when a response arrived
	FailVerdicts             = "FailVerdicts"             // 1 when the probe said too slow (or 5xx, timeout), else 0
	PassVerdicts             = "PassVerdicts"             // 1 when fast enough to count toward scaling down
	OkVerdicts               = "OkVerdicts"               // 1 when in range
	ProbeErrors              = "ProbeErrors"              // 1 when the probe itself is broken (4xx, DNS, TLS)
	Dynos                    = "Dynos"                    // quantity before this tick's scale
	TargetDynos              = "TargetDynos"              // quantity this tick decided on
	MinDynos                 = "MinDynos"                 // minimum in force now
	MaxDynos                 = "MaxDynos"                 // maximum in force now
	ScaleUps                 = "ScaleUps"                 // 1 when a scale up succeeded (or was simulated in dry run)
	ScaleDowns               = "ScaleDowns"               // 1 when a scale down succeeded (or was simulated in dry run)
	ScaleFailures            = "ScaleFailures"            // 1 when Heroku refused or failed the scale call
	HerokuRateLimitRemaining = "HerokuRateLimitRemaining" // Heroku API tokens left, when known
	SkippedTicks             = "SkippedTicks"             // 1 for a duplicate delivery or an invocation that lost the race
)

// Units, from the CloudWatch MetricDatum list.
const (
	unitMilliseconds = "Milliseconds"
	unitCount        = "Count"
)

// units is every metric this package can write, with its unit.
var units = map[string]string{
	HeartbeatLatency:         unitMilliseconds,
	FailVerdicts:             unitCount,
	PassVerdicts:             unitCount,
	OkVerdicts:               unitCount,
	ProbeErrors:              unitCount,
	Dynos:                    unitCount,
	TargetDynos:              unitCount,
	MinDynos:                 unitCount,
	MaxDynos:                 unitCount,
	ScaleUps:                 unitCount,
	ScaleDowns:               unitCount,
	ScaleFailures:            unitCount,
	HerokuRateLimitRemaining: unitCount,
	SkippedTicks:             unitCount,
}

// names fixes the order of Names and of the metrics in a line.
var names = []string{
	HeartbeatLatency, FailVerdicts, PassVerdicts, OkVerdicts, ProbeErrors,
	Dynos, TargetDynos, MinDynos, MaxDynos,
	ScaleUps, ScaleDowns, ScaleFailures,
	HerokuRateLimitRemaining, SkippedTicks,
}

// Names returns the name of every metric Write can emit.
func Names() []string { return append([]string(nil), names...) }

// Properties written on the line besides metrics and dimensions, for CloudWatch
// Logs Insights queries ("why did it scale?"). They never become metrics.
const (
	PropertyReason  = "Reason"
	PropertyVerdict = "Verdict"
	PropertyEventID = "EventId"
	PropertyDryRun  = "DryRun"
	PropertyPaused  = "Paused"
	PropertySkipped = "Skipped" // "duplicate" or "conflict"
)

// maxDimensionValue is the longest dimension value EMF accepts.
const maxDimensionValue = 1024

// Write writes one EMF line for the tick that produced sum, stamped now.
// rateLimitKnown says whether rateLimitRemaining is a real reading.
//
// What is written:
//   - a duplicate delivery or an invocation that lost the commit race:
//     only SkippedTicks = 1, so the verdicts and scale counts of that minute
//     are not counted twice;
//   - a tick that ended before probing (Verdict empty): nothing at all;
//   - otherwise the verdict counts (each 0 or 1, so a Sum counts ticks),
//     HeartbeatLatency when a response arrived, and, once the tick has decided
//     (Reason set and Heroku did not refuse), the dyno counts and the scale
//     counts. A dry run's simulated scale counts as a scale: that is what a
//     dry run is for.
//
// The line is written with a single Write call, so it does not interleave with
// log lines written to the same stream.
func Write(w io.Writer, now time.Time, sum tick.Summary, rateLimitRemaining int, rateLimitKnown bool) error {
	if sum.App == "" || sum.ProcessType == "" {
		return errors.New("emf: app and process type are required dimensions")
	}
	if len(sum.App) > maxDimensionValue || len(sum.ProcessType) > maxDimensionValue {
		return fmt.Errorf("emf: a dimension value is longer than %d characters", maxDimensionValue)
	}
	values := map[string]int64{}
	props := map[string]any{PropertyDryRun: sum.DryRun, PropertyPaused: sum.Paused}
	if sum.EventID != "" {
		props[PropertyEventID] = sum.EventID
	}

	switch {
	case sum.Duplicate || sum.Conflict:
		values[SkippedTicks] = 1
		props[PropertySkipped] = "conflict"
		if sum.Duplicate {
			props[PropertySkipped] = "duplicate"
		}
	case sum.Verdict == "":
		return nil
	default:
		props[PropertyVerdict] = sum.Verdict
		if sum.Reason != "" {
			props[PropertyReason] = sum.Reason
		}
		v := probe.Verdict(sum.Verdict)
		values[FailVerdicts] = flag(v == probe.Fail)
		values[PassVerdicts] = flag(v == probe.Pass)
		values[OkVerdicts] = flag(v == probe.OK)
		values[ProbeErrors] = flag(v == probe.Error)
		// A timeout or a broken body is a fail without a latency: plotting
		// it as 0 ms would look like the fastest beat of the day.
		if v == probe.Pass || v == probe.OK || (v == probe.Fail && sum.LatencyMS > 0) {
			values[HeartbeatLatency] = sum.LatencyMS
		}
		// When Heroku refused to read the formation the quantity is unknown.
		if sum.Reason != "" && sum.Reason != string(decision.HerokuRefused) {
			values[Dynos] = int64(sum.Current)
			values[TargetDynos] = int64(sum.Target)
			values[MinDynos] = int64(sum.Min)
			values[MaxDynos] = int64(sum.Max)
			values[ScaleUps] = flag(sum.Scaled && sum.Target > sum.Current)
			values[ScaleDowns] = flag(sum.Scaled && sum.Target < sum.Current)
			values[ScaleFailures] = flag(sum.ScaleError != "")
		}
		if rateLimitKnown {
			values[HerokuRateLimitRemaining] = int64(rateLimitRemaining)
		}
	}

	line, err := encode(now, sum.App, sum.ProcessType, values, props)
	if err != nil {
		return err
	}
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("emf: write: %w", err)
	}
	return nil
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type metricDirective struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64             `json:"Timestamp"`
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
}

// encode builds the line: the _aws metadata naming each metric, then every
// metric, dimension and property as a top-level member, as EMF requires.
func encode(now time.Time, app, processType string, values map[string]int64, props map[string]any) ([]byte, error) {
	directive := metricDirective{
		Namespace:  Namespace,
		Dimensions: [][]string{{DimensionApp, DimensionProcessType}},
	}
	root := make(map[string]any, len(values)+len(props)+3)
	for _, name := range names {
		v, ok := values[name]
		if !ok {
			continue
		}
		directive.Metrics = append(directive.Metrics, metricDefinition{Name: name, Unit: units[name]})
		root[name] = v
	}
	for k, v := range props {
		root[k] = v
	}
	root[DimensionApp] = app
	root[DimensionProcessType] = processType
	root["_aws"] = metadata{Timestamp: now.UnixMilli(), CloudWatchMetrics: []metricDirective{directive}}
	b, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("emf: encode: %w", err)
	}
	return append(b, '\n'), nil
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
