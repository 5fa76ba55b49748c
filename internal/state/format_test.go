package state_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// TestFileStoredFormat: a state file written before verdicts and reasons
// were typed (testdata/state.json) loads them typed, and the same values
// written now give the same file.
func TestFileStoredFormat(t *testing.T) {
	ctx := context.Background()
	at := func(sec, nsec int) time.Time { return time.Date(2025, 3, 14, 15, 9, sec, nsec, time.UTC) }
	key := state.Key{App: "myapp", ProcessType: "web"}
	rl := 4321
	wantState := state.State{
		Version: 1, SlowStreak: 2, Quantity: 3, LastScaleAt: at(26, 535897932),
		Episodes:  state.Episodes{AboveMax: true},
		LastProbe: &state.ProbeRecord{At: at(30, 1), Verdict: probe.Fail, LatencyMS: 1234, Status: 503, Detail: "HTTP 503"},
		LastDecision: &state.Record{At: at(30, 2), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Fail,
			LatencyMS: 1234, Status: 503, Current: 3, Target: 3, Min: 1, Max: 3, Reason: decision.AtMax},
		Recent: []state.ScaleEvent{
			{At: at(1, 0), From: 1, To: 2, Reason: decision.SlowStreak, OK: true},
			{At: at(2, 999999999), From: 2, To: 3, Reason: decision.OutsideBounds, OK: false, Error: "update formation: 422"},
		},
		Config:    &state.Config{MinDynos: "1", MaxDynos: "3", TimeZone: "UTC", MaxResponseMS: 1000, MinResponseMS: 200},
		PlanLimit: 4, RateLimitRemaining: &rl, EventIDs: []string{"evt-1", "evt-2"},
	}
	wantRecs := []state.Record{ // oldest first, as appended
		{At: at(40, 0), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Pass, LatencyMS: 120, Status: 200,
			Current: 3, Target: 2, Min: 1, Max: 3, Reason: decision.FastStreak},
		{At: at(40, 0), Kind: state.KindScale, App: "myapp", Type: "web", Verdict: probe.Pass, LatencyMS: 120, Status: 200,
			Current: 3, Target: 2, Min: 1, Max: 3, Reason: decision.FastStreak, OK: true},
		{At: at(41, 0), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Error, Status: 404,
			Current: 2, Target: 2, Min: 1, Max: 3, Reason: decision.ProbeError},
	}

	fixture, err := os.ReadFile("testdata/state.json")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(old, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	store := state.NewFileStore(old)
	got, err := store.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, wantState) {
		t.Errorf("Load of the stored file =\n%+v\nwant\n%+v", got, wantState)
	}
	recs, err := store.History(ctx, key, time.Time{}, 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	// History is newest first.
	if len(recs) != len(wantRecs) || !reflect.DeepEqual(recs[0], wantRecs[2]) || !reflect.DeepEqual(recs[2], wantRecs[0]) {
		t.Errorf("History of the stored file =\n%+v\nwant the reverse of\n%+v", recs, wantRecs)
	}

	fresh := filepath.Join(t.TempDir(), "state.json")
	store = state.NewFileStore(fresh)
	wantState.Version = 0
	if _, err := store.Save(ctx, key, wantState); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := store.Append(ctx, key, wantRecs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	written, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	var w, s any
	if err := json.Unmarshal(written, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fixture, &s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w, s) {
		t.Errorf("file written now differs from the stored format:\n%s\nwant\n%s", written, fixture)
	}
}
