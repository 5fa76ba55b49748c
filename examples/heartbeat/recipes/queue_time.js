// Express (or plain Node http) middleware: measures each request's router
// queue time from X-Request-Start and adds autoscalebot's headers to the
// heartbeat's answer. app.use(queueTime()) before your routes.
function queueTime({ path = "/autoscalebot/heartbeat/", windowS = 30, keep = 1000 } = {}) {
  const samples = []; // [seconds, ms], the newest `keep`: bounded memory
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
    if (req.url.split("?")[0] === path) {
      const recent = samples.filter(([s]) => s > now / 1000 - windowS).map(([, ms]) => ms).sort((a, b) => a - b);
      res.setHeader("Cache-Control", "no-store");
      if (own !== null) res.setHeader("X-Queue-Time-Ms", String(Math.ceil(own)));
      res.setHeader("X-Queue-Time-Count", String(recent.length));
      res.setHeader("X-Queue-Time-Window-S", String(windowS));
      if (recent.length) res.setHeader("X-Queue-Time-P95-Ms", String(Math.ceil(recent[Math.ceil(0.95 * recent.length) - 1])));
    }
    next();
  };
}
module.exports = { queueTime };
