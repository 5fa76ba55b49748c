// Drives the recipe with the test's events, one JSON object per stdin line:
// {"op": "init", "at", "concurrency", "token", "jobs"} first, then {"op":
// "start", "id", "path", "start", "auth", "at"} and {"op": "end", "at"},
// which ends the request started last of those still in flight. "at" (ms
// since the epoch) is the recipe's clock. "jobs", when set, is what the
// jobs report returns ({"queues": [{"name", "latency_ms", "depth", "busy"}]},
// or {"error": true}, or {"hang_ms": n}), with "timeout_ms". Prints {"id",
// "status", "headers", "calls"} for each request as it ends, calls being the
// job reports run so far.
const { EventEmitter } = require("events");
const { heartbeatKit } = require("../heartbeat_kit.js");
let clock = 0, calls = 0;
Date.now = () => clock; // the recipe reads the test's clock
console.warn = () => {}; // the kit's warnings
const events = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const init = events.shift();
clock = init.at;
const spec = init.jobs;
const opts = { token: init.token || "" };
if (init.concurrency) opts.concurrency = init.concurrency;
if (spec) {
  opts.jobs = async () => {
    calls++;
    if (spec.error) throw new Error("the queue's store is down");
    if (spec.hang_ms) await new Promise((resolve) => setTimeout(resolve, spec.hang_ms));
    return (spec.queues || []).map((q) => ({ name: q.name, latencyMs: q.latency_ms, depth: q.depth, busy: q.busy }));
  };
  if (spec.timeout_ms) opts.jobsTimeoutMs = spec.timeout_ms;
}
const mw = heartbeatKit(opts);
const inFlight = [];
(async () => {
  for (const e of events) {
    clock = e.at;
    if (e.op === "start") {
      const res = new EventEmitter();
      res.id = e.id;
      res.headers = {};
      res.statusCode = 200;
      res.setHeader = (k, v) => { res.headers[k.toLowerCase()] = v; };
      const headers = {};
      if (e.start) headers["x-request-start"] = e.start;
      if (e.auth) headers.authorization = e.auth;
      await new Promise((resolve) => { res.end = resolve; mw({ url: e.path, headers }, res, resolve); });
      inFlight.push(res);
    } else {
      const res = inFlight.pop();
      res.emit("finish");
      res.emit("close");
      delete res.headers["content-type"];
      console.log(JSON.stringify({ id: res.id, status: res.statusCode, headers: res.headers, calls }));
    }
  }
  process.exit(0); // a hung report's timer must not hold the harness
})();
