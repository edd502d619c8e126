//! The Lua scripts behind daily user sketches (see `user_sketches` for the key layout).
//!
//! Redis keeps `UserSketch::encode`'s compact bytes, as every store does: a quiet feature's
//! sketch is a few bytes rather than 1 KiB, which matters at features × days × answers. So the
//! merge script reads both forms and writes the shorter, exactly as `encode` chooses, and Rust
//! decodes what it reads with `UserSketch::decode`, which validates it.

/// Decoding and encoding `UserSketch`'s bytes in Lua (Redis runs Lua 5.1: no integer division,
/// and `unpack` is bounded by the C stack, so registers move 256 at a time).
const SKETCH_CODEC: &str = r#"
local REGISTERS, MAX_RANK, CHUNK = 1024, 65, 256
-- The 1024 ranks `bytes` encodes, or nil when they are not a sketch (`UserSketch::decode`'s rules).
local function decode(bytes)
  local length, ranks = #bytes, {}
  local format = string.byte(bytes, 1)
  if format == 1 then
    if length ~= REGISTERS + 1 then return nil end
    for first = 2, length, CHUNK do
      local chunk = {string.byte(bytes, first, first + CHUNK - 1)}
      for i = 1, #chunk do
        if chunk[i] > MAX_RANK then return nil end
        ranks[first - 2 + i] = chunk[i]
      end
    end
  elseif format == 2 then
    if (length - 1) % 3 ~= 0 then return nil end
    for i = 1, REGISTERS do ranks[i] = 0 end
    local expected = 0
    for at = 2, length, 3 do
      local high, low, rank = string.byte(bytes, at, at + 2)
      local index = high * 256 + low
      if index < expected or index >= REGISTERS or rank == 0 or rank > MAX_RANK then
        return nil
      end
      ranks[index + 1], expected = rank, index + 1
    end
  else
    return nil
  end
  return ranks
end
-- `UserSketch::encode`: sparse triples when shorter than every register, else dense.
local function encode(ranks)
  local non_zero = 0
  for i = 1, REGISTERS do
    if ranks[i] ~= 0 then non_zero = non_zero + 1 end
  end
  local parts = {}
  if non_zero * 3 < REGISTERS then
    parts[1] = string.char(2)
    for i = 1, REGISTERS do
      if ranks[i] ~= 0 then
        local index = i - 1
        parts[#parts + 1] = string.char(math.floor(index / 256), index % 256, ranks[i])
      end
    end
  else
    parts[1] = string.char(1)
    for first = 1, REGISTERS, CHUNK do
      parts[#parts + 1] = string.char(unpack(ranks, first, first + CHUNK - 1))
    end
  end
  return table.concat(parts)
end
"#;

/// Merges sketches into the stored ones, register by register. Every stored value is read and
/// checked before anything is written, so a damaged one refuses the whole call unchanged.
/// KEYS: features with sketches. ARGV: sketch hash key prefix; per entry: name, field, day
/// number, encoded sketch (no (name, field) twice). Returns `{1}` when written, `{0, name,
/// field}` for a damaged stored value, `{2}` for an argument that is not a sketch.
const MERGE: &str = r#"
local prefix, writes = ARGV[1], {}
for at = 2, #ARGV, 4 do
  local key, field, incoming = prefix .. ARGV[at], ARGV[at + 1], ARGV[at + 3]
  local stored = redis.call('HGET', key, field)
  local value = incoming
  if stored then
    local ranks, more = decode(stored), decode(incoming)
    if not ranks then return {0, ARGV[at], field} end
    if not more then return {2} end
    local raised = false
    for i = 1, REGISTERS do
      if more[i] > ranks[i] then ranks[i], raised = more[i], true end
    end
    -- A retried merge, the common case, rewrites nothing.
    if raised then value = encode(ranks) else value = nil end
  end
  writes[#writes + 1] = {key, field, value, ARGV[at + 2], ARGV[at]}
end
for _, write in ipairs(writes) do
  if write[3] then redis.call('HSET', write[1], write[2], write[3]) end
  -- LT keeps the earliest day, and puts back an entry a tampered index lost.
  redis.call('ZADD', KEYS[1], 'LT', write[4], write[5])
end
return {1}
"#;

/// Deletes one feature's sketches of days before ARGV[2], then scores the feature by its
/// earliest remaining day, or drops it from the index when none is left (fields that are not
/// `DAY:ANSWER` are left alone and do not count). KEYS: the feature's sketches, features with
/// sketches. ARGV: name, day number. Returns how many sketches it deleted.
const FORGET_FEATURE: &str = r#"
local before, old, earliest = tonumber(ARGV[2]), {}, nil
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local day = tonumber(string.match(field, '^(%-?%d+):[01]$'))
  if day and day < before then
    old[#old + 1] = field
  elseif day and (not earliest or day < earliest) then
    earliest = day
  end
end
for first = 1, #old, 1000 do
  redis.call('HDEL', KEYS[1], unpack(old, first, math.min(first + 999, #old)))
end
if earliest then
  redis.call('ZADD', KEYS[2], string.format('%.0f', earliest), ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return #old
"#;

/// The user sketch scripts, ready to send.
#[derive(Debug)]
pub(crate) struct UserSketchScripts {
    pub(crate) merge: String,
    pub(crate) forget_feature: String,
}

impl UserSketchScripts {
    pub(crate) fn new() -> Self {
        Self {
            merge: format!("{SKETCH_CODEC}\n{MERGE}"),
            forget_feature: FORGET_FEATURE.to_owned(),
        }
    }
}
