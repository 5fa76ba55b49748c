// Package logkeytest checks captured JSON log lines against the one set of
// log keys in package logkey.
package logkeytest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
)

// handlerKeys are written by the slog handlers themselves, not by our calls:
// slog's own, and lambdacontext's (which renames time and msg).
var handlerKeys = []string{"time", "level", "msg", "source", "timestamp", "message", "requestId", "functionArn", "tenantId"}

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// Check fails t for every key of out's JSON lines (one object a line,
// groups included) that is not camelCase or not in logkey's set, and for a
// line that is not a JSON object. It returns how many lines it read, so a
// caller can tell that there was something to check.
func Check(t testing.TB, out []byte) int {
	t.Helper()
	known := logkey.All()
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		lines++
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			t.Errorf("log line is not a JSON object: %v\n%s", err, line)
			continue
		}
		for _, key := range keys(obj, true) {
			switch {
			case !camelCase.MatchString(key):
				t.Errorf("log key %q is not camelCase, in\n%s", key, line)
			case !slices.Contains(known, key):
				t.Errorf("log key %q is not in package logkey, in\n%s", key, line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("read log: %v", err)
	}
	return lines
}

// keys lists obj's keys and those of the objects nested in it (slog groups),
// leaving out the handlers' own keys at the top.
func keys(obj map[string]any, top bool) []string {
	var ks []string
	for k, v := range obj {
		if top && slices.Contains(handlerKeys, k) {
			continue
		}
		ks = append(ks, k)
		if sub, ok := v.(map[string]any); ok {
			ks = append(ks, keys(sub, false)...)
		}
	}
	slices.Sort(ks)
	return ks
}
