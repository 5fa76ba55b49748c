// Express (or plain Node http) middleware: measures each request's router
// queue time from X-Request-Start and how busy the process is, and adds
// autoscalebot's headers to the heartbeat's answer. app.use(heartbeatKit())
// before your routes. concurrency: requests served at once without slowing
// (1: busy while any request is in flight).
function heartbeatKit({ path = "/autoscalebot/heartbeat/", windowS = 30, keep = 1000, concurrency = 1 } = {}) {
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
      const recent = samples.filter(([s]) => s > now / 1000 - windowS).map(([, ms]) => ms).sort((a, b) => a - b);
      const t = tick(now / 1000), first = Math.floor(t) - windowS; // windowS whole seconds and this one so far
      const sum = busy.reduce((acc, [s, b]) => acc + (s >= first ? b : 0), 0), span = t - Math.max(first, born);
      res.setHeader("Cache-Control", "no-store");
      if (own !== null) res.setHeader("X-Queue-Time-Ms", String(Math.ceil(own)));
      res.setHeader("X-Queue-Time-Count", String(recent.length));
      res.setHeader("X-Queue-Time-Window-S", String(windowS));
      if (recent.length) res.setHeader("X-Queue-Time-P95-Ms", String(Math.ceil(recent[Math.ceil(0.95 * recent.length) - 1])));
      res.setHeader("X-Utilization-Pct", String(span > 0 ? Math.round(100 * Math.min(1, sum / (conc * span))) : 0));
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
