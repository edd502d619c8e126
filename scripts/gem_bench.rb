# The Ruby rollout gem timed on a local Redis (database 12, flushed), for BENCHMARKS.md.
# Usage: ruby scripts/gem_bench.rb
require "redis"; require "rollout"; require "benchmark"
redis = Redis.new(url: "redis://127.0.0.1:6379/12"); redis.flushdb
rollout = Rollout.new(redis)
rollout.activate_users(:crowd, (0...25_000).map { |i| "member-#{i}" })
times = (1..50).map { |i| Benchmark.realtime { rollout.activate_user(:crowd, "late-#{i}") } }.sort
puts "gem activate_user on a 25,000-user feature: median #{(times[25] * 1000).round(2)} ms"
checks = (1..1000).map { |i| Benchmark.realtime { rollout.active?(:crowd, "x#{i}") } }.sort
puts "gem active? on that feature: median #{(checks[500] * 1e6).round(1)} µs"
rollout.activate_percentage(:pct, 20)
checks = (1..1000).map { |i| Benchmark.realtime { rollout.active?(:pct, i) } }.sort
puts "gem active? with a percentage rule: median #{(checks[500] * 1e6).round(1)} µs"
redis.flushdb
