package herokusimtest

import (
	"strings"
	"testing"
)

// TestCheckAnswer shows that the fake's own answers are held to the
// schema's targetSchema, strictProperties included.
func TestCheckAnswer(t *testing.T) {
	const good = `{"app":{"id":"01234567-89ab-cdef-0123-456789abcdef","name":"shiny-app"},"command":"bin/web",` +
		`"created_at":"2012-01-01T12:00:00Z","id":"01234567-89ab-cdef-0123-456789abcdef","quantity":1,` +
		`"size":"standard-1X","type":"web","updated_at":"2012-01-01T12:00:00Z"}`
	tests := []struct {
		name, method, path, body string
		wantProblem              string // "" = valid
	}{
		{name: "formation", method: "GET", path: "/apps/a/formation/web", body: good},
		{name: "quantity as text", method: "GET", path: "/apps/a/formation/web",
			body: strings.Replace(good, `"quantity":1`, `"quantity":"1"`, 1), wantProblem: "/quantity"},
		{name: "invented field", method: "PATCH", path: "/apps/a/formation/web",
			body: strings.Replace(good, `"quantity":1`, `"quantity":1,"dynos":1`, 1), wantProblem: "dynos"},
		{name: "batch answer is an array", method: "PATCH", path: "/apps/a/formation", body: good, wantProblem: "expected array"},
		{name: "rate limits", method: "GET", path: "/account/rate-limits", body: `{"remaining":3}`},
	}
	v := Schema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := v.CheckAnswer(tt.method, tt.path, []byte(tt.body))
			if tt.wantProblem == "" {
				if len(got) != 0 {
					t.Errorf("problems = %q, want none", got)
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.wantProblem) {
				t.Errorf("problems = %q, want one about %q", got, tt.wantProblem)
			}
		})
	}
}

func TestLoadValidatorErrors(t *testing.T) {
	for _, path := range []string{"testdata/missing.json", "testdata/truncated-schema.json", "testdata/no-definitions-schema.json"} {
		t.Run(path, func(t *testing.T) {
			if _, err := loadValidator(path); err == nil {
				t.Errorf("loadValidator(%q) succeeded", path)
			}
		})
	}
}
