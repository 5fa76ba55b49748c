# Feeds the recipe one request per stdin line ({"path", "start"}) and prints
# the headers it set, one JSON object per line.
import json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from queue_time import QueueTime


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


mw = QueueTime(app)
print("ready", flush=True)  # the test stamps its requests after this
for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    environ = {"PATH_INFO": req["path"]}
    if req["start"]:
        environ["HTTP_X_REQUEST_START"] = req["start"]
    got = {}
    mw(environ, lambda status, headers, exc_info=None: got.update({k.lower(): v for k, v in headers}))
    got.pop("content-type", None)
    print(json.dumps(got), flush=True)
