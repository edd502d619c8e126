-- wrk script: OFREP single-flag evaluations, each for another user.
--
--   RAMP_TOKEN=... wrk -t2 -c64 -d20s --latency -s scripts/bench/ofrep.lua \
--     http://127.0.0.1:4343/ofrep/v1/evaluate/flags/checkout
--
-- Every request POSTs {"context":{"targetingKey":"user-N"}} with N counting up per thread
-- (threads start at different offsets), so bucketing sees many users, not one cached answer.

local token = os.getenv("RAMP_TOKEN")
if token == nil or token == "" then
  error("set RAMP_TOKEN to a Ramp API token")
end

local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  counter = thread_id * 1000000000
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"context":{"targetingKey":"user-' .. counter .. '"}}')
end

-- No response() hook: calling Lua per response would slow wrk itself down; wrk reports
-- "Non-2xx or 3xx responses" when any answer is not a 200.
