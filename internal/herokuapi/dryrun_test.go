package herokuapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
)

func TestDryRun(t *testing.T) {
	tests := []struct {
		name         string
		withBase     bool
		initial      int
		scales       []int
		wantQuantity int // read after the scales
	}{
		{name: "in memory follows requests", initial: 2, scales: []int{3, 4}, wantQuantity: 4},
		{name: "in memory without requests", initial: 2, wantQuantity: 2},
		// the fake holds 2 dynos and must keep them
		{name: "over the real API reads it", withBase: true, initial: 9, scales: []int{3, 4}, wantQuantity: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			var base herokuapi.Reader
			if tt.withBase {
				base = newClient(s)
			}
			d := herokuapi.NewDryRun(base, tt.initial)
			for _, q := range tt.scales {
				if err := d.Scale(t.Context(), app, "web", q); err != nil {
					t.Fatalf("Scale(%d): %v", q, err)
				}
			}
			got, err := d.Quantity(t.Context(), app, "web")
			if err != nil {
				t.Fatalf("Quantity: %v", err)
			}
			if got != tt.wantQuantity {
				t.Errorf("Quantity = %d, want %d", got, tt.wantQuantity)
			}
			if !slices.Equal(d.Requests(), tt.scales) {
				t.Errorf("Requests = %v, want %v", d.Requests(), tt.scales)
			}
			for _, r := range s.Requests() {
				if r.Method != http.MethodGet {
					t.Errorf("dry run sent %s %s", r.Method, r.Path)
				}
			}
			if s.Quantity(app, "web") != 2 {
				t.Errorf("fake quantity = %d, want it untouched at 2", s.Quantity(app, "web"))
			}
		})
	}
}
