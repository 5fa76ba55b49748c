package settings

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/secret"
)

// Environment variable names; Vars has their defaults and descriptions.
const (
	EnvAppName                 = "AUTOSCALE_HEROKU_APP_NAME"
	EnvAPIKey                  = "AUTOSCALE_HEROKU_API_KEY"
	EnvAPIKeyParameter         = "AUTOSCALE_HEROKU_API_KEY_PARAMETER"
	EnvAPIURL                  = "AUTOSCALE_HEROKU_API_URL"
	EnvProcessType             = "AUTOSCALE_HEROKU_PROCESS_TYPE"
	EnvHeartbeatURL            = "AUTOSCALE_HEARTBEAT_URL"
	EnvHeartbeatToken          = "AUTOSCALE_HEARTBEAT_TOKEN"
	EnvHeartbeatTokenParameter = "AUTOSCALE_HEARTBEAT_TOKEN_PARAMETER"
	EnvHeartbeatTimeout        = "AUTOSCALE_HEARTBEAT_TIMEOUT_IN_MS"
	EnvHeartbeatInterval       = "AUTOSCALE_HEARTBEAT_INTERVAL_IN_SECONDS"
	EnvMaxResponseTime         = "AUTOSCALE_MAX_RESPONSE_TIME_IN_MS"
	EnvMinResponseTime         = "AUTOSCALE_MIN_RESPONSE_TIME_IN_MS"
	EnvSignal                  = "AUTOSCALE_SIGNAL"
	EnvMaxQueueTime            = "AUTOSCALE_MAX_QUEUE_TIME_IN_MS"
	EnvMinQueueTime            = "AUTOSCALE_MIN_QUEUE_TIME_IN_MS"
	EnvTargetUtilization       = "AUTOSCALE_TARGET_UTILIZATION_PCT"
	EnvJobQueues               = "AUTOSCALE_JOB_QUEUES"
	EnvMaxJobLatency           = "AUTOSCALE_MAX_JOB_LATENCY_IN_MS"
	EnvMinJobLatency           = "AUTOSCALE_MIN_JOB_LATENCY_IN_MS"
	EnvJobsPerDyno             = "AUTOSCALE_JOBS_PER_DYNO"
	EnvLongJobs                = "AUTOSCALE_LONG_JOBS"
	EnvFailsToScaleUp          = "AUTOSCALE_NUMBER_OF_FAILS_TO_SCALE_UP_AFTER"
	EnvPassesToScaleDown       = "AUTOSCALE_NUMBER_OF_PASSES_TO_SCALE_DOWN_AFTER"
	EnvMaxDynos                = "AUTOSCALE_MAX_DYNOS"
	EnvMinDynos                = "AUTOSCALE_MIN_DYNOS"
	EnvTimeZone                = "AUTOSCALE_TIME_ZONE"
	EnvIncrement               = "AUTOSCALE_INCREMENT"
	EnvCooldown                = "AUTOSCALE_COOLDOWN_IN_SECONDS"
	EnvScaleDiffThreshold      = "AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_THRESHOLD"
	EnvScaleDiffPeriod         = "AUTOSCALE_NOTIFY_IF_SCALE_DIFF_EXCEEDS_PERIOD_IN_MINUTES"
	EnvNotifyIfNeedsExceedMax  = "AUTOSCALE_NOTIFY_IF_NEEDS_EXCEED_MAX"
	EnvNotifyIfNeedsBelowMin   = "AUTOSCALE_NOTIFY_IF_NEEDS_BELOW_MIN"
	EnvNotifyOnScaleFails      = "AUTOSCALE_NOTIFY_ON_SCALE_FAILS"
	EnvNotifyOnEveryScale      = "AUTOSCALE_NOTIFY_ON_EVERY_SCALE"
	EnvNotifyOnEveryPing       = "AUTOSCALE_NOTIFY_ON_EVERY_PING"
	EnvDryRun                  = "AUTOSCALE_DRY_RUN"
	EnvPolicy                  = "AUTOSCALE_POLICY"
	EnvTargetResponseTime      = "AUTOSCALE_TARGET_RESPONSE_TIME_IN_MS"
	EnvBootTime                = "AUTOSCALE_BOOT_TIME_IN_SECONDS"
	EnvScaleDownWindow         = "AUTOSCALE_SCALE_DOWN_WINDOW_IN_SECONDS"
	EnvTableName               = "AUTOSCALE_TABLE_NAME"
	EnvTopicARN                = "AUTOSCALE_TOPIC_ARN"
	EnvTickQueueURL            = "AUTOSCALE_TICK_QUEUE_URL"
	EnvFanOutAbove             = "AUTOSCALE_FAN_OUT_ABOVE"
	EnvPerFormationMetrics     = "AUTOSCALE_PER_FORMATION_METRICS"
	EnvHistoryTTL              = "AUTOSCALE_HISTORY_TTL_IN_DAYS"
	EnvFunctionTimeout         = "AUTOSCALE_FUNCTION_TIMEOUT_IN_SECONDS"
	EnvStateFile               = "AUTOSCALE_STATE_FILE" // read by the command, not by Load
	webProcessType             = "web"                  // Heroku's: the process type that gets HTTP traffic
	maxDynoCount               = 10000                  // far above any Heroku plan; guards arithmetic
	maxStreak                  = 100000
	maxMillis                  = 3600 * 1000 // an hour
	maxJobMillis               = 24 * maxMillis
	maxJobQueues               = 50 // the heartbeat kit reports no more
	maxJobsPerDyno             = 1000000
	maxSeconds                 = 30 * 24 * 3600
	maxHistoryDays             = 3650
	maxLambdaTimeoutSeconds    = 900
	maxFanOutAbove             = 10000
)

