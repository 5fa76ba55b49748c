# RQ's queues for HeartbeatKit (jobs=rq_queues(redis)). latency: the age of
# the oldest job waiting in the queue (its enqueued_at); depth: the queue's
# count; busy: its StartedJobRegistry's jobs whose worker still holds them
# (a killed worker's lease runs out). Scheduled, deferred and failed jobs
# live in other registries: not counted.
import time
from datetime import datetime, timezone

from rq import Queue


def rq_queues(redis):
    def report():
        now = datetime.now(timezone.utc).replace(tzinfo=None)  # RQ keeps UTC without a zone
        out = []
        for q in Queue.all(connection=redis):
            depth = q.count  # first: a queue read empty has no latency, whatever a worker takes meanwhile
            oldest = q.get_job_ids(0, 1) if depth else []
            job = q.fetch_job(oldest[0]) if oldest else None
            latency = (now - job.enqueued_at).total_seconds() if job and job.enqueued_at else 0
            busy = redis.zcount(q.started_job_registry.key, time.time(), "+inf")
            out.append({"name": q.name, "latency": max(latency, 0), "depth": depth, "busy": busy})
        return out

    return report
