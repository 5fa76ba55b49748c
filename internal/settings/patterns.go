package settings

import "regexp"

// Patterns of the settings that are pasted into requests and the dashboard;
// template.yaml gives its parameters the same AllowedPattern (a test in
// test/template checks that they agree).
const (
	// AppNamePattern admits Heroku app names and app ids (UUIDs), and
	// nothing that could change the request path it is pasted into.
	AppNamePattern = `^[a-z0-9][a-z0-9-]{0,99}$`
	// ProcessTypePattern is Heroku's schema pattern for a formation type.
	ProcessTypePattern = `^[-\w]{1,128}$`
)

var (
	appName     = regexp.MustCompile(AppNamePattern)
	processType = regexp.MustCompile(ProcessTypePattern)
)

// IsAppName says whether v is a Heroku app name or id (AppNamePattern).
func IsAppName(v string) bool { return appName.MatchString(v) }

// IsProcessType says whether v is a process type (ProcessTypePattern).
func IsProcessType(v string) bool { return processType.MatchString(v) }
