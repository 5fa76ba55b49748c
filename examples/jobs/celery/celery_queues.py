# Celery's queues on a Redis broker for HeartbeatKit
# (jobs=celery_queues(app, ["celery"]), the queues your workers consume;
# import this module where tasks are published, so the stamp is set).
# Celery keeps no enqueue time: stamp_published_at puts one in each
# message's headers. latency: the age of the oldest message in the queue's
# Redis list; depth: the list's length; busy: the tasks the workers say they
# run, by routing key (a broadcast that waits inspect_timeout for replies).
# Not counted: tasks a worker has prefetched but not started, messages
# published with a priority (kombu keeps them in other lists) and countdown
# or eta tasks.
import json, time

from celery.signals import before_task_publish


@before_task_publish.connect
def stamp_published_at(headers=None, **_):
    headers.setdefault("published_at", time.time())


def celery_queues(app, names, inspect_timeout=0.5):
    def report():
        busy = {}
        for tasks in (app.control.inspect(timeout=inspect_timeout).active() or {}).values():
            for task in tasks:
                key = task["delivery_info"]["routing_key"]
                busy[key] = busy.get(key, 0) + 1
        out = []
        with app.connection_for_read() as conn:
            redis = conn.default_channel.client
            for name in names:
                depth = redis.llen(name)  # first: a queue read empty has no latency, whatever a worker takes meanwhile
                oldest = redis.lindex(name, -1) if depth else None  # kombu pushes on the left; workers pop on the right
                published = json.loads(oldest)["headers"].get("published_at") if oldest else None
                latency = time.time() - published if published else 0
                out.append({"name": name, "latency": max(latency, 0), "depth": depth, "busy": busy.get(name, 0)})
        return out

    return report
