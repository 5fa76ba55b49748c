package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const key = "hrku-0123456789abcdef"

func TestEveryWayOfPrintingRedacts(t *testing.T) {
	v := New(key)
	type holder struct {
		Key Value
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("start", "key", v, "holder", holder{Key: v})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("start", slog.Any("key", v))
	raw, err := json.Marshal(holder{Key: v})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":          fmt.Sprintf("%v", v),
		"%s":          fmt.Sprintf("key=%s", v),
		"%q":          fmt.Sprintf("%q", v),
		"%+v struct":  fmt.Sprintf("%+v", holder{Key: v}),
		"%#v struct":  fmt.Sprintf("%#v", holder{Key: v}),
		"wrapped err": fmt.Errorf("call with %v: %w", v, errors.New("boom")).Error(),
		"slog":        logs.String(),
		"json":        string(raw),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, key) {
				t.Errorf("%s shows the secret: %s", name, out)
			}
			if !strings.Contains(out, "[redacted]") {
				t.Errorf("%s shows no placeholder: %s", name, out)
			}
		})
	}
	if v.Reveal() != key {
		t.Error("Reveal does not return the secret")
	}
}

func TestEmptyValue(t *testing.T) {
	var v Value
	if !v.IsZero() || v.String() != "" || New("x").IsZero() {
		t.Error("an empty secret must read as unset and print as nothing")
	}
}
