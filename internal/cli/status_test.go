package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the schedule slots must not depend on the machine's zone database

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/notify"
	"github.com/autoscalebot/autoscalebot/internal/probe"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
	"github.com/autoscalebot/autoscalebot/internal/tick"
	"github.com/autoscalebot/autoscalebot/test/env/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

var update = flag.Bool("update", false, "rewrite the golden files in testdata and the examples in docs")

// The seeded history covers 15:00-18:00 UTC on a Monday (07:00-10:00 in
// Vancouver, where shop/web's schedule switches at 9:00); the commands run
// 42 seconds after its last tick.
var (
	simStart = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	simTicks = 180
	seedNow  = simStart.Add(time.Duration(simTicks-1)*time.Minute + 42*time.Second)
)

var (
	shopWeb    = state.Key{App: "shop", ProcessType: "web"}
	shopWorker = state.Key{App: "shop", ProcessType: "worker"}
	blogWeb    = state.Key{App: "blog", ProcessType: "web"}
	apiWeb     = state.Key{App: "api", ProcessType: "web"}
)

// seeder is how the tests write a store, as the autoscaler does.
type seeder interface {
	Save(ctx context.Context, key state.Key, s state.State) (state.State, error)
	Append(ctx context.Context, key state.Key, recs ...state.Record) error
}

// formation is one seeded formation: its state and its history.
type formation struct {
	key     state.Key
	state   state.State
	records []state.Record
}

// seedData is the same every run: shop/web from three hours of real ticks,
// the others written by hand to show each flag.
func seedData(t *testing.T) []formation {
	t.Helper()
	shop := simulateShop(t)
	recent := seedNow.Add(-42 * time.Second)
	return []formation{
		shop,
		{
			key: shopWorker,
			state: state.State{
				Quantity: 2, Paused: true,
				LastProbe: &state.ProbeRecord{At: recent, Verdict: "ok", LatencyMS: 610, Status: 200, Detail: "HTTP 200"},
				Config:    &state.Config{MinDynos: "1", MaxDynos: "4", TimeZone: "UTC", MinResponseMS: 400, MaxResponseMS: 1000},
			},
			records: []state.Record{
				{At: recent, Kind: state.KindDecision, Verdict: "ok", LatencyMS: 610, Status: 200,
					Current: 2, Target: 2, Min: 1, Max: 4, Reason: "Paused", Paused: true},
			},
		},
		{
			key: blogWeb,
			state: state.State{
				Quantity: 3, SlowStreak: 4, PlanLimit: 4, LastScaleAt: seedNow.Add(-26 * time.Hour),
				Episodes:  state.Episodes{HerokuError: true, AboveMax: true},
				LastProbe: &state.ProbeRecord{At: seedNow.Add(-3 * time.Minute), Verdict: "fail", Status: 0, Detail: "timeout after 10s"},
				Config: &state.Config{MinDynos: `{"0:00":2,"9:00":4}`, MaxDynos: "3", TimeZone: "Europe/Berlin",
					MinResponseMS: 250, MaxResponseMS: 800, DryRun: true},
			},
			records: []state.Record{
				{At: seedNow.Add(-3 * time.Minute), Kind: state.KindDecision, Verdict: "fail", Status: 0,
					Reason: "HerokuRefused", Error: "heroku: 403 forbidden", DryRun: true},
				{At: seedNow.Add(-4 * time.Minute), Kind: state.KindDecision, Verdict: "fail", LatencyMS: 1320, Status: 200,
					Current: 3, Target: 3, Min: 3, Max: 3, Reason: "AtMax", DryRun: true},
				{At: seedNow.Add(-26 * time.Hour), Kind: state.KindScale, Verdict: "fail", LatencyMS: 990, Status: 200,
					Current: 3, Target: 4, Min: 2, Max: 4, Reason: "SlowStreak", Error: "heroku: 422 over the plan's limit", DryRun: true},
			},
		},
		{
			// Saved by an older version, before states carried their settings.
			key:   apiWeb,
			state: state.State{Quantity: 0},
		},
	}
}

// scriptedProbe answers with the latency of the minute it is asked in.
type scriptedProbe struct{ now *time.Time }

