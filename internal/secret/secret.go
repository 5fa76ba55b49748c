// Package secret holds values, such as the Heroku API key, that must never
// reach a log line, an error message or a notification.
package secret

import "log/slog"

const redacted = "[redacted]"

// Value wraps a secret string. Every way of printing it (fmt verbs, slog,
// JSON) shows a placeholder; only Reveal returns the real value.
type Value struct{ v string }

// New wraps s.
func New(s string) Value { return Value{v: s} }

// Reveal returns the secret itself, for the one place that must send it.
func (s Value) Reveal() string { return s.v }

// IsZero reports whether no secret is set.
func (s Value) IsZero() bool { return s.v == "" }

func (s Value) String() string   { return s.placeholder() }
func (s Value) GoString() string { return s.placeholder() }

// LogValue keeps the secret out of slog output.
func (s Value) LogValue() slog.Value { return slog.StringValue(s.placeholder()) }

// MarshalText keeps the secret out of JSON and other encodings.
func (s Value) MarshalText() ([]byte, error) { return []byte(s.placeholder()), nil }

func (s Value) placeholder() string {
	if s.v == "" {
		return ""
	}
	return redacted
}
