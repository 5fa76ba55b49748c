package settings

// Patterns of the settings that are pasted into requests and the dashboard;
// template.yaml gives its parameters the same AllowedPattern (a test in
// internal/templatetest checks that they agree).
const (
	// AppNamePattern admits Heroku app names and app ids (UUIDs), and
	// nothing that could change the request path it is pasted into.
	AppNamePattern = `^[a-z0-9][a-z0-9-]{0,99}$`
	// ProcessTypePattern is Heroku's schema pattern for a formation type.
	ProcessTypePattern = `^[-\w]{1,128}$`
)

// isAppName reports whether v matches AppNamePattern, and isProcessType
// whether it matches ProcessTypePattern. They are written out because
// compiling the patterns' counted repetitions ({0,99}, {1,128}) costs a
// Lambda cold start about 3 ms and 200 KB; a test holds them to the patterns.
func isAppName(v string) bool {
	if len(v) == 0 || len(v) > 100 || v[0] == '-' {
		return false
	}
	for i := range len(v) {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isProcessType(v string) bool {
	if len(v) == 0 || len(v) > 128 {
		return false
	}
	for i := range len(v) {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