func (p scriptedProbe) Probe(context.Context) probe.Result {
	i := int(p.now.Sub(simStart) / time.Minute)
	wobble := math.Sin(float64(i) / 3)
	var ms int64
	switch {
	case i < 30:
		ms = 550 + int64(150*wobble)
	case i < 40:
		ms = 900 + 60*int64(i-30)
	case i < 101:
		ms = 280 + int64(50*wobble)
	case i < 140:
		ms = 600 + int64(120*wobble)
	case i < 148:
		ms = 1080 + int64(40*wobble)
	case i < 165:
		ms = 700 + int64(90*wobble)
	default:
		ms = 330 + int64(40*wobble)
	}
	switch i {
	case 60:
		ms = 9000
	case 125, 126:
		return probe.Result{Verdict: probe.Fail, Detail: "timeout after 10s"}
	case 70:
		return probe.Result{Verdict: probe.Error, Latency: 35 * time.Millisecond, Status: 404, Detail: "HTTP 404"}
	}
	latency := time.Duration(ms) * time.Millisecond
	switch {
	case ms > 1000:
		return probe.Result{Verdict: probe.Fail, Latency: latency, Status: 200, Detail: "HTTP 200, slower than 1s"}
	case ms < 400:
		return probe.Result{Verdict: probe.Pass, Latency: latency, Status: 200, Detail: "HTTP 200, faster than 400ms"}
	}
	return probe.Result{Verdict: probe.OK, Latency: latency, Status: 200, Detail: "HTTP 200"}
}

// herokuFormation is the app's formation; its second scale-up fails once.
type herokuFormation struct {
	quantity int
	scales   int
}

func (f *herokuFormation) Quantity(context.Context, string, string) (int, error) {
	return f.quantity, nil
}

// The simulated account never reports a rate limit.
func (f *herokuFormation) RateLimitRemaining() (int, bool) { return 0, false }
func (f *herokuFormation) RefreshRateLimit(context.Context) (int, error) {
	return 0, errors.New("no rate limit in the simulation")
}

func (f *herokuFormation) Scale(_ context.Context, _, _ string, n int) error {
	f.scales++
	if f.scales == 2 {
		return errors.New("update formation: heroku: 503 service unavailable")
	}
	f.quantity = n
	return nil
}

// simulateShop runs the real ticker for three hours of one-minute ticks
// (with a ten-minute outage) against a state file, and returns what it left.
// It runs once per test binary: the result is the same every time.
func simulateShop(t *testing.T) formation {
	t.Helper()
	sim.once.Do(func() { sim.result, sim.err = simulate() })
	if sim.err != nil {
		t.Fatal(sim.err)
	}
	f := sim.result
	f.records = slices.Clone(f.records)
	return f
}

var sim struct {
	once   sync.Once
	result formation
	err    error
}

func simulate() (formation, error) {
	env := map[string]string{
		settings.EnvAppName:           "shop",
		settings.EnvAPIKey:            "simulated",
		settings.EnvHeartbeatURL:      "https://shop.example.com/heartbeat",
		settings.EnvMaxResponseTime:   "1000",
		settings.EnvMinResponseTime:   "400",
		settings.EnvFailsToScaleUp:    "3",
		settings.EnvPassesToScaleDown: "5",
		settings.EnvMinDynos:          `{"0:00":1,"9:00":2,"18:00":1}`,
		settings.EnvMaxDynos:          `{"0:00":3,"9:00":5}`,
		settings.EnvTimeZone:          "America/Vancouver",
		// The scripted latency does not follow the load: a streak's story.
		settings.EnvPolicy: string(settings.PolicyOriginal),
	}
	s, err := settings.Load(func(k string) string { return env[k] })
	if err != nil {
		return formation{}, err
	}
	dir, err := os.MkdirTemp("", "autoscalebot-sim-")
	if err != nil {
		return formation{}, err
	}
	defer os.RemoveAll(dir)
	now := simStart
	store := state.NewFileStore(filepath.Join(dir, "sim.json"))
	ticker := &tick.Ticker{
		Settings:  s,
		Store:     store,
		Formation: &herokuFormation{quantity: 1},
		Prober:    scriptedProbe{now: &now},
		Notifier:  discardNotices{},
		Log:       slog.New(slog.DiscardHandler),
		Now:       func() time.Time { return now },
	}
	ctx := context.Background()
	for i := range simTicks {
		if i >= 71 && i <= 80 {
			continue // the autoscaler was down
		}
		now = simStart.Add(time.Duration(i) * time.Minute)
		if _, err := ticker.Tick(ctx, ""); err != nil {
			return formation{}, fmt.Errorf("tick %d: %w", i, err)
		}
	}
	st, err := store.Load(ctx, shopWeb)
	if err != nil {
		return formation{}, err
	}
	recs, err := store.History(ctx, shopWeb, time.Time{}, 0)
	if err != nil {
		return formation{}, err
	}
	if len(recs) < 170 {
		return formation{}, fmt.Errorf("the simulation left %d records, want one or two a tick", len(recs))
	}
	return formation{key: shopWeb, state: st, records: recs}, nil
}

