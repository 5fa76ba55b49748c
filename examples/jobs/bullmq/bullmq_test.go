// Package bullmq tests the README's BullMQ recipe (bullmq_queues.js) with
// the real BullMQ (from npm, pinned in package-lock.json), Redis and
// workers.
package bullmq

import (
	"os"
	"os/exec"
	"testing"

	"github.com/autoscalebot/autoscalebot/examples/jobs/jobstest"
)

const install = "apt-get install redis-server nodejs npm; cd examples/jobs/bullmq && npm ci"

func TestBullMQRecipe(t *testing.T) {
	jobstest.Need(t, install, "redis-server", "node")
	if _, err := os.Stat("node_modules/bullmq"); err != nil {
		t.Fatalf("BullMQ is not installed here (%v); install it: %s (or make test-tools)", err, install)
	}
	redis := jobstest.Redis(t)
	worker := exec.Command("node", "testdata/worker.js")
	worker.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.Start(t, "the BullMQ workers", worker)
	harness := exec.Command("node", "testdata/harness.js")
	harness.Env = jobstest.Env("REDIS_URL="+redis, "AUTOSCALEBOT_HEARTBEAT_TOKEN="+jobstest.Token)
	jobstest.CheckReport(t, jobstest.StartHarness(t, harness))
}
