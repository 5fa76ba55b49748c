// Package notify defines the notices autoscalebot sends and a console
// notifier for local use.
package notify

// Event names a kind of notice. The names are stable: SNS subscribers filter on them.
type Event string

const (
	Scaled            Event = "scaled"
	ScaleFailed       Event = "scale_failed"
	NeedsAboveMax     Event = "needs_above_max"
	NeedsBelowMin     Event = "needs_below_min"
	ScaleDiffExceeded Event = "scale_diff_exceeded"
	Ping              Event = "ping"
	ProbeError        Event = "probe_error"
	HerokuError       Event = "heroku_error" // the API refuses the key or the account, or knows no such app or process type
)

// Notice is one message for humans: a short title and a plain-text body,
// plus the facts a subscriber may want to filter or format on.
type Notice struct {
	Event       Event  `json:"event"`
	App         string `json:"app"`
	ProcessType string `json:"processType"`
	Title       string `json:"title"`
	Text        string `json:"text"`
}
