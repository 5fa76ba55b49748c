package settings

import "time"

// Policy names a set of scaling rules (AUTOSCALE_POLICY). The names are
// stable: they appear in status, history, notices and metrics.
type Policy string

const (
	// PolicyOriginal is the original's rules: streaks of slow or fast
	// heartbeats scale by INCREMENT. The zero value is this policy (state
	// written before there was a choice).
	PolicyOriginal Policy = "original"
	// PolicyProportional sizes the formation in proportion to how far the
	// latency is from a target, counts booting dynos toward the next scale
	// up, and scales down only to the most dynos wanted within a window.
	PolicyProportional Policy = "proportional"
	// PolicyTracking keeps the load at a target utilization, read from the
	// heartbeat: the Kubernetes HPA's rule, boot-aware, with a hold before
	// scaling down. The default.
	PolicyTracking Policy = "tracking"
)

// DefaultPolicy is the policy in force when AUTOSCALE_POLICY is unset.
const DefaultPolicy = PolicyTracking

// Policies lists every policy, the default first.
func Policies() []Policy { return []Policy{PolicyTracking, PolicyOriginal, PolicyProportional} }

// String is the policy's name; the zero value is the original's.
func (p Policy) String() string {
	if p == "" {
		return string(PolicyOriginal)
	}
	return string(p)
}

// Shares of the maximum response time each policy aims for when no
// target is set. Proportional's is far enough below "too slow" that a
// noisy heartbeat or a small rush does not cross it; tracking reads the
// load from the latency, and half the maximum is about 80 % of a
// single-threaded dyno whose idle latency is a tenth of it (docs/policies.md,
// "Policies").
const (
	proportionalTargetShare = 0.75
	trackingTargetShare     = 0.5
)

// DefaultTarget is the target response time of policy when none is set.
func DefaultTarget(policy Policy, maxResponse time.Duration) time.Duration {
	share := proportionalTargetShare
	if policy == PolicyTracking {
		share = trackingTargetShare
	}
	return time.Duration(float64(maxResponse) * share).Round(time.Millisecond)
}

// DefaultScaleDownWindow is policy's scale-down window when none is set:
// proportional holds what a rush needed for 40 minutes; tracking, which
// holds its slow average with a margin below the target, for two.
func DefaultScaleDownWindow(policy Policy) time.Duration {
	if policy == PolicyTracking {
		return 2 * time.Minute
	}
	return 40 * time.Minute
}
