// Package bullmq tests docs/heartbeat.md's BullMQ recipe (bullmq_queues.js) with
// the real BullMQ (from npm, pinned in package-lock.json), Redis and
// workers.
package bullmq

import (
	"os"
	"os/exec"
	"testing"

	"github.com/autoscalebot/autoscalebot/examples/jobs/jobstest"
)

func TestBullMQRecipe(t *testing.T) {
	jobstest.Require(t, jobstest.RedisServer, jobstest.Node)
	if _, err := os.Stat("node_modules/bullmq"); err != nil {
		t.Fatalf("BullMQ is not installed here (%v): install it with cd examples/jobs/bullmq && npm ci (make test-tools does)", err)
	}
	redis := jobstest.Redis(t)
	worker := exec.Command("node", "testdata/worker.js")
	worker.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.Start(t, "the BullMQ workers", worker)
	harness := exec.Command("node", "testdata/harness.js")
	harness.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.CheckReport(t, jobstest.StartHarness(t, harness))
}
