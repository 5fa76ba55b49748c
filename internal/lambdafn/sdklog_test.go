package lambdafn

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/smithy-go/logging"
)

func TestSDKLoggerWritesJSON(t *testing.T) {
	var out bytes.Buffer
	SDKLogger(slog.New(slog.NewJSONHandler(&out, nil))).Logf(logging.Warn, "failed to close body: %s", "checksum")
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q", out.String())
	}
	if line["level"] != "WARN" || line["msg"] != "aws sdk" || line["detail"] != "failed to close body: checksum" {
		t.Errorf("line %v", line)
	}
}
