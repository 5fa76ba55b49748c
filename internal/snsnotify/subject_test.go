package snsnotify

import (
	"strings"
	"testing"
)

func TestSanitizeSubject(t *testing.T) {
	long := strings.Repeat("a", 120)
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "plain", in: "autoscalebot: myapp/web scaled", want: "autoscalebot: myapp/web scaled"},
		{name: "arrow", in: "myapp/web: scaled 1 → 2 dynos", want: "myapp/web: scaled 1 -> 2 dynos"},
		{name: "en dash and ellipsis", in: "bounds 1–3…", want: "bounds 1-3..."},
		{name: "newlines and tabs become one space", in: "line one\r\n\tline two", want: "line one line two"},
		{name: "runs of spaces collapse", in: "a    b", want: "a b"},
		{name: "leading and trailing space trimmed", in: "  \n hello \n ", want: "hello"},
		{name: "control characters dropped", in: "bell\a and\x00 nul\x7f", want: "bell and nul"},
		{name: "other non-ascii replaced", in: "café 🚀", want: "caf? ?"},
		{name: "exactly 99 kept", in: long[:99], want: long[:99]},
		{name: "100 truncated", in: long[:100], want: long[:96] + "..."},
		{name: "long truncated", in: long, want: long[:96] + "..."},
		{name: "no space before dots", in: long[:95] + " bbbb", want: long[:95] + "..."},
		{name: "expansion counted after mapping", in: strings.Repeat("→", 60), want: strings.Repeat("->", 48) + "..."},
		{name: "empty", in: "", want: "autoscalebot"},
		{name: "only whitespace", in: " \n\t ", want: "autoscalebot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sanitizeSubject(tc.in)
			if got != tc.want {
				t.Errorf("sanitizeSubject(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len(got) >= 100 {
				t.Errorf("subject has %d characters, SNS wants fewer than 100", len(got))
			}
			for _, r := range got {
				if r < 0x20 || r > 0x7e {
					t.Errorf("subject contains %q, not printable ASCII", r)
				}
			}
		})
	}
}
