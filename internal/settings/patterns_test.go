package settings

import (
	"regexp"
	"strings"
	"testing"
)

// TestPatternsWrittenOut: isAppName and isProcessType accept exactly what
// the patterns (which the template's AllowedPattern repeats) accept.
func TestPatternsWrittenOut(t *testing.T) {
	inputs := []string{"", "a", "-", "-a", "a-", "my-app", "My-app", "my_app", "0app", "app!", "é", "web", "Web_1",
		"worker-2", "a b", "a\n", "\x00", "ab\u00e9",
		strings.Repeat("a", 99), strings.Repeat("a", 100), strings.Repeat("a", 101),
		strings.Repeat("w", 127), strings.Repeat("w", 128), strings.Repeat("w", 129),
		"01234567-89ab-cdef-0123-456789abcdef"}
	checks := []struct {
		pattern string
		fn      func(string) bool
	}{
		{AppNamePattern, isAppName},
		{ProcessTypePattern, isProcessType},
	}
	for _, c := range checks {
		re := regexp.MustCompile(c.pattern)
		for _, in := range inputs {
			if got, want := c.fn(in), re.MatchString(in); got != want {
				t.Errorf("%s: %q gives %t, the pattern %t", c.pattern, in, got, want)
			}
		}
	}
}

func FuzzPatternsWrittenOut(f *testing.F) {
	for _, s := range []string{"my-app", "web", "-x", strings.Repeat("a", 100)} {
		f.Add(s)
	}
	app, process := regexp.MustCompile(AppNamePattern), regexp.MustCompile(ProcessTypePattern)
	f.Fuzz(func(t *testing.T, in string) {
		if isAppName(in) != app.MatchString(in) || isProcessType(in) != process.MatchString(in) {
			t.Errorf("%q: app %t/%t, process %t/%t", in, isAppName(in), app.MatchString(in), isProcessType(in), process.MatchString(in))
		}
	})
}
