package settings

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/logkey/logkeytest"
	"github.com/autoscalebot/autoscalebot/internal/probe"
)

const testKey = "hrku-SECRET-0123456789abcdef"

// envOf returns a getenv over the required settings plus vars; a var set to
// "" is unset.
func envOf(t testing.TB, vars map[string]string) func(string) string {
	t.Helper()
	env := map[string]string{
		EnvAppName:      "my-app",
		EnvHeartbeatURL: "https://my-app.example.com/heartbeat",
	}
	for k, v := range vars {
		env[k] = v
	}
	return func(name string) string { return env[name] }
}

func mustLoad(t *testing.T, vars map[string]string) Settings {
	t.Helper()
	s, err := Load(envOf(t, vars))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *settings.Error", err, err)
	}
	return e.Problems
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no time zone database for %s: %v", name, err)
	}
	return loc
}

// The target and the scale-down window default by policy: what one
// policy's rules were tuned with is not the other's.
func TestPolicyDefaults(t *testing.T) {
	for _, tt := range []struct {
		env            map[string]string
		target, window time.Duration
	}{
		{nil, 500 * time.Millisecond, 2 * time.Minute},
		{map[string]string{EnvPolicy: "tracking", EnvMaxResponseTime: "800"}, 400 * time.Millisecond, 2 * time.Minute},
		{map[string]string{EnvPolicy: "proportional"}, 750 * time.Millisecond, 40 * time.Minute},
		{map[string]string{EnvPolicy: "original"}, 750 * time.Millisecond, 40 * time.Minute},
		{map[string]string{EnvPolicy: "tracking", EnvTargetResponseTime: "300", EnvScaleDownWindow: "600"}, 300 * time.Millisecond, 10 * time.Minute},
		{map[string]string{EnvPolicy: "proportional", EnvScaleDownWindow: "0"}, 750 * time.Millisecond, 0},
	} {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			s := mustLoad(t, tt.env)
			if s.TargetResponseTime != tt.target || s.ScaleDownWindow != tt.window {
				t.Errorf("target %s, window %s; want %s, %s", s.TargetResponseTime, s.ScaleDownWindow, tt.target, tt.window)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	s := mustLoad(t, nil)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{EnvAppName, s.AppName, "my-app"},
		{EnvAPIKey, s.APIKey.IsZero(), true},
		{EnvAPIKeyParameter, s.APIKeyParameter, ""},
		{EnvAPIURL, s.APIURL, "https://api.heroku.com"},
		{EnvProcessType, s.ProcessType, "web"},
		{EnvHeartbeatURL, s.HeartbeatURL, "https://my-app.example.com/heartbeat"},
		{EnvHeartbeatTimeout, s.HeartbeatTimeout, 10 * time.Second},
		{EnvHeartbeatInterval, s.HeartbeatInterval, 30 * time.Second},
		{EnvMaxResponseTime, s.MaxResponseTime, time.Second},
		{EnvMinResponseTime, s.MinResponseTime, 200 * time.Millisecond},
		{EnvSignal, s.Signal, probe.ResponseTime},
		{EnvMaxQueueTime, s.MaxQueueTime, 100 * time.Millisecond},
		{EnvMinQueueTime, s.MinQueueTime, 10 * time.Millisecond},
		{EnvTargetUtilization, s.TargetUtilizationPct, 70},
		{EnvJobQueues, s.JobQueues, []string(nil)},
		{EnvMaxJobLatency, s.MaxJobLatency, 10 * time.Second},
		{EnvMinJobLatency, s.MinJobLatency, time.Second},
		{EnvJobsPerDyno, s.JobsPerDyno, 0},
		{EnvLongJobs, s.LongJobs, false},
		{EnvHeartbeatToken, s.HeartbeatToken.IsZero(), true},
		{EnvHeartbeatTokenParameter, s.HeartbeatTokenParameter, ""},
		{EnvFailsToScaleUp, s.FailsToScaleUp, 3},
		{EnvPassesToScaleDown, s.PassesToScaleDown, 5},
		{EnvMaxDynos, s.MaxDynos, Fixed(3)},
		{EnvMinDynos, s.MinDynos, Fixed(1)},
		{EnvTimeZone, s.Location, time.UTC},
		{EnvIncrement, s.Increment, 1},
		{EnvCooldown, s.Cooldown, time.Duration(0)},
		{EnvPolicy, s.Policy, PolicyTracking},
		{EnvTargetResponseTime, s.TargetResponseTime, 500 * time.Millisecond}, // tracking's: 50 % of the maximum
		{EnvBootTime, s.BootTime, time.Minute},
		{EnvScaleDownWindow, s.ScaleDownWindow, 2 * time.Minute}, // tracking's
		{EnvScaleDiffThreshold, s.ScaleDiffThreshold, 0},
		{EnvScaleDiffPeriod, s.ScaleDiffPeriod, time.Duration(0)},
		{EnvNotifyIfNeedsExceedMax, s.NotifyIfNeedsExceedMax, true},
		{EnvNotifyIfNeedsBelowMin, s.NotifyIfNeedsBelowMin, false},
		{EnvNotifyOnScaleFails, s.NotifyOnScaleFails, false},
		{EnvNotifyOnEveryScale, s.NotifyOnEveryScale, false},
		{EnvNotifyOnEveryPing, s.NotifyOnEveryPing, false},
		{EnvDryRun, s.DryRun, false},
		{EnvTableName, s.TableName, ""},
		{EnvTopicARN, s.TopicARN, ""},
		{EnvHistoryTTL, s.HistoryTTL, 30 * 24 * time.Hour},
		{EnvFunctionTimeout, s.FunctionTimeout, time.Duration(0)},
		{EnvFanOutAbove, s.FanOutAbove, 32},
		{EnvPerFormationMetrics, s.PerFormationMetrics, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("default = %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestLoadParsesEveryVariable(t *testing.T) {
	vancouver := mustLocation(t, "America/Vancouver")
	tests := []struct {
		name  string
		value string
		get   func(Settings) any
		want  any
	}{
		{EnvAppName, " other-app ", func(s Settings) any { return s.AppName }, "other-app"},
		{EnvAPIKey, testKey, func(s Settings) any { return s.APIKey.Reveal() }, testKey},
		{EnvAPIKeyParameter, "/autoscalebot/heroku-key", func(s Settings) any { return s.APIKeyParameter }, "/autoscalebot/heroku-key"},
		{EnvAPIURL, "http://127.0.0.1:8080/", func(s Settings) any { return s.APIURL }, "http://127.0.0.1:8080"},
		{EnvProcessType, "worker", func(s Settings) any { return s.ProcessType }, "worker"},
		{EnvHeartbeatURL, "http://127.0.0.1:9/ping?x=1", func(s Settings) any { return s.HeartbeatURL }, "http://127.0.0.1:9/ping?x=1"},
		{EnvHeartbeatTimeout, "2500", func(s Settings) any { return s.HeartbeatTimeout }, 2500 * time.Millisecond},
		{EnvHeartbeatInterval, " 5 ", func(s Settings) any { return s.HeartbeatInterval }, 5 * time.Second},
		{EnvMaxResponseTime, "1500", func(s Settings) any { return s.MaxResponseTime }, 1500 * time.Millisecond},
		{EnvMinResponseTime, "0", func(s Settings) any { return s.MinResponseTime }, time.Duration(0)},
		{EnvSignal, "queue_time", func(s Settings) any { return s.Signal }, probe.QueueTime},
		{EnvSignal, " Queue_Time ", func(s Settings) any { return s.Signal }, probe.QueueTime},
		{EnvSignal, "response_time", func(s Settings) any { return s.Signal }, probe.ResponseTime},
		{EnvMaxQueueTime, "250", func(s Settings) any { return s.MaxQueueTime }, 250 * time.Millisecond},
		{EnvMinQueueTime, "0", func(s Settings) any { return s.MinQueueTime }, time.Duration(0)},
		{EnvSignal, "utilization", func(s Settings) any { return s.Signal }, probe.Utilization},
		{EnvTargetUtilization, "85", func(s Settings) any { return s.TargetUtilizationPct }, 85},
		{EnvTargetUtilization, "100", func(s Settings) any { return s.TargetUtilization() }, 1.0},
		{EnvSignal, "job_latency", func(s Settings) any { return s.Signal }, probe.JobLatency},
		{EnvJobQueues, " mailers, default,critical:high ", func(s Settings) any { return s.JobQueues }, []string{"critical:high", "default", "mailers"}},
		{EnvJobQueues, "q.1_a-b", func(s Settings) any { return s.JobQueues }, []string{"q.1_a-b"}},
		{EnvMaxJobLatency, "86400000", func(s Settings) any { return s.MaxJobLatency }, 24 * time.Hour},
		{EnvMinJobLatency, "0", func(s Settings) any { return s.MinJobLatency }, time.Duration(0)},
		{EnvJobsPerDyno, "25", func(s Settings) any { return s.JobsPerDyno }, 25},
		{EnvLongJobs, "true", func(s Settings) any { return s.LongJobs }, true},
		{EnvHeartbeatToken, " tok-123 ", func(s Settings) any { return s.HeartbeatToken.Reveal() }, "tok-123"},
		{EnvHeartbeatTokenParameter, "/autoscalebot/hb-token", func(s Settings) any { return s.HeartbeatTokenParameter }, "/autoscalebot/hb-token"},
		{EnvFailsToScaleUp, "7", func(s Settings) any { return s.FailsToScaleUp }, 7},
		{EnvPassesToScaleDown, "11", func(s Settings) any { return s.PassesToScaleDown }, 11},
		{EnvMaxDynos, "10", func(s Settings) any { return s.MaxDynos }, Fixed(10)},
		{EnvMinDynos, "2", func(s Settings) any { return s.MinDynos }, Fixed(2)},
		{EnvMaxDynos, `{"9:00":5,"17:00":3}`, func(s Settings) any { return s.MaxDynos },
			Schedule([]Slot{{9, 0, 5}, {17, 0, 3}})},
		{EnvTimeZone, "America/Vancouver", func(s Settings) any { return s.Location }, vancouver},
		{EnvIncrement, "2", func(s Settings) any { return s.Increment }, 2},
		{EnvCooldown, "120", func(s Settings) any { return s.Cooldown }, 2 * time.Minute},
		{EnvPolicy, "proportional", func(s Settings) any { return s.Policy }, PolicyProportional},
		{EnvTargetResponseTime, "600", func(s Settings) any { return s.TargetResponseTime }, 600 * time.Millisecond},
		{EnvBootTime, "30", func(s Settings) any { return s.BootTime }, 30 * time.Second},
		{EnvScaleDownWindow, "0", func(s Settings) any { return s.ScaleDownWindow }, time.Duration(0)},
		{EnvNotifyIfNeedsExceedMax, "false", func(s Settings) any { return s.NotifyIfNeedsExceedMax }, false},
		{EnvNotifyIfNeedsBelowMin, "true", func(s Settings) any { return s.NotifyIfNeedsBelowMin }, true},
		{EnvNotifyOnScaleFails, "true", func(s Settings) any { return s.NotifyOnScaleFails }, true},
		{EnvNotifyOnEveryScale, "true", func(s Settings) any { return s.NotifyOnEveryScale }, true},
		{EnvNotifyOnEveryPing, "true", func(s Settings) any { return s.NotifyOnEveryPing }, true},
		{EnvDryRun, "true", func(s Settings) any { return s.DryRun }, true},
		{EnvTableName, "autoscalebot-state", func(s Settings) any { return s.TableName }, "autoscalebot-state"},
		{EnvTopicARN, "arn:aws:sns:us-east-1:123456789012:autoscalebot", func(s Settings) any { return s.TopicARN },
			"arn:aws:sns:us-east-1:123456789012:autoscalebot"},
		{EnvHistoryTTL, "7", func(s Settings) any { return s.HistoryTTL }, 7 * 24 * time.Hour},
		{EnvFunctionTimeout, "30", func(s Settings) any { return s.FunctionTimeout }, 30 * time.Second},
		{EnvFanOutAbove, "0", func(s Settings) any { return s.FanOutAbove }, 0},
		{EnvFanOutAbove, "500", func(s Settings) any { return s.FanOutAbove }, 500},
		{EnvPerFormationMetrics, "TRUE", func(s Settings) any { return s.PerFormationMetrics }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			s := mustLoad(t, map[string]string{tt.name: tt.value})
			if got := tt.get(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("scale diff pair", func(t *testing.T) {
		s := mustLoad(t, map[string]string{EnvScaleDiffThreshold: "4", EnvScaleDiffPeriod: "60"})
		if s.ScaleDiffThreshold != 4 || s.ScaleDiffPeriod != time.Hour {
			t.Errorf("scale diff = %d within %v, want 4 within 1h", s.ScaleDiffThreshold, s.ScaleDiffPeriod)
		}
	})
	t.Run("a job_latency worker may stop", func(t *testing.T) {
		s := mustLoad(t, map[string]string{EnvProcessType: "worker", EnvSignal: "job_latency", EnvMinDynos: "0", EnvJobQueues: "default"})
		if !reflect.DeepEqual(s.MinDynos, Fixed(0)) || s.Signal != probe.JobLatency {
			t.Errorf("min %v on %s, want 0 on job_latency", s.MinDynos, s.Signal)
		}
	})
	t.Run("non-web process may have zero dynos", func(t *testing.T) {
		s := mustLoad(t, map[string]string{EnvProcessType: "worker", EnvMinDynos: "0", EnvMaxDynos: "0"})
		if !reflect.DeepEqual(s.MinDynos, Fixed(0)) || !reflect.DeepEqual(s.MaxDynos, Fixed(0)) {
			t.Errorf("bounds = %v..%v, want 0..0", s.MinDynos, s.MaxDynos)
		}
	})
	t.Run("whitespace only means default", func(t *testing.T) {
		s := mustLoad(t, map[string]string{EnvMaxDynos: "  ", EnvDryRun: "\t"})
		if !reflect.DeepEqual(s.MaxDynos, Fixed(3)) || s.DryRun {
			t.Errorf("got max %v dry run %v, want defaults", s.MaxDynos, s.DryRun)
		}
	})
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantVar string
		want    string // in the message, beside the quoted value
	}{
		{"missing app name", map[string]string{EnvAppName: ""}, EnvAppName, "required"},
		{"app name with a slash", map[string]string{EnvAppName: "my-app/../x"}, EnvAppName, `"my-app/../x": not a Heroku app name`},
		{"missing heartbeat URL", map[string]string{EnvHeartbeatURL: ""}, EnvHeartbeatURL, "required"},
		{"relative heartbeat URL", map[string]string{EnvHeartbeatURL: "/heartbeat/"}, EnvHeartbeatURL, `"/heartbeat/": not an absolute URL`},
		{"heartbeat URL without scheme", map[string]string{EnvHeartbeatURL: "example.com/heartbeat"}, EnvHeartbeatURL, "not an absolute URL"},
		{"ftp heartbeat URL", map[string]string{EnvHeartbeatURL: "ftp://example.com/x"}, EnvHeartbeatURL, `"ftp://example.com/x": scheme must be http or https`},
		{"heartbeat URL without host name", map[string]string{EnvHeartbeatURL: "http://:8080/x"}, EnvHeartbeatURL, "has no host"},
		{"unparsable heartbeat URL", map[string]string{EnvHeartbeatURL: "http://[::1"}, EnvHeartbeatURL, "not a URL"},
		{"relative API URL", map[string]string{EnvAPIURL: "api.heroku.com"}, EnvAPIURL, "not an absolute URL"},
		{"ftp API URL", map[string]string{EnvAPIURL: "ftp://api.heroku.com"}, EnvAPIURL, "scheme must be http or https"},
		{"API URL with a query", map[string]string{EnvAPIURL: "https://api.heroku.com?x=1"}, EnvAPIURL, "must not have a query"},
		{"bad process type", map[string]string{EnvProcessType: "web/1"}, EnvProcessType, "not a process type"},
		{"timeout not a number", map[string]string{EnvHeartbeatTimeout: "10s"}, EnvHeartbeatTimeout, `"10s": not a whole number`},
		{"zero timeout", map[string]string{EnvHeartbeatTimeout: "0"}, EnvHeartbeatTimeout, `"0": must be at least 1`},
		{"negative timeout", map[string]string{EnvHeartbeatTimeout: "-5"}, EnvHeartbeatTimeout, "must be at least 1"},
		{"zero interval", map[string]string{EnvHeartbeatInterval: "0"}, EnvHeartbeatInterval, "must be at least 1"},
		{"interval not a number", map[string]string{EnvHeartbeatInterval: "thirty"}, EnvHeartbeatInterval, "not a whole number"},
		{"max response time not a number", map[string]string{EnvMaxResponseTime: "1e3"}, EnvMaxResponseTime, "not a whole number"},
		{"zero max response time", map[string]string{EnvMaxResponseTime: "0", EnvMinResponseTime: "0"}, EnvMaxResponseTime, "must be at least 1"},
		{"negative min response time", map[string]string{EnvMinResponseTime: "-1"}, EnvMinResponseTime, "must be at least 0"},
		{"min response time above max", map[string]string{EnvMinResponseTime: "1200"}, EnvMinResponseTime, `"1200": must not exceed ` + EnvMaxResponseTime},
		{"unknown signal", map[string]string{EnvSignal: "cpu"}, EnvSignal, `"cpu": not a signal (one of response_time, queue_time, utilization, job_latency)`},
		{"zero target utilization", map[string]string{EnvTargetUtilization: "0"}, EnvTargetUtilization, `"0": must be at least 1`},
		{"target utilization over 100", map[string]string{EnvTargetUtilization: "101"}, EnvTargetUtilization, `"101": must be at most 100`},
		{"target utilization a fraction", map[string]string{EnvTargetUtilization: "0.7"}, EnvTargetUtilization, "not a whole number"},
		{"signal misspelt", map[string]string{EnvSignal: "queue-time"}, EnvSignal, `"queue-time": not a signal`},
		{"zero max queue time", map[string]string{EnvMaxQueueTime: "0", EnvMinQueueTime: "0"}, EnvMaxQueueTime, "must be at least 1"},
		{"queue time not a number", map[string]string{EnvMaxQueueTime: "0.1s"}, EnvMaxQueueTime, "not a whole number"},
		{"min queue time above max", map[string]string{EnvMinQueueTime: "150"}, EnvMinQueueTime, `"150": must not exceed ` + EnvMaxQueueTime + " (100 ms)"},
		{"default min queue time above max", map[string]string{EnvMaxQueueTime: "5"}, EnvMinQueueTime, `"10" (default): must not exceed`},
		{"zero fails", map[string]string{EnvFailsToScaleUp: "0"}, EnvFailsToScaleUp, "must be at least 1"},
		{"fails not a number", map[string]string{EnvFailsToScaleUp: "3.5"}, EnvFailsToScaleUp, "not a whole number"},
		{"zero passes", map[string]string{EnvPassesToScaleDown: "0"}, EnvPassesToScaleDown, "must be at least 1"},
		{"negative passes", map[string]string{EnvPassesToScaleDown: "-2"}, EnvPassesToScaleDown, "must be at least 1"},
		{"zero increment", map[string]string{EnvIncrement: "0"}, EnvIncrement, "must be at least 1"},
		{"increment not a number", map[string]string{EnvIncrement: "one"}, EnvIncrement, "not a whole number"},
		{"negative cooldown", map[string]string{EnvCooldown: "-1"}, EnvCooldown, "must be at least 0"},
		{"unknown policy", map[string]string{EnvPolicy: "hpa"}, EnvPolicy, `"hpa": no such policy (one of tracking, original, proportional)`},
		{"policy in capitals", map[string]string{EnvPolicy: "Proportional"}, EnvPolicy, "no such policy"},
		{"proportional on queue time", map[string]string{EnvPolicy: "proportional", EnvSignal: "queue_time"}, EnvPolicy, `"proportional": works on response_time only; with AUTOSCALE_SIGNAL=queue_time use original`},
		{"proportional on utilization", map[string]string{EnvPolicy: "proportional", EnvSignal: "utilization"}, EnvPolicy, `"proportional": works on response_time only; with AUTOSCALE_SIGNAL=utilization use original`},
		{"target above the maximum", map[string]string{EnvTargetResponseTime: "1200"}, EnvTargetResponseTime, `"1200": must not exceed AUTOSCALE_MAX_RESPONSE_TIME_IN_MS (1000 ms)`},
		{"zero target", map[string]string{EnvTargetResponseTime: "0"}, EnvTargetResponseTime, "must be at least 1"},
		{"negative boot time", map[string]string{EnvBootTime: "-5"}, EnvBootTime, "must be at least 0"},
		{"window not a number", map[string]string{EnvScaleDownWindow: "10m"}, EnvScaleDownWindow, "not a whole number"},
		{"zero min dynos for web", map[string]string{EnvMinDynos: "0"}, EnvMinDynos, `"0": must be at least 1 for the web process type`},
		{"zero max dynos for web", map[string]string{EnvMaxDynos: "0", EnvMinDynos: "1"}, EnvMaxDynos, "must be at least 1 for the web process type"},
		{"negative min dynos for a worker", map[string]string{EnvProcessType: "worker", EnvMinDynos: "-1"}, EnvMinDynos, "must be at least 0"},
		{"zero in a web schedule", map[string]string{EnvMinDynos: `{"0:00":0,"9:00":2}`}, EnvMinDynos, `schedule value 0 at "0:00" must be at least 1 for the web process type`},
		{"too many dynos", map[string]string{EnvMaxDynos: "10001"}, EnvMaxDynos, "must be at most 10000"},
		{"min above max", map[string]string{EnvMinDynos: "4", EnvMaxDynos: "3"}, EnvMinDynos, `"4": must not exceed ` + EnvMaxDynos + " (3)"},
		{"min above default max", map[string]string{EnvMinDynos: "5"}, EnvMinDynos, `"5": must not exceed ` + EnvMaxDynos + " (3)"},
		{"default min above worker max", map[string]string{EnvProcessType: "worker", EnvMaxDynos: "0"}, EnvMinDynos, `"1" (default): must not exceed`},
		{"default min response above max", map[string]string{EnvMaxResponseTime: "100"}, EnvMinResponseTime, `"200" (default): must not exceed`},
		{"dynos not a number", map[string]string{EnvMaxDynos: "three"}, EnvMaxDynos, `"three": not a whole number or a JSON object`},
		{"hour 25", map[string]string{EnvMaxDynos: `{"25:00":3}`}, EnvMaxDynos, `"{\"25:00\":3}": schedule key "25:00" is not H:MM (hour 0-23, minute 0-59)`},
		{"hour 24", map[string]string{EnvMaxDynos: `{"24:00":3}`}, EnvMaxDynos, `schedule key "24:00" is not H:MM`},
		{"minute 60", map[string]string{EnvMaxDynos: `{"9:60":3}`}, EnvMaxDynos, `schedule key "9:60" is not H:MM`},
		{"hour only", map[string]string{EnvMaxDynos: `{"9":3}`}, EnvMaxDynos, `schedule key "9" is not H:MM`},
		{"one minute digit", map[string]string{EnvMaxDynos: `{"9:5":3}`}, EnvMaxDynos, `schedule key "9:5" is not H:MM`},
		{"three hour digits", map[string]string{EnvMaxDynos: `{"009:00":3}`}, EnvMaxDynos, `schedule key "009:00" is not H:MM`},
		{"word key", map[string]string{EnvMaxDynos: `{"abc":3}`}, EnvMaxDynos, `schedule key "abc" is not H:MM`},
		{"empty key", map[string]string{EnvMaxDynos: `{"":3}`}, EnvMaxDynos, `schedule key "" is not H:MM`},
		{"key with seconds", map[string]string{EnvMaxDynos: `{"9:00:00":3}`}, EnvMaxDynos, `schedule key "9:00:00" is not H:MM`},
		{"fractional schedule value", map[string]string{EnvMaxDynos: `{"9:00":2.5}`}, EnvMaxDynos, `schedule value 2.5 at "9:00" is not a whole number`},
		{"string schedule value", map[string]string{EnvMaxDynos: `{"9:00":"3"}`}, EnvMaxDynos, `schedule value at "9:00" is not a number`},
		{"nested schedule value", map[string]string{EnvMaxDynos: `{"9:00":{"a":1}}`}, EnvMaxDynos, `schedule value at "9:00" is not a number`},
		{"negative schedule value", map[string]string{EnvProcessType: "worker", EnvMaxDynos: `{"9:00":-1}`}, EnvMaxDynos, `schedule value -1 at "9:00" must be at least 0`},
		{"empty schedule", map[string]string{EnvMaxDynos: `{}`}, EnvMaxDynos, "empty schedule"},
		{"same time twice", map[string]string{EnvMaxDynos: `{"9:00":3,"09:00":4}`}, EnvMaxDynos, `schedule keys "9:00" and "09:00" are the same time`},
		{"same key twice", map[string]string{EnvMaxDynos: `{"9:00":3,"9:00":4}`}, EnvMaxDynos, `schedule key "9:00" appears twice`},
		{"broken JSON", map[string]string{EnvMaxDynos: `{"9:00":3`}, EnvMaxDynos, "not a whole number or a JSON object"},
		{"trailing comma", map[string]string{EnvMaxDynos: `{"9:00":3,}`}, EnvMaxDynos, "not a whole number or a JSON object"},
		{"text after schedule", map[string]string{EnvMaxDynos: `{"9:00":3} x`}, EnvMaxDynos, "unexpected text after the schedule"},
		{"JSON array", map[string]string{EnvMaxDynos: `[3]`}, EnvMaxDynos, "not a whole number or a JSON object"},
		{"unknown time zone", map[string]string{EnvTimeZone: "Mars/Olympus_Mons"}, EnvTimeZone, `"Mars/Olympus_Mons": unknown time zone`},
		{"time zone path", map[string]string{EnvTimeZone: "../../etc/passwd"}, EnvTimeZone, "unknown time zone"},
		{"bad boolean", map[string]string{EnvDryRun: "yes"}, EnvDryRun, `"yes": not a boolean (true, false, 1 or 0)`},
		{"boolean t", map[string]string{EnvNotifyOnEveryPing: "t"}, EnvNotifyOnEveryPing, "not a boolean"},
		{"threshold without period", map[string]string{EnvScaleDiffThreshold: "3"}, EnvScaleDiffPeriod, "required when " + EnvScaleDiffThreshold + " is set"},
		{"period without threshold", map[string]string{EnvScaleDiffPeriod: "60"}, EnvScaleDiffThreshold, "required when " + EnvScaleDiffPeriod + " is set"},
		{"zero threshold", map[string]string{EnvScaleDiffThreshold: "0", EnvScaleDiffPeriod: "60"}, EnvScaleDiffThreshold, "must be at least 1"},
		{"zero period", map[string]string{EnvScaleDiffThreshold: "3", EnvScaleDiffPeriod: "0"}, EnvScaleDiffPeriod, "must be at least 1"},
		{"period beyond history", map[string]string{EnvScaleDiffThreshold: "3", EnvScaleDiffPeriod: "2880", EnvHistoryTTL: "1"}, EnvScaleDiffPeriod, "longer than the history kept"},
		{"zero history TTL", map[string]string{EnvHistoryTTL: "0"}, EnvHistoryTTL, "must be at least 1"},
		{"bad topic ARN", map[string]string{EnvTopicARN: "autoscalebot"}, EnvTopicARN, "not an SNS topic ARN"},
		{"queue ARN as topic", map[string]string{EnvTopicARN: "arn:aws:sqs:us-east-1:123456789012:q"}, EnvTopicARN, "not an SNS topic ARN"},
		{"function timeout too long", map[string]string{EnvFunctionTimeout: "901"}, EnvFunctionTimeout, "must be at most 900"},
		{"negative fan-out threshold", map[string]string{EnvFanOutAbove: "-1"}, EnvFanOutAbove, "must be at least 0"},
		{"fan-out threshold too high", map[string]string{EnvFanOutAbove: "10001"}, EnvFanOutAbove, "must be at most 10000"},
		{"per-formation metrics not a boolean", map[string]string{EnvPerFormationMetrics: "yes"}, EnvPerFormationMetrics, "not a boolean"},
		{"a job queue with a space", map[string]string{EnvJobQueues: "default,low priority"}, EnvJobQueues,
			`"default,low priority": "low priority" is not a queue name (letters, digits, _ . : and -)`},
		{"job queues with a stray comma", map[string]string{EnvJobQueues: "default,,mailers"}, EnvJobQueues, "an empty name (a stray comma?)"},
		{"a job queue twice, and a bad one", map[string]string{EnvJobQueues: "a,b,a,c/d"}, EnvJobQueues, `"a" is named twice; "c/d" is not a queue name`},
		{"more job queues than the kit reports", map[string]string{EnvJobQueues: manyQueues(51)}, EnvJobQueues, "51 queues: the heartbeat kit reports 50 at most"},
		{"zero max job latency", map[string]string{EnvMaxJobLatency: "0", EnvMinJobLatency: "0"}, EnvMaxJobLatency, "must be at least 1"},
		{"max job latency over a day", map[string]string{EnvMaxJobLatency: "86400001"}, EnvMaxJobLatency, "must be at most 86400000"},
		{"min job latency above the max", map[string]string{EnvMinJobLatency: "20000"}, EnvMinJobLatency,
			`"20000": must not exceed AUTOSCALE_MAX_JOB_LATENCY_IN_MS (10000 ms)`},
		{"min job latency above the default max", map[string]string{EnvMaxJobLatency: "500"}, EnvMinJobLatency,
			`"1000" (default): must not exceed AUTOSCALE_MAX_JOB_LATENCY_IN_MS (500 ms)`},
		{"zero jobs per dyno", map[string]string{EnvJobsPerDyno: "0"}, EnvJobsPerDyno, `"0": must be at least 1`},
		{"jobs per dyno a fraction", map[string]string{EnvJobsPerDyno: "2.5"}, EnvJobsPerDyno, "not a whole number"},
		{"long jobs not a boolean", map[string]string{EnvLongJobs: "yes"}, EnvLongJobs, "not a boolean"},
		{"proportional on job latency", map[string]string{EnvPolicy: "proportional", EnvSignal: "job_latency"}, EnvPolicy,
			`"proportional": works on response_time only; with AUTOSCALE_SIGNAL=job_latency use original`},
		{"zero web dynos on job latency too", map[string]string{EnvSignal: "job_latency", EnvMinDynos: "0"}, EnvMinDynos, "must be at least 1"},
		{"timeout does not fit the function", map[string]string{EnvFunctionTimeout: "12"}, EnvHeartbeatTimeout,
			`"10000" (default): the probe must end at least 5s before the function timeout (` + EnvFunctionTimeout + "=12)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(envOf(t, tt.vars))
			problems := problemsOf(t, err)
			if len(problems) != 1 {
				t.Fatalf("want exactly one problem, got %q", problems)
			}
			if p := problems[0]; p.Var != tt.wantVar || !strings.Contains(p.Msg, tt.want) {
				t.Errorf("problem = %s\nwant %s: …%s…", p, tt.wantVar, tt.want)
			}
			if line := tt.wantVar + ": "; !strings.Contains(err.Error(), line) {
				t.Errorf("error message %q does not name %s", err, tt.wantVar)
			}
		})
	}
}

func TestLoadAcceptsEdgeValues(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"timeout fits the function with 5s to spare", map[string]string{EnvFunctionTimeout: "15"}},
		{"min response time equal to max", map[string]string{EnvMinResponseTime: "1000"}},
		{"min queue time equal to max", map[string]string{EnvSignal: "queue_time", EnvMinQueueTime: "100"}},
		{"min dynos equal to max", map[string]string{EnvMinDynos: "3"}},
		{"schedule min above fixed max is left to runtime", map[string]string{EnvMinDynos: `{"9:00":5}`}},
		{"period equal to history", map[string]string{EnvScaleDiffThreshold: "1", EnvScaleDiffPeriod: "1440", EnvHistoryTTL: "1"}},
		{"function timeout zero is unknown", map[string]string{EnvFunctionTimeout: "0", EnvHeartbeatTimeout: "3600000"}},
		{"plus sign and leading zeros", map[string]string{EnvIncrement: "+02"}},
		{"upper-case scheme", map[string]string{EnvHeartbeatURL: "HTTPS://example.com/"}},
		{"app id", map[string]string{EnvAppName: "01234567-89ab-cdef-0123-456789abcdef"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(envOf(t, tt.vars)); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load(func(name string) string {
		return map[string]string{
			EnvHeartbeatURL:       "/heartbeat/",
			EnvFailsToScaleUp:     "0",
			EnvMaxDynos:           `{"25:00":3}`,
			EnvTimeZone:           "Nowhere/Special",
			EnvDryRun:             "maybe",
			EnvScaleDiffThreshold: "2",
		}[name]
	})
	var got []string
	for _, p := range problemsOf(t, err) {
		got = append(got, p.Var)
	}
	want := []string{EnvAppName, EnvHeartbeatURL, EnvFailsToScaleUp, EnvMaxDynos, EnvTimeZone, EnvDryRun, EnvScaleDiffPeriod}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems name %q, want %q", got, want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid settings:\n") || strings.Count(msg, "\n") != len(want) {
		t.Errorf("message should be a header and one line per problem:\n%s", msg)
	}
	if !strings.Contains(msg, `AUTOSCALE_MAX_DYNOS: "{\"25:00\":3}": schedule key "25:00" is not H:MM (hour 0-23, minute 0-59)`) {
		t.Errorf("message lacks the schedule line:\n%s", msg)
	}
}

func TestLoadReportsEveryScheduleProblem(t *testing.T) {
	_, err := Load(envOf(t, map[string]string{EnvMaxDynos: `{"25:00":3,"9:00":0,"abc":"x"}`}))
	problems := problemsOf(t, err)
	if len(problems) != 1 {
		t.Fatalf("want one problem for the one variable, got %q", problems)
	}
	for _, want := range []string{`key "25:00"`, `value 0 at "9:00"`, `key "abc"`, `value at "abc"`} {
		if !strings.Contains(problems[0].Msg, want) {
			t.Errorf("%s does not mention %s", problems[0], want)
		}
	}
}

func TestLoadBooleanSpellings(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"true", true}, {"TRUE", true}, {"True", true}, {"tRuE", true}, {"1", true}, {" true ", true},
		{"false", false}, {"FALSE", false}, {"False", false}, {"fAlSe", false}, {"0", false}, {"\t0\n", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.value), func(t *testing.T) {
			// NOTIFY_IF_NEEDS_EXCEED_MAX defaults to true, DRY_RUN to false:
			// each spelling must override both defaults.
			s := mustLoad(t, map[string]string{EnvDryRun: tt.value, EnvNotifyIfNeedsExceedMax: tt.value})
			if s.DryRun != tt.want || s.NotifyIfNeedsExceedMax != tt.want {
				t.Errorf("got %v and %v, want %v", s.DryRun, s.NotifyIfNeedsExceedMax, tt.want)
			}
		})
	}
}

func TestLoadSchedules(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []Slot
		text  string
	}{
		{"original's time dict", `{"0:00":2,"9:00":5,"17:00":3}`, []Slot{{0, 0, 2}, {9, 0, 5}, {17, 0, 3}}, `{"0:00":2,"9:00":5,"17:00":3}`},
		{"sorted by hour then minute", `{"17:00":3,"9:30":4,"9:05":6,"10:00":5}`,
			[]Slot{{9, 5, 6}, {9, 30, 4}, {10, 0, 5}, {17, 0, 3}}, `{"9:05":6,"9:30":4,"10:00":5,"17:00":3}`},
		{"two-digit hours", `{"09:00":2,"23:59":1}`, []Slot{{9, 0, 2}, {23, 59, 1}}, `{"9:00":2,"23:59":1}`},
		{"one slot", `{"12:00":4}`, []Slot{{12, 0, 4}}, `{"12:00":4}`},
		{"whitespace in JSON", " { \"8:00\" : 2 ,\n \"20:00\" : 1 } ", []Slot{{8, 0, 2}, {20, 0, 1}}, `{"8:00":2,"20:00":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustLoad(t, map[string]string{EnvMaxDynos: tt.value, EnvMinDynos: tt.value})
			for _, b := range []Bound{s.MaxDynos, s.MinDynos} {
				if !b.IsSchedule() {
					t.Fatalf("%v is not a schedule", b)
				}
				if got := b.Slots(); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("slots = %v, want %v", got, tt.want)
				}
				if got := b.String(); got != tt.text {
					t.Errorf("String() = %s, want %s", got, tt.text)
				}
			}
		})
	}

	t.Run("zero kept in a worker schedule", func(t *testing.T) {
		s := mustLoad(t, map[string]string{EnvProcessType: "worker", EnvMinDynos: `{"0:00":0,"9:00":2}`})
		want := []Slot{{0, 0, 0}, {9, 0, 2}}
		if got := s.MinDynos.Slots(); !reflect.DeepEqual(got, want) {
			t.Fatalf("slots = %v, want %v", got, want)
		}
		if v, slot := s.MinDynos.At(time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)); v != 0 || slot != "0:00" {
			t.Errorf("At(03:00) = %d from %q, want 0 from \"0:00\"", v, slot)
		}
	})
}

func TestLoadNeverShowsTheAPIKey(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		load func(func(string) string) (Settings, error)
	}{
		{"other settings bad", map[string]string{EnvAPIKey: testKey, EnvHeartbeatURL: "ftp://x", EnvMaxDynos: "{"}, Load},
		{"key set twice in Lambda", map[string]string{EnvAPIKey: testKey, EnvAPIKeyParameter: "/p"}, LoadLambda},
		{"key pasted into the URL", map[string]string{EnvAPIKey: testKey, EnvHeartbeatURL: "ftp://u:" + testKey + "@x/"}, Load},
		{"key pasted into a query", map[string]string{EnvAPIKey: testKey, EnvHeartbeatURL: "/hb?key=" + testKey}, Load},
		{"key pasted into another setting", map[string]string{EnvAPIKey: testKey, EnvAppName: testKey}, Load},
		{"token pasted into the job queues", map[string]string{EnvHeartbeatToken: testKey, EnvJobQueues: "a," + testKey + " x"}, Load},
		{"token pasted into the URL", map[string]string{EnvHeartbeatToken: testKey, EnvHeartbeatURL: "/hb?token=" + testKey}, Load},
		{"token given twice in Lambda", map[string]string{EnvHeartbeatToken: testKey, EnvHeartbeatTokenParameter: "/p", EnvTableName: "t", EnvAPIKeyParameter: "/k"}, LoadLambda},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.load(envOf(t, tt.vars))
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error shows the key: %v", err)
			}
			for _, p := range problemsOf(t, err) {
				if strings.Contains(p.Msg, testKey) {
					t.Errorf("problem shows the key: %s", p)
				}
			}
		})
	}
}

func TestLoadLambda(t *testing.T) {
	tests := []struct {
		name     string
		vars     map[string]string
		wantVars []string
	}{
		{"key parameter and table", map[string]string{EnvAPIKeyParameter: "/autoscalebot/key", EnvTableName: "t"}, nil},
		{"plain key and table", map[string]string{EnvAPIKey: testKey, EnvTableName: "t"}, nil},
		{"no table", map[string]string{EnvAPIKeyParameter: "/p"}, []string{EnvTableName}},
		{"no key", map[string]string{EnvTableName: "t"}, []string{EnvAPIKeyParameter}},
		{"both keys", map[string]string{EnvAPIKey: testKey, EnvAPIKeyParameter: "/p", EnvTableName: "t"}, []string{EnvAPIKeyParameter}},
		{"core settings still checked", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvAppName: ""}, []string{EnvAppName}},
		{"interval 60 needs no queue", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvHeartbeatInterval: "60", EnvTickQueueURL: ""}, nil},
		{"interval 10 with a queue", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvHeartbeatInterval: "10"}, nil},
		{"default interval without a queue", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvTickQueueURL: ""}, []string{EnvTickQueueURL}},
		{"interval the minute cannot divide", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvHeartbeatInterval: "25"}, []string{EnvHeartbeatInterval}},
		{"interval above the minute", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvHeartbeatInterval: "120"}, []string{EnvHeartbeatInterval}},
		{"a heartbeat token parameter", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvHeartbeatTokenParameter: "/t"}, nil},
		{"a heartbeat token given both ways", map[string]string{EnvAPIKeyParameter: "/p", EnvTableName: "t", EnvHeartbeatToken: "tok",
			EnvHeartbeatTokenParameter: "/t"}, []string{EnvHeartbeatTokenParameter}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{EnvTickQueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/ticks"}
			maps.Copy(vars, tt.vars)
			_, err := LoadLambda(envOf(t, vars))
			if tt.wantVars == nil {
				if err != nil {
					t.Fatalf("LoadLambda: %v", err)
				}
				return
			}
			var got []string
			for _, p := range problemsOf(t, err) {
				got = append(got, p.Var)
			}
			if !reflect.DeepEqual(got, tt.wantVars) {
				t.Errorf("problems name %q, want %q (%v)", got, tt.wantVars, err)
			}
		})
	}

	t.Run("the command takes the token given and ignores its parameter, as the key's", func(t *testing.T) {
		s, err := Load(envOf(t, map[string]string{EnvHeartbeatToken: "tok", EnvHeartbeatTokenParameter: "/t"}))
		if err != nil || s.HeartbeatToken.Reveal() != "tok" {
			t.Errorf("Load = %v, %v; want the token given", s.HeartbeatToken, err)
		}
	})
	t.Run("Load does not need them", func(t *testing.T) {
		if _, err := Load(envOf(t, nil)); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
}

func TestBoundAt(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2024, 3, 1, h, m, 0, 0, time.UTC) }
	original := Schedule([]Slot{{0, 0, 2}, {9, 0, 5}, {17, 0, 3}})
	dayOnly := Schedule([]Slot{{9, 0, 5}, {17, 0, 3}})
	tests := []struct {
		name     string
		bound    Bound
		at       time.Time
		want     int
		wantSlot string
	}{
		{"original 01:00", original, day(1, 0), 2, "0:00"},
		{"original 09:00", original, day(9, 0), 5, "9:00"},
		{"original 09:05", original, day(9, 5), 5, "9:00"},
		{"original 12:00", original, day(12, 0), 5, "9:00"},
		{"original 18:00", original, day(18, 0), 3, "17:00"},
		{"original midnight", original, day(0, 0), 2, "0:00"},
		{"original 08:59", original, day(8, 59), 2, "0:00"},
		{"before the first key wraps to yesterday's last", dayOnly, day(3, 0), 3, "17:00"},
		{"last minute of the day", dayOnly, day(23, 59), 3, "17:00"},
		{"zero value kept", Schedule([]Slot{{0, 0, 0}, {9, 0, 2}}), day(8, 0), 0, "0:00"},
		{"fixed", Fixed(4), day(12, 0), 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, slot := tt.bound.At(tt.at)
			if got != tt.want || slot != tt.wantSlot {
				t.Errorf("At = %d from %q, want %d from %q", got, slot, tt.want, tt.wantSlot)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	vancouver := mustLocation(t, "America/Vancouver")
	s := mustLoad(t, map[string]string{
		EnvTimeZone: "America/Vancouver",
		EnvMinDynos: `{"0:00":1,"9:00":4}`,
		EnvMaxDynos: `{"0:00":2,"9:00":6,"22:00":3}`,
	})
	tests := []struct {
		name           string
		now            time.Time
		wantLo, wantHi int
	}{
		// 17:30 UTC is 09:30 in Vancouver in winter (UTC-8): the day slots.
		{"winter morning in Vancouver", time.Date(2024, 1, 15, 17, 30, 0, 0, time.UTC), 4, 6},
		// 08:30 UTC is 00:30 in Vancouver: the night slots, though it is daytime in UTC.
		{"winter night in Vancouver", time.Date(2024, 1, 15, 8, 30, 0, 0, time.UTC), 1, 2},
		// 16:30 UTC is 09:30 in summer (UTC-7), but 08:30 in winter.
		{"summer time", time.Date(2024, 7, 15, 16, 30, 0, 0, time.UTC), 4, 6},
		{"winter same UTC clock", time.Date(2024, 1, 15, 16, 30, 0, 0, time.UTC), 1, 2},
		// 22:30 local: min 4 from 9:00, max 3 from 22:00; max wins.
		{"min above max at runtime", time.Date(2024, 1, 15, 22, 30, 0, 0, vancouver), 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := s.Bounds(tt.now)
			if lo != tt.wantLo || hi != tt.wantHi {
				t.Errorf("Bounds = %d..%d, want %d..%d", lo, hi, tt.wantLo, tt.wantHi)
			}
		})
	}
}

// The thresholds a beat is compared with follow the signal.
func TestThresholds(t *testing.T) {
	tests := []struct {
		name   string
		vars   map[string]string
		lo, hi time.Duration
	}{
		{"response time by default", nil, 200 * time.Millisecond, time.Second},
		{"queue time", map[string]string{EnvSignal: "queue_time"}, 10 * time.Millisecond, 100 * time.Millisecond},
		{"queue time, set", map[string]string{EnvSignal: "queue_time", EnvMinQueueTime: "5", EnvMaxQueueTime: "50"}, 5 * time.Millisecond, 50 * time.Millisecond},
		{"utilization: the latency is the queue time", map[string]string{EnvSignal: "utilization"}, 10 * time.Millisecond, 100 * time.Millisecond},
		{"queue settings unused with response time", map[string]string{EnvMaxQueueTime: "50"}, 200 * time.Millisecond, time.Second},
		{"job latency", map[string]string{EnvSignal: "job_latency"}, time.Second, 10 * time.Second},
		{"job latency, set", map[string]string{EnvSignal: "job_latency", EnvMinJobLatency: "0", EnvMaxJobLatency: "60000"}, 0, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := mustLoad(t, tt.vars).Thresholds()
			if lo != tt.lo || hi != tt.hi {
				t.Errorf("Thresholds = %v, %v; want %v, %v", lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestLogValue(t *testing.T) {
	s := mustLoad(t, map[string]string{
		EnvAPIKey:         testKey,
		EnvHeartbeatToken: "hb-token-0451",
		EnvHeartbeatURL:   "https://user:hunter2@example.com/hb",
		EnvMaxDynos:       `{"9:00":5}`,
		EnvJobQueues:      "mailers,default",
	})
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", slog.Any(logkey.Settings, s))
	if logkeytest.Check(t, buf.Bytes()) != 1 {
		t.Errorf("want one log line: %s", buf.Bytes())
	}
	out := buf.String()
	for _, secret := range []string{testKey, "hunter2", "hb-token-0451"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line shows %q: %s", secret, out)
		}
	}
	for _, want := range []string{`"app":"my-app"`, `"processType":"web"`, `"apiKeySet":true`, `"maxDynos":"{\"9:00\":5}"`, `"heartbeatTimeout":"10s"`, `"timeZone":"UTC"`, `"dryRun":false`,
		`"heartbeatTokenSet":true`, `"jobQueues":"default,mailers"`, `"maxJobLatency":"10s"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s: %s", want, out)
		}
	}
}

// FuzzLoad feeds arbitrary values to the settings most likely to be
// mistyped: Load must not panic, and must return either settings that keep
// every invariant or an *Error whose problems each name a variable.
func FuzzLoad(f *testing.F) {
	f.Add(`{"0:00":2,"9:00":5,"17:00":3}`, "1", "10000", "true", "https://example.com/hb", "worker", "3", "60")
	f.Add("3", `{"9:00":1}`, "0", "TRUE", "/relative", "web", "", "")
	f.Add(`{"25:00":3}`, `{}`, "-1", "yes", "ftp://x", "web/1", "0", "")
	f.Add(`{"9:00":3,"09:00":4}`, "4", "9223372036854775807", "0", "http://:80", "", "", "10")
	f.Add(`{"9:00":{"x":[1]}}`, `{"9:5":1}`, "1e3", "fAlSe", "http://[::1", "web", "1", "1")
	f.Add(`{"9:00":2.5,"10:00":"3"}`, "00", "+5", " 1 ", "HTTPS://h/", "w", "10001", "99999999999")
	f.Fuzz(func(t *testing.T, maxDynos, minDynos, number, boolean, url, processType, threshold, period string) {
		env := map[string]string{
			EnvAppName:            "my-app",
			EnvAPIKey:             testKey,
			EnvHeartbeatURL:       url,
			EnvAPIURL:             url,
			EnvProcessType:        processType,
			EnvMaxDynos:           maxDynos,
			EnvMinDynos:           minDynos,
			EnvHeartbeatTimeout:   number,
			EnvMinResponseTime:    number,
			EnvIncrement:          number,
			EnvFunctionTimeout:    number,
			EnvDryRun:             boolean,
			EnvNotifyOnEveryPing:  boolean,
			EnvScaleDiffThreshold: threshold,
			EnvScaleDiffPeriod:    period,
		}
		s, err := Load(func(name string) string { return env[name] })
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("error %v is not an *Error with problems", err)
			}
			for _, p := range e.Problems {
				if !knownVars[p.Var] {
					t.Errorf("problem names no variable: %s", p)
				}
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("error shows the key")
			}
			return
		}
		checkInvariants(t, s)
	})
}