// seed writes the formations to s as fresh saves.
func seed(t *testing.T, s seeder, formations []formation) {
	t.Helper()
	ctx := context.Background()
	for _, f := range formations {
		st := f.state
		st.Version = 0
		if _, err := s.Save(ctx, f.key, st); err != nil {
			t.Fatalf("seed %s: %v", f.key, err)
		}
		if len(f.records) > 0 {
			// Oldest first, as the autoscaler appends them.
			recs := slices.Clone(f.records)
			slices.SortStableFunc(recs, func(a, b state.Record) int { return newestFirst(b, a) })
			if err := s.Append(ctx, f.key, recs...); err != nil {
				t.Fatalf("seed %s history: %v", f.key, err)
			}
		}
	}
}

// useMoto points the AWS SDK of this process (which the commands load
// themselves) at the shared moto, away from the user's AWS files.
func useMoto(t *testing.T) aws.Config {
	t.Helper()
	moto := awstest.SharedMoto(t)
	for _, kv := range moto.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return moto.Config(t)
}

// seededTable creates a table in moto holding the seed data.
func seededTable(t *testing.T, formations []formation) string {
	t.Helper()
	cfg := useMoto(t)
	client := dynamodb.NewFromConfig(cfg)
	table := awstest.UniqueName(t, "state")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	awstest.CreateTable(ctx, t, client, table)
	seed(t, dynamostore.New(dynamodb.NewFromConfig(cfg), table, 0), formations)
	return table
}

// stackTemplate is the part of template.yaml that status needs: a table
// and the output naming it.
const stackTemplate = `{
  "Resources": {
    "StateTable": {
      "Type": "AWS::DynamoDB::Table",
      "Properties": {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
          {"AttributeName": "pk", "AttributeType": "S"},
          {"AttributeName": "sk", "AttributeType": "S"}
        ],
        "KeySchema": [
          {"AttributeName": "pk", "KeyType": "HASH"},
          {"AttributeName": "sk", "KeyType": "RANGE"}
        ]
      }
    }
  },
  "Outputs": {"TableName": {"Value": {"Ref": "StateTable"}}}
}`

// seededStack deploys stackTemplate to moto's CloudFormation and seeds the
// table it made; it returns the stack's name.
func seededStack(t *testing.T, formations []formation) string {
	t.Helper()
	cfg := useMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfn := cloudformation.NewFromConfig(cfg)
	name := awstest.UniqueName(t, "stack")
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(stackTemplate)}); err != nil {
		t.Fatalf("create stack: %v", err)
	}
	waiter := cloudformation.NewStackCreateCompleteWaiter(cfn, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	out, err := waiter.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)}, 30*time.Second)
	if err != nil {
		t.Fatalf("wait for stack: %v", err)
	}
	var table string
	for _, o := range out.Stacks[0].Outputs {
		if aws.ToString(o.OutputKey) == "TableName" {
			table = aws.ToString(o.OutputValue)
		}
	}
	if table == "" {
		t.Fatalf("stack has no TableName output: %+v", out.Stacks[0].Outputs)
	}
	seed(t, dynamostore.New(dynamodb.NewFromConfig(cfg), table, 0), formations)
	return name
}

// seededFile writes the seed data to a state file.
func seededFile(t *testing.T, formations []formation) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	seed(t, state.NewFileStore(path), formations)
	return path
}

type discardNotices struct{}

func (discardNotices) Notify(context.Context, notify.Notice) error { return nil }

// runCLI runs one command at seedNow.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, Env{
		Getenv: func(k string) string { return env[k] },
		Stdout: &out, Stderr: &errOut,
		Now: func() time.Time { return seedNow },
	})
	return code, out.String(), errOut.String()
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	const regen = "go test ./internal/cli -update"
	if want := readGolden(t, path, got, regen); got != want {
		t.Errorf("output differs from %s (%s rewrites it)\n--- got:\n%s\n--- want:\n%s", path, regen, got, want)
	}
}

