package lambdafn

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/autoscalebot/autoscalebot/internal/settings"
)

func TestMinuteSlots(t *testing.T) {
	minute := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		interval time.Duration
		now      time.Time
		first    bool  // a fanned-out fleet: slot 0 goes to the queue too
		want     []int // slot numbers
	}{
		{"60 s: the schedule alone", time.Minute, minute, false, nil},
		{"30 s on time", 30 * time.Second, minute.Add(200 * time.Millisecond), false, []int{1}},
		{"10 s on time", 10 * time.Second, minute, false, []int{1, 2, 3, 4, 5}},
		{"15 s", 15 * time.Second, minute, false, []int{1, 2, 3}},
		{"20 s", 20 * time.Second, minute, false, []int{1, 2}},
		// A late invocation's own tick stands for the slots already due.
		{"10 s, 25 s late", 10 * time.Second, minute.Add(25 * time.Second), false, []int{3, 4, 5}},
		{"30 s, redelivered a minute late", 30 * time.Second, minute.Add(time.Minute), false, nil},
		{"fanned out, 60 s", time.Minute, minute, true, []int{0}},
		{"fanned out, 30 s", 30 * time.Second, minute.Add(time.Second), true, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := minuteSlots("ev", minute, tt.now, tt.interval, tt.first)
			if len(got) != len(tt.want) {
				t.Fatalf("slots %+v, want numbers %v", got, tt.want)
			}
			for i, s := range got {
				due := minute.Add(time.Duration(tt.want[i]) * tt.interval)
				if s.Slot != tt.want[i] || !s.Due.Equal(due) || s.Event != "ev" || len(s.Formations) != 0 {
					t.Errorf("slot %d = %+v, want number %d due %s", i, s, tt.want[i], due)
				}
				if s.ID() != SlotID("ev", s.Slot) || (s.ID() == "ev") != (s.Slot == 0) {
					t.Errorf("slot %d id %q", s.Slot, s.ID())
				}
			}
		})
	}
}

func TestDelaySeconds(t *testing.T) {
	now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		due  time.Duration // after now
		want int32
	}{
		{"whole seconds", 30 * time.Second, 30},
		{"rounded up, never early", 29*time.Second + time.Millisecond, 30},
		{"already due", -time.Second, 0},
		{"SQS's most", time.Hour, 900},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := delaySeconds(now.Add(tt.due), now); got != tt.want {
				t.Errorf("delaySeconds(+%s) = %d, want %d", tt.due, got, tt.want)
			}
		})
	}
}

// TestBatches checks how a fleet is cut into messages: at most
// formationsPerMessage each, every formation exactly once, and an app's
// formations together when they fit (they share one formation list read).
func TestBatches(t *testing.T) {
	fleet := func(apps ...string) []*member {
		var out []*member
		for i, a := range apps {
			out = append(out, &member{s: settings.Settings{AppName: a, ProcessType: "p" + strconv.Itoa(i)}})
		}
		return out
	}
	tests := []struct {
		name    string
		members []*member
		want    []int // formations per message
	}{
		{"one", fleet("a"), []int{1}},
		{"ten fit one message", fleet("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), []int{10}},
		{"eleven", fleet("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"), []int{10, 1}},
		// Nine singles then an app of three: the app moves whole to the next message.
		{"an app kept together", fleet("a", "b", "c", "d", "e", "f", "g", "h", "i", "z", "z", "z"), []int{9, 3}},
		{"an app larger than a message", fleet(slices.Repeat([]string{"big"}, 23)...), []int{10, 10, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := batches(tt.members)
			var sizes []int
			seen := map[*member]int{}
			for _, b := range got {
				sizes = append(sizes, len(b))
				for _, m := range b {
					seen[m]++
				}
			}
			if !slices.Equal(sizes, tt.want) {
				t.Errorf("message sizes %v, want %v", sizes, tt.want)
			}
			for _, m := range tt.members {
				if seen[m] != 1 {
					t.Errorf("%s/%s in %d messages, want 1", m.s.AppName, m.s.ProcessType, seen[m])
				}
			}
			if tt.name == "an app kept together" {
				for _, m := range got[1] {
					if m.s.AppName != "z" {
						t.Errorf("second message holds %s, want only app z", m.s.AppName)
					}
				}
			}
		})
	}
}
