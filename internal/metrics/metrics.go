// Package metrics writes one CloudWatch Embedded Metric Format (EMF) line per
// tick. In Lambda the line goes to stdout, and CloudWatch Logs turns it into
// metrics: no PutMetricData call, no extra permission, no cost beyond the log.
//
// That last claim holds because of the metric count. CloudWatch bills every
// metric name × dimension values combination as a custom metric ($0.30 a
// month each) beyond the 10 that are always free per account. Write emits at
// most 10 names (Names), under one dimension set (App, ProcessType), so one
// deployed app and process type fits the free tier, as long as nothing else in
// the account publishes custom metrics; each further app or process type adds
// 10 billed metrics. Anything else worth keeping goes on the line as a
// property: searchable in CloudWatch Logs Insights, never a metric.
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

// Dimension names. A single formation publishes every metric under App and
// ProcessType; a fleet under Fleet (see Scope).
const (
	DimensionApp         = "App"
	DimensionProcessType = "ProcessType"
	DimensionFleet       = "Fleet"
)

// Metric names. The dashboard and alarms in template.yaml use these names.
// Keep them at 10 or fewer (see the package doc and TestFreeTier).
const (
	HeartbeatLatency         = "HeartbeatLatency"         // the beat's latency in ms (to the first body byte, or the queue time with the queue_time signal: see PropertySignal); only when a response arrived
	FailVerdicts             = "FailVerdicts"             // 1 when the probe said too slow (or 5xx, timeout), else 0
	PassVerdicts             = "PassVerdicts"             // 1 when fast enough to count toward scaling down
	ProbeErrors              = "ProbeErrors"              // 1 when the probe itself is broken (4xx, DNS, TLS)
	Dynos                    = "Dynos"                    // quantity before this tick's scale
	TargetDynos              = "TargetDynos"              // quantity this tick decided on
	ScaleUps                 = "ScaleUps"                 // 1 when a scale up succeeded (or was simulated in dry run)
	ScaleDowns               = "ScaleDowns"               // 1 when a scale down succeeded (or was simulated in dry run)
	ScaleFailures            = "ScaleFailures"            // 1 when Heroku refused or failed the scale call
	HerokuRateLimitRemaining = "HerokuRateLimitRemaining" // Heroku API tokens left, when known
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
	ProbeErrors:              unitCount,
	Dynos:                    unitCount,
	TargetDynos:              unitCount,
	ScaleUps:                 unitCount,
	ScaleDowns:               unitCount,
	ScaleFailures:            unitCount,
	HerokuRateLimitRemaining: unitCount,
	FailedTicks:              unitCount,
}

// names fixes the order of Names and of the metrics in a line.
var names = []string{
	HeartbeatLatency, FailVerdicts, PassVerdicts, ProbeErrors,
	Dynos, TargetDynos,
	ScaleUps, ScaleDowns, ScaleFailures,
	HerokuRateLimitRemaining,
}

// FailedTicks is 1 when a formation's tick failed, else 0: a fleet's only
// metric beyond Names. A fanned-out formation's failure reaches no function
// error (SQS's partial batch response reports it), so the error alarm of a
// fleet watches this too. Under the one Fleet dimension it is one billed
// metric for the whole fleet, however many formations it has.
const FailedTicks = "FailedTicks"

// lineOrder is the order of the metrics in a line, FailedTicks last.
var lineOrder = append(names[:len(names):len(names)], FailedTicks)

// Names returns the name of every metric Write can emit.
func Names() []string { return append([]string(nil), names...) }

// Scope says under which dimensions WriteFleet publishes a line's metrics.
// CloudWatch bills each name × dimension values at $0.30 a month, so a
// fleet's formations share the one Fleet dimension (11 metrics, whatever its
// size), and each formation's figures stay on the line as the App and
// ProcessType properties, for Logs Insights. PerFormation also publishes
// them under App and ProcessType: 10 more billed metrics per formation.
type Scope struct {
	Fleet        string // the Fleet dimension's value: the function's name
	PerFormation bool
}

// Properties written on the line besides metrics and dimensions, for CloudWatch
// Logs Insights queries ("why did it scale?"). They never become metrics, so
// they cost nothing beyond the log. An ok verdict is Verdict = "ok" (the
// 0/1 verdict metrics do not count it).
const (
	PropertyReason   = "Reason"
	PropertyPolicy   = "Policy" // AUTOSCALE_POLICY: the rules that decided
	PropertyVerdict  = "Verdict"
	PropertyEventID  = "EventId"
	PropertyDryRun   = "DryRun"
	PropertyPaused   = "Paused"
	PropertyMinDynos = "MinDynos" // minimum in force now; with the dyno counts
	PropertyMaxDynos = "MaxDynos" // maximum in force now; with the dyno counts
	// PropertySignal is "queue_time" when HeartbeatLatency is a queue time
	// (absent: the response time), and PropertyLatencySource says which
	// header it came from (queue_p95, queue_probe, or response_time when none came).
	PropertySignal        = "Signal"
	PropertyLatencySource = "LatencySource"
)

// maxDimensionValue is the longest dimension value EMF accepts.
const maxDimensionValue = 1024

