# Feeds the recipe one request per stdin line ({"path", "start"}) and prints
# the headers it set, one JSON object per line.
require "json"
require_relative "../queue_time"

mw = QueueTime.new(->(_env) { [200, {}, ["ok"]] })
$stdout.sync = true
puts "ready" # the test stamps its requests after this
$stdin.each_line do |line|
  next if line.strip.empty?
  req = JSON.parse(line)
  env = { "PATH_INFO" => req["path"] }
  env["HTTP_X_REQUEST_START"] = req["start"] unless req["start"].to_s.empty?
  _, headers, = mw.call(env)
  puts JSON.generate(headers)
end
