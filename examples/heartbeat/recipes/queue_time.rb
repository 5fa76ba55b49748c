# Rack middleware (Rails: config.middleware.insert_before 0, QueueTime):
# measures each request's router queue time from X-Request-Start and adds
# autoscalebot's headers to the heartbeat's answer. No gems needed.
class QueueTime
  def initialize(app, path: "/autoscalebot/heartbeat/", window_s: 30, keep: 1000)
    @app, @path, @window_s, @keep = app, path, window_s, keep
    @samples = [] # [seconds, ms], the newest @keep: bounded memory
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
    status, headers, body = @app.call(env)
    if env["PATH_INFO"] == @path
      recent = @lock.synchronize { @samples.select { |s, _| s > now - @window_s }.map(&:last).sort }
      headers["cache-control"] = "no-store"
      headers["x-queue-time-ms"] = own.ceil.to_s if own
      headers["x-queue-time-count"] = recent.size.to_s
      headers["x-queue-time-window-s"] = @window_s.to_s
      headers["x-queue-time-p95-ms"] = recent[(0.95 * recent.size).ceil - 1].ceil.to_s unless recent.empty?
    end
    [status, headers, body]
  end
end
