// Package logkey names every attribute key of autoscalebot's log lines, in
// one spelling: camelCase, as in the tick's JSON summary, the DynamoDB items
// and the SNS messages, so that one query finds a field wherever it appears.
// Every slog call takes its keys from here (a test checks the source).
package logkey

// Keys of a tick's lines; most repeat the JSON summary's field names.
const (
	App                = "app"
	ProcessType        = "processType"
	EventID            = "eventId"
	DryRun             = "dryRun"
	Paused             = "paused"
	Verdict            = "verdict"
	LatencyMS          = "latencyMs"
	ProbeDetail        = "probeDetail"
	Current            = "current"
	Target             = "target"
	Min                = "min"
	Max                = "max"
	Reason             = "reason"
	Scaled             = "scaled"
	ScaleError         = "scaleError"
	SlowStreak         = "slowStreak"
	FastStreak         = "fastStreak"
	Notices            = "notices"
	QuantityFromState  = "quantityFromState"
	HerokuRefused      = "herokuRefused"
	RateLimitRemaining = "rateLimitRemaining"
	UtilizationPct     = "utilizationPct"
	LatencySource      = "latencySource" // what the latency measured, with the queue_time signal
)

// Keys of other lines.
const (
	Error    = "error"    // an error's text
	Detail   = "detail"   // free text from a library (the AWS SDK's own log)
	Event    = "event"    // a notice's event
	Title    = "title"    // a notice's title
	Text     = "text"     // a notice's text
	Settings = "settings" // the group of the settings in force, logged at start-up
	Trigger  = "trigger"  // what made the Lambda read the API key again
	Slot     = "slot"     // a tick's slot within its scheduled minute (0: the scheduled invocation)
	DueAt    = "dueAt"    // when a slot was due
	Late     = "late"     // how long after its due time a slot arrived
	Slots    = "slots"    // how many slots were sent to the tick queue

	Formation  = "formation"  // which formation of a fleet, as the settings file names it
	Formations = "formations" // how many formations an invocation ticked (or sent)
	Failed     = "failed"     // how many of them failed
	Messages   = "messages"   // how many tick queue messages were sent
)

// Keys inside the settings group.
const (
	APIURL                 = "apiUrl"
	APIKeySet              = "apiKeySet" // the key itself is never logged
	APIKeyParameter        = "apiKeyParameter"
	HeartbeatURL           = "heartbeatUrl"
	HeartbeatTimeout       = "heartbeatTimeout"
	HeartbeatInterval      = "heartbeatInterval"
	MaxResponseTime        = "maxResponseTime"
	MinResponseTime        = "minResponseTime"
	Signal                 = "signal"
	MaxQueueTime           = "maxQueueTime"
	MinQueueTime           = "minQueueTime"
	TargetUtilization      = "targetUtilizationPct"
	FailsToScaleUp         = "failsToScaleUp"
	PassesToScaleDown      = "passesToScaleDown"
	MaxDynos               = "maxDynos"
	MinDynos               = "minDynos"
	TimeZone               = "timeZone"
	Increment              = "increment"
	Cooldown               = "cooldown"
	ScaleDiffThreshold     = "scaleDiffThreshold"
	ScaleDiffPeriod        = "scaleDiffPeriod"
	NotifyIfNeedsExceedMax = "notifyIfNeedsExceedMax"
	NotifyIfNeedsBelowMin  = "notifyIfNeedsBelowMin"
	NotifyOnScaleFails     = "notifyOnScaleFails"
	NotifyOnEveryScale     = "notifyOnEveryScale"
	NotifyOnEveryPing      = "notifyOnEveryPing"
	Table                  = "table"
	Topic                  = "topic"
	TickQueue              = "tickQueue"
	FanOutAbove            = "fanOutAbove"
	PerFormationMetrics    = "perFormationMetrics"
	HistoryTTL             = "historyTtl"
	FunctionTimeout        = "functionTimeout"
	Policy                 = "policy"
	TargetResponseTime     = "targetResponseTime"
	BootTime               = "bootTime"
	ScaleDownWindow        = "scaleDownWindow"
)

// all is every key above; a test checks it against the constants.
var all = []string{
	App, ProcessType, EventID, DryRun, Paused, Verdict, LatencyMS, ProbeDetail, Current, Target, Min, Max,
	Reason, Scaled, ScaleError, SlowStreak, FastStreak, Notices, QuantityFromState, HerokuRefused,
	RateLimitRemaining, LatencySource, UtilizationPct,
	Error, Detail, Event, Title, Text, Settings, Trigger, Slot, DueAt, Late, Slots,
	Formation, Formations, Failed, Messages,
	APIURL, APIKeySet, APIKeyParameter, HeartbeatURL, HeartbeatTimeout, HeartbeatInterval, MaxResponseTime,
	MinResponseTime, Signal, MaxQueueTime, MinQueueTime, TargetUtilization, FailsToScaleUp, PassesToScaleDown, MaxDynos, MinDynos, TimeZone, Increment, Cooldown,
	ScaleDiffThreshold, ScaleDiffPeriod, NotifyIfNeedsExceedMax, NotifyIfNeedsBelowMin, NotifyOnScaleFails,
	NotifyOnEveryScale, NotifyOnEveryPing, Table, Topic, TickQueue, FanOutAbove, PerFormationMetrics, HistoryTTL, FunctionTimeout,
	Policy, TargetResponseTime, BootTime, ScaleDownWindow,
}

// All returns every key, in no particular order.
func All() []string { return append([]string(nil), all...) }
