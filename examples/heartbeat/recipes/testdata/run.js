// Feeds the recipe one request per stdin line ({"path", "start"}) and prints
// the headers it set, one JSON object per line.
const { queueTime } = require("../queue_time.js");
const mw = queueTime();
console.log("ready"); // the test stamps its requests after this
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
for (const line of lines) {
  const { path, start } = JSON.parse(line);
  const req = { url: path, headers: start ? { "x-request-start": start } : {} };
  const headers = {};
  const res = { setHeader: (k, v) => { headers[k.toLowerCase()] = v; } };
  mw(req, res, () => {});
  console.log(JSON.stringify(headers));
}
