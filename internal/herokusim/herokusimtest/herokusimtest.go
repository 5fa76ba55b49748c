// Package herokusimtest starts the fake Heroku Platform API (package
// herokusim) for tests, holding every request the code under test sends,
// and every answer the fake gives, to heroku-go's own schema.json: a client
// that drifts from the real API fails its tests here, not in production.
package herokusimtest

import (
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/herokusim"
)

// New starts a schema-checking fake for this test. When the test ends it is
// closed, and the test fails if any request or answer broke the schema.
func New(t testing.TB, opts ...herokusim.Option) *herokusim.Server {
	t.Helper()
	s := Unasserted(t, opts...)
	t.Cleanup(func() {
		if v := s.Violations(); len(v) > 0 {
			t.Errorf("the fake Heroku API saw schema violations: %q", v)
		}
	})
	return s
}

// Unasserted is New for a test that itself expects violations.
func Unasserted(t testing.TB, opts ...herokusim.Option) *herokusim.Server {
	t.Helper()
	s, err := herokusim.New(append([]herokusim.Option{herokusim.WithChecker(Schema(t))}, opts...)...)
	if err != nil {
		t.Fatalf("start fake heroku: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Schema returns the checker for heroku-go's schema.json, loaded once per
// test binary.
func Schema(t testing.TB) herokusim.Checker {
	t.Helper()
	path, err := SchemaPath()
	if err != nil {
		t.Fatalf("schema path: %v", err)
	}
	v, err := cachedValidator(path)
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return v
}
