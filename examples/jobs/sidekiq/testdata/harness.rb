# The recipe's heartbeat for the test: HeartbeatKit with SIDEKIQ_QUEUES in
# front of an app answering ok, driven by JSON lines (see jobstest.Harness).
# Redis is REDIS_URL's, the token AUTOSCALEBOT_HEARTBEAT_TOKEN's.
require "json"
require_relative "../../../heartbeat/recipes/heartbeat_kit"
require_relative "../sidekiq_queues"

$stdout.sync = true
kit = HeartbeatKit.new(->(_env) { [200, { "content-type" => "application/json" }, ['{"status":"ok"}']] }, jobs: SIDEKIQ_QUEUES)
$stdin.each_line do |line|
  req = JSON.parse(line)
  case req["op"]
  when "enqueue"
    job = { "block" => "BlockJob", "noop" => "NoopJob" }.fetch(req["job"])
    req["n"].times { Sidekiq::Client.push("queue" => req["queue"], "class" => job, "args" => []) }
    puts JSON.generate(ok: true)
  when "probe"
    env = { "PATH_INFO" => "/autoscalebot/heartbeat/" }
    env["HTTP_AUTHORIZATION"] = req["auth"] unless req["auth"].empty?
    status, headers, = kit.call(env)
    puts JSON.generate(status: status, headers: headers)
  end
end
