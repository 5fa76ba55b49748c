package lambdafn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
)

// SDKLogger sends the AWS SDK's own log lines (retries, checksum warnings)
// through slog, so every line in the function's log is JSON.
func SDKLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelInfo
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "aws sdk", slog.String(logkey.Detail, fmt.Sprintf(format, v...)))
	})
}
