# The RQ recipe's heartbeat for the test (see jobstest/kitharness.py); Redis is
# REDIS_URL's.
import os, sys

here = os.path.dirname(__file__)
sys.path[:0] = [os.path.join(here, ".."), os.path.join(here, "..", "..", "jobstest")]
from redis import Redis
from rq import Queue
from kitharness import run
from rq_queues import rq_queues

redis = Redis.from_url(os.environ["REDIS_URL"])
run(rq_queues(redis), lambda queue, job: Queue(queue, connection=redis).enqueue("rqtasks." + job))
