// Express (or plain Node http) middleware: measures each request's router
// queue time from X-Request-Start and how busy the process is, and adds
// autoscalebot's headers to the heartbeat's answer. app.use(heartbeatKit())
// before your routes. concurrency: requests served at once without slowing
// (1: busy while any request is in flight). jobs: an async function listing
// the job queues, each { name, latencyMs, depth, busy }, run bounded by
// jobsTimeoutMs. The load headers go only to a probe sending the token
// (default: process.env.AUTOSCALEBOT_HEARTBEAT_TOKEN) as "Authorization:
// Bearer <token>"; others get the app's answer alone.
const crypto = require("crypto");
const sha256 = (s) => crypto.createHash("sha256").update(String(s).trim()).digest();

function heartbeatKit({ path = "/autoscalebot/heartbeat/", windowS = 30, keep = 1000, concurrency = 1,
  token = process.env.AUTOSCALEBOT_HEARTBEAT_TOKEN || "", jobs = null, jobsTimeoutMs = 2000 } = {}) {
  token = String(token).trim();
  let hung = null; // a jobs report that overran and is still going: not started again
  const authorized = (req) => { // compares SHA-256 sums in constant time
    const [, scheme, cred] = /^(\S+) (.*)$/.exec(String(req.headers.authorization || "").trim()) || [];
    return token !== "" && /^bearer$/i.test(scheme || "") && crypto.timingSafeEqual(sha256(cred || ""), sha256(token));
  };
  const runJobs = () => {
    if (hung) return Promise.reject(new Error("the jobs report is still hung"));
    const run = Promise.resolve().then(jobs);
    let timer;
    const overrun = new Promise((_, reject) => { timer = setTimeout(() => {
      hung = run;
      run.then(() => { hung = null; }, () => { hung = null; });
      reject(new Error(`the jobs report took over ${jobsTimeoutMs} ms`));
    }, jobsTimeoutMs); });
    return Promise.race([run, overrun]).finally(() => clearTimeout(timer));
  };
  const jobHeaders = (res, queues) => { // merged by name, at most 50 (the oldest jobs first), listed by name
    const merged = new Map(); // name => [latency ms, depth, busy]
    for (const q of queues) {
      const name = String(q.name);
      if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) { console.warn("heartbeatKit: queue left out:", JSON.stringify(name)); continue; }
      const m = merged.get(name) || [0, 0, 0];
      m[0] = Math.max(m[0], Math.ceil(Math.round((Number(q.latencyMs) || 0) * 1000) / 1000));
      m[1] += Math.max(Math.trunc(Number(q.depth) || 0), 0);
      m[2] += Math.max(Math.trunc(Number(q.busy) || 0), 0);
      merged.set(name, m);
    }
    const byName = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    const kept = [...merged].sort((a, b) => b[1][0] - a[1][0] || b[1][2] - a[1][2] || b[1][1] - a[1][1] || byName(a, b))
      .slice(0, 50).sort(byName);
    ["X-Job-Latency-Ms", "X-Job-Depth", "X-Job-Busy"].forEach((h, i) => res.setHeader(h, kept.map(([n, v]) => `${n}=${v[i]}`).join(", ")));
  };
  const samples = []; // [seconds, ms], the newest `keep`: bounded memory
  const busy = Array.from({ length: windowS + 1 }, () => [0, 0]); // per second: [second, Σ min(in flight, C) × s]
  const conc = Math.max(1, concurrency), born = Date.now() / 1000;
  let inflight = 0, last = born;
  const tick = (now) => { // adds the busy time since the last call, second by second
    now = Math.max(last, now);
    let t = Math.max(last, Math.floor(now) - windowS);
    const level = Math.min(inflight, conc);
    last = now;
    while (level > 0 && t < now) {
      const s = Math.floor(t), end = Math.min(now, s + 1), slot = busy[s % busy.length];
      if (slot[0] !== s) { slot[0] = s; slot[1] = 0; }
      slot[1] += level * (end - t);
      t = end;
    }
    return now;
  };
  return function (req, res, next) {
    const now = Date.now();
    let v = String(req.headers["x-request-start"] || "").trim().replace(/^t=/, "");
    let start = NaN;
    if (/^\d+\.\d+$/.test(v)) start = parseFloat(v) * 1000; // seconds (nginx $msec)
    else if (/^\d+$/.test(v)) {
      const n = Number(v);
      start = n >= 1e17 ? n / 1e6 : n >= 1e14 ? n / 1e3 : n >= 1e11 ? n : n * 1000;
    }
    let own = null;
    if (start > 0 && now - start <= 3600e3) {
      own = Math.max(0, now - start); // the router's clock ahead counts as 0
      samples.push([now / 1000, own]);
      if (samples.length > keep) samples.shift();
    }
    if (req.url.split("?")[0] === path) { // the probe itself is not counted in flight
      res.setHeader("Cache-Control", "no-store");
      if (!authorized(req)) return next();
      const recent = samples.filter(([s]) => s > now / 1000 - windowS).map(([, ms]) => ms).sort((a, b) => a - b);
      const t = tick(now / 1000), first = Math.floor(t) - windowS; // windowS whole seconds and this one so far
      const sum = busy.reduce((acc, [s, b]) => acc + (s >= first ? b : 0), 0), span = t - Math.max(first, born);
      if (own !== null) res.setHeader("X-Queue-Time-Ms", String(Math.ceil(own)));
      res.setHeader("X-Queue-Time-Count", String(recent.length));
      res.setHeader("X-Queue-Time-Window-S", String(windowS));
      if (recent.length) res.setHeader("X-Queue-Time-P95-Ms", String(Math.ceil(recent[Math.ceil(0.95 * recent.length) - 1])));
      res.setHeader("X-Utilization-Pct", String(span > 0 ? Math.round(100 * Math.min(1, sum / (conc * span))) : 0));
      if (!jobs) return next();
      return runJobs().then((queues) => { jobHeaders(res, queues); next(); }, (err) => {
        console.warn("heartbeatKit: the jobs report failed:", err.message);
        res.statusCode = 503;
        res.setHeader("Content-Type", "application/json");
        res.end('{"status":"fail","failed":["jobs"]}');
      });
    } else { // in flight until the response is sent or the connection closes
      tick(now / 1000);
      inflight++;
      let done = false;
      const end = () => { if (!done) { done = true; tick(Date.now() / 1000); inflight--; } };
      res.once("finish", end);
      res.once("close", end);
    }
    next();
  };
}
module.exports = { heartbeatKit };
