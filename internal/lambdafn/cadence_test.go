package lambdafn

import (
	"testing"
	"time"
)

func TestLaterSlots(t *testing.T) {
	minute := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		interval time.Duration
		now      time.Time
		want     []int // slot numbers
	}{
		{"60 s: the schedule alone", time.Minute, minute, nil},
		{"30 s on time", 30 * time.Second, minute.Add(200 * time.Millisecond), []int{1}},
		{"10 s on time", 10 * time.Second, minute, []int{1, 2, 3, 4, 5}},
		{"15 s", 15 * time.Second, minute, []int{1, 2, 3}},
		{"20 s", 20 * time.Second, minute, []int{1, 2}},
		// A late invocation's own tick stands for the slots already due.
		{"10 s, 25 s late", 10 * time.Second, minute.Add(25 * time.Second), []int{3, 4, 5}},
		{"30 s, redelivered a minute late", 30 * time.Second, minute.Add(time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := laterSlots("app", "web", "ev", minute, tt.now, tt.interval)
			if len(got) != len(tt.want) {
				t.Fatalf("slots %+v, want numbers %v", got, tt.want)
			}
			for i, s := range got {
				due := minute.Add(time.Duration(tt.want[i]) * tt.interval)
				if s.Slot != tt.want[i] || !s.Due.Equal(due) || s.Event != "ev" || s.App != "app" || s.ProcessType != "web" {
					t.Errorf("slot %d = %+v, want number %d due %s", i, s, tt.want[i], due)
				}
				if s.ID() != SlotID("ev", s.Slot) || s.ID() == "ev" {
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
