// Package stacktest deploys the repository's template.yaml into moto for
// tests: the SAM translator expands it (as `sam deploy` has CloudFormation
// do), then moto's CloudFormation creates the stack with the parameters a
// test chooses, evaluating conditions and intrinsic functions itself. What
// the stack made is read back through the services' own APIs.
//
// Test support only: nothing outside _test.go files imports it.
package stacktest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/autoscalebot/autoscalebot/test/env/awstest"
	"github.com/autoscalebot/autoscalebot/test/env/templatetest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

//go:embed expand.py
var expandScript string

// The S3 object expand.py points CodeUri at, as `sam package` would; moto's
// Lambda reads it when the stack creates the function.
const (
	codeBucket = "packaged-code"
	codeKey    = "autoscalebot.zip"
)

const (
	toolWait   = 2 * time.Minute
	createWait = time.Minute
)

var expanded struct {
	once sync.Once
	json []byte
	err  error
}

// Template returns template.yaml as the SAM translator expands it: plain
// CloudFormation, with its Parameters, Rules, Conditions and intrinsic
// functions left for CloudFormation. The expansion does not depend on
// parameter values, so it runs once per test binary; each call returns a
// fresh copy the caller may change.
func Template(t testing.TB) map[string]any {
	t.Helper()
	python := tooltest.Require(t, tooltest.SAMTranslator)
	expanded.once.Do(func() { expanded.json, expanded.err = expand(python) })
	if expanded.err != nil {
		t.Fatal(expanded.err)
	}
	var doc map[string]any
	if err := json.Unmarshal(expanded.json, &doc); err != nil {
		t.Fatalf("expanded template is not JSON: %v", err)
	}
	return doc
}

func expand(python string) ([]byte, error) {
	root, err := templatetest.RepoRoot()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), toolWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", expandScript, filepath.Join(root, "template.yaml"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("expand template.yaml with the SAM translator: %w\n%s", err, stderr.String())
	}
	return out, nil
}

// Stack is one stack moto created.
type Stack struct {
	Name, ID, Region string
	Outputs          map[string]string
	// Physical ids by logical id, of the resources moto creates (it skips
	// types it does not implement, e.g. alarms and the Chatbot channel).
	Resources map[string]string

	moto *awstest.Moto
}

var stackSeq atomic.Int64

// Deploy creates a stack from tmpl (an expanded template, see Template)
// with params in awstest.Region and waits for it; anything but
// CREATE_COMPLETE fails t.
func Deploy(ctx context.Context, t testing.TB, moto *awstest.Moto, tmpl map[string]any, params map[string]string) *Stack {
	t.Helper()
	return DeployIn(ctx, t, moto, awstest.Region, tmpl, params)
}

// DeployIn is Deploy in another region.
func DeployIn(ctx context.Context, t testing.TB, moto *awstest.Moto, region string, tmpl map[string]any, params map[string]string) *Stack {
	t.Helper()
	// Short: CloudFormation puts the stack name into resource names with
	// their own limits (a Lambda function name has 64 characters).
	name := "s" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + strconv.FormatInt(stackSeq.Add(1), 36)
	return DeployNamed(ctx, t, moto, region, name, tmpl, params)
}

