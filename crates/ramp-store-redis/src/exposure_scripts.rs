//! The Lua scripts behind exposure counts (see `exposures` for the key layout they keep).
//!
//! Counts never become Lua numbers: those are doubles, exact only up to 2^53, and counts go up
//! to `i64::MAX`. Scripts hand the decimal strings they get to `HINCRBY`, which adds in 64-bit
//! integers, and on overflow write the largest count instead: sums saturate, as in memory.
//! Times (seconds since the epoch) are small enough to be Lua numbers.

/// The largest count, and the helper that adds with saturation (`amount` a decimal string).
const SATURATING_ADD: &str = r#"
local MAX_COUNT = '9223372036854775807'
local function add(key, field, amount)
  local result = redis.pcall('HINCRBY', key, field, amount)
  if type(result) == 'table' and result.err then
    if not string.find(result.err, 'overflow', 1, true) then error(result) end
    redis.call('HSET', key, field, MAX_COUNT)
  end
end
"#;

/// Records batches, deduplicated by id, in one atomic step.
/// KEYS: batch ids, totals, features with buckets, instances.
/// ARGV: buckets key prefix, seen key prefix, batch count, then per batch: id, received
/// (seconds), instance member, bucket field prefix (`60:MINUTE:`), unnamed, dropped, feature
/// count, the number of arguments that follow for its features, then per feature: name,
/// reason count, and per reason with checks its index and count.
/// Returns 1 (counted) or 0 (a known id) per batch.
const RECORD: &str = r#"
local buckets_prefix, seen_prefix = ARGV[1], ARGV[2]
-- Unpacking is bounded by Lua's C stack: names go to ZADD and SADD a thousand at a time.
local CHUNK = 1000
local counted, ids = {}, {}
local at = 4
for batch = 1, tonumber(ARGV[3]) do
  local id, received, member, field_prefix = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local unnamed, dropped = ARGV[at + 4], ARGV[at + 5]
  local features, length = tonumber(ARGV[at + 6]), tonumber(ARGV[at + 7])
  at = at + 8
  local fresh = not ids[id] and not redis.call('ZSCORE', KEYS[1], id)
  ids[id] = true
  if fresh then
    redis.call('ZADD', KEYS[1], received, id)
    local seen_key = seen_prefix .. member
    local seen, names = {'ZADD', seen_key, 'GT'}, {'SADD', KEYS[3]}
    for _ = 1, features do
      local name, reasons = ARGV[at], tonumber(ARGV[at + 1])
      local key = buckets_prefix .. name
      for r = 0, reasons - 1 do
        add(key, field_prefix .. ARGV[at + 2 + 2 * r], ARGV[at + 3 + 2 * r])
      end
      at = at + 2 + 2 * reasons
      seen[#seen + 1] = received
      seen[#seen + 1] = name
      names[#names + 1] = name
      if #names > CHUNK then
        redis.call(unpack(seen))
        redis.call(unpack(names))
        seen, names = {'ZADD', seen_key, 'GT'}, {'SADD', KEYS[3]}
      end
    end
    if #names > 2 then
      redis.call(unpack(seen))
      redis.call(unpack(names))
    end
    if features > 0 then redis.call('ZADD', KEYS[4], 'GT', received, member) end
    if unnamed ~= '0' then add(KEYS[2], 'unnamed', unnamed) end
    if dropped ~= '0' then add(KEYS[2], 'dropped', dropped) end
    counted[batch] = 1
  else
    at = at + length
    counted[batch] = 0
  end
end
return counted
"#;

/// Compacts one feature's buckets: minutes into hours, hours (with those just made) into days,
/// then deletes old days; forgets the feature when it has no bucket left. One feature per call
/// keeps each step short, and atomic against concurrent recording, so every bucket moves once.
/// KEYS: the feature's buckets, features with buckets. ARGV: name, minutes before, hours
/// before, days before (seconds). Returns `{minutes rolled, hours rolled, days deleted}`.
const COMPACT_FEATURE: &str = r#"
local key = KEYS[1]
local flat, stale = nil, true
local function fields()
  if stale then flat, stale = redis.call('HGETALL', key), false end
  return flat
end
-- Visits each `from` bucket starting before `before`: deletes its fields, and with `to` adds
-- them to the `to` bucket holding its start. Returns how many buckets it visited.
local function move(from, to, before)
  local buckets, count = {}, 0
  local all = fields()
  for i = 1, #all, 2 do
    local resolution, start, reason = string.match(all[i], '^(%d+):(%-?%d+):(%d+)$')
    if resolution == from and tonumber(start) < before then
      if to then
        local number = tonumber(start)
        local target = string.format('%.0f', number - number % tonumber(to))
        add(key, to .. ':' .. target .. ':' .. reason, all[i + 1])
      end
      redis.call('HDEL', key, all[i])
      stale = true
      if not buckets[start] then buckets[start], count = true, count + 1 end
    end
  end
  return count
end
local minutes = move('60', '3600', tonumber(ARGV[2]))
local hours = move('3600', '86400', tonumber(ARGV[3]))
local days = move('86400', nil, tonumber(ARGV[4]))
if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return {minutes, hours, days}
"#;

/// Forgets up to ARGV[2] batch ids received before ARGV[1] (seconds), the oldest first; a bounded
/// step, repeated while it forgets that many. KEYS: batch ids. Returns how many it forgot.
const FORGET_BATCH_IDS: &str = r#"
local count = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
local limit = tonumber(ARGV[2])
if count > limit then count = limit end
if count > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - 1) end
return count
"#;

/// Forgets what one instance reported before ARGV[2] (seconds), and the instance once nothing
/// is left. KEYS: the instance's features, instances. ARGV: instance member, days before.
/// Returns how many features it forgot.
const FORGET_INSTANCE: &str = r#"
local count = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return count
"#;

/// The exposure scripts, ready to send.
#[derive(Debug)]
pub(crate) struct ExposureScripts {
    pub(crate) record: String,
    pub(crate) compact_feature: String,
    pub(crate) forget_batch_ids: String,
    pub(crate) forget_instance: String,
}

impl ExposureScripts {
    pub(crate) fn new() -> Self {
        Self {
            record: format!("{SATURATING_ADD}\n{RECORD}"),
            compact_feature: format!("{SATURATING_ADD}\n{COMPACT_FEATURE}"),
            forget_batch_ids: FORGET_BATCH_IDS.to_owned(),
            forget_instance: FORGET_INSTANCE.to_owned(),
        }
    }
}
