// The workers of the test: "busy" and "done", each running jobs named
// "block" (until the worker is stopped) or "noop". Redis is REDIS_URL's.
const { Worker } = require("bullmq");
const url = new URL(process.env.REDIS_URL);
const connection = { host: url.hostname, port: Number(url.port) };
for (const name of ["busy", "done"]) {
  new Worker(name, async (job) => {
    if (job.name === "block") await new Promise((resolve) => setTimeout(resolve, 120e3));
  }, { connection, concurrency: 2 });
}
