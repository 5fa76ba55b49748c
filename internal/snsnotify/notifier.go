// Package snsnotify publishes notices to an SNS topic, formatted for both
// email subscribers (plain text) and AWS Chatbot / Amazon Q Developer Slack
// channels (custom notifications).
package snsnotify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/autoscalebot/autoscalebot/internal/notify"
)

// Publisher lists the SNS call the notifier makes.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ Publisher = (*sns.Client)(nil)

// Message attribute names subscribers can filter on.
const (
	AttrEvent       = "event"
	AttrApp         = "app"
	AttrProcessType = "processType"
)

const (
	// SNS: a subject is ASCII, one line, fewer than 100 characters.
	maxSubject = 99
	// AWS Chatbot custom notifications: title up to 250 characters,
	// description up to 8,000.
	maxChatTitle       = 250
	maxChatDescription = 8000
	// Far below SNS's 256 KB message limit, with both bodies and the envelope.
	maxEmail = 32 << 10
)

// Notifier publishes each notice to one topic.
type Notifier struct {
	client   Publisher
	topicARN string
}

// New returns a notifier publishing to topicARN.
func New(client Publisher, topicARN string) *Notifier {
	return &Notifier{client: client, topicARN: topicARN}
}

// Notify publishes notice as one SNS message: Subject for email, a "default"
// body in the AWS Chatbot custom-notification format, an "email" body in
// plain text, and the event, app and process type as String message
// attributes for subscription filter policies.
func (n *Notifier) Notify(ctx context.Context, notice notify.Notice) error {
	msg, err := message(notice)
	if err != nil {
		return fmt.Errorf("publish %s: %w", notice.Event, err)
	}
	_, err = n.client.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(n.topicARN),
		Subject:           aws.String(subject(notice)),
		MessageStructure:  aws.String("json"),
		Message:           aws.String(msg),
		MessageAttributes: attributes(notice),
	})
	if err != nil {
		return fmt.Errorf("publish %s: %w", notice.Event, err)
	}
	return nil
}

// chatbotMessage is an AWS Chatbot custom notification.
type chatbotMessage struct {
	Version string         `json:"version"`
	Source  string         `json:"source"`
	Content chatbotContent `json:"content"`
}

type chatbotContent struct {
	TextType    string `json:"textType"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Slack emoji codes, so a channel can be scanned at a glance.
var emoji = map[notify.Event]string{
	notify.Scaled:            ":arrows_counterclockwise:",
	notify.ScaleFailed:       ":x:",
	notify.NeedsAboveMax:     ":warning:",
	notify.NeedsBelowMin:     ":information_source:",
	notify.ScaleDiffExceeded: ":warning:",
	notify.Ping:              ":stopwatch:",
	notify.ProbeError:        ":rotating_light:",
	notify.HerokuError:       ":no_entry:",
}

// message builds the MessageStructure=json body: SNS delivers "email" to
// email subscribers and "default" to everything else, Chatbot included.
func message(notice notify.Notice) (string, error) {
	title := title(notice)
	chatTitle := title
	if e, ok := emoji[notice.Event]; ok {
		chatTitle = e + " " + title
	}
	chat, err := json.Marshal(chatbotMessage{
		Version: "1.0",
		Source:  "custom",
		Content: chatbotContent{
			TextType:    "client-markdown",
			Title:       truncate(chatTitle, maxChatTitle),
			Description: truncate(notice.Text, maxChatDescription),
		},
	})
	if err != nil {
		return "", err
	}
	email := truncate(fmt.Sprintf("%s\n\n%s\n\n-- autoscalebot (event: %s)\n",
		title, strings.TrimSpace(notice.Text), notice.Event), maxEmail)
	body, err := json.Marshal(map[string]string{"default": string(chat), "email": email})
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// title is the notice's title, or a stand-in naming the formation and event.
func title(notice notify.Notice) string {
	if t := strings.TrimSpace(notice.Title); t != "" {
		return t
	}
	return fmt.Sprintf("%s/%s %s", notice.App, notice.ProcessType, notice.Event)
}

func subject(notice notify.Notice) string {
	return sanitizeSubject("autoscalebot: " + title(notice))
}

// attributes returns the String message attributes; SNS rejects empty values,
// so empty fields are left out.
func attributes(notice notify.Notice) map[string]types.MessageAttributeValue {
	attrs := map[string]types.MessageAttributeValue{}
	for name, value := range map[string]string{
		AttrEvent:       string(notice.Event),
		AttrApp:         notice.App,
		AttrProcessType: notice.ProcessType,
	} {
		if value != "" {
			attrs[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(value)}
		}
	}
	return attrs
}

// ASCII stand-ins for the non-ASCII characters notice titles use.
var asciiFor = map[rune]string{
	'→': "->", '←': "<-", '–': "-", '—': "-", '…': "...", '≤': "<=", '≥': ">=",
	'‘': "'", '’': "'", '“': `"`, '”': `"`, '×': "x", '▶': ">",
}

// sanitizeSubject makes s a valid SNS subject: printable ASCII on one line,
// starting with a visible character, fewer than 100 characters.
func sanitizeSubject(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		var out string
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
			space = b.Len() > 0
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			continue // other control characters
		case r < 0x7f:
			out = string(r)
		case asciiFor[r] != "":
			out = asciiFor[r]
		default:
			out = "?"
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(out)
	}
	subj := b.String()
	if len(subj) > maxSubject {
		subj = strings.TrimRight(subj[:maxSubject-3], " ") + "..."
	}
	if subj == "" {
		return "autoscalebot"
	}
	return subj
}

// truncate cuts s to at most max characters, marking the cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
