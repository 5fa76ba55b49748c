# Drives the recipe with the test's events, one JSON object per stdin line:
# {"op": "init", "at", "concurrency"} first, then {"op": "start", "id",
# "path", "start", "at"} and {"op": "end", "at"}, which ends the request
# started last of those still in flight. "at" (ms since the epoch) is the
# recipe's clock. Prints {"id", "headers"} for each request as it ends.
require "json"
require_relative "../heartbeat_kit"

$clock = 0.0
def Time.now = Time.at($clock) # the recipe reads the test's clock
$stdout.sync = true
LINES = $stdin.each_line.reject { |l| l.strip.empty? }.map { |l| JSON.parse(l) }.each

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
  _, headers, = mw.call(env)
  puts JSON.generate({ id: e["id"], headers: headers })
end

init = step
app = lambda do |_env| # runs until the test ends this request
  while (e = step)["op"] == "start"
    serve($mw, e)
  end
  [200, {}, ["ok"]]
end
$mw = init["concurrency"].positive? ? HeartbeatKit.new(app, concurrency: init["concurrency"]) : HeartbeatKit.new(app)
while (e = step)
  serve($mw, e)
end