// EnvSettingsFile names the settings file of many formations; Vars lists
// it with the others. Load refuses it: one formation is read from the
// environment alone.
const EnvSettingsFile = "AUTOSCALE_SETTINGS_FILE"

// FleetParameterPrefix is the path under which a fleet's formations keep
// their API keys in SSM: with a settings file, the function's role may read
// these and its own HerokuApiKeyParameterName, nothing else (template.yaml
// grants exactly this prefix; a test holds the two together).
const FleetParameterPrefix = "/autoscalebot/"

// FunctionTimeoutMargin is the least time a Lambda invocation keeps, after
// the probe's timeout, for the state writes and the Heroku call.
const FunctionTimeoutMargin = 5 * time.Second

// Problem is one bad setting.
type Problem struct {
	Var string // environment variable name
	Msg string // what is wrong, quoting the value (never a secret's)
}

func (p Problem) String() string { return p.Var + ": " + p.Msg }

// Error reports every bad setting found by one Load.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.String()
	}
	return "invalid settings:\n" + strings.Join(lines, "\n")
}

// Load reads and validates the settings from getenv (os.Getenv when nil).
// On failure it returns an *Error listing every bad setting.
func Load(getenv func(string) string) (Settings, error) {
	return load(getenv, false)
}

// LoadLambda is Load plus what the Lambda function needs: a table name and
// an API key, given directly or as an SSM parameter name.
func LoadLambda(getenv func(string) string) (Settings, error) {
	return load(getenv, true)
}