// readGolden returns the golden file at path, after writing got to it under
// -update; regen is the command that does so, for the message when the file
// is missing.
func readGolden(t *testing.T, path, got, regen string) string {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s creates it)", err, regen)
	}
	return string(want)
}

// TestStatusFromEveryStore runs status against each place state can live;
// every one must print the same thing.
func TestStatusFromEveryStore(t *testing.T) {
	data := seedData(t)
	table := seededTable(t, data)
	stack := seededStack(t, data)
	file := seededFile(t, data)
	stores := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{name: "table flag", args: []string{"-table", table}},
		{name: "table from the environment", env: map[string]string{settings.EnvTableName: table}},
		{name: "stack output", args: []string{"-stack", stack}},
		{name: "state file", args: []string{"-state", file}},
		{name: "state file from the environment", env: map[string]string{settings.EnvStateFile: file}},
	}
	outputs := []struct {
		golden string
		args   []string
	}{
		{golden: "status.golden"},
		{golden: "status.json.golden", args: []string{"-json"}},
		{golden: "status-shop.golden", args: []string{"-app", "shop"}},
	}
	for _, st := range stores {
		for _, out := range outputs {
			t.Run(st.name+"/"+out.golden, func(t *testing.T) {
				args := append(append([]string{"status"}, st.args...), out.args...)
				code, stdout, stderr := runCLI(t, st.env, args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				golden(t, out.golden, stdout)
			})
		}
	}
}

