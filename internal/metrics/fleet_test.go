package metrics

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// TestWriteFleet checks a fleet's lines: every formation's metrics under the
// one Fleet dimension (so the fleet's metric count does not grow with its
// size), App and ProcessType still on the line for Logs Insights, and a
// failed tick counted by FailedTicks even when it never probed.
func TestWriteFleet(t *testing.T) {
	fleetDims := []any{[]any{DimensionFleet}}
	both := []any{[]any{DimensionFleet}, []any{DimensionApp, DimensionProcessType}}
	decided := tick.Summary{App: "shop", ProcessType: "worker", EventID: "ev-1", Verdict: "fail", LatencyMS: 900,
		Reason: "SlowStreak", Current: 2, Target: 2, Min: 1, Max: 4, SlowStreak: 1}
	tests := []struct {
		name     string
		scope    Scope
		sum      tick.Summary
		failed   bool
		wantDims []any
		want     map[string]float64
	}{
		{
			name: "a decided tick", scope: Scope{Fleet: "autoscalebot-fn"}, sum: decided, wantDims: fleetDims,
			want: map[string]float64{HeartbeatLatency: 900, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 2, ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0, FailedTicks: 0},
		},
		{
			name: "per-formation metrics opted in", scope: Scope{Fleet: "autoscalebot-fn", PerFormation: true}, sum: decided, wantDims: both,
			want: map[string]float64{HeartbeatLatency: 900, FailVerdicts: 1, PassVerdicts: 0, ProbeErrors: 0,
				Dynos: 2, TargetDynos: 2, ScaleUps: 0, ScaleDowns: 0, ScaleFailures: 0, FailedTicks: 0},
		},
		{
			name: "failed before probing", scope: Scope{Fleet: "autoscalebot-fn"}, failed: true, wantDims: fleetDims,
			sum:  tick.Summary{App: "blog", ProcessType: "web", EventID: "ev-1"},
			want: map[string]float64{FailedTicks: 1},
		},
		{
			name: "failed after probing (Heroku refused)", scope: Scope{Fleet: "autoscalebot-fn"}, failed: true, wantDims: fleetDims,
			sum:  tick.Summary{App: "blog", ProcessType: "web", EventID: "ev-1", Verdict: "ok", LatencyMS: 300, Reason: "HerokuRefused"},
			want: map[string]float64{HeartbeatLatency: 300, FailVerdicts: 0, PassVerdicts: 0, ProbeErrors: 0, FailedTicks: 1},
		},
	}
	schema := loadSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFleet(&buf, now, tt.scope, tt.sum, tt.failed); err != nil {
				t.Fatal(err)
			}
			doc := checkEMFDims(t, schema, buf.Bytes(), now, tt.wantDims)
			got := map[string]float64{}
			for _, m := range directiveMetrics(doc) {
				got[m] = doc[m].(float64)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("metrics:\n got %v\nwant %v", got, tt.want)
			}
			if doc[DimensionFleet] != tt.scope.Fleet || doc[DimensionApp] != tt.sum.App || doc[DimensionProcessType] != tt.sum.ProcessType {
				t.Errorf("Fleet/App/ProcessType = %v/%v/%v, want %s/%s/%s", doc[DimensionFleet], doc[DimensionApp],
					doc[DimensionProcessType], tt.scope.Fleet, tt.sum.App, tt.sum.ProcessType)
			}
		})
	}
}

// TestWriteFleetNothing: a duplicate or a lost race writes nothing, failed
// or not, so no tick is counted twice.
func TestWriteFleetNothing(t *testing.T) {
	for _, sum := range []tick.Summary{
		{App: "shop", ProcessType: "web", Duplicate: true},
		{App: "shop", ProcessType: "web", Conflict: true, Verdict: "ok"},
		{App: "shop", ProcessType: "web"}, // not failed and never probed
	} {
		var buf bytes.Buffer
		if err := WriteFleet(&buf, now, Scope{Fleet: "fn"}, sum, false); err != nil || buf.Len() > 0 {
			t.Errorf("%+v: wrote %q (err %v), want nothing", sum, buf.String(), err)
		}
	}
	if err := WriteFleet(&bytes.Buffer{}, now, Scope{}, tick.Summary{App: "a", ProcessType: "web", Verdict: "ok"}, false); err == nil || !strings.Contains(err.Error(), "Fleet") {
		t.Errorf("no fleet name: err = %v, want one naming the Fleet dimension", err)
	}
}
