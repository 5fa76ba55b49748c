# Rack middleware (Rails: config.middleware.insert_before 0, HeartbeatKit,
# concurrency: 5): measures each request's router queue time from
# X-Request-Start and how busy the process is, and adds autoscalebot's
# headers to the heartbeat's answer. concurrency: requests served at once
# (Puma's threads). No gems needed.
class HeartbeatKit
  def initialize(app, path: "/autoscalebot/heartbeat/", window_s: 30, keep: 1000, concurrency: 1)
    @app, @path, @window_s, @keep, @conc = app, path, window_s, keep, [1, concurrency].max
    @samples = [] # [seconds, ms], the newest @keep: bounded memory
    @busy = Array.new(window_s + 1) { [0, 0.0] } # per second: [second, Σ min(in flight, C) × s]
    @inflight, @born = 0, Time.now.to_f
    @last = @born
    @lock = Mutex.new
  end

  def call(env)
    now = Time.now.to_f
    v = env["HTTP_X_REQUEST_START"].to_s.strip.delete_prefix("t=")
    start = if v.match?(/\A\d+\.\d+\z/) then v.to_f # seconds (nginx $msec)
            elsif v.match?(/\A\d+\z/)
              n = v.to_i
              n >= 10**17 ? n / 1e9 : n >= 10**14 ? n / 1e6 : n >= 10**11 ? n / 1e3 : n.to_f
            end
    own = nil
    if start && start > 0 && now - start <= 3600
      own = [0.0, (now - start) * 1000].max # the router's clock ahead counts as 0
      @lock.synchronize { @samples << [now, own]; @samples.shift if @samples.size > @keep }
    end
    unless env["PATH_INFO"] == @path
      @lock.synchronize { tick(now); @inflight += 1 }
      begin # in flight while the app runs (a body streamed after it returns is not counted)
        return @app.call(env)
      ensure
        @lock.synchronize { tick(Time.now.to_f); @inflight -= 1 }
      end
    end
    recent, busy, span = @lock.synchronize do # the probe itself is not counted in flight
      t = tick(now)
      first = t.floor - @window_s # the window: @window_s whole seconds and this one so far
      [@samples.select { |s, _| s > now - @window_s }.map(&:last).sort,
       @busy.sum { |s, b| s >= first ? b : 0 }, t - [first, @born].max]
    end
    status, headers, body = @app.call(env)
    headers["cache-control"] = "no-store"
    headers["x-queue-time-ms"] = own.ceil.to_s if own
    headers["x-queue-time-count"] = recent.size.to_s
    headers["x-queue-time-window-s"] = @window_s.to_s
    headers["x-queue-time-p95-ms"] = recent[(0.95 * recent.size).ceil - 1].ceil.to_s unless recent.empty?
    headers["x-utilization-pct"] = (span > 0 ? (100 * [1.0, busy / (@conc * span)].min).round : 0).to_s
    [status, headers, body]
  end

  private

  def tick(now) # with the lock: adds the busy time since the last call, second by second
    now, t = [@last, now].max, [@last, now.floor - @window_s].max
    level, @last = [@inflight, @conc].min, now
    while level > 0 && t < now
      s, stop = t.floor, [now, t.floor + 1].min
      slot = @busy[s % @busy.size]
      slot.replace([s, 0.0]) unless slot[0] == s
      slot[1] += level * (stop - t)
      t = stop
    end
    now
  end
end
