package notify

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Console writes notices to a terminal, for running autoscalebot locally.
type Console struct {
	mu sync.Mutex
	w  io.Writer
}

// NewConsole returns a notifier that writes to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Notify writes the notice as a short block of text.
func (c *Console) Notify(_ context.Context, n Notice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	body := strings.ReplaceAll(strings.TrimSpace(n.Text), "\n", "\n    ")
	if _, err := fmt.Fprintf(c.w, "  ▶ notice %s: %s\n    %s\n", n.Event, n.Title, body); err != nil {
		return fmt.Errorf("write notice: %w", err)
	}
	return nil
}
