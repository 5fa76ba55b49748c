# WSGI middleware (Django: wrap the application in wsgi.py, e.g.
# application = QueueTime(get_wsgi_application())): measures each request's
# router queue time from X-Request-Start and adds autoscalebot's headers to
# the heartbeat's answer. Standard library only.
import collections, math, re, threading, time


class QueueTime:
    def __init__(self, app, path="/autoscalebot/heartbeat/", window_s=30, keep=1000):
        self.app, self.path, self.window_s = app, path, window_s
        self.samples = collections.deque(maxlen=keep)  # (seconds, ms): bounded memory
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        now = time.time()
        v = environ.get("HTTP_X_REQUEST_START", "").strip().removeprefix("t=")
        start = None
        if re.fullmatch(r"\d+\.\d+", v):
            start = float(v)  # seconds (nginx $msec)
        elif re.fullmatch(r"\d+", v):
            n = int(v)
            start = n / 1e9 if n >= 1e17 else n / 1e6 if n >= 1e14 else n / 1e3 if n >= 1e11 else n
        own = None
        if start and now - start <= 3600:
            own = max(0.0, (now - start) * 1000)  # the router's clock ahead counts as 0
            with self.lock:
                self.samples.append((now, own))
        if environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        with self.lock:
            recent = sorted(ms for s, ms in self.samples if s > now - self.window_s)
        extra = [("Cache-Control", "no-store"), ("X-Queue-Time-Count", str(len(recent))),
                 ("X-Queue-Time-Window-S", str(self.window_s))]
        if own is not None:
            extra.append(("X-Queue-Time-Ms", str(math.ceil(own))))
        if recent:
            extra.append(("X-Queue-Time-P95-Ms", str(math.ceil(recent[math.ceil(0.95 * len(recent)) - 1]))))

        def respond(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() != "cache-control"] + extra
            return start_response(status, headers, exc_info)

        return self.app(environ, respond)