func load(getenv func(string) string, lambda bool) (Settings, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	l := &loader{getenv: getenv}
	l.secrets = []string{l.raw(EnvAPIKey), l.raw(EnvHeartbeatToken)}
	var s Settings
	if f := l.raw(EnvSettingsFile); f != "" {
		// Ignoring it would scale one formation with settings the user did not mean.
		l.bad(EnvSettingsFile, f, "this entry point reads one formation from the environment, not a settings file")
	}

	s.AppName = l.appName()
	l.credentials(&s, lambda)
	s.APIURL = strings.TrimRight(l.url(EnvAPIURL, false), "/")
	s.ProcessType = l.processType()

	s.HeartbeatURL = l.url(EnvHeartbeatURL, true)
	s.HeartbeatTimeout = time.Duration(l.integer(EnvHeartbeatTimeout, 1, maxMillis)) * time.Millisecond
	s.HeartbeatInterval = time.Duration(l.integer(EnvHeartbeatInterval, 1, 24*3600)) * time.Second
	s.MinResponseTime, s.MaxResponseTime = l.thresholds(EnvMinResponseTime, EnvMaxResponseTime, maxMillis)

	l.signalSettings(&s)

	s.FailsToScaleUp = l.integer(EnvFailsToScaleUp, 1, maxStreak)
	s.PassesToScaleDown = l.integer(EnvPassesToScaleDown, 1, maxStreak)
	least := 0
	if s.ProcessType == webProcessType {
		least = 1
	}
	s.MaxDynos = l.bound(EnvMaxDynos, least)
	s.MinDynos = l.bound(EnvMinDynos, least)
	if !s.MaxDynos.IsSchedule() && !s.MinDynos.IsSchedule() && s.MinDynos.fixed > s.MaxDynos.fixed &&
		l.ok(EnvMinDynos, EnvMaxDynos) {
		l.cross(EnvMinDynos, s.MinDynos.String(), fmt.Sprintf("must not exceed %s (%d)", EnvMaxDynos, s.MaxDynos.fixed))
	}
	s.Location = l.location()
	s.Increment = l.integer(EnvIncrement, 1, maxDynoCount)
	s.Cooldown = time.Duration(l.integer(EnvCooldown, 0, maxSeconds)) * time.Second

	s.NotifyIfNeedsExceedMax = l.boolean(EnvNotifyIfNeedsExceedMax)
	s.NotifyIfNeedsBelowMin = l.boolean(EnvNotifyIfNeedsBelowMin)
	s.NotifyOnScaleFails = l.boolean(EnvNotifyOnScaleFails)
	s.NotifyOnEveryScale = l.boolean(EnvNotifyOnEveryScale)
	s.NotifyOnEveryPing = l.boolean(EnvNotifyOnEveryPing)
	s.DryRun = l.boolean(EnvDryRun)
	l.policySettings(&s)

	s.TableName = l.raw(EnvTableName)
	if lambda && s.TableName == "" {
		l.problem(EnvTableName, "required")
	}
	s.TopicARN = l.topicARN()
	s.TickQueueURL = l.raw(EnvTickQueueURL)
	if lambda {
		l.lambdaInterval(s.HeartbeatInterval, s.TickQueueURL)
	}
	s.FanOutAbove = l.integer(EnvFanOutAbove, 0, maxFanOutAbove)
	s.PerFormationMetrics = l.boolean(EnvPerFormationMetrics)
	s.HistoryTTL = time.Duration(l.integer(EnvHistoryTTL, 1, maxHistoryDays)) * 24 * time.Hour

	l.scaleDiff(&s)

	s.FunctionTimeout = time.Duration(l.integer(EnvFunctionTimeout, 0, maxLambdaTimeoutSeconds)) * time.Second
	if s.FunctionTimeout > 0 && s.HeartbeatTimeout+FunctionTimeoutMargin > s.FunctionTimeout &&
		l.ok(EnvFunctionTimeout, EnvHeartbeatTimeout) {
		l.cross(EnvHeartbeatTimeout, strconv.FormatInt(s.HeartbeatTimeout.Milliseconds(), 10), fmt.Sprintf(
			"the probe must end at least %s before the function timeout (%s=%d)",
			FunctionTimeoutMargin, EnvFunctionTimeout, int(s.FunctionTimeout.Seconds())))
	}

	if len(l.problems) > 0 {
		return Settings{}, &Error{Problems: l.problems}
	}
	return s, nil
}

// policySettings reads the policy and the proportional policy's knobs.
func (l *loader) policySettings(s *Settings) {
	s.Policy = l.policy()
	if s.Policy == PolicyProportional && s.Signal != probe.ResponseTime && l.ok(EnvPolicy, EnvSignal) {
		// Its target and boot arithmetic are response times; queue time
		// would be read against them as if it were one.
		l.cross(EnvPolicy, string(s.Policy), "works on "+string(probe.ResponseTime)+" only; with "+EnvSignal+"="+string(s.Signal)+" use "+string(PolicyOriginal))
	}
	s.TargetResponseTime = time.Duration(l.integer(EnvTargetResponseTime, 1, maxMillis)) * time.Millisecond
	if s.TargetResponseTime == 0 {
		s.TargetResponseTime = DefaultTarget(s.Policy, s.MaxResponseTime)
	} else if s.TargetResponseTime > s.MaxResponseTime && l.ok(EnvTargetResponseTime, EnvMaxResponseTime) {
		// Aiming above "too slow" would hold the app slow.
		l.cross(EnvTargetResponseTime, strconv.FormatInt(s.TargetResponseTime.Milliseconds(), 10),
			fmt.Sprintf("must not exceed %s (%d ms)", EnvMaxResponseTime, s.MaxResponseTime.Milliseconds()))
	}
	s.BootTime = time.Duration(l.integer(EnvBootTime, 0, 3600)) * time.Second
	s.ScaleDownWindow = DefaultScaleDownWindow(s.Policy)
	if l.value(EnvScaleDownWindow) != "" {
		s.ScaleDownWindow = time.Duration(l.integer(EnvScaleDownWindow, 0, 24*3600)) * time.Second
	}
}