func TestStatusJSONIsStable(t *testing.T) {
	file := seededFile(t, seedData(t))
	_, stdout, _ := runCLI(t, nil, "status", "-json", "-state", file)
	var report statusReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatal(err)
	}
	byKey := map[string]statusRecord{}
	for _, f := range report.Formations {
		byKey[f.App+"/"+f.ProcessType] = f
	}
	shop := byKey["shop/web"]
	if shop.Min == nil || *shop.Min != 2 || shop.MinSlot != "9:00" || shop.Max == nil || *shop.Max != 5 || shop.MaxSlot != "9:00" {
		t.Errorf("shop/web bounds at 10:00 in Vancouver = %v (%s), %v (%s); want 2 (9:00), 5 (9:00)",
			deref(shop.Min), shop.MinSlot, deref(shop.Max), shop.MaxSlot)
	}
	if shop.LastProbe == nil || shop.LastProbe.AgeSeconds != 42 {
		t.Errorf("shop/web last probe = %+v, want 42 s old", shop.LastProbe)
	}
	if shop.LastScale == nil || shop.LastScale.To == 0 || shop.LastScale.Reason == "" {
		t.Errorf("shop/web last scale = %+v, want the last event", shop.LastScale)
	}
	blog := byKey["blog/web"]
	if !blog.MinAboveMax || deref(blog.Min) != 3 || deref(blog.Max) != 3 {
		t.Errorf("blog/web: min 4 over max 3 should show max winning: %+v", blog)
	}
	if !blog.HerokuError || !blog.DryRun || blog.PlanLimit != 4 || blog.LastScale == nil || blog.LastScale.AgeSeconds != 26*3600 {
		t.Errorf("blog/web flags lost: %+v", blog)
	}
	if api := byKey["api/web"]; api.Min != nil || api.ConfigError == "" || api.LastProbe != nil {
		t.Errorf("api/web has no settings snapshot: want null bounds and a reason, got %+v", api)
	}
	if !byKey["shop/worker"].Paused {
		t.Error("shop/worker is paused")
	}
	// Scripts depend on these names.
	for _, field := range []string{`"at"`, `"formations"`, `"app"`, `"processType"`, `"quantity"`, `"min"`, `"minSlot"`,
		`"max"`, `"maxSlot"`, `"slowStreak"`, `"fastStreak"`, `"lastProbe"`, `"latencyMs"`, `"verdict"`, `"ageSeconds"`,
		`"lastScale"`, `"from"`, `"to"`, `"reason"`, `"paused"`, `"dryRun"`, `"herokuError"`, `"planLimit"`, `"minAboveMax"`} {
		if !strings.Contains(stdout, field) {
			t.Errorf("status -json lacks the field %s", field)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestStatusErrors(t *testing.T) {
	file := seededFile(t, seedData(t))
	empty := filepath.Join(t.TempDir(), "empty.json")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{name: "unknown app", args: []string{"-state", file, "-app", "nope"}, wantCode: 1,
			wantErr: []string{`no app "nope"`, "api/web, blog/web, shop/web, shop/worker"}},
		{name: "unknown process type", args: []string{"-state", file, "-app", "shop", "-type", "clock"}, wantCode: 1,
			wantErr: []string{`no process type "clock" of app "shop"`}},
		{name: "empty store", args: []string{"-state", empty}, wantCode: 1,
			wantErr: []string{"state file " + empty + " has no formations yet"}},
		{name: "stray argument", args: []string{"-state", file, "shop"}, wantCode: 2,
			wantErr: []string{`unexpected argument "shop"`}},
		{name: "unknown flag", args: []string{"-stat", file}, wantCode: 2,
			wantErr: []string{"flag provided but not defined: -stat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, append([]string{"status"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stdout %q", code, tt.wantCode, stdout)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}

func TestStatusOfEmptyTable(t *testing.T) {
	table := seededTable(t, nil)
	code, _, stderr := runCLI(t, nil, "status", "-table", table)
	if code != 1 || !strings.Contains(stderr, "table "+table+" has no formations yet") {
		t.Errorf("exit %d, stderr %q: want a plain message that the table is empty", code, stderr)
	}
}

// describeStacksFunc fakes the one CloudFormation call, for the answers
// moto cannot be made to give.
type describeStacksFunc func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error)

func (f describeStacksFunc) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return f(in)
}

func TestStackTable(t *testing.T) {
	outputs := func(kv ...string) describeStacksFunc {
		return func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error) {
			var outs []cfntypes.Output
			for i := 0; i < len(kv); i += 2 {
				outs = append(outs, cfntypes.Output{OutputKey: aws.String(kv[i]), OutputValue: aws.String(kv[i+1])})
			}
			return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{Outputs: outs}}}, nil
		}
	}
	tests := []struct {
		name    string
		client  describeStacksFunc
		want    string
		wantErr string
	}{
		{name: "table output among others", client: outputs("TopicArn", "arn:aws:sns:x", "TableName", "autoscalebot-StateTable-1"), want: "autoscalebot-StateTable-1"},
		{name: "no table output", client: outputs("TopicArn", "arn:aws:sns:x"), wantErr: "has no TableName output"},
		{name: "no such stack", client: func(*cloudformation.DescribeStacksInput) (*cloudformation.DescribeStacksOutput, error) {
			return nil, errors.New("Stack with id nope does not exist")
		}, wantErr: "find the table of stack nope: Stack with id nope does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stackTable(context.Background(), tt.client, "nope")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("stackTable = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestStackNotInMoto(t *testing.T) {
	useMoto(t)
	code, _, stderr := runCLI(t, nil, "status", "-stack", "no-such-stack")
	if code != 1 || !strings.Contains(stderr, "find the table of stack no-such-stack") {
		t.Errorf("exit %d, stderr %q: want the stack named in the error", code, stderr)
	}
}

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{-5 * time.Second, "just now"},
		{42 * time.Second, "42s ago"},
		{3*time.Minute + 59*time.Second, "3m ago"},
		{2*time.Hour + 5*time.Minute, "2h05m ago"},
		{26 * time.Hour, "26h00m ago"},
		{50 * time.Hour, "2d ago"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.d), func(t *testing.T) {
			if got := ago(tt.d); got != tt.want {
				t.Errorf("ago(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

// TestStatusNamesThePolicy: status says which rules are in force; a state
// written before there was a choice was the original's.
func TestStatusNamesThePolicy(t *testing.T) {
	key := state.Key{App: "shop", ProcessType: "web"}
	cfg := func(policy string) *state.Config {
		return &state.Config{MinDynos: "1", MaxDynos: "3", TimeZone: "UTC", MaxResponseMS: 1000, MinResponseMS: 200, Policy: policy}
	}
	for _, tt := range []struct {
		name       string
		cfg        *state.Config
		policy     string
		flagsShown string
	}{
		{name: "proportional", cfg: cfg("proportional"), policy: "proportional", flagsShown: "policy proportional"},
		{name: "original", cfg: cfg("original"), policy: "original", flagsShown: "-"},
		{name: "recorded before the choice", cfg: cfg(""), policy: "original", flagsShown: "-"},
		{name: "no settings yet", policy: "", flagsShown: "-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := statusOf(key, state.State{Quantity: 2, Config: tt.cfg}, seedNow)
			if r.Policy != tt.policy || flagsText(r) != tt.flagsShown {
				t.Errorf("policy %q, flags %q; want %q, %q", r.Policy, flagsText(r), tt.policy, tt.flagsShown)
			}
		})
	}
}
