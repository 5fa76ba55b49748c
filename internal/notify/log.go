package notify

import (
	"context"
	"log/slog"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
)

// Log writes notices as log lines, for deployments without a topic.
type Log struct{ log *slog.Logger }

// NewLog returns a notifier that logs each notice at info level.
func NewLog(log *slog.Logger) *Log { return &Log{log: log} }

// Notify logs the notice.
func (l *Log) Notify(ctx context.Context, n Notice) error {
	l.log.InfoContext(ctx, "notice",
		slog.String(logkey.Event, string(n.Event)),
		slog.String(logkey.Title, n.Title),
		slog.String(logkey.Text, n.Text))
	return nil
}
