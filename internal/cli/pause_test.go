package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestPauseAndResume(t *testing.T) {
	shop := state.Key{App: "shop", ProcessType: "web"}
	seedState := []formation{{key: shop, state: state.State{Quantity: 2, SlowStreak: 2}}}
	stores := []struct {
		name  string
		args  func(t *testing.T) []string
		store func(t *testing.T, args []string) stateStore
	}{
		{
			name: "state file",
			args: func(t *testing.T) []string { return []string{"-state", seededFile(t, seedState)} },
			store: func(t *testing.T, args []string) stateStore {
				return state.NewFileStore(args[1])
			},
		},
		{
			name: "table",
			args: func(t *testing.T) []string { return []string{"-table", seededTable(t, seedState)} },
			store: func(t *testing.T, args []string) stateStore {
				return dynamostore.New(dynamodb.NewFromConfig(useMoto(t)), args[1], 0)
			},
		},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			where := st.args(t)
			store := st.store(t, where)
			steps := []struct {
				cmd        string
				wantPaused bool
				wantOut    string
			}{
				{cmd: "pause", wantPaused: true, wantOut: "shop/web is now paused"},
				{cmd: "pause", wantPaused: true, wantOut: "shop/web is already paused"},
				{cmd: "resume", wantPaused: false, wantOut: "shop/web is now running"},
				{cmd: "resume", wantPaused: false, wantOut: "shop/web is already running"},
			}
			for _, step := range steps {
				code, out, errOut := runCLI(t, nil, append([]string{step.cmd, "-app", "shop"}, where...)...)
				if code != 0 || !strings.Contains(out, step.wantOut) {
					t.Fatalf("%s: exit %d, output %q %q; want %q", step.cmd, code, out, errOut, step.wantOut)
				}
				got, err := store.Load(context.Background(), shop)
				if err != nil {
					t.Fatal(err)
				}
				if got.Paused != step.wantPaused || got.SlowStreak != 2 || got.Quantity != 2 {
					t.Errorf("after %s: %+v; want paused=%t and the rest of the state kept", step.cmd, got, step.wantPaused)
				}
			}
		})
	}
}

// racingStore saves behind the command's back the first time it loads, as
// a tick running at that moment would.
type racingStore struct {
	stateStore
	raced bool
}

func (r *racingStore) Load(ctx context.Context, key state.Key) (state.State, error) {
	s, err := r.stateStore.Load(ctx, key)
	if !r.raced {
		r.raced = true
		tick := s
		tick.SlowStreak++
		if _, err := r.stateStore.Save(ctx, key, tick); err != nil {
			return s, err
		}
	}
	return s, err
}

func TestPauseRetriesWhenATickSavesInBetween(t *testing.T) {
	shop := state.Key{App: "shop", ProcessType: "web"}
	path := seededFile(t, []formation{{key: shop, state: state.State{Quantity: 2, SlowStreak: 2}}})
	store := &racingStore{stateStore: state.NewFileStore(path)}
	var out strings.Builder
	if err := pauseIn(context.Background(), storeAt{store, "state file"}, shop, true, &out); err != nil {
		t.Fatal(err)
	}
	got, _ := state.NewFileStore(path).Load(context.Background(), shop)
	if !got.Paused || got.SlowStreak != 3 {
		t.Errorf("state %+v: want paused on top of the tick's save (streak 3)", got)
	}
}

func TestPauseNeedsAnApp(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "pause", "-state", seededFile(t, nil))
	if code != 1 || !strings.Contains(errOut, "-app is required") {
		t.Errorf("exit %d, stderr %q; want 1 and a message asking for -app", code, errOut)
	}
}
