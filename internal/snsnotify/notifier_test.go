package snsnotify_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/snsnotify"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func notice(event notify.Event) notify.Notice {
	return notify.Notice{
		Event:       event,
		App:         "myapp",
		ProcessType: "web",
		Title:       "myapp/web: scaled 1 → 2 dynos",
		Text:        "Scaled to (2) dynos, from 1, because the heartbeat was slow.\nApp myapp, process type web, 2 dynos (min 1, max 3).",
	}
}

// noticeWait bounds the wait for a notice to come through SNS and SQS.
const noticeWait = 30 * time.Second

type fixture struct {
	ctx   context.Context
	cfg   aws.Config
	sns   *sns.Client
	topic string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cfg := awstest.SharedMoto(t).Config(t)
	return fixture{ctx: ctx, cfg: cfg, sns: sns.NewFromConfig(cfg), topic: awstest.CreateTopic(ctx, t, cfg)}
}

// receiveUntil reads envelopes from the queue until one satisfies last, and
// returns all read so far.
func (f fixture) receiveUntil(t *testing.T, queueURL string, last func(awstest.Envelope) bool) []awstest.Envelope {
	t.Helper()
	return awstest.ReceiveEnvelopes(f.ctx, t, f.cfg, queueURL, noticeWait, func(got []awstest.Envelope) bool {
		return slices.ContainsFunc(got, last)
	})
}

func TestNotifyPublishesChatbotMessage(t *testing.T) {
	f := newFixture(t)
	queue := awstest.SubscribeQueue(f.ctx, t, f.cfg, f.topic, "")
	n := snsnotify.New(f.sns, f.topic)

	want := notice(notify.Scaled)
	if err := n.Notify(f.ctx, want); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	envs := f.receiveUntil(t, queue, func(awstest.Envelope) bool { return true })
	if len(envs) != 1 {
		t.Fatalf("received %d messages, want 1", len(envs))
	}
	env := envs[0]

	if env.Type != "Notification" || env.TopicArn != f.topic {
		t.Errorf("envelope type %q topic %q, want Notification from %s", env.Type, env.TopicArn, f.topic)
	}
	if want := "autoscalebot: myapp/web: scaled 1 -> 2 dynos"; env.Subject != want {
		t.Errorf("Subject = %q, want %q", env.Subject, want)
	}
	for name, value := range map[string]string{"event": "scaled", "app": "myapp", "processType": "web"} {
		if got := env.MessageAttributes[name]; got.Type != "String" || got.Value != value {
			t.Errorf("attribute %s = %+v, want String %q", name, got, value)
		}
	}

	var msg awstest.ChatbotMessage
	if err := json.Unmarshal([]byte(env.Message), &msg); err != nil {
		t.Fatalf("Message is not chatbot JSON: %v\n%s", err, env.Message)
	}
	if msg.Version != "1.0" || msg.Source != "custom" || msg.Content.TextType != "client-markdown" {
		t.Errorf("chatbot header = %q/%q/%q, want 1.0/custom/client-markdown",
			msg.Version, msg.Source, msg.Content.TextType)
	}
	if !strings.Contains(msg.Content.Title, want.Title) {
		t.Errorf("chatbot title = %q, want it to contain %q", msg.Content.Title, want.Title)
	}
	if msg.Content.Description != want.Text {
		t.Errorf("chatbot description = %q, want %q", msg.Content.Description, want.Text)
	}
}

func TestFilterPolicyOnEvent(t *testing.T) {
	f := newFixture(t)
	failures := awstest.SubscribeQueue(f.ctx, t, f.cfg, f.topic, `{"event": ["scale_failed"]}`)
	n := snsnotify.New(f.sns, f.topic)

	// The filtered-out events go first: once the matching one has arrived,
	// any of them that got through would have arrived too.
	for _, ev := range []notify.Event{notify.Scaled, notify.Ping, notify.ScaleFailed} {
		if err := n.Notify(f.ctx, notice(ev)); err != nil {
			t.Fatalf("Notify %s: %v", ev, err)
		}
	}
	isFailure := func(e awstest.Envelope) bool { return e.MessageAttributes["event"].Value == "scale_failed" }
	envs := f.receiveUntil(t, failures, isFailure)
	if !slices.ContainsFunc(envs, isFailure) {
		t.Fatalf("the scale_failed notice did not arrive within %s", noticeWait)
	}
	for _, e := range envs {
		if ev := e.MessageAttributes["event"].Value; ev != "scale_failed" {
			t.Errorf("filtered queue received event %q", ev)
		}
	}
}

