package dynamostore_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/internal/decision"
	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const historyTTL = 48 * time.Hour

var (
	web    = state.Key{App: "myapp", ProcessType: "web"}
	worker = state.Key{App: "myapp", ProcessType: "worker"}
	other  = state.Key{App: "other-app", ProcessType: "web"}
)

// newStore returns a store on a fresh table of the shared moto, and the raw
// client and table name for looking at items directly.
func newStore(t *testing.T) (context.Context, *dynamostore.Store, *dynamodb.Client, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	client := dynamodb.NewFromConfig(awstest.SharedMoto(t).Config(t))
	table := awstest.UniqueName(t, "state")
	awstest.CreateTable(ctx, t, client, table)
	return ctx, dynamostore.New(client, table, historyTTL), client, table
}

func at(sec, nsec int) time.Time {
	return time.Date(2025, 3, 14, 15, 9, sec, nsec, time.UTC)
}

// fullState sets every field, so that a field the store drops or mangles
// shows up as a difference.
func fullState() state.State {
	return state.State{
		SlowStreak:  3,
		FastStreak:  1,
		Episodes:    state.Episodes{AboveMax: true, BelowMin: true, ProbeError: true, ScaleDiff: true},
		Quantity:    4,
		LastScaleAt: at(26, 535897932),
		LastProbe: &state.ProbeRecord{
			At: at(30, 1), Verdict: probe.Fail, LatencyMS: 1234, Status: 503, Detail: "service unavailable",
		},
		LastDecision: &state.Record{
			At: at(30, 2), Kind: state.KindDecision, App: "myapp", Type: "web", Verdict: probe.Fail,
			LatencyMS: 1234, Status: 503, Current: 3, Target: 4, Min: 1, Max: 5, Reason: decision.SlowStreak,
			OK: true, Error: "none", DryRun: true, Paused: true,
		},
		Recent: []state.ScaleEvent{
			{At: at(1, 0), From: 1, To: 2, Reason: decision.SlowStreak, OK: true},
			{At: at(2, 999999999), From: 2, To: 3, Reason: decision.SlowStreak, OK: false, Error: "422 plan limit"},
		},
		Paused:   true,
		EventIDs: []string{"evt-1", "evt-2"},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx, store, client, table := newStore(t)

	want := fullState()
	saved, err := store.Save(ctx, web, want)
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	want.Version = 1
	if !reflect.DeepEqual(saved, want) {
		t.Errorf("Save returned\n%+v\nwant\n%+v", saved, want)
	}
	got, err := store.Load(ctx, web)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load returned\n%+v\nwant\n%+v", got, want)
	}

	t.Run("item is readable", func(t *testing.T) {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "myapp#web"},
				"sk": &types.AttributeValueMemberS{Value: "state"},
			},
		})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		wantAttrs := map[string]string{
			"version":     "1",
			"app":         "myapp",
			"processType": "web",
			"slowStreak":  "3",
			"lastScaleAt": "2025-03-14T15:09:26.535897932Z",
		}
		for name, want := range wantAttrs {
			if got := scalar(out.Item[name]); got != want {
				t.Errorf("attribute %s = %q, want %q", name, got, want)
			}
		}
		if _, ok := out.Item["episodes"].(*types.AttributeValueMemberM); !ok {
			t.Errorf("attribute episodes = %T, want a map", out.Item["episodes"])
		}
	})

	t.Run("later save clears fields", func(t *testing.T) {
		next := state.State{Version: got.Version, Quantity: 2}
		if _, err := store.Save(ctx, web, next); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := store.Load(ctx, web)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		want := state.State{Version: 2, Quantity: 2}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load returned\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("times come back in UTC", func(t *testing.T) {
		vancouver := time.FixedZone("PDT", -7*3600)
		st := state.State{LastScaleAt: at(5, 123).In(vancouver)}
		if _, err := store.Save(ctx, other, st); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := store.Load(ctx, other)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.LastScaleAt != at(5, 123) {
			t.Errorf("LastScaleAt = %v, want %v", got.LastScaleAt, at(5, 123))
		}
	})
}

func scalar(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

func TestLoadMissingIsZero(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	got, err := store.Load(ctx, web)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, state.State{}) {
		t.Errorf("Load of a missing key = %+v, want the zero State", got)
	}
}

// Two invocations load the same version and both decide; only the first
// save may win, and the loser must not overwrite it.
func TestTwoWritersOneWins(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	for _, tc := range []struct {
		name    string
		version int64 // version both writers load
	}{
		{name: "first save", version: 0},
		{name: "after one save", version: 1},
		{name: "after two saves", version: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := store.Load(ctx, web)
			if err != nil {
				t.Fatalf("Load a: %v", err)
			}
			b, err := store.Load(ctx, web)
			if err != nil {
				t.Fatalf("Load b: %v", err)
			}
			if a.Version != tc.version || b.Version != tc.version {
				t.Fatalf("loaded versions %d and %d, want %d", a.Version, b.Version, tc.version)
			}
			a.Quantity, a.EventIDs = 10+int(tc.version), []string{"a"}
			b.Quantity, b.EventIDs = 20+int(tc.version), []string{"b"}

			won, err := store.Save(ctx, web, a)
			if err != nil {
				t.Fatalf("first Save: %v", err)
			}
			if won.Version != tc.version+1 {
				t.Errorf("winner's version = %d, want %d", won.Version, tc.version+1)
			}
			if _, err := store.Save(ctx, web, b); !errors.Is(err, state.ErrConflict) {
				t.Fatalf("second Save error = %v, want ErrConflict", err)
			}
			stored, err := store.Load(ctx, web)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(stored, won) {
				t.Errorf("stored state = %+v, want the winner's %+v", stored, won)
			}
		})
	}
}

