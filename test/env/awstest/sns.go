package awstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Envelope is what SNS puts in an SQS message when raw delivery is off.
type Envelope struct {
	Type              string
	TopicArn          string
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }

	// Body is the SQS message body as received, for checks on the raw text.
	Body string `json:"-"`
}

// ChatbotMessage is an AWS Chatbot custom notification, the "default" body
// of autoscalebot's notices.
type ChatbotMessage struct {
	Version string `json:"version"`
	Source  string `json:"source"`
	Content struct {
		TextType    string `json:"textType"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"content"`
}

// CreateTopic creates an SNS topic with a unique name and returns its ARN.
func CreateTopic(ctx context.Context, t testing.TB, cfg aws.Config) string {
	t.Helper()
	out, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(UniqueName(t, "topic"))})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	return aws.ToString(out.TopicArn)
}

// SubscribeQueue creates an SQS queue subscribed to topicARN and returns its
// URL. Raw delivery is off, so that subject and attributes can be read back
// from the Envelope; filterPolicy ("" for none) is the subscription's.
func SubscribeQueue(ctx context.Context, t testing.TB, cfg aws.Config, topicARN, filterPolicy string) string {
	t.Helper()
	sqsClient := sqs.NewFromConfig(cfg)
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(UniqueName(t, "notices"))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	subAttrs := map[string]string{"RawMessageDelivery": "false"}
	if filterPolicy != "" {
		subAttrs["FilterPolicy"] = filterPolicy
	}
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   aws.String(topicARN),
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
		Attributes: subAttrs,
	}); err != nil {
		t.Fatalf("subscribe queue: %v", err)
	}
	return aws.ToString(q.QueueUrl)
}

// ReceiveEnvelopes reads and deletes the queue's messages until done reports
// true of all read so far, or wait has passed, and returns them in the order
// received. A body that is not an SNS envelope fails the test.
func ReceiveEnvelopes(ctx context.Context, t testing.TB, cfg aws.Config, queueURL string, wait time.Duration, done func([]Envelope) bool) []Envelope {
	t.Helper()
	client := sqs.NewFromConfig(cfg)
	var got []Envelope
	// Each receive long-polls for at most a second, so wait is overrun by
	// that at most.
	deadline := time.Now().Add(wait)
	for !done(got) && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(queueURL),
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     1,
		})
		if err != nil {
			t.Fatalf("receive (after %d messages): %v", len(got), err)
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			var env Envelope
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatalf("SQS body is not an SNS envelope: %v\n%s", err, body)
			}
			env.Body = body
			got = append(got, env)
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				t.Fatalf("delete message: %v", err)
			}
		}
	}
	return got
}
