package template

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/test/env/stacktest"
)

// TestTickQueue: under a 60 s interval the stack has the tick queue, its
// event source mapping (partial batch responses) and the function knows the
// queue; at 60 there is none of them, so the cheapest setup costs what it
// did before the queue existed. A fleet has the queue at any interval, to
// fan its formations out over.
func TestTickQueue(t *testing.T) {
	tests := []struct {
		interval int
		file     string // SettingsFile
		queue    bool
	}{
		{10, "", true},
		{30, "", true},
		{60, "", false},
		{30, "autoscalebot.yaml", true},
		{60, "autoscalebot.yaml", true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.interval)+"s"+tt.file, func(t *testing.T) {
			t.Parallel()
			ctx, moto, stack := deploy(t, map[string]string{"HeartbeatIntervalInSeconds": strconv.Itoa(tt.interval), "SettingsFile": tt.file})
			fn := stack.Function(ctx, t, functionID)
			if got := fn.Env[settings.EnvHeartbeatInterval]; got != strconv.Itoa(tt.interval) {
				t.Errorf("%s = %q, want %d", settings.EnvHeartbeatInterval, got, tt.interval)
			}
			queueURL, hasQueue := stack.Resources["TickQueue"]
			_, hasMapping := stack.Resources["TickQueueMapping"]
			if hasQueue != tt.queue || hasMapping != tt.queue {
				t.Fatalf("queue %t, mapping %t; want both %t", hasQueue, hasMapping, tt.queue)
			}
			if got := fn.Env[settings.EnvTickQueueURL]; got != queueURL {
				t.Errorf("%s = %q, want %q", settings.EnvTickQueueURL, got, queueURL)
			}
			if !tt.queue {
				return
			}
			attrs, err := sqs.NewFromConfig(moto.Config(t)).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				t.Fatal(err)
			}
			a := attrs.Attributes
			// A standard queue (DelaySeconds per message), messages kept no
			// longer than a slot can be due, hidden for a function timeout.
			if a["FifoQueue"] == "true" || a["MessageRetentionPeriod"] != "60" || a["VisibilityTimeout"] != strconv.Itoa(fn.Timeout) {
				t.Errorf("queue attributes %v: want standard, retention 60, visibility %d", a, fn.Timeout)
			}
			m := mapping(ctx, t, stack, stack.Resources["TickQueueMapping"])
			if m.EventSourceArn != a["QueueArn"] || len(m.FunctionResponseTypes) != 1 || m.FunctionResponseTypes[0] != "ReportBatchItemFailures" {
				t.Errorf("event source mapping %+v: want the queue %s with ReportBatchItemFailures", m, a["QueueArn"])
			}
		})
	}
}

type esm struct {
	UUID, EventSourceArn, FunctionArn string
	FunctionResponseTypes             []string
	BatchSize                         int
}

func mapping(ctx context.Context, t *testing.T, stack *stacktest.Stack, id string) esm {
	t.Helper()
	var m esm
	if err := stack.LambdaRequest(ctx, http.MethodGet, "/2015-03-31/event-source-mappings/"+id, nil, &m); err != nil {
		t.Fatalf("get event source mapping %s: %v", id, err)
	}
	return m
}
