package settings

import "time"

// Policy names a set of scaling rules (AUTOSCALE_POLICY). The names are
// stable: they appear in status, history, notices and metrics.
type Policy string

const (
	// PolicyOriginal is the original's rules: streaks of slow or fast
	// heartbeats scale by INCREMENT. The default.
	PolicyOriginal Policy = "original"
	// PolicyProportional sizes the formation in proportion to how far the
	// latency is from a target, counts booting dynos toward the next scale
	// up, and scales down only to the most dynos wanted within a window.
	PolicyProportional Policy = "proportional"
)

// Policies lists every policy, the default first.
func Policies() []Policy { return []Policy{PolicyOriginal, PolicyProportional} }

// String is the policy's name; the zero value is the original's.
func (p Policy) String() string {
	if p == "" {
		return string(PolicyOriginal)
	}
	return string(p)
}

// targetShare is the share of the maximum response time the proportional
// policy aims for when no target is set: far enough below "too slow" that
// a noisy heartbeat or a small rush does not cross it.
const targetShare = 0.75

// DefaultTarget is the target response time when none is set.
func DefaultTarget(maxResponse time.Duration) time.Duration {
	return time.Duration(float64(maxResponse) * targetShare).Round(time.Millisecond)
}
