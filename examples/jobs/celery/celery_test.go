// Package celery tests docs/heartbeat.md's Celery recipe (celery_queues.py) with
// the real Celery, its Redis broker and a worker.
package celery

import (
	"os/exec"
	"testing"

	"github.com/autoscalebot/autoscalebot/examples/jobs/jobstest"
)

func TestCeleryRecipe(t *testing.T) {
	python := jobstest.Require(t, jobstest.RedisServer, jobstest.Celery)
	redis := jobstest.Redis(t)
	worker := exec.Command(python, "-m", "celery", "-A", "celerytasks", "worker", "-Q", "busy,done", "-c", "2", "--loglevel", "INFO")
	worker.Dir = "testdata" // where celerytasks is
	worker.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.Start(t, "celery worker", worker)
	harness := exec.Command(python, "testdata/harness.py")
	harness.Env = jobstest.Env("REDIS_URL=" + redis)
	jobstest.CheckReport(t, jobstest.StartHarness(t, harness))
}
