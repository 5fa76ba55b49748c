# WSGI middleware (Django: wrap the application in wsgi.py, e.g.
# application = HeartbeatKit(get_wsgi_application(), concurrency=4)): measures
# each request's router queue time from X-Request-Start and how busy the
# process is, and adds autoscalebot's headers to the heartbeat's answer.
# concurrency: requests served at once (gunicorn's threads); 1 for a sync
# worker. jobs: a callable listing the job queues, each {"name", "latency"
# (seconds), "depth", "busy"}, run bounded by jobs_timeout (seconds). The
# load headers go only to a probe sending the token (default: the
# environment's AUTOSCALEBOT_HEARTBEAT_TOKEN) as "Authorization: Bearer
# <token>"; others get the app's answer alone. Standard library only.
import collections, hashlib, hmac, logging, math, os, re, threading, time


class HeartbeatKit:
    def __init__(self, app, path="/autoscalebot/heartbeat/", window_s=30, keep=1000, concurrency=1,
                 token=None, jobs=None, jobs_timeout=2.0):
        self.app, self.path, self.window_s, self.conc = app, path, window_s, max(1, concurrency)
        self.token = (os.environ.get("AUTOSCALEBOT_HEARTBEAT_TOKEN", "") if token is None else token).strip()
        self.jobs, self.jobs_timeout, self.hung = jobs, jobs_timeout, None
        self.samples = collections.deque(maxlen=keep)  # (seconds, ms): bounded memory
        self.busy = [[0, 0.0] for _ in range(window_s + 1)]  # per second: [second, Σ min(in flight, C) × s]
        self.inflight, self.born = 0, time.time()
        self.last = self.born
        self.lock = threading.Lock()

    def _authorized(self, environ):  # compares SHA-256 sums in constant time
        scheme, _, cred = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
        digest = lambda s: hashlib.sha256(s.strip().encode()).digest()
        return bool(self.token) and scheme.lower() == "bearer" and hmac.compare_digest(digest(cred), digest(self.token))

    def _run_jobs(self):  # the report, or None when it fails or overruns (a hung run is not started again)
        if self.hung and self.hung.is_alive():
            return logging.warning("HeartbeatKit: the jobs report is still hung")
        out = {}

        def call():
            try:
                out["queues"] = self.jobs()
            except Exception as e:
                out["error"] = e

        run = threading.Thread(target=call, daemon=True)
        run.start()
        run.join(self.jobs_timeout)
        if run.is_alive():
            self.hung = run
            return logging.warning("HeartbeatKit: the jobs report took over %s s", self.jobs_timeout)
        if "error" in out:
            return logging.warning("HeartbeatKit: the jobs report failed: %r", out["error"])
        return out["queues"]

    @staticmethod
    def _job_headers(queues):  # merged by name, at most 50 (the oldest jobs first), listed by name
        merged = {}  # name: [latency ms, depth, busy]
        for q in queues:
            name = str(q.get("name", ""))
            if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", name):
                logging.warning("HeartbeatKit: queue %r left out", name)
                continue
            m = merged.setdefault(name, [0, 0, 0])
            m[0] = max(m[0], math.ceil(round(float(q.get("latency") or 0) * 1e6) / 1000))
            m[1] += max(int(q.get("depth") or 0), 0)
            m[2] += max(int(q.get("busy") or 0), 0)
        kept = sorted(sorted(merged.items(), key=lambda kv: (-kv[1][0], -kv[1][2], -kv[1][1], kv[0]))[:50])
        return [(h, ", ".join(f"{n}={v[i]}" for n, v in kept))
                for i, h in enumerate(("X-Job-Latency-Ms", "X-Job-Depth", "X-Job-Busy"))]

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
        load = self._authorized(environ)
        queues = self._run_jobs() if load and self.jobs else None  # never for an anonymous probe
        if load and self.jobs and queues is None:
            start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
            return [b'{"status":"fail","failed":["jobs"]}']
        with self.lock:  # the probe itself is not counted in flight
            recent = sorted(ms for s, ms in self.samples if s > now - self.window_s)
            t = self._tick(now)
            first = math.floor(t) - self.window_s  # the window: window_s whole seconds and this one so far
            busy, span = sum(b for s, b in self.busy if s >= first), t - max(first, self.born)
        pct = math.floor(100 * min(1.0, busy / (self.conc * span)) + 0.5) if span > 0 else 0
        extra = [("Cache-Control", "no-store")]
        if load:
            extra += [("X-Queue-Time-Count", str(len(recent))), ("X-Queue-Time-Window-S", str(self.window_s)),
                      ("X-Utilization-Pct", str(pct))] + (self._job_headers(queues) if queues is not None else [])
        if load and own is not None:
            extra.append(("X-Queue-Time-Ms", str(math.ceil(own))))
        if load and recent:
            extra.append(("X-Queue-Time-P95-Ms", str(math.ceil(recent[math.ceil(0.95 * len(recent)) - 1]))))

        def respond(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() != "cache-control"] + extra
            return start_response(status, headers, exc_info)

        return self.app(environ, respond)
