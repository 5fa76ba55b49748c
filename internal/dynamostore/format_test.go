package dynamostore_test

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// fixtureWant is what testdata/items.json holds: a state item and three
// history items written by the store before verdicts and reasons were typed
// (with a history TTL of 48 hours).
func fixtureWant() (state.State, []state.Record) {
	rl := 4321
	st := state.State{
		Version: 1, SlowStreak: 2, Quantity: 3, LastScaleAt: at(26, 535897932),
		Episodes:  state.Episodes{AboveMax: true},
		LastProbe: &state.ProbeRecord{At: at(30, 1), Verdict: probe.Fail, LatencyMS: 1234, Status: 503, Detail: "HTTP 503"},
		LastDecision: &state.Record{At: at(30, 2), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Fail,
			LatencyMS: 1234, Status: 503, Current: 3, Target: 3, Min: 1, Max: 3, Reason: decision.AtMax, DryRun: true},
		Recent: []state.ScaleEvent{
			{At: at(1, 0), From: 1, To: 2, Reason: decision.SlowStreak, OK: true},
			{At: at(2, 999999999), From: 2, To: 3, Reason: decision.OutsideBounds, OK: false, Error: "update formation: 422"},
		},
		Config:    &state.Config{MinDynos: "1", MaxDynos: "3", TimeZone: "UTC", MaxResponseMS: 1000, MinResponseMS: 200, DryRun: true},
		PlanLimit: 4, RateLimitRemaining: &rl, EventIDs: []string{"evt-1", "evt-2"},
	}
	recs := []state.Record{ // newest first, as History returns them
		{At: at(41, 0), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Error, Status: 404,
			Current: 2, Target: 2, Min: 1, Max: 3, Reason: decision.ProbeError},
		{At: at(40, 0), Kind: state.KindScale, App: "myapp", Type: "web", Verdict: probe.Pass, LatencyMS: 120, Status: 200,
			Current: 3, Target: 2, Min: 1, Max: 3, Reason: decision.FastStreak, OK: true},
		{At: at(40, 0), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Pass, LatencyMS: 120, Status: 200,
			Current: 3, Target: 2, Min: 1, Max: 3, Reason: decision.FastStreak},
	}
	return st, recs
}

func readFixture(t *testing.T) []map[string]types.AttributeValue {
	t.Helper()
	data, err := os.ReadFile("testdata/items.json")
	if err != nil {
		t.Fatal(err)
	}
	var scan struct{ Items []map[string]wireValue }
	if err := json.Unmarshal(data, &scan); err != nil {
		t.Fatalf("testdata/items.json: %v", err)
	}
	items := make([]map[string]types.AttributeValue, len(scan.Items))
	for i, w := range scan.Items {
		if items[i], err = wireItem(w); err != nil {
			t.Fatalf("testdata/items.json item %d: %v", i, err)
		}
	}
	return items
}

// TestStoredFormat: items written in the stored format load with typed
// verdicts and reasons, and what the store writes now is the same items.
func TestStoredFormat(t *testing.T) {
	fixture := readFixture(t)
	wantState, wantRecs := fixtureWant()

	ctx, store, client, table := newStore(t)
	for _, item := range fixture {
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	got, err := store.Load(ctx, web)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, wantState) {
		t.Errorf("Load of the stored item =\n%+v\nwant\n%+v", got, wantState)
	}
	recs, err := store.History(ctx, web, time.Time{}, 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if !reflect.DeepEqual(recs, wantRecs) {
		t.Errorf("History of the stored items =\n%+v\nwant\n%+v", recs, wantRecs)
	}

	// Written afresh, the same values give the same items.
	ctx, store, client, table = newStore(t)
	wantState.Version = 0
	if _, err := store.Save(ctx, web, wantState); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := store.Append(ctx, web, wantRecs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	out, err := client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	written, stored := comparable(t, out.Items), comparable(t, fixture)
	if !reflect.DeepEqual(written, stored) {
		w, _ := json.MarshalIndent(written, "", "  ")
		s, _ := json.MarshalIndent(stored, "", "  ")
		t.Errorf("items written now differ from the stored format:\n%s\nwant\n%s", w, s)
	}
}

// comparable renders items in wire form, sorted by sort key, with the random
// suffix that keeps history sort keys unique cut off.
func comparable(t *testing.T, items []map[string]types.AttributeValue) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(items))
	for i, item := range items {
		sk, ok := item["sk"].(*types.AttributeValueMemberS)
		if !ok {
			t.Fatalf("item %d has no string sort key", i)
		}
		key := sk.Value
		if strings.HasPrefix(key, "rec#") {
			key = key[:strings.LastIndex(key, "#")]
		}
		out[i] = itemToWire(item)
		out[i]["sk"] = key
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["sk"].(string) < out[j]["sk"].(string) })
	return out
}