func TestManyConcurrentWritersOneWins(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = store.Save(ctx, web, state.State{Quantity: i + 1})
		})
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, state.ErrConflict):
			t.Errorf("writer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d writers won, want exactly 1", winners)
	}
}

func TestSaveStaleVersion(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	v1, err := store.Save(ctx, web, state.State{Quantity: 1})
	if err != nil {
		t.Fatalf("Save v0: %v", err)
	}
	v2, err := store.Save(ctx, web, state.State{Version: v1.Version, Quantity: 2})
	if err != nil {
		t.Fatalf("Save v1: %v", err)
	}
	for _, tc := range []struct {
		name    string
		version int64
	}{
		{name: "never loaded", version: 0},
		{name: "one save behind", version: 1},
		{name: "ahead of the store", version: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Save(ctx, web, state.State{Version: tc.version, Quantity: 99})
			if !errors.Is(err, state.ErrConflict) {
				t.Fatalf("Save at version %d: error = %v, want ErrConflict", tc.version, err)
			}
			got, err := store.Load(ctx, web)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, v2) {
				t.Errorf("stored state = %+v, want %+v", got, v2)
			}
		})
	}
}

func TestBadKeys(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	for _, key := range []state.Key{
		{App: "", ProcessType: "web"},
		{App: "myapp", ProcessType: ""},
		{App: "my#app", ProcessType: "web"},
		{App: "myapp", ProcessType: "w#eb"},
	} {
		t.Run(key.String(), func(t *testing.T) {
			if _, err := store.Save(ctx, key, state.State{}); err == nil || errors.Is(err, state.ErrConflict) {
				t.Errorf("Save: error = %v, want a key error", err)
			}
			if _, err := store.Load(ctx, key); err == nil {
				t.Error("Load: no error")
			}
			if err := store.Append(ctx, key, state.Record{At: at(0, 0)}); err == nil {
				t.Error("Append: no error")
			}
			if _, err := store.History(ctx, key, time.Time{}, 0); err == nil {
				t.Error("History: no error")
			}
		})
	}
}

func record(key state.Key, t time.Time, kind string, target int) state.Record {
	return state.Record{
		At: t, Kind: kind, App: key.App, Type: key.ProcessType, Verdict: probe.Fail, LatencyMS: 1500,
		Status: 200, Current: target - 1, Target: target, Min: 1, Max: 10, Reason: decision.SlowStreak, OK: true,
	}
}

