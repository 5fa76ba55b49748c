# The Celery recipe's heartbeat for the test (see jobstest/kitharness.py).
import os, sys

here = os.path.dirname(__file__)
sys.path[:0] = [here, os.path.join(here, ".."), os.path.join(here, "..", "..", "jobstest")]
from celery_queues import celery_queues
from celerytasks import app
from kitharness import run

run(celery_queues(app, ["busy", "done", "waiting"]), lambda queue, job: app.send_task("celerytasks." + job, queue=queue))