var knownVars = map[string]bool{
	EnvAppName: true, EnvAPIKey: true, EnvAPIKeyParameter: true, EnvAPIURL: true, EnvProcessType: true,
	EnvHeartbeatURL: true, EnvHeartbeatTimeout: true, EnvHeartbeatInterval: true, EnvMaxResponseTime: true,
	EnvMinResponseTime: true, EnvFailsToScaleUp: true, EnvPassesToScaleDown: true, EnvMaxDynos: true,
	EnvMinDynos: true, EnvTimeZone: true, EnvIncrement: true, EnvCooldown: true, EnvScaleDiffThreshold: true,
	EnvScaleDiffPeriod: true, EnvNotifyIfNeedsExceedMax: true, EnvNotifyIfNeedsBelowMin: true, EnvNotifyOnScaleFails: true,
	EnvNotifyOnEveryScale: true, EnvNotifyOnEveryPing: true, EnvDryRun: true, EnvTableName: true,
	EnvTopicARN: true, EnvHistoryTTL: true, EnvFunctionTimeout: true, EnvSignal: true, EnvMaxQueueTime: true,
	EnvMinQueueTime: true, EnvTargetUtilization: true, EnvPolicy: true, EnvTargetResponseTime: true, EnvBootTime: true, EnvScaleDownWindow: true, EnvTickQueueURL: true,
	EnvFanOutAbove: true, EnvPerFormationMetrics: true, EnvJobQueues: true, EnvMaxJobLatency: true, EnvMinJobLatency: true,
	EnvJobsPerDyno: true, EnvLongJobs: true, EnvHeartbeatToken: true, EnvHeartbeatTokenParameter: true,
}

