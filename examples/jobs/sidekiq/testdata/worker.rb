# The jobs of the test, for the sidekiq command (sidekiq -r ./worker.rb).
require "sidekiq"

class BlockJob # runs until its worker is stopped
  include Sidekiq::Worker
  def perform = sleep(300)
end

class NoopJob
  include Sidekiq::Worker
  def perform; end
end
