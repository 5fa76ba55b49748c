package lambdafn_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/autoscalebot/autoscalebot/internal/awstest"
	"github.com/autoscalebot/autoscalebot/internal/lambdafn"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/templatetest"
)

// iamPrefix maps the SDK's service ids to IAM action prefixes.
var iamPrefix = map[string]string{"DynamoDB": "dynamodb", "SNS": "sns", "SSM": "ssm"}

// callRecorder notes the IAM action of every AWS call made through a config.
type callRecorder struct {
	mu    sync.Mutex
	calls map[string]bool
}

func (r *callRecorder) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("recordCall",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			action := iamPrefix[awsmiddleware.GetServiceID(ctx)] + ":" + awsmiddleware.GetOperationName(ctx)
			r.mu.Lock()
			r.calls[action] = true
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (r *callRecorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.calls {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// TestFunctionUsesExactlyItsPermissions runs the handler through the
// paths that touch AWS (key from SSM, a scale that is committed, recorded
// and announced) and compares the AWS actions it really called with those
// the template grants its role: nothing used may be missing from the role,
// and nothing granted may go unused.
func TestFunctionUsesExactlyItsPermissions(t *testing.T) {
	const key, app = "HRKU-permissions-test-key", "perm-app"
	f := newFixture(t, key, app, 120*time.Millisecond) // too slow: every beat is a fail
	ctx, base, heroku := f.ctx, f.cfg, f.heroku
	topic := awstest.CreateTopic(ctx, t, base)
	f.putKey(t, key)

	s, err := settings.LoadLambda(getenv(map[string]string{
		settings.EnvAppName:            app,
		settings.EnvAPIKeyParameter:    f.param,
		settings.EnvAPIURL:             heroku.URL,
		settings.EnvHeartbeatURL:       f.beat.URL,
		settings.EnvMaxResponseTime:    "60",
		settings.EnvMinResponseTime:    "5",
		settings.EnvFailsToScaleUp:     "2",
		settings.EnvNotifyOnEveryScale: "true",
		settings.EnvTableName:          f.table,
		settings.EnvTopicARN:           topic,
	}))
	if err != nil {
		t.Fatal(err)
	}
	rec := &callRecorder{calls: map[string]bool{}}
	cfg := base.Copy()
	cfg.APIOptions = append(cfg.APIOptions, rec.register)
	h := lambdafn.New(lambdafn.Config{Settings: s, AWS: cfg, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: io.Discard})
	for i := range 2 {
		if _, err := h.Handle(ctx, events.EventBridgeEvent{ID: fmt.Sprint(i)}); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
	}
	if heroku.Quantity(app, "web") != 2 {
		t.Fatal("the run did not scale, so it did not walk every path")
	}

	granted := grantedActions(t)
	used := rec.actions()
	if !slices.Equal(used, granted) {
		t.Errorf("AWS actions used %v, granted by template.yaml %v: they must match", used, granted)
	}
}

// grantedActions lists the DynamoDB, SNS and SSM actions the template's
// function role allows (logs and the optional KMS grant are Lambda's and
// SSM's own business).
func grantedActions(t *testing.T) []string {
	t.Helper()
	root, err := templatetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templatetest.Load(root + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	role, err := tmpl.Resource("AutoscalerFunctionRole")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range role.Properties["Policies"].([]any) {
		doc := p.(map[string]any)["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			stmt, ok := st.(map[string]any)
			if !ok {
				continue // a conditional statement (!If), the optional KMS grant
			}
			var actions []any
			switch a := stmt["Action"].(type) {
			case string:
				actions = []any{a}
			case []any:
				actions = a
			}
			for _, a := range actions {
				name := a.(string)
				if prefix, _, _ := strings.Cut(name, ":"); prefix == "dynamodb" || prefix == "sns" || prefix == "ssm" {
					out = append(out, name)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
