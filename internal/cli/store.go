package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/autoscalebot/autoscalebot/internal/dynamostore"
	"github.com/autoscalebot/autoscalebot/internal/settings"
	"github.com/autoscalebot/autoscalebot/internal/state"
)

// stateStore is what the operating commands (status, history, pause,
// resume) need from wherever the state lives.
type stateStore interface {
	Load(ctx context.Context, key state.Key) (state.State, error)
	Save(ctx context.Context, key state.Key, s state.State) (state.State, error)
	History(ctx context.Context, key state.Key, since time.Time, limit int) ([]state.Record, error)
	Keys(ctx context.Context) ([]state.Key, error)
}

var (
	_ stateStore = (*state.FileStore)(nil)
	_ stateStore = (*dynamostore.Store)(nil)
)

// tableOutput is the stack output that names the table (template.yaml).
const tableOutput = "TableName"

// storeFlags say where the state lives: a deployed stack's table, a table
// by name, or a local state file.
type storeFlags struct {
	table, stack, statePath string
	// settingsPath: the file's TABLE_NAME and STATE_FILE, when it gives
	// them, beat the environment's (not -table or -state).
	settingsPath string
	fs           *flag.FlagSet
	getenv       func(string) string
}

func (f *storeFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.table, "table", settings.Get(getenv, settings.EnvTableName), "DynamoDB table of a deployed autoscalebot (env "+settings.EnvTableName+")")
	fs.StringVar(&f.stack, "stack", "", "CloudFormation stack whose TableName output names the table")
	fs.StringVar(&f.statePath, "state", settings.Get(getenv, settings.EnvStateFile), "local state file, used when no table or stack is given (env "+settings.EnvStateFile+")")
	registerSettingsFlag(fs, &f.settingsPath, getenv)
	f.fs, f.getenv = fs, getenv
}

// fromSettingsFile takes the state file and table the settings file gives,
// unless -state or -table say otherwise. A bad file fails the command.
func (f *storeFlags) fromSettingsFile() error {
	if f.settingsPath == "" {
		return nil
	}
	fleet, err := loadFleet(f.getenv, f.settingsPath)
	if err != nil {
		return err
	}
	explicit := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { explicit[fl.Name] = true })
	if !explicit["state"] {
		f.statePath = settings.Get(fleet[0].Getenv, settings.EnvStateFile)
	}
	if !explicit["table"] {
		f.table = settings.Get(fleet[0].Getenv, settings.EnvTableName)
	}
	return nil
}

// open returns the store and a description of it for messages.
func (f *storeFlags) open(ctx context.Context) (stateStore, string, error) {
	if err := f.fromSettingsFile(); err != nil {
		return nil, "", err
	}
	if f.table == "" && f.stack == "" {
		return state.NewFileStore(f.statePath), "state file " + f.statePath, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("aws config: %w", err)
	}
	table := f.table
	if table == "" {
		table, err = stackTable(ctx, cloudformation.NewFromConfig(cfg), f.stack)
		if err != nil {
			return nil, "", err
		}
	}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), table, 0), "table " + table, nil
}

// formationFlags choose formations for status and history: where the state
// lives, then -app and -type to narrow the store's formations (empty: all).
type formationFlags struct {
	storeFlags
	app, processType string
}

func (f *formationFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	f.storeFlags.register(fs, getenv)
	fs.StringVar(&f.app, "app", "", "only this Heroku app (default: every app in the store)")
	fs.StringVar(&f.processType, "type", "", "only this process type (default: every type)")
}

// open returns the store and its formations that match -app and -type.
func (f *formationFlags) open(ctx context.Context) (stateStore, []state.Key, error) {
	store, where, err := f.storeFlags.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	keys, err := selectKeys(ctx, store, where, f.app, f.processType)
	if err != nil {
		return nil, nil, err
	}
	return store, keys, nil
}

// describeStacks lists the CloudFormation call made.
type describeStacks interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

func stackTable(ctx context.Context, client describeStacks, stack string) (string, error) {
	out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return "", fmt.Errorf("find the table of stack %s: %w", stack, err)
	}
	for _, s := range out.Stacks {
		for _, o := range s.Outputs {
			if aws.ToString(o.OutputKey) == tableOutput {
				return aws.ToString(o.OutputValue), nil
			}
		}
	}
	return "", fmt.Errorf("stack %s has no %s output: is it an autoscalebot stack?", stack, tableOutput)
}