// credentials reads the API key and the heartbeat token, each given
// directly or (in Lambda) as an SSM parameter name, there never both. The
// command reads neither parameter: a file naming one works there with the
// secret exported.
func (l *loader) credentials(s *Settings, lambda bool) {
	s.APIKey = secret.New(l.raw(EnvAPIKey))
	s.APIKeyParameter = l.raw(EnvAPIKeyParameter)
	if lambda {
		switch {
		case s.APIKey.IsZero() && s.APIKeyParameter == "":
			l.problem(EnvAPIKeyParameter, "required (or "+EnvAPIKey+")")
		case !s.APIKey.IsZero() && s.APIKeyParameter != "":
			l.problem(EnvAPIKeyParameter, "set only one of "+EnvAPIKey+" and "+EnvAPIKeyParameter)
		}
	}
	s.HeartbeatToken = secret.New(l.raw(EnvHeartbeatToken))
	s.HeartbeatTokenParameter = l.raw(EnvHeartbeatTokenParameter)
	if lambda && !s.HeartbeatToken.IsZero() && s.HeartbeatTokenParameter != "" {
		l.problem(EnvHeartbeatTokenParameter, "set only one of "+EnvHeartbeatToken+" and "+EnvHeartbeatTokenParameter)
	}
}

// scaleDiff reads the scale-diff notice's threshold and period: both or
// neither, since one alone would silently never notify.
func (l *loader) scaleDiff(s *Settings) {
	threshold, period := l.raw(EnvScaleDiffThreshold), l.raw(EnvScaleDiffPeriod)
	switch {
	case threshold != "" && period == "":
		l.problem(EnvScaleDiffPeriod, "required when "+EnvScaleDiffThreshold+" is set")
	case threshold == "" && period != "":
		l.problem(EnvScaleDiffThreshold, "required when "+EnvScaleDiffPeriod+" is set")
	}
	if threshold != "" {
		s.ScaleDiffThreshold = l.integer(EnvScaleDiffThreshold, 1, maxDynoCount)
	}
	if period != "" {
		s.ScaleDiffPeriod = time.Duration(l.integer(EnvScaleDiffPeriod, 1, maxHistoryDays*24*60)) * time.Minute
		// The period is looked up in the scale history, which expires.
		if s.ScaleDiffPeriod > s.HistoryTTL && l.ok(EnvScaleDiffPeriod, EnvHistoryTTL) {
			l.bad(EnvScaleDiffPeriod, period, fmt.Sprintf("is longer than the history kept (%s=%d)",
				EnvHistoryTTL, s.HistoryTTL/(24*time.Hour)))
		}
	}
}

// loader collects problems so that one Load reports all of them.
type loader struct {
	getenv   func(string) string
	secrets  []string // the API key and the heartbeat token: never shown, even if pasted into another setting
	problems []Problem
	failed   map[string]bool
}

func (l *loader) raw(name string) string { return strings.TrimSpace(l.getenv(name)) }

// value is the setting as given, or its default (Vars) when unset: a
// default goes through the same parsing as a value, so it cannot drift
// from what docs/settings.md and the template say.
func (l *loader) value(name string) string { return Get(l.getenv, name) }

func (l *loader) problem(name, msg string) {
	l.problems = append(l.problems, Problem{Var: name, Msg: msg})
	if l.failed == nil {
		l.failed = map[string]bool{}
	}
	l.failed[name] = true
}

