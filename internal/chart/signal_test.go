package chart

import (
	"bytes"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/probe"
)

// The legend says which signal the latency line and thresholds are.
func TestRenderNamesTheSignal(t *testing.T) {
	tests := []struct {
		name   string
		opt    Options
		want   []string
		absent []string
	}{
		{"response time", Options{Title: "shop/web", MinResponseMS: 400, MaxResponseMS: 1000},
			[]string{"heartbeat latency", "max response 1000 ms: slower fails", "min response 400 ms: faster passes"},
			[]string{"queue time"}},
		{"queue time", Options{Title: "shop/web", MinResponseMS: 10, MaxResponseMS: 100, Signal: probe.QueueTime},
			[]string{"queue time (heartbeat)", "max queue time 100 ms: longer fails", "min queue time 10 ms: shorter passes"},
			[]string{"max response", "heartbeat latency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, afternoon(), tt.opt); err != nil {
				t.Fatal(err)
			}
			checkXML(t, buf.Bytes())
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("chart lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(buf.String(), a) {
					t.Errorf("chart shows %q", a)
				}
			}
		})
	}
}
