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

/// Records batches whose counts were merged in Rust, in one atomic step: first checks that no
/// batch id is known (or repeated), and if any is, writes nothing and says which (the caller
/// merges the others again and retries); otherwise writes everything.
/// KEYS: batch ids, totals, features with buckets, instances.
/// ARGV: buckets key prefix, seen key prefix, batch count, name count, minute count, unnamed
/// total, dropped total; the names; per batch: id, received (seconds), instance member, then
/// `*` (it reported every name, in order) or how many names it reported and their indexes
/// (from 1); per minute: its bucket field prefix (`60:MINUTE:`), how many features have checks
/// in it, and per such feature: its name's index, reason count, and per reason with checks its
/// index and count. Returns `{1}` when written, or `{0, {1 (known) or 0, ...}}`.
const RECORD: &str = r#"
local buckets_prefix, seen_prefix = ARGV[1], ARGV[2]
local batches, name_count, minutes = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local unnamed, dropped = ARGV[6], ARGV[7]
-- Unpacking is bounded by Lua's C stack: names go to ZADD and SADD a thousand at a time.
local CHUNK = 1000
local names = {}
for i = 1, name_count do names[i] = ARGV[7 + i] end
local at = 8 + name_count
local starts, known, ids, any = {}, {}, {}, false
for batch = 1, batches do
  local id = ARGV[at]
  starts[batch] = at
  if ids[id] or redis.call('ZSCORE', KEYS[1], id) then
    known[batch], any = 1, true
  else
    known[batch] = 0
  end
  ids[id] = true
  local reported = ARGV[at + 3]
  at = at + 4
  if reported ~= '*' then at = at + tonumber(reported) end
end
if any then return {0, known} end

for batch = 1, batches do
  local start = starts[batch]
  local id, received, member, reported = ARGV[start], ARGV[start + 1], ARGV[start + 2], ARGV[start + 3]
  redis.call('ZADD', KEYS[1], received, id)
  local seen_key = seen_prefix .. member
  local all, count = reported == '*', name_count
  if not all then count = tonumber(reported) end
  local seen = {'ZADD', seen_key, 'GT'}
  for i = 1, count do
    local name
    if all then name = names[i] else name = names[tonumber(ARGV[start + 3 + i])] end
    seen[#seen + 1] = received
    seen[#seen + 1] = name
    if #seen > 2 * CHUNK then
      redis.call(unpack(seen))
      seen = {'ZADD', seen_key, 'GT'}
    end
  end
  if #seen > 3 then redis.call(unpack(seen)) end
  if count > 0 then redis.call('ZADD', KEYS[4], 'GT', received, member) end
end
for first = 1, name_count, CHUNK do
  redis.call('SADD', KEYS[3], unpack(names, first, math.min(first + CHUNK - 1, name_count)))
end
for _ = 1, minutes do
  local field_prefix, features = ARGV[at], tonumber(ARGV[at + 1])
  at = at + 2
  for _ = 1, features do
    local key = buckets_prefix .. names[tonumber(ARGV[at])]
    local reasons = tonumber(ARGV[at + 1])
    for r = 0, reasons - 1 do
      add(key, field_prefix .. ARGV[at + 2 + 2 * r], ARGV[at + 3 + 2 * r])
    end
    at = at + 2 + 2 * reasons
  end
end
if unnamed ~= '0' then add(KEYS[2], 'unnamed', unnamed) end
if dropped ~= '0' then add(KEYS[2], 'dropped', dropped) end
return {1}
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
