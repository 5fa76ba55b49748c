package notify

import (
	"context"
	"strings"
	"testing"
)

func TestConsoleWritesEventTitleAndText(t *testing.T) {
	var out strings.Builder
	n := Notice{Event: Scaled, App: "myapp", ProcessType: "web", Title: "myapp/web: scaled 1 → 2 dynos", Text: "Scaled to (2) dynos.\nApp myapp"}
	if err := NewConsole(&out).Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"notice scaled", "scaled 1 → 2 dynos", "Scaled to (2) dynos.", "\n    App myapp"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
}
