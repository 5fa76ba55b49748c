package herokuapi_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/herokuapi"
	"github.com/autoscalebot/autoscalebot/internal/herokusim"
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

// TestWrappersPassOnTheRateLimit: a dry run reads the formation like a live
// run, and an Account stands in for the client, so the tick must see the
// same bucket through either to keep its reserve.
func TestWrappersPassOnTheRateLimit(t *testing.T) {
	tests := []struct {
		name string
		wrap func(*testing.T, *herokusim.Server) scaler
	}{
		{name: "dry run", wrap: func(_ *testing.T, s *herokusim.Server) scaler { return herokuapi.NewDryRun(newClient(s), 0) }},
		{name: "account", wrap: func(t *testing.T, s *herokusim.Server) scaler { return newAccount(t.Context(), key, clientOf(s)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t)
			s.SetRateLimitRemaining(42)
			d := tt.wrap(t, s)
			if _, known := d.RateLimitRemaining(); known {
				t.Fatal("remaining known before any call")
			}
			if _, err := d.Quantity(t.Context(), app, "web"); err != nil {
				t.Fatal(err)
			}
			if n, known := d.RateLimitRemaining(); !known || n != 42 {
				t.Errorf("RateLimitRemaining = %d, %v after a read; want 42, true", n, known)
			}
			s.SetRateLimitRemaining(7)
			if n, err := d.RefreshRateLimit(t.Context()); err != nil || n != 7 {
				t.Errorf("RefreshRateLimit = %d, %v; want 7", n, err)
			}
			if n, known := d.RateLimitRemaining(); !known || n != 7 {
				t.Errorf("RateLimitRemaining = %d, %v after a refresh; want 7, true", n, known)
			}
		})
	}
}

func TestDryRunInMemoryHasNoRateLimit(t *testing.T) {
	d := herokuapi.NewDryRun(nil, 2)
	if _, known := d.RateLimitRemaining(); known {
		t.Error("an in-memory dry run claims to know a rate limit")
	}
	if _, err := d.RefreshRateLimit(t.Context()); !errors.Is(err, herokuapi.ErrNoRateLimit) {
		t.Errorf("RefreshRateLimit err = %v, want ErrNoRateLimit", err)
	}
}
