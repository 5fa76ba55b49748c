package settings

import (
	"slices"
	"strings"
)

// Var is one environment variable: the single source of its name, its
// default and its description. The loader takes its defaults from here, the
// command's flags too, and tests check that the settings table of docs/settings.md and
// the template's parameters agree.
type Var struct {
	Name string
	// Default is the value in force when the variable is unset or empty, as
	// it would be written in the environment; "" when there is none.
	Default string
	// Parameter is the template parameter that sets it in Lambda; "" when
	// none does (the stack fills it in, or it is for local use only).
	Parameter   string
	Description string
}

// vars is in the order of docs/settings.md.
var vars = []Var{
	{EnvAppName, "", "HerokuAppName", "the Heroku app (name or id)"},
	{EnvAPIKey, "", "", "API key, for local use; a dry run without it"},
	{EnvAPIKeyParameter, "", "HerokuApiKeyParameterName", "name of an SSM SecureString holding the key (Lambda)"},
	{EnvAPIURL, "https://api.heroku.com", "HerokuApiUrl", "Platform API base URL"},
	{EnvProcessType, "web", "HerokuProcessType", "the formation (process type) to scale"},
	{EnvHeartbeatURL, "", "HeartbeatUrl", "absolute `http(s)` URL probed each tick"},
	{EnvHeartbeatToken, "", "", "sent to the heartbeat as `Authorization: Bearer …`: the heartbeat kit answers its load headers only to a request with it (see [The heartbeat token](heartbeat.md#the-heartbeat-token)); never logged"},
	{EnvHeartbeatTokenParameter, "", "HeartbeatTokenParameterName", "name of an SSM SecureString holding the heartbeat token (Lambda), read and rotated as the key is"},
	{EnvHeartbeatTimeout, "10000", "HeartbeatTimeoutInMs", "the probe gives up after this; a timeout is a fail"},
	{EnvHeartbeatInterval, "30", "HeartbeatIntervalInSeconds", "time between two ticks; in Lambda 10, 15, 20, 30 or 60"},
	{EnvMaxResponseTime, "1000", "MaxResponseTimeInMs", "strictly slower is a fail (too slow)"},
	{EnvMinResponseTime, "200", "MinResponseTimeInMs", "strictly faster is a pass (fast enough to shrink)"},
	{EnvSignal, "response_time", "AutoscaleSignal", "what a beat measures: `response_time` (to the first byte), `queue_time` (router queue time, from the heartbeat's headers) or `utilization` (the share of time a dyno is busy, from the heartbeat kit's `X-Utilization-Pct`; see [Scaling on utilization](heartbeat.md#scaling-on-utilization))"},
	{EnvMaxQueueTime, "100", "MaxQueueTimeInMs", "with `queue_time`: strictly longer is a fail"},
	{EnvMinQueueTime, "10", "MinQueueTimeInMs", "with `queue_time`: strictly shorter is a pass"},
	{EnvTargetUtilization, "70", "TargetUtilizationPct", "with `utilization`: the busy share to run at, 1–100; a beat above it fails, under half of it passes. At 70 a single-threaded dyno answers in about 3× its idle time, and traffic can grow 28 % while a new dyno boots before 90 % (10× idle)"},
	{EnvJobQueues, "", "JobQueues", "with `job_latency`: the job queues this process type works, comma-separated, each of which the heartbeat must report (unset: every queue it reports); see [Scaling workers on job queues](heartbeat.md#scaling-workers-on-job-queues)"},
	{EnvMaxJobLatency, "10000", "MaxJobLatencyInMs", "with `job_latency`: a queue whose oldest waiting job is strictly older is a fail. Jobs run in the background, so seconds of waiting keep nobody at a screen, and a new worker dyno needs tens of seconds to boot: a tighter bound would add dynos for waits they cannot shorten"},
	{EnvMinJobLatency, "1000", "MinJobLatencyInMs", "with `job_latency`: a 2xx whose oldest waiting job is strictly younger is a pass (fast enough to shrink). A job that starts within a second found a worker free; raise it above your job library's poll interval if it polls"},
	{EnvJobsPerDyno, "", "JobsPerDyno", "with `job_latency`: size the formation from the jobs waiting and running, one dyno per this many (HireFire's ratio), at once on the way up; unset: by latency alone"},
	{EnvLongJobs, "false", "LongJobs", "with `job_latency`: never scale down while a queue reports busy jobs (a stopped dyno's jobs get 30 s)"},
	{EnvFailsToScaleUp, "3", "NumberOfFailsToScaleUpAfter", "consecutive fails that scale up"},
	{EnvPassesToScaleDown, "5", "NumberOfPassesToScaleDownAfter", "consecutive passes that scale down"},
	{EnvMaxDynos, "3", "MaxDynos", "a number, or a schedule such as `{\"0:00\":2,\"9:00\":5,\"17:00\":3}`"},
	{EnvMinDynos, "1", "MinDynos", "likewise; at least 1 for `web`; 0 lets a `job_latency` worker stop when no job waits or runs (see [To zero and back](heartbeat.md#to-zero-and-back))"},
	{EnvTimeZone, "UTC", "TimeZone", "IANA zone the schedules are read in, e.g. `America/Vancouver`"},
	{EnvIncrement, "1", "Increment", "dynos added or removed per scale"},
	{EnvCooldown, "0", "CooldownInSeconds", "least time from the last scale to a streak-driven one (bound corrections ignore it)"},
	{EnvScaleDiffThreshold, "", "NotifyIfScaleDiffExceedsThreshold", "notice when the highest minus the lowest dyno count within the period exceeds this"},
	{EnvScaleDiffPeriod, "", "NotifyIfScaleDiffExceedsPeriodInMinutes", "that period (set both or neither)"},
	{EnvNotifyIfNeedsExceedMax, "true", "NotifyIfNeedsExceedMax", "notice when at max and still too slow"},
	{EnvNotifyIfNeedsBelowMin, "false", "NotifyIfNeedsBelowMin", "notice when at min and still fast"},
	{EnvNotifyOnScaleFails, "false", "NotifyOnScaleFails", "notice when a scale call fails"},
	{EnvNotifyOnEveryScale, "false", "NotifyOnEveryScale", "notice on every scale"},
	{EnvNotifyOnEveryPing, "false", "NotifyOnEveryPing", "notice on every heartbeat"},
	{EnvDryRun, "false", "DryRun", "decide and record, never change the formation"},
	{EnvPolicy, string(DefaultPolicy), "Policy", "the scaling rules: `tracking` (target tracking), `original` (streaks, as above) or `proportional` (see [Policies](policies.md#policies))"},
	{EnvTargetResponseTime, "", "TargetResponseTimeInMs", "latency `tracking` and `proportional` aim for (unset: 50 % of the maximum response time with `tracking`, 75 % with `proportional`)"},
	{EnvBootTime, "60", "BootTimeInSeconds", "`tracking`, `proportional`: how long a new dyno takes to serve; until then it counts as coming"},
	{EnvScaleDownWindow, "", "ScaleDownWindowInSeconds", "`tracking`, `proportional`: scales down only to the most dynos wanted within this window (unset: 120 with `tracking`, 2400 with `proportional`)"},
	{EnvTableName, "", "", "DynamoDB table (required in Lambda)"},
	{EnvTopicARN, "", "", "SNS topic for notices (logged when unset)"},
	{EnvTickQueueURL, "", "", "SQS queue of the minute's later ticks (Lambda, interval under 60), and of a large fleet's formations"},
	{EnvFanOutAbove, "32", "", "in Lambda, a fleet of more formations than this is ticked through the tick queue rather than inside the scheduled invocation (0: always)"},
	{EnvPerFormationMetrics, "false", "PerFormationMetrics", "with a settings file, also publish each formation's metrics by app and process type ($0.30 a month per metric)"},
	{EnvHistoryTTL, "30", "HistoryTtlInDays", "how long history items are kept"},
	{EnvFunctionTimeout, "", "FunctionTimeoutInSeconds", "the Lambda timeout; the probe timeout must fit in it with 5 s to spare"},
	{EnvStateFile, ".autoscalebot/state.json", "", "local state file"},
	{EnvSettingsFile, "", "", "a YAML file of many formations (see Many formations from one settings file); in Lambda, the copy of it the build puts in the package"},
}

// Vars returns every variable, in the order of docs/settings.md.
func Vars() []Var { return slices.Clone(vars) }

// Lookup returns the variable called name, if there is one.
func Lookup(name string) (Var, bool) {
	i := slices.IndexFunc(vars, func(v Var) bool { return v.Name == name })
	if i < 0 {
		return Var{}, false
	}
	return vars[i], true
}

// Get returns the variable's value from getenv, trimmed, or its default when
// it is unset or empty. For the few the command reads outside Load.
func Get(getenv func(string) string, name string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	v, _ := Lookup(name)
	return v.Default
}
