package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/probe"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fullState() State {
	return State{
		SlowStreak: 2, FastStreak: 0, Quantity: 3,
		Episodes:     Episodes{AboveMax: true, ProbeError: true},
		LastScaleAt:  t0,
		LastProbe:    &ProbeRecord{At: t0, Verdict: probe.Fail, LatencyMS: 1200, Status: 200},
		LastDecision: &Record{At: t0, Kind: KindDecision, App: "myapp", Type: "web", Current: 2, Target: 3, Reason: "SlowStreak"},
		Recent:       []ScaleEvent{{At: t0, From: 2, To: 3, Reason: "SlowStreak", OK: true}},
		Paused:       true,
		EventIDs:     []string{"a", "b"},
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	key := Key{App: "myapp", ProcessType: "web"}

	got, err := NewFileStore(path).Load(ctx, key)
	if err != nil || !reflect.DeepEqual(got, State{}) {
		t.Fatalf("load before any save = %+v, %v; want zero state", got, err)
	}
	saved, err := NewFileStore(path).Save(ctx, key, fullState())
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != 1 {
		t.Errorf("first save version %d, want 1", saved.Version)
	}
	// A new store on the same file sees the same state: it survives a restart.
	got, err = NewFileStore(path).Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, saved) {
		t.Errorf("loaded %+v\nwant %+v", got, saved)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestFileStoreVersionConflict(t *testing.T) {
	ctx := context.Background()
	store := NewFileStore(filepath.Join(t.TempDir(), "state.json"))
	key := Key{App: "myapp", ProcessType: "web"}
	tests := []struct {
		name    string
		version int64
		wantErr bool
	}{
		{name: "first writer from version 0", version: 0},
		{name: "second writer from version 0 loses", version: 0, wantErr: true},
		{name: "writer from the current version", version: 1},
		{name: "stale writer loses", version: 1, wantErr: true},
		{name: "writer from a future version loses", version: 7, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := store.Load(ctx, key)
			_, err := store.Save(ctx, key, State{Version: tt.version, SlowStreak: int(tt.version) + 10})
			if tt.wantErr != errors.Is(err, ErrConflict) {
				t.Fatalf("err = %v, want conflict %v", err, tt.wantErr)
			}
			after, _ := store.Load(ctx, key)
			if tt.wantErr && !reflect.DeepEqual(before, after) {
				t.Errorf("losing writer changed the state: %+v → %+v", before, after)
			}
		})
	}
}

func TestFileStoreHistory(t *testing.T) {
	ctx := context.Background()
	store := NewFileStore(filepath.Join(t.TempDir(), "state.json"))
	web := Key{App: "myapp", ProcessType: "web"}
	worker := Key{App: "myapp", ProcessType: "worker"}
	for i := range 5 {
		if err := store.Append(ctx, web, Record{At: t0.Add(time.Duration(i) * time.Minute), Kind: KindDecision, Current: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Append(ctx, worker, Record{At: t0, Kind: KindScale}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		since time.Time
		limit int
		want  []int // Current of each record, newest first
	}{
		{name: "all newest first", want: []int{4, 3, 2, 1, 0}},
		{name: "since filter", since: t0.Add(3 * time.Minute), want: []int{4, 3}},
		{name: "limit", limit: 2, want: []int{4, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := store.History(ctx, web, tt.since, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, r := range recs {
				got = append(got, r.Current)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("history %v, want %v", got, tt.want)
			}
		})
	}
	keys, err := store.Keys(ctx)
	if err != nil || !reflect.DeepEqual(keys, []Key{web, worker}) {
		t.Errorf("keys = %v, %v; want web and worker", keys, err)
	}
}

func TestFileStoreHistoryIsBounded(t *testing.T) {
	ctx := context.Background()
	store := NewFileStore(filepath.Join(t.TempDir(), "state.json"))
	key := Key{App: "myapp", ProcessType: "web"}
	recs := make([]Record, fileHistoryLimit+10)
	for i := range recs {
		recs[i] = Record{At: t0.Add(time.Duration(i) * time.Second), Current: i}
	}
	if err := store.Append(ctx, key, recs...); err != nil {
		t.Fatal(err)
	}
	got, err := store.History(ctx, key, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != fileHistoryLimit || got[0].Current != len(recs)-1 {
		t.Errorf("kept %d records, newest %d; want %d, newest %d", len(got), got[0].Current, fileHistoryLimit, len(recs)-1)
	}
}

func TestFileStoreCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	store := NewFileStore(path)
	_, err := store.Load(context.Background(), Key{App: "a", ProcessType: "web"})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("load of a corrupt file: err %v, want one naming %s", err, path)
	}
	if _, err := store.Save(context.Background(), Key{App: "a", ProcessType: "web"}, State{}); err == nil {
		t.Fatal("save over a corrupt file succeeded; it must not overwrite what it cannot read")
	}
	raw, _ := os.ReadFile(path)
	if string(raw) != "{not json" {
		t.Errorf("corrupt file was changed to %q", raw)
	}
}
