# Sidekiq's queues for HeartbeatKit (config/application.rb, after requiring
# both: config.middleware.insert_before 0, HeartbeatKit, jobs: SIDEKIQ_QUEUES).
# latency: the age of the queue's oldest job; depth: its size; busy: the
# jobs Sidekiq's processes run now, as of their last heartbeat (every 5 s).
# Jobs scheduled for later and retries wait in other sets: not counted.
require "sidekiq/api"

SIDEKIQ_QUEUES = lambda do
  busy = Hash.new(0)
  Sidekiq::Workers.new.each { |_process, _thread, work| busy[work["queue"]] += 1 }
  queues = Sidekiq::Queue.all.to_h do |q|
    depth = q.size # first: a queue read empty has no latency, whatever a worker takes meanwhile
    [q.name, { name: q.name, latency: depth.zero? ? 0 : q.latency, depth: depth, busy: 0 }]
  end
  busy.each { |name, n| (queues[name] ||= { name: name, latency: 0, depth: 0 })[:busy] = n }
  queues.values
end
