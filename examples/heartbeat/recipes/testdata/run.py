# Drives the recipe with the test's events, one JSON object per stdin line:
# {"op": "init", "at", "concurrency"} first, then {"op": "start", "id",
# "path", "start", "at"} and {"op": "end", "at"}, which ends the request
# started last of those still in flight. "at" (ms since the epoch) is the
# recipe's clock. Prints {"id", "headers"} for each request as it ends.
import json, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from heartbeat_kit import HeartbeatKit

clock = 0.0
time.time = lambda: clock  # the recipe reads the test's clock
lines = (json.loads(line) for line in sys.stdin if line.strip())


def step():
    global clock
    e = next(lines, None)
    if e is not None:
        clock = e["at"] / 1000
    return e


def app(environ, start_response):  # runs until the test ends this request
    start_response("200 OK", [("Content-Type", "text/plain")])
    while (e := step())["op"] == "start":
        serve(e)
    return [b"ok"]


def serve(e):
    environ = {"PATH_INFO": e["path"]}
    if e["start"]:
        environ["HTTP_X_REQUEST_START"] = e["start"]
    got = {}
    mw(environ, lambda status, headers, exc_info=None: got.update({k.lower(): v for k, v in headers}))
    got.pop("content-type", None)
    print(json.dumps({"id": e["id"], "headers": got}), flush=True)


init = step()
mw = HeartbeatKit(app, concurrency=init["concurrency"]) if init["concurrency"] else HeartbeatKit(app)
while (e := step()) is not None:
    serve(e)