// DeployNamed is DeployIn with a chosen stack name.
func DeployNamed(ctx context.Context, t testing.TB, moto *awstest.Moto, region, name string, tmpl map[string]any, params map[string]string) *Stack {
	t.Helper()
	uploadCode(ctx, t, moto)
	body, err := json.Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	cfg := moto.Config(t)
	cfg.Region = region
	client := cloudformation.NewFromConfig(cfg)
	in := &cloudformation.CreateStackInput{
		StackName:    aws.String(name),
		TemplateBody: aws.String(string(body)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
	}
	for k, v := range params {
		in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	out, err := client.CreateStack(ctx, in)
	if err != nil {
		t.Fatalf("create stack with %v: %v", params, err)
	}
	s := &Stack{Name: name, ID: aws.ToString(out.StackId), Region: region, Outputs: map[string]string{},
		Resources: map[string]string{}, moto: moto}

	deadline := time.Now().Add(createWait)
	for {
		d, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: out.StackId})
		if err != nil || len(d.Stacks) != 1 {
			t.Fatalf("describe stack %s: %v", name, err)
		}
		st := d.Stacks[0]
		if st.StackStatus == cfntypes.StackStatusCreateComplete {
			for _, o := range st.Outputs {
				s.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
			}
			break
		}
		if !strings.HasSuffix(string(st.StackStatus), "_IN_PROGRESS") || time.Now().After(deadline) {
			t.Fatalf("stack %s with %v: %s %s", name, params, st.StackStatus, aws.ToString(st.StackStatusReason))
		}
		time.Sleep(100 * time.Millisecond)
	}
	res, err := client.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: out.StackId})
	if err != nil {
		t.Fatalf("stack %s resources: %v", name, err)
	}
	for _, r := range res.StackResources {
		if id := aws.ToString(r.LogicalResourceId); id != "" {
			s.Resources[id] = aws.ToString(r.PhysicalResourceId)
		}
	}
	return s
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

var uploaded sync.Map // moto endpoint -> error (nil: done)

// uploadCode puts a stand-in deployment package where the expanded
// template's CodeUri points. Plain HTTP: moto does not check signatures, and
// the tests need no S3 client otherwise.
func uploadCode(ctx context.Context, t testing.TB, moto *awstest.Moto) {
	t.Helper()
	v, _ := uploaded.LoadOrStore(moto.Endpoint, &sync.Once{})
	once := v.(*sync.Once)
	var err error
	once.Do(func() {
		err = errors.Join(
			motoRequest(ctx, moto, "s3", http.MethodPut, "/"+codeBucket, nil, nil),
			motoRequest(ctx, moto, "s3", http.MethodPut, "/"+codeBucket+"/"+codeKey, []byte("stand-in package"), nil))
	})
	if err != nil {
		t.Fatalf("upload the function's code to moto: %v", err)
	}
}

// Function is a Lambda function's configuration as Lambda's
// GetFunctionConfiguration returns it.
type Function struct {
	Name, Runtime, Handler string
	MemorySize, Timeout    int
	Architectures          []string
	Env                    map[string]string
	// ReservedConcurrency is 0 when the function reserves none.
	ReservedConcurrency int
}

// Function reads the configuration of the function with logical id
// logicalID through moto's Lambda API.
func (s *Stack) Function(ctx context.Context, t testing.TB, logicalID string) Function {
	t.Helper()
	name := s.Resources[logicalID]
	if name == "" {
		t.Fatalf("stack %s has no function %s", s.Name, logicalID)
	}
	var raw struct {
		FunctionName, Runtime, Handler string
		MemorySize, Timeout            int
		Architectures                  []string
		Environment                    struct{ Variables map[string]any }
	}
	if err := motoRequest(ctx, s.moto, "lambda", http.MethodGet, "/2015-03-31/functions/"+name+"/configuration", nil, &raw); err != nil {
		t.Fatalf("get function configuration: %v", err)
	}
	f := Function{Name: raw.FunctionName, Runtime: raw.Runtime, Handler: raw.Handler, MemorySize: raw.MemorySize,
		Timeout: raw.Timeout, Architectures: raw.Architectures, Env: map[string]string{}}
	var concurrency struct{ ReservedConcurrentExecutions *int }
	if err := motoRequest(ctx, s.moto, "lambda", http.MethodGet, "/2019-09-30/functions/"+name+"/concurrency", nil, &concurrency); err != nil {
		t.Fatalf("get function concurrency: %v", err)
	}
	if concurrency.ReservedConcurrentExecutions != nil {
		f.ReservedConcurrency = *concurrency.ReservedConcurrentExecutions
	}
	for k, v := range raw.Environment.Variables {
		// Lambda's variables are strings; moto keeps a Number parameter's
		// value as a JSON number (30, not "30").
		switch x := v.(type) {
		case string:
			f.Env[k] = x
		case float64:
			f.Env[k] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			t.Fatalf("function %s: variable %s = %#v", name, k, v)
		}
	}
	return f
}

