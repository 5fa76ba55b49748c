package tick

import "errors"

// What a Formation's error means to the tick. The adapter says it: its
// errors match these with errors.Is. An error that matches none is
// transient, and the next tick tries again.
var (
	// ErrRefused: the key, the app or the process type was refused; a
	// person must act.
	ErrRefused = errors.New("formation refused the key, the app or the process type")
	// ErrAccount: the account needs attention (billing, verification, a
	// suspension); a person must act.
	ErrAccount = errors.New("formation's account needs attention")
	// ErrOverPlan: the quantity asked for is above what the plan allows.
	// The error may say the plan's limit (see planLimited).
	ErrOverPlan = errors.New("formation's plan limit reached")
)

// planLimited is an ErrOverPlan error that knows the most dynos the plan
// allows (0 when the answer did not say).
type planLimited interface {
	PlanLimit() int
}
