package e2e

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/autoscalebot/autoscalebot/test/env/lambdatest"
	"github.com/autoscalebot/autoscalebot/test/env/tooltest"
)

// TestKeyRotationInAWarmEnvironment rotates the API key as docs/operating.md's
// "Rotating the Heroku API key" says (a new key in SSM, the old one revoked
// at once) between two invocations of the same warm bootstrap under the
// Lambda emulator: the second invocation must scale with the new key instead
// of failing with the old one until the next cold start. (The periodic
// re-read, which needs five minutes to pass, is tested in internal/lambdafn
// on a clock the test moves.)
func TestKeyRotationInAWarmEnvironment(t *testing.T) {
	tooltest.SkipShort(t, "builds the bootstrap and runs it under the Lambda emulator with moto")
	params := maps.Clone(e2eParams)
	params["NumberOfFailsToScaleUpAfter"] = "1" // every slow beat scales
	s := newStack(t, params)
	fn := s.start(t, s.env(t, nil, nil), lambdatest.Options{})
	s.beat.set(slowBeat)

	sum := lambdatest.Summary(t, s.invoke(t, fn, lambdatest.ScheduledEvent(t)))
	if !sum.Scaled || sum.Current != 1 || sum.Target != 2 {
		t.Fatalf("first slow beat: %+v, want scaled 1 → 2", sum)
	}
	s.checkScaledNotice(t, 1, 2)
	pid, warm := fn.BootstrapPID()

	s.rotateKey(t)
	before := len(s.heroku.Requests())
	raw := s.invoke(t, fn, lambdatest.ScheduledEvent(t))
	if fe, failed := lambdatest.ErrorOf(raw); failed {
		t.Fatalf("the invocation after the rotation failed: %s: %s", fe.Type, fe.Message)
	}
	sum = lambdatest.Summary(t, raw)
	if !sum.Scaled || sum.Current != 2 || sum.Target != 3 || sum.HerokuRefused {
		t.Fatalf("slow beat after the rotation: %+v, want scaled 2 → 3 and no refusal", sum)
	}
	if now, ok := fn.BootstrapPID(); warm && (!ok || now != pid) {
		t.Fatalf("bootstrap pid %d, then %d: the environment was not kept warm", pid, now)
	}
	var got []string
	for _, r := range s.heroku.Requests()[before:] {
		got = append(got, r.Method+" "+http.StatusText(r.Status))
	}
	// The old key is refused once, the new one read from SSM, the read made
	// again and the scale sent with it.
	if want := []string{"GET Unauthorized", "GET OK", "PATCH OK"}; !slices.Equal(got, want) {
		t.Errorf("Heroku requests after the rotation: %q, want %q", got, want)
	}
	if q := s.heroku.Quantity(s.app, process); q != 3 {
		t.Errorf("Heroku quantity = %d, want 3", q)
	}
	s.checkScaleRecorded(t, 2, 3)
	s.checkScaledNotice(t, 2, 3)
	if extra := s.receive(t, 1, 2*time.Second); len(extra) > 0 {
		t.Errorf("notices besides the two scales (a recovered refusal is no Heroku error): %+v", extra)
	}
	if !strings.Contains(fn.Output(), "heroku API key changed") {
		t.Errorf("the function did not log the key change:\n%s", fn.Output())
	}
	if leaks := s.leaks(t); len(leaks) > 0 {
		t.Errorf("an API key appears in:\n%s", strings.Join(leaks, "\n"))
	}
}

// rotateKey stores a new key in the SSM parameter and makes the fake API
// accept only it, as Heroku does once the old key is revoked.
func (s *stack) rotateKey(t testing.TB) {
	t.Helper()
	next := "HRKU-" + randomHex(t, 16)
	if _, err := s.ssm.PutParameter(s.ctx, &ssm.PutParameterInput{
		Name:      aws.String(s.keyParam),
		Value:     aws.String(next),
		Type:      ssmtypes.ParameterTypeSecureString,
		Overwrite: aws.Bool(true),
	}); err != nil {
		t.Fatalf("rotate API key parameter: %v", err)
	}
	s.heroku.SetToken(next)
	s.mu.Lock()
	s.oldKeys = append(s.oldKeys, s.apiKey)
	s.apiKey = next
	s.mu.Unlock()
}