func TestHistory(t *testing.T) {
	ctx, store, _, _ := newStore(t)

	// Times that sort wrongly as plain RFC3339Nano strings: a whole second
	// before fractions of the same second.
	times := []time.Time{at(1, 0), at(1, 123456789), at(1, 5e8), at(2, 0), at(3, 1)}
	var webRecs []state.Record
	for i, tm := range times {
		webRecs = append(webRecs, record(web, tm, state.KindDecision, i+2))
	}
	// Out of order and in two calls: the store orders by time, not by arrival.
	if err := store.Append(ctx, web, webRecs[3], webRecs[0], webRecs[4]); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := store.Append(ctx, web, webRecs[2], webRecs[1]); err != nil {
		t.Fatalf("Append: %v", err)
	}
	workerRecs := []state.Record{
		record(worker, at(1, 7), state.KindScale, 2),
		record(worker, at(4, 0), state.KindScale, 3),
	}
	if err := store.Append(ctx, worker, workerRecs...); err != nil {
		t.Fatalf("Append worker: %v", err)
	}
	// A state item in the same partition must not show up as history.
	if _, err := store.Save(ctx, web, state.State{Quantity: 3}); err != nil {
		t.Fatalf("Save: %v", err)
	}

	newestFirst := []state.Record{webRecs[4], webRecs[3], webRecs[2], webRecs[1], webRecs[0]}
	for _, tc := range []struct {
		name  string
		key   state.Key
		since time.Time
		limit int
		want  []state.Record
	}{
		{name: "all", key: web, want: newestFirst},
		{name: "since is inclusive", key: web, since: at(1, 5e8), want: newestFirst[:3]},
		{name: "since between records", key: web, since: at(1, 200000000), want: newestFirst[:3]},
		{name: "limit", key: web, limit: 2, want: newestFirst[:2]},
		{name: "since and limit", key: web, since: at(1, 1), limit: 10, want: newestFirst[:4]},
		{name: "other formation", key: worker, want: []state.Record{workerRecs[1], workerRecs[0]}},
		{name: "since after all", key: web, since: at(59, 0), want: nil},
		{name: "no history", key: other, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.History(ctx, tc.key, tc.since, tc.limit)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("History =\n%s\nwant\n%s", summary(got), summary(tc.want))
			}
		})
	}
}

func summary(recs []state.Record) string {
	s := ""
	for _, r := range recs {
		s += "  " + r.App + "/" + r.Type + " " + r.At.Format(time.RFC3339Nano) + " " + r.Kind + " " + strconv.Itoa(r.Target) + "\n"
	}
	return s
}

func TestAppendFillsKeyAndKeepsDuplicates(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	// Two overlapping invocations can record the same instant and kind.
	rec := state.Record{At: at(9, 0), Kind: state.KindScale, Target: 3}
	if err := store.Append(ctx, web, rec, rec); err != nil {
		t.Fatalf("Append: %v", err)
	}
	got, err := store.History(ctx, web, time.Time{}, 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("History returned %d records, want 2", len(got))
	}
	for _, r := range got {
		if r.App != web.App || r.Type != web.ProcessType {
			t.Errorf("record key = %s/%s, want %s", r.App, r.Type, web)
		}
	}
}

func TestAppendRejectsRecordWithoutTime(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	err := store.Append(ctx, web, state.Record{Kind: state.KindDecision})
	if err == nil {
		t.Fatal("Append of a record without At: no error")
	}
}

func TestAppendSetsExpiry(t *testing.T) {
	ctx, store, client, table := newStore(t)
	recs := []state.Record{
		record(web, at(0, 0), state.KindDecision, 2),
		record(web, at(7, 999999999), state.KindScale, 2),
	}
	if err := store.Append(ctx, web, recs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "myapp#web"},
		},
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(out.Items) != len(recs) {
		t.Fatalf("%d items, want %d", len(out.Items), len(recs))
	}
	for i, item := range out.Items { // ascending sort key: same order as recs
		want := strconv.FormatInt(recs[i].At.Add(historyTTL).Unix(), 10)
		n, ok := item["expiresAt"].(*types.AttributeValueMemberN)
		if !ok || n.Value != want {
			t.Errorf("item %d expiresAt = %#v, want number %s", i, item["expiresAt"], want)
		}
	}
}

func TestKeys(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	for _, key := range []state.Key{other, worker, web} {
		if _, err := store.Save(ctx, key, state.State{Quantity: 1}); err != nil {
			t.Fatalf("Save %s: %v", key, err)
		}
	}
	// History alone does not make a formation.
	lonely := state.Key{App: "history-only", ProcessType: "web"}
	if err := store.Append(ctx, lonely, record(lonely, at(0, 0), state.KindDecision, 1)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := store.Append(ctx, web, record(web, at(0, 0), state.KindDecision, 1)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	got, err := store.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	want := []state.Key{web, worker, other}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
}

// TestHistoryLargePage: a history that fills DynamoDB's 1 MB page comes
// back whole and newest first.
func TestHistoryLargePage(t *testing.T) {
	ctx, store, _, _ := newStore(t)
	const n = 3000 // 0.9 MB of item data, 1.2 MB on the wire: one page
	recs := make([]state.Record, n)
	for i := range recs {
		recs[i] = record(web, at(0, i), state.KindDecision, 2)
	}
	if err := store.Append(ctx, web, recs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	got, err := store.History(ctx, web, time.Time{}, 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(got) != n {
		t.Fatalf("History returned %d records, want %d", len(got), n)
	}
	for i, r := range got {
		if want := recs[n-1-i]; !reflect.DeepEqual(r, want) {
			t.Fatalf("record %d = %+v, want %+v", i, r, want)
		}
	}
}
