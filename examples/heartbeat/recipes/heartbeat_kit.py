# WSGI middleware (Django: wrap the application in wsgi.py, e.g.
# application = HeartbeatKit(get_wsgi_application(), concurrency=4)): measures
# each request's router queue time from X-Request-Start and how busy the
# process is, and adds autoscalebot's headers to the heartbeat's answer.
# concurrency: requests served at once (gunicorn's threads); 1 for a sync
# worker. Standard library only.
import collections, math, re, threading, time


class HeartbeatKit:
    def __init__(self, app, path="/autoscalebot/heartbeat/", window_s=30, keep=1000, concurrency=1):
        self.app, self.path, self.window_s, self.conc = app, path, window_s, max(1, concurrency)
        self.samples = collections.deque(maxlen=keep)  # (seconds, ms): bounded memory
        self.busy = [[0, 0.0] for _ in range(window_s + 1)]  # per second: [second, Σ min(in flight, C) × s]
        self.inflight, self.born = 0, time.time()
        self.last = self.born
        self.lock = threading.Lock()

    def _tick(self, now):  # with the lock: adds the busy time since the last call, second by second
        now, t = max(self.last, now), max(self.last, math.floor(now) - self.window_s)
        level, self.last = min(self.inflight, self.conc), now
        while level and t < now:
            s, end = math.floor(t), min(now, math.floor(t) + 1)
            slot = self.busy[s % len(self.busy)]
            if slot[0] != s:
                slot[:] = [s, 0.0]
            slot[1] += level * (end - t)
            t = end
        return now

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
            with self.lock:
                self._tick(now)
                self.inflight += 1
            try:  # in flight while the app runs (a body streamed after it returns is not counted)
                return self.app(environ, start_response)
            finally:
                with self.lock:
                    self._tick(time.time())
                    self.inflight -= 1
        with self.lock:  # the probe itself is not counted in flight
            recent = sorted(ms for s, ms in self.samples if s > now - self.window_s)
            t = self._tick(now)
            first = math.floor(t) - self.window_s  # the window: window_s whole seconds and this one so far
            busy, span = sum(b for s, b in self.busy if s >= first), t - max(first, self.born)
        pct = math.floor(100 * min(1.0, busy / (self.conc * span)) + 0.5) if span > 0 else 0
        extra = [("Cache-Control", "no-store"), ("X-Queue-Time-Count", str(len(recent))),
                 ("X-Queue-Time-Window-S", str(self.window_s)), ("X-Utilization-Pct", str(pct))]
        if own is not None:
            extra.append(("X-Queue-Time-Ms", str(math.ceil(own))))
        if recent:
            extra.append(("X-Queue-Time-P95-Ms", str(math.ceil(recent[math.ceil(0.95 * len(recent)) - 1]))))

        def respond(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() != "cache-control"] + extra
            return start_response(status, headers, exc_info)

        return self.app(environ, respond)