// manyQueues is n queue names, comma-separated.
func manyQueues(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("q%d", i)
	}
	return strings.Join(names, ",")
}

func checkInvariants(t *testing.T, s Settings) {
	t.Helper()
	if s.AppName == "" || s.HeartbeatURL == "" || s.APIURL == "" || s.ProcessType == "" || s.Location == nil {
		t.Errorf("required setting empty: %+v", s)
	}
	if s.HeartbeatTimeout <= 0 || s.HeartbeatInterval <= 0 || s.MaxResponseTime <= 0 ||
		s.MinResponseTime < 0 || s.MinResponseTime > s.MaxResponseTime || s.Cooldown < 0 || s.HistoryTTL <= 0 ||
		s.TargetResponseTime <= 0 || s.TargetResponseTime > s.MaxResponseTime || s.BootTime < 0 || s.ScaleDownWindow < 0 {
		t.Errorf("bad duration: %+v", s)
	}
	if s.FailsToScaleUp < 1 || s.PassesToScaleDown < 1 || s.Increment < 1 {
		t.Errorf("bad count: %+v", s)
	}
	if (s.ScaleDiffThreshold == 0) != (s.ScaleDiffPeriod == 0) || s.ScaleDiffThreshold < 0 || s.ScaleDiffPeriod < 0 {
		t.Errorf("bad scale diff: %d within %v", s.ScaleDiffThreshold, s.ScaleDiffPeriod)
	}
	if s.FunctionTimeout > 0 && s.HeartbeatTimeout+FunctionTimeoutMargin > s.FunctionTimeout {
		t.Errorf("timeout %v does not fit function timeout %v", s.HeartbeatTimeout, s.FunctionTimeout)
	}
	least := 0
	if s.ProcessType == "web" {
		least = 1
	}
	for _, b := range []Bound{s.MinDynos, s.MaxDynos} {
		values := []int{b.fixed}
		if b.IsSchedule() {
			values = values[:0]
			prev := -1
			for _, slot := range b.Slots() {
				if slot.Hour < 0 || slot.Hour > 23 || slot.Minute < 0 || slot.Minute > 59 {
					t.Errorf("slot out of range: %+v", slot)
				}
				if m := slot.Hour*60 + slot.Minute; m <= prev {
					t.Errorf("slots not strictly sorted: %v", b.Slots())
				} else {
					prev = m
				}
				values = append(values, slot.Value)
			}
		}
		for _, v := range values {
			if v < least || v > maxDynoCount {
				t.Errorf("dyno count %d out of range in %v", v, b)
			}
		}
	}
	if !s.MinDynos.IsSchedule() && !s.MaxDynos.IsSchedule() && s.MinDynos.fixed > s.MaxDynos.fixed {
		t.Errorf("min %v above max %v", s.MinDynos, s.MaxDynos)
	}
	lo, hi := s.Bounds(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	if lo > hi {
		t.Errorf("Bounds = %d..%d", lo, hi)
	}
}

func TestParseSlotKey(t *testing.T) {
	tests := []struct {
		key          string
		hour, minute int
		ok           bool
	}{
		{"0:00", 0, 0, true}, {"09:30", 9, 30, true}, {"23:59", 23, 59, true},
		{"24:00", 24, 0, false}, {"9:60", 9, 60, false},
		{"9:0", 0, 0, false}, {"9:000", 0, 0, false}, {"123:00", 0, 0, false}, {":00", 0, 0, false}, {"9:", 0, 0, false},
		{"+9:00", 0, 0, false}, {" 9:00", 0, 0, false}, {"9:00:00", 0, 0, false}, {"٩:00", 0, 0, false}, {"9h00", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			hour, minute, ok := parseSlotKey(tt.key)
			if ok != tt.ok || ok && (hour != tt.hour || minute != tt.minute) {
				t.Errorf("parseSlotKey(%q) = %d, %d, %t; want %d, %d, %t", tt.key, hour, minute, ok, tt.hour, tt.minute, tt.ok)
			}
		})
	}
}
