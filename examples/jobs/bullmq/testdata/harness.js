// The BullMQ recipe's heartbeat for the test: the Express kit with
// bullmqQueues in front of an app answering ok, driven by JSON lines (see
// jobstest.Harness). Redis is REDIS_URL's, the token
// AUTOSCALEBOT_HEARTBEAT_TOKEN's.
const readline = require("readline");
const { Queue } = require("bullmq");
const { heartbeatKit } = require("../../../heartbeat/recipes/heartbeat_kit.js");
const { bullmqQueues } = require("../bullmq_queues.js");

const url = new URL(process.env.REDIS_URL);
const connection = { host: url.hostname, port: Number(url.port) };
const queues = Object.fromEntries(["busy", "done", "waiting"].map((name) => [name, new Queue(name, { connection })]));
const kit = heartbeatKit({ jobs: bullmqQueues(Object.values(queues)) });

const probe = (auth) => new Promise((resolve) => {
  const res = { statusCode: 200, headers: {} };
  res.setHeader = (k, v) => { res.headers[k.toLowerCase()] = v; };
  res.end = () => resolve(res);
  kit({ url: "/autoscalebot/heartbeat/", headers: auth ? { authorization: auth } : {} }, res, () => resolve(res));
});

(async () => {
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const req = JSON.parse(line);
    if (req.op === "enqueue") {
      for (let i = 0; i < req.n; i++) await queues[req.queue].add(req.job, {});
      console.log(JSON.stringify({ ok: true }));
    } else {
      const res = await probe(req.auth);
      console.log(JSON.stringify({ status: res.statusCode, headers: res.headers }));
    }
  }
  process.exit(0);
})();