func TestNotifyMissingTopicFails(t *testing.T) {
	f := newFixture(t)
	n := snsnotify.New(f.sns, f.topic+"-missing")
	err := n.Notify(f.ctx, notice(notify.ScaleFailed))
	if err == nil || !strings.HasPrefix(err.Error(), "publish scale_failed: ") {
		t.Errorf("Notify to a missing topic: error = %v, want one starting %q", err, "publish scale_failed: ")
	}
}

// recorder keeps the input of each Publish, to check what only an email
// subscriber would see.
type recorder struct{ inputs []*sns.PublishInput }

func (r *recorder) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	r.inputs = append(r.inputs, in)
	return &sns.PublishOutput{}, nil
}

func TestMessageBodies(t *testing.T) {
	for _, tc := range []struct {
		name        string
		notice      notify.Notice
		wantSubject string
		wantEmail   []string
		wantAttrs   []string
	}{
		{
			name:        "full notice",
			notice:      notice(notify.ScaleFailed),
			wantSubject: "autoscalebot: myapp/web: scaled 1 -> 2 dynos",
			wantEmail:   []string{"myapp/web: scaled 1 → 2 dynos\n\nScaled to (2) dynos", "event: scale_failed"},
			wantAttrs:   []string{"app", "event", "processType"},
		},
		{
			name:        "no title",
			notice:      notify.Notice{Event: notify.Ping, App: "myapp", ProcessType: "web", Text: "Ping: 523ms, right."},
			wantSubject: "autoscalebot: myapp/web ping",
			wantEmail:   []string{"myapp/web ping\n\nPing: 523ms, right."},
			wantAttrs:   []string{"app", "event", "processType"},
		},
		{
			name:        "empty attributes left out",
			notice:      notify.Notice{Event: notify.ProbeError, Title: "broken", Text: "x"},
			wantSubject: "autoscalebot: broken",
			wantEmail:   []string{"broken\n\nx"},
			wantAttrs:   []string{"event"},
		},
		{
			name: "long text is cut for chat",
			notice: notify.Notice{Event: notify.ScaleFailed, App: "a", ProcessType: "web",
				Title: strings.Repeat("t", 300), Text: strings.Repeat("d", 9000)},
			wantSubject: "autoscalebot: " + strings.Repeat("t", 82) + "...",
			wantEmail:   []string{strings.Repeat("d", 9000)},
			wantAttrs:   []string{"app", "event", "processType"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			if err := snsnotify.New(&r, "arn:aws:sns:us-east-1:123456789012:t").Notify(context.Background(), tc.notice); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if len(r.inputs) != 1 {
				t.Fatalf("%d publishes, want 1", len(r.inputs))
			}
			in := r.inputs[0]
			if got := aws.ToString(in.Subject); got != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got, tc.wantSubject)
			}
			if got := aws.ToString(in.MessageStructure); got != "json" {
				t.Errorf("MessageStructure = %q, want json", got)
			}
			var bodies map[string]string
			if err := json.Unmarshal([]byte(aws.ToString(in.Message)), &bodies); err != nil {
				t.Fatalf("Message is not JSON: %v", err)
			}
			if len(bodies) != 2 || bodies["default"] == "" || bodies["email"] == "" {
				t.Errorf("Message keys = %v, want exactly default and email", bodies)
			}
			for _, want := range tc.wantEmail {
				if !strings.Contains(bodies["email"], want) {
					t.Errorf("email body %q does not contain %q", bodies["email"], want)
				}
			}
			var chat awstest.ChatbotMessage
			if err := json.Unmarshal([]byte(bodies["default"]), &chat); err != nil {
				t.Fatalf("default body is not chatbot JSON: %v", err)
			}
			if n := len([]rune(chat.Content.Title)); n > 250 {
				t.Errorf("chat title has %d characters, Chatbot allows 250", n)
			}
			if n := len([]rune(chat.Content.Description)); n > 8000 {
				t.Errorf("chat description has %d characters, Chatbot allows 8000", n)
			}
			var names []string
			for name, v := range in.MessageAttributes {
				names = append(names, name)
				if aws.ToString(v.DataType) != "String" || aws.ToString(v.StringValue) == "" {
					t.Errorf("attribute %s = %s %q, want a non-empty String", name, aws.ToString(v.DataType), aws.ToString(v.StringValue))
				}
			}
			if got := strings.Join(slices.Sorted(slices.Values(names)), ","); got != strings.Join(tc.wantAttrs, ",") {
				t.Errorf("attributes = %s, want %s", got, strings.Join(tc.wantAttrs, ","))
			}
		})
	}
}
