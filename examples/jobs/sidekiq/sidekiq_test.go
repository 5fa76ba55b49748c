// Package sidekiq tests docs/heartbeat.md's Sidekiq recipe (sidekiq_queues.rb)
// with the real Sidekiq and Redis.
package sidekiq

import (
	"os/exec"
	"testing"

	"github.com/autoscalebot/autoscalebot/examples/jobs/jobstest"
)

func TestSidekiqRecipe(t *testing.T) {
	jobstest.Require(t, jobstest.RedisServer, jobstest.Sidekiq)
	redis := jobstest.Redis(t)
	worker := exec.Command("sidekiq", "-r", "./testdata/worker.rb", "-q", "busy", "-q", "done", "-c", "2", "-t", "1")
	worker.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.Start(t, "sidekiq", worker)
	harness := exec.Command("ruby", "testdata/harness.rb")
	harness.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.CheckReport(t, jobstest.StartHarness(t, harness))
}