func (l *loader) bad(name, value, reason string) { l.problem(name, l.quote(value)+": "+reason) }

// cross reports a value that conflicts with another setting. The value in
// force is shown, marked when it is the default rather than the user's.
func (l *loader) cross(name, inForce, reason string) {
	shown := l.quote(inForce)
	if l.raw(name) == "" {
		shown += " (default)"
	}
	l.problem(name, shown+": "+reason)
}

// ok reports whether none of names has a problem yet, so that a cross-check
// does not pile onto a value already reported.
func (l *loader) ok(names ...string) bool {
	for _, n := range names {
		if l.failed[n] {
			return false
		}
	}
	return true
}

// quote renders a value for an error message: without the API key or
// the heartbeat token, escaped, and cut short.
func (l *loader) quote(v string) string {
	const limit = 80
	for _, secret := range l.secrets {
		if secret != "" {
			v = strings.ReplaceAll(v, secret, "[redacted]")
		}
	}
	if utf8.RuneCountInString(v) > limit {
		v = string([]rune(v)[:limit]) + "…"
	}
	return strconv.Quote(v)
}

// integer is 0 when the setting has no value and no default.
func (l *loader) integer(name string, lo, hi int) int {
	v := l.value(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		l.bad(name, v, "not a whole number")
	case n < lo:
		l.bad(name, v, fmt.Sprintf("must be at least %d", lo))
	case n > hi:
		l.bad(name, v, fmt.Sprintf("must be at most %d", hi))
	default:
		return n
	}
	return 0
}

func (l *loader) boolean(name string) bool {
	v := l.value(name)
	switch strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	l.bad(name, v, "not a boolean (true, false, 1 or 0)")
	return false
}

// url checks for an absolute http or https URL. Values are shown with any
// password masked.
func (l *loader) url(name string, required bool) string {
	v := l.value(name)
	if v == "" {
		if required {
			l.problem(name, "required")
		}
		return ""
	}
	u, err := url.Parse(v)
	if err != nil {
		l.bad(name, v, "not a URL")
		return ""
	}
	shown := u.Redacted()
	switch {
	case u.Scheme == "" || u.Host == "":
		l.bad(name, shown, "not an absolute URL (like https://example.com/path)")
	case u.Scheme != "http" && u.Scheme != "https":
		l.bad(name, shown, "scheme must be http or https")
	case u.Hostname() == "":
		l.bad(name, shown, "has no host")
	case name == EnvAPIURL && (u.RawQuery != "" || u.Fragment != "" || u.ForceQuery):
		// Request paths are appended to this base.
		l.bad(name, shown, "must not have a query or fragment")
	default:
		return v
	}
	return ""
}

func (l *loader) appName() string {
	v := l.raw(EnvAppName)
	switch {
	case v == "":
		l.problem(EnvAppName, "required")
	case !IsAppName(v):
		l.bad(EnvAppName, v, "not a Heroku app name or id (lowercase letters, digits and dashes)")
	}
	return v
}

func (l *loader) processType() string {
	v := l.value(EnvProcessType)
	if !IsProcessType(v) {
		l.bad(EnvProcessType, v, "not a process type (letters, digits, - and _)")
	}
	return v
}

// signalSettings reads the signal and its thresholds.
func (l *loader) signalSettings(s *Settings) {
	s.Signal = l.signal()
	s.MinQueueTime, s.MaxQueueTime = l.thresholds(EnvMinQueueTime, EnvMaxQueueTime, maxMillis)
	s.TargetUtilizationPct = l.integer(EnvTargetUtilization, 1, 100)

	s.JobQueues = l.jobQueues()
	s.MinJobLatency, s.MaxJobLatency = l.thresholds(EnvMinJobLatency, EnvMaxJobLatency, maxJobMillis)
	s.JobsPerDyno = l.integer(EnvJobsPerDyno, 1, maxJobsPerDyno)
	s.LongJobs = l.boolean(EnvLongJobs)
}