// Write writes one EMF line for the tick that produced sum, stamped now.
//
// What is written:
//   - a duplicate delivery or an invocation that lost the commit race: no
//     line at all, so the verdicts and scale counts of that minute are not
//     counted twice. Counting such ticks would take an 11th, billed metric;
//     the tick logs them instead;
//   - a tick that ended before probing (Verdict empty): nothing at all;
//   - otherwise the verdict counts (each 0 or 1, so a Sum counts ticks; an
//     ok verdict sets none of them and shows only in the Verdict property),
//     HeartbeatLatency when a response arrived, and, once the tick has
//     decided (Reason set and Heroku did not refuse), Dynos, TargetDynos and
//     the scale counts, with the bounds in force as the MinDynos and MaxDynos
//     properties. A dry run's simulated scale counts as a scale: that is what
//     a dry run is for.
//
// The line is written with a single Write call, so it does not interleave with
// log lines written to the same stream.
func Write(w io.Writer, now time.Time, sum tick.Summary) error {
	return write(w, now, nil, sum, false)
}

// WriteFleet writes one formation's line of a fleet: what Write writes, under
// the scope's dimensions, and FailedTicks. failed says the tick returned an
// error; such a tick gets a line even when it ended before probing, so that
// FailedTicks counts it.
func WriteFleet(w io.Writer, now time.Time, sc Scope, sum tick.Summary, failed bool) error {
	if sc.Fleet == "" {
		return errors.New("emf: a fleet needs its Fleet dimension value")
	}
	if len(sc.Fleet) > maxDimensionValue {
		return fmt.Errorf("emf: a dimension value is longer than %d characters", maxDimensionValue)
	}
	return write(w, now, &sc, sum, failed)
}

// write is Write, and with a scope WriteFleet.
func write(w io.Writer, now time.Time, sc *Scope, sum tick.Summary, failed bool) error {
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

	if sum.Duplicate || sum.Conflict || (sum.Verdict == "" && (sc == nil || !failed)) {
		return nil
	}
	if sc != nil {
		values[FailedTicks] = flag(failed)
	}
	if sum.Verdict == "" {
		return emit(w, now, sc, sum, fields{values, props})
	}
	props[PropertyVerdict] = string(sum.Verdict)
	if sum.Signal != "" {
		props[PropertySignal] = string(sum.Signal)
	}
	if sum.LatencySource != "" {
		props[PropertyLatencySource] = string(sum.LatencySource)
	}
	if sum.Reason != "" {
		props[PropertyReason] = string(sum.Reason)
	}
	if sum.Policy != "" {
		props[PropertyPolicy] = string(sum.Policy)
	}
	v, reason := sum.Verdict, sum.Reason
	values[FailVerdicts] = flag(v == probe.Fail)
	values[PassVerdicts] = flag(v == probe.Pass)
	values[ProbeErrors] = flag(v == probe.Error)
	// A timeout or a broken body is a fail without a latency: plotting
	// it as 0 ms would look like the fastest beat of the day.
	if v == probe.Pass || v == probe.OK || (v == probe.Fail && sum.LatencyMS > 0) {
		values[HeartbeatLatency] = sum.LatencyMS
	}
	// When Heroku refused to read the formation the quantity is unknown.
	if reason != "" && reason != decision.HerokuRefused {
		values[Dynos] = int64(sum.Current)
		values[TargetDynos] = int64(sum.Target)
		values[ScaleUps] = flag(sum.Scaled && sum.Target > sum.Current)
		values[ScaleDowns] = flag(sum.Scaled && sum.Target < sum.Current)
		values[ScaleFailures] = flag(sum.ScaleError != "")
		props[PropertyMinDynos] = sum.Min
		props[PropertyMaxDynos] = sum.Max
	}
	if sum.RateLimitRemaining != nil {
		values[HerokuRateLimitRemaining] = int64(*sum.RateLimitRemaining)
	}

	return emit(w, now, sc, sum, fields{values, props})
}

// emit encodes the line and writes it in one call.
func emit(w io.Writer, now time.Time, sc *Scope, sum tick.Summary, f fields) error {
	line, err := encode(now, sc, sum.App, sum.ProcessType, f)
	if err != nil {
		return err
	}
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("emf: write: %w", err)
	}
	return nil
}

// fields is what a line carries besides its dimensions.
type fields struct {
	values map[string]int64 // the metrics, by name
	props  map[string]any   // the properties, by name
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
func encode(now time.Time, sc *Scope, app, processType string, f fields) ([]byte, error) {
	directive := metricDirective{
		Namespace:  Namespace,
		Dimensions: [][]string{{DimensionApp, DimensionProcessType}},
	}
	root := make(map[string]any, len(f.values)+len(f.props)+4)
	if sc != nil {
		directive.Dimensions = [][]string{{DimensionFleet}}
		if sc.PerFormation {
			directive.Dimensions = append(directive.Dimensions, []string{DimensionApp, DimensionProcessType})
		}
		root[DimensionFleet] = sc.Fleet
	}
	for _, name := range lineOrder {
		v, ok := f.values[name]
		if !ok {
			continue
		}
		directive.Metrics = append(directive.Metrics, metricDefinition{Name: name, Unit: units[name]})
		root[name] = v
	}
	for k, v := range f.props {
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
