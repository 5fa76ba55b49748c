package lambdafn

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/autoscalebot/autoscalebot/internal/logkey"
	"github.com/autoscalebot/autoscalebot/internal/metrics"
	"github.com/autoscalebot/autoscalebot/internal/tick"
)

// A function without a settings file (Config.Fleet false) ticks its one
// formation as it did before fleets: the invocation returns the
// formation's summary and fails with its tick's own error, the metrics go
// under App and ProcessType, no fleet line is logged, and the formation is
// never sent to the tick queue for slot 0. Every such difference is here;
// the rest runs the same for one formation or many.

// single is a scheduled invocation's result and error without a settings
// file: the formation's summary, and its tick's own error in place of the
// FleetError naming it (beside the tick queue's error, if any).
func single(res FleetResult, err error) (any, error) {
	if len(res.Formations) != 1 {
		return res, err // a configuration error: nothing ticked
	}
	return res.Formations[0].Summary, ownError(err)
}

// ownError is err with the FleetError naming the one formation replaced by
// the formation's own error.
func ownError(err error) error {
	switch e := err.(type) {
	case *FleetError:
		return e.Failed[0].Err
	case interface{ Unwrap() []error }: // joined with the tick queue's error
		errs := slices.Clone(e.Unwrap())
		for i, x := range errs {
			errs[i] = ownError(x)
		}
		return errors.Join(errs...)
	}
	return err
}

// fanOut says whether the scheduled invocation sends every formation to the
// tick queue instead of ticking them itself.
func (h *Handler) fanOut() bool {
	return h.cfg.Fleet && h.queue != nil && len(h.members) > h.shared.FanOutAbove
}

// logFleet writes one line per fleet invocation: how many formations ran,
// failed and were sent on. Each formation's own tick line says the rest.
func (h *Handler) logFleet(ctx context.Context, outs []outcome, messagesSent int) {
	if !h.cfg.Fleet {
		return
	}
	failed := 0
	for _, o := range outs {
		if o.err != nil {
			failed++
		}
	}
	h.cfg.Log.InfoContext(ctx, "fleet ticked", slog.Int(logkey.Formations, len(outs)),
		slog.Int(logkey.Failed, failed), slog.Int(logkey.Messages, messagesSent))
}

// writeMetrics writes the tick's CloudWatch metrics as one EMF line.
func (h *Handler) writeMetrics(ctx context.Context, sum tick.Summary, failed bool) {
	var err error
	if h.cfg.Fleet {
		sc := metrics.Scope{Fleet: h.cfg.FunctionName, PerFormation: h.shared.PerFormationMetrics}
		err = metrics.WriteFleet(h.cfg.Metrics, h.cfg.Now(), sc, sum, failed)
	} else {
		err = metrics.Write(h.cfg.Metrics, h.cfg.Now(), sum)
	}
	if err != nil {
		h.cfg.Log.WarnContext(ctx, "write metrics failed", slog.String(logkey.Error, err.Error()))
	}
}
