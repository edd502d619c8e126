-- wrk script: OFREP evaluations (single flag or bulk, by the URL) for one fixed user, so a
-- side-by-side run asks Ramp exactly what a GET with a fixed query string asks another server.
--
--   RAMP_TOKEN=... RAMP_USER=user-1-0 wrk -t1 -c32 -d10s -s scripts/bench/ofrep_fixed_user.lua \
--     http://127.0.0.1:4343/ofrep/v1/evaluate/flags
--
-- scripts/bench/ofrep.lua is the variant with a different user every request.

local token = os.getenv("RAMP_TOKEN")
if token == nil or token == "" then
  error("set RAMP_TOKEN to a Ramp API token")
end
local user = os.getenv("RAMP_USER")
if user == nil or user == "" then
  error("set RAMP_USER to the targetingKey to ask for")
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"context":{"targetingKey":"' .. user .. '"}}'
