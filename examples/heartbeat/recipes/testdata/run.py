# Drives the recipe with the test's events, one JSON object per stdin line:
# {"op": "init", "at", "concurrency", "token", "jobs"} first, then {"op":
# "start", "id", "path", "start", "auth", "at"} and {"op": "end", "at"},
# which ends the request started last of those still in flight. "at" (ms
# since the epoch) is the recipe's clock. "jobs", when set, is what the
# jobs report returns ({"queues": [{"name", "latency_ms", "depth", "busy"}]},
# or {"error": true}, or {"hang_ms": n}), with "timeout_ms". Prints {"id",
# "status", "headers", "calls"} for each request as it ends, calls being the
# job reports run so far.
import json, logging, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from heartbeat_kit import HeartbeatKit

real_sleep = time.sleep
clock = 0.0
time.time = lambda: clock  # the recipe reads the test's clock
logging.disable(logging.WARNING)  # the kit's warnings
lines = (json.loads(line) for line in sys.stdin if line.strip())
calls = app_calls = 0


def step():
    global clock
    e = next(lines, None)
    if e is not None:
        clock = e["at"] / 1000
    return e


def app(environ, start_response):  # runs until the test ends this request
    global app_calls
    app_calls += 1
    start_response("200 OK", [("Content-Type", "text/plain")])
    while (e := step())["op"] == "start":
        serve(e)
    return [b"ok"]


def serve(e):
    environ = {"PATH_INFO": e["path"]}
    if e["start"]:
        environ["HTTP_X_REQUEST_START"] = e["start"]
    if e.get("auth"):
        environ["HTTP_AUTHORIZATION"] = e["auth"]
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"] = int(status.split()[0])
        got["headers"] = {k.lower(): v for k, v in headers if k.lower() != "content-type"}

    before = app_calls
    mw(environ, start_response)
    if app_calls == before:
        step()  # the kit answered alone: this request's end is next
    print(json.dumps({"id": e["id"], "status": got["status"], "headers": got["headers"], "calls": calls}), flush=True)


def jobs_of(spec):  # the harness's jobs report, as the test describes it
    if not spec:
        return None

    def jobs():
        global calls
        calls += 1
        if spec.get("error"):
            raise ConnectionError("the queue's store is down")
        if spec.get("hang_ms"):
            real_sleep(spec["hang_ms"] / 1000)
        return [{"name": q["name"], "latency": q["latency_ms"] / 1000, "depth": q["depth"], "busy": q["busy"]}
                for q in spec.get("queues") or []]

    return jobs


init = step()
opts = {"token": init.get("token") or "", "jobs": jobs_of(init.get("jobs"))}
if init["concurrency"]:
    opts["concurrency"] = init["concurrency"]
if (init.get("jobs") or {}).get("timeout_ms"):
    opts["jobs_timeout"] = init["jobs"]["timeout_ms"] / 1000
mw = HeartbeatKit(app, **opts)
while (e := step()) is not None:
    serve(e)
