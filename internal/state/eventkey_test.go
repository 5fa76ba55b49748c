package state

import (
	"strings"
	"testing"
)

func TestHandled(t *testing.T) {
	const uuid = "0d2d6f47-8c4e-4a6b-bb1c-6e5a6f2c9a31"
	tests := []struct {
		name string
		ids  []string // as stored
		id   string
		want bool
	}{
		{"remembered as its key", []string{EventKey(uuid)}, uuid, true},
		{"a slot of the same event is another event", []string{EventKey(uuid)}, uuid + "#1", false},
		{"written whole before keys", []string{uuid}, uuid, true},
		{"another event", []string{EventKey("a"), EventKey("b")}, "c", false},
		{"nothing remembered", nil, uuid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (State{EventIDs: tt.ids}).Handled(tt.id); got != tt.want {
				t.Errorf("Handled(%q) with %v = %t, want %t", tt.id, tt.ids, got, tt.want)
			}
		})
	}
}

// TestEventKeyIsShort: the key is what keeps twenty remembered events from
// pushing the state item past DynamoDB's 1 KB write unit.
func TestEventKeyIsShort(t *testing.T) {
	seen := map[string]string{}
	for i := range 10_000 {
		id := strings.Repeat("x", i%50) + string(rune('a'+i%26)) + "-" + string(rune(i))
		k := EventKey(id)
		if len(k) != 8 || strings.ContainsAny(k, "+/=") {
			t.Fatalf("EventKey(%q) = %q, want 8 base64url characters", id, k)
		}
		if prev, ok := seen[k]; ok && prev != id {
			t.Fatalf("%q and %q share the key %q", prev, id, k)
		}
		seen[k] = id
	}
	// Stored keys must be found by every later version and process: the key
	// is FNV-1a's, computed here by hand (Python) once.
	if got, want := EventKey("0d2d6f47-8c4e-4a6b-bb1c-6e5a6f2c9a31"), "IyBTkSGl"; got != want {
		t.Errorf("EventKey = %q, want %q: the stored keys would no longer match", got, want)
	}
}
