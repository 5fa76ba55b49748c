// Package rq tests docs/heartbeat.md's RQ recipe (rq_queues.py) with the real RQ
// and Redis.
package rq

import (
	"os/exec"
	"testing"

	"github.com/autoscalebot/autoscalebot/examples/jobs/jobstest"
)

func TestRQRecipe(t *testing.T) {
	python := jobstest.Require(t, jobstest.RedisServer, jobstest.RQ)
	redis := jobstest.Redis(t)
	for _, queue := range []string{"busy", "done"} { // an RQ worker runs one job at a time
		worker := exec.Command(python, "-m", "rq.cli", "worker", "--url", redis, queue)
		worker.Dir = "testdata" // where rqtasks is
		jobstest.Start(t, "rq worker "+queue, worker)
	}
	harness := exec.Command(python, "testdata/harness.py")
	harness.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.CheckReport(t, jobstest.StartHarness(t, harness))
}
