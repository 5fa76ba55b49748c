// Drives the recipe with the test's events, one JSON object per stdin line:
// {"op": "init", "at", "concurrency"} first, then {"op": "start", "id",
// "path", "start", "at"} and {"op": "end", "at"}, which ends the request
// started last of those still in flight. "at" (ms since the epoch) is the
// recipe's clock. Prints {"id", "headers"} for each request as it ends.
const { EventEmitter } = require("events");
const { heartbeatKit } = require("../heartbeat_kit.js");
let clock = 0;
Date.now = () => clock; // the recipe reads the test's clock
const events = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const init = events.shift();
clock = init.at;
const mw = init.concurrency ? heartbeatKit({ concurrency: init.concurrency }) : heartbeatKit();
const inFlight = [];
for (const e of events) {
  clock = e.at;
  if (e.op === "start") {
    const res = new EventEmitter();
    res.id = e.id;
    res.headers = {};
    res.setHeader = (k, v) => { res.headers[k.toLowerCase()] = v; };
    mw({ url: e.path, headers: e.start ? { "x-request-start": e.start } : {} }, res, () => {});
    inFlight.push(res);
  } else {
    const res = inFlight.pop();
    res.emit("finish");
    res.emit("close");
    console.log(JSON.stringify({ id: res.id, headers: res.headers }));
  }
}