// Dashboard returns the body of the CloudWatch dashboard with logical id
// logicalID, and false when the stack has none. (moto does not speak the
// CBOR protocol of the current CloudWatch SDK; this is its query API.)
func (s *Stack) Dashboard(ctx context.Context, t testing.TB, logicalID string) (string, bool) {
	t.Helper()
	name, ok := s.Resources[logicalID]
	if !ok {
		return "", false
	}
	form := url.Values{"Action": {"GetDashboard"}, "Version": {"2010-08-01"}, "DashboardName": {name}}
	var out struct {
		Body string `xml:"GetDashboardResult>DashboardBody"`
	}
	if err := motoQuery(ctx, s.moto, "monitoring", form, &out); err != nil {
		t.Fatalf("get dashboard %s: %v", name, err)
	}
	return out.Body, true
}

func motoQuery(ctx context.Context, moto *awstest.Moto, service string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, moto.Endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return motoDo(req, service, func(data []byte) error { return xml.Unmarshal(data, out) })
}

// motoRequest sends one unsigned request to service on moto, which routes
// by the credential scope of the Authorization header, and decodes a JSON
// answer into out when out is not nil.
func motoRequest(ctx context.Context, moto *awstest.Moto, service, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, moto.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	return motoDo(req, service, func(data []byte) error {
		if out == nil {
			return nil
		}
		return json.Unmarshal(data, out)
	})
}

func motoDo(req *http.Request, service string, decode func([]byte) error) error {
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/"+awstest.Region+"/"+service+
		"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, data)
	}
	return decode(data)
}

// LambdaRequest sends one request to moto's Lambda API (which the tests'
// SDK has no client for) and decodes the JSON answer into out, if not nil.
func (s *Stack) LambdaRequest(ctx context.Context, method, path string, body []byte, out any) error {
	return motoRequest(ctx, s.moto, "lambda", method, path, body, out)
}

// Statement is one statement of an IAM policy, with Action and Resource
// always lists.
type Statement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource []string
}

// RoleStatements returns the statements of every inline policy of the role
// the stack created as logicalID, read back from moto's IAM: what
// CloudFormation made of the template's conditions and substitutions.
func (s *Stack) RoleStatements(ctx context.Context, t testing.TB, logicalID string) []Statement {
	t.Helper()
	role := s.Resources[logicalID]
	if role == "" {
		t.Fatalf("stack has no %s", logicalID)
	}
	var list struct {
		Names []string `xml:"ListRolePoliciesResult>PolicyNames>member"`
	}
	if err := motoQuery(ctx, s.moto, "iam", url.Values{"Action": {"ListRolePolicies"}, "Version": {"2010-05-08"},
		"RoleName": {role}}, &list); err != nil {
		t.Fatalf("list policies of %s: %v", role, err)
	}
	var out []Statement
	for _, name := range list.Names {
		var got struct {
			Document string `xml:"GetRolePolicyResult>PolicyDocument"`
		}
		if err := motoQuery(ctx, s.moto, "iam", url.Values{"Action": {"GetRolePolicy"}, "Version": {"2010-05-08"},
			"RoleName": {role}, "PolicyName": {name}}, &got); err != nil {
			t.Fatalf("get policy %s of %s: %v", name, role, err)
		}
		doc, err := url.QueryUnescape(got.Document)
		if err != nil {
			doc = got.Document
		}
		var policy struct {
			Statement []struct {
				Sid      string
				Effect   string
				Action   any
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(doc), &policy); err != nil {
			// moto's CloudFormation keeps an inline policy as Python's repr
			// of it (single quotes, None for a statement !If removed).
			// Policies here hold no quotes of their own, so it reads back.
			pyRepr := strings.NewReplacer("'", `"`, "None", "null", "True", "true", "False", "false").Replace(doc)
			if err := json.Unmarshal([]byte(pyRepr), &policy); err != nil {
				t.Fatalf("policy %s of %s: %v\n%s", name, role, err, doc)
			}
		}
		for _, st := range policy.Statement {
			out = append(out, Statement{Sid: st.Sid, Effect: st.Effect, Action: strings1(st.Action), Resource: strings1(st.Resource)})
		}
	}
	return out
}

// strings1 reads a policy field that is one string or a list of them.
func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
