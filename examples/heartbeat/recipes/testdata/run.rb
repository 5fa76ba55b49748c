# Drives the recipe with the test's events, one JSON object per stdin line:
# {"op": "init", "at", "concurrency", "token", "jobs"} first, then {"op":
# "start", "id", "path", "start", "auth", "at"} and {"op": "end", "at"},
# which ends the request started last of those still in flight. "at" (ms
# since the epoch) is the recipe's clock. "jobs", when set, is what the
# jobs report returns ({"queues": [{"name", "latency_ms", "depth", "busy"}]},
# or {"error": true}, or {"hang_ms": n}), with "timeout_ms". Prints {"id",
# "status", "headers", "calls"} for each request as it ends, calls being the
# job reports run so far.
require "json"
require_relative "../heartbeat_kit"

$clock = 0.0
def Time.now = Time.at($clock) # the recipe reads the test's clock
$stdout.sync = true
$stderr.reopen(File::NULL) # the kit's warnings
LINES = $stdin.each_line.reject { |l| l.strip.empty? }.map { |l| JSON.parse(l) }.each
$calls = 0
$app_calls = 0

def step
  e = LINES.next
  $clock = e["at"] / 1000.0
  e
rescue StopIteration
  nil
end

def serve(mw, e)
  env = { "PATH_INFO" => e["path"] }
  env["HTTP_X_REQUEST_START"] = e["start"] unless e["start"].to_s.empty?
  env["HTTP_AUTHORIZATION"] = e["auth"] unless e["auth"].to_s.empty?
  before = $app_calls
  status, headers, = mw.call(env)
  step if $app_calls == before # the kit answered alone: this request's end is next
  headers.delete("content-type")
  puts JSON.generate({ id: e["id"], status: status, headers: headers, calls: $calls })
end

def jobs_of(spec) # the harness's jobs report, as the test describes it
  return nil unless spec

  lambda do
    $calls += 1
    raise "the queue's store is down" if spec["error"]

    sleep(spec["hang_ms"] / 1000.0) if spec["hang_ms"]
    (spec["queues"] || []).map do |q|
      { name: q["name"], latency: q["latency_ms"] / 1000.0, depth: q["depth"], busy: q["busy"] }
    end
  end
end

init = step
app = lambda do |_env| # runs until the test ends this request
  $app_calls += 1
  while (e = step)["op"] == "start"
    serve($mw, e)
  end
  [200, {}, ["ok"]]
end
opts = { token: init["token"].to_s, jobs: jobs_of(init["jobs"]) }
opts[:concurrency] = init["concurrency"] if init["concurrency"].positive?
opts[:jobs_timeout] = init["jobs"]["timeout_ms"] / 1000.0 if init.dig("jobs", "timeout_ms")
$mw = HeartbeatKit.new(app, **opts)
while (e = step)
  serve($mw, e)
end
