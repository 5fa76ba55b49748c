package lambdatest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/autoscalebot/autoscalebot/internal/tick"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
)

// FunctionError is the body Lambda returns when the handler returns an error.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// TimedOut is the FunctionError Type of an invocation that ran past the
// function timeout (the emulator answers it in plain text).
const TimedOut = "TimedOut"

// ErrorOf decodes raw as a function error; ok is false when raw is not one.
func ErrorOf(raw []byte) (fe FunctionError, ok bool) {
	if bytes.HasPrefix(raw, []byte("Task timed out after")) {
		return FunctionError{Message: string(raw), Type: TimedOut}, true
	}
	if err := json.Unmarshal(raw, &fe); err != nil {
		return FunctionError{}, false
	}
	return fe, fe.Message != "" || fe.Type != ""
}

// MustError returns the function error in raw, failing the test when the
// invocation succeeded.
func MustError(t testing.TB, raw []byte) FunctionError {
	t.Helper()
	fe, ok := ErrorOf(raw)
	if !ok {
		t.Fatalf("invocation succeeded, want a function error: %s", raw)
	}
	return fe
}

// Decode decodes a successful invocation's result, failing the test when
// raw is a function error or does not decode into T.
func Decode[T any](t testing.TB, raw []byte) T {
	t.Helper()
	if fe, ok := ErrorOf(raw); ok {
		t.Fatalf("invocation failed: %s: %s", fe.Type, fe.Message)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode result %T: %v\n%s", v, err, raw)
	}
	return v
}

// Summary decodes the tick summary an autoscaler invocation returns.
func Summary(t testing.TB, raw []byte) tick.Summary {
	t.Helper()
	return Decode[tick.Summary](t, raw)
}

// ScheduledEvent returns the repository's events/scheduled.json (the event
// `sam local invoke` sends) with a fresh id and the current time, as
// EventBridge sends each minute.
func ScheduledEvent(t testing.TB) events.EventBridgeEvent {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "events", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("events/scheduled.json: %v", err)
	}
	ev.ID = newID()
	ev.Time = time.Now().UTC().Truncate(time.Second)
	return ev
}

// newID returns a random UUID (version 4), the form of EventBridge event ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