// thresholds reads a pair of latency thresholds in ms: a maximum of at
// least 1 and a minimum of at least 0, both at most limit, the minimum not
// above the maximum.
func (l *loader) thresholds(minName, maxName string, limit int) (lo, hi time.Duration) {
	hi = time.Duration(l.integer(maxName, 1, limit)) * time.Millisecond
	lo = time.Duration(l.integer(minName, 0, limit)) * time.Millisecond
	if lo > hi && l.ok(minName, maxName) {
		l.cross(minName, strconv.FormatInt(lo.Milliseconds(), 10),
			fmt.Sprintf("must not exceed %s (%d ms)", maxName, hi.Milliseconds()))
	}
	return lo, hi
}

// jobQueues reads the comma-separated queue names, every bad one named.
func (l *loader) jobQueues() []string {
	v := l.value(EnvJobQueues)
	if v == "" {
		return nil
	}
	var names, bad []string
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			bad = append(bad, "an empty name (a stray comma?)")
		case !probe.IsQueueName(name):
			bad = append(bad, l.quote(name)+" is not a queue name (letters, digits, _ . : and -)")
		case slices.Contains(names, name):
			bad = append(bad, l.quote(name)+" is named twice")
		default:
			names = append(names, name)
		}
	}
	if len(names) > maxJobQueues {
		bad = append(bad, fmt.Sprintf("%d queues: the heartbeat kit reports %d at most", len(names), maxJobQueues))
	}
	if len(bad) > 0 {
		l.bad(EnvJobQueues, v, strings.Join(bad, "; "))
		return nil
	}
	slices.Sort(names)
	return names
}

func (l *loader) signal() probe.Signal {
	v := probe.Signal(strings.ToLower(l.value(EnvSignal)))
	if !slices.Contains(probe.Signals(), v) {
		names := make([]string, len(probe.Signals()))
		for i, s := range probe.Signals() {
			names[i] = string(s)
		}
		l.bad(EnvSignal, string(v), "not a signal (one of "+strings.Join(names, ", ")+")")
		return probe.ResponseTime
	}
	return v
}

func (l *loader) policy() Policy {
	v := Policy(l.value(EnvPolicy))
	if !slices.Contains(Policies(), v) {
		names := make([]string, len(Policies()))
		for i, p := range Policies() {
			names[i] = string(p)
		}
		l.bad(EnvPolicy, string(v), "no such policy (one of "+strings.Join(names, ", ")+")")
		return DefaultPolicy
	}
	return v
}

func (l *loader) location() *time.Location {
	v := l.value(EnvTimeZone)
	loc, err := time.LoadLocation(v)
	if err != nil {
		l.bad(EnvTimeZone, v, "unknown time zone (use an IANA name like Europe/Paris)")
		return time.UTC
	}
	return loc
}

// LambdaIntervals are the heartbeat intervals the Lambda function can keep:
// each divides the scheduled minute into whole slots.
var LambdaIntervals = []time.Duration{10 * time.Second, 15 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute}

// lambdaInterval checks the interval against what the once-a-minute schedule
// can divide, and that a queue carries the minute's later slots.
func (l *loader) lambdaInterval(interval time.Duration, queueURL string) {
	if !l.ok(EnvHeartbeatInterval) {
		return
	}
	if !slices.Contains(LambdaIntervals, interval) {
		l.cross(EnvHeartbeatInterval, strconv.Itoa(int(interval.Seconds())), "must be 10, 15, 20, 30 or 60 in Lambda")
		return
	}
	if interval < time.Minute && queueURL == "" {
		l.problem(EnvTickQueueURL, fmt.Sprintf("required when %s is under 60 (%d)", EnvHeartbeatInterval, int(interval.Seconds())))
	}
}

func (l *loader) topicARN() string {
	v := l.raw(EnvTopicARN)
	if v == "" {
		return ""
	}
	// arn:PARTITION:sns:REGION:ACCOUNT:NAME
	parts := strings.Split(v, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" ||
		parts[1] == "" || parts[3] == "" || parts[4] == "" || parts[5] == "" {
		l.bad(EnvTopicARN, v, "not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
		return ""
	}
	return v
}

func (l *loader) bound(name string, least int) Bound {
	v := l.value(name)
	b, problems := parseBound(v, least)
	if len(problems) > 0 {
		l.bad(name, v, strings.Join(problems, "; "))
		return Bound{}
	}
	return b
}
