# The Python recipes' heartbeat for their tests: the WSGI HeartbeatKit with
# the recipe's jobs report in front of an app answering ok, driven by JSON
# lines (see jobstest.Harness); enqueue(queue, job) puts one job with the
# job library. The token is AUTOSCALEBOT_HEARTBEAT_TOKEN's.
import json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "heartbeat", "recipes"))
from heartbeat_kit import HeartbeatKit


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"status":"ok"}']


def run(jobs, enqueue):
    kit = HeartbeatKit(app, jobs=jobs)
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "enqueue":
            for _ in range(req["n"]):
                enqueue(req["queue"], req["job"])
            answer = {"ok": True}
        else:
            environ = {"PATH_INFO": "/autoscalebot/heartbeat/"}
            if req["auth"]:
                environ["HTTP_AUTHORIZATION"] = req["auth"]
            answer = {}

            def start_response(status, headers, exc_info=None):
                answer.update(status=int(status.split()[0]), headers=dict(headers))

            kit(environ, start_response)
        print(json.dumps(answer), flush=True)
