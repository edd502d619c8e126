//! The Lua scripts that run inside Redis. A script runs atomically, so each one is a whole
//! step: the commit of a write (payload, registry, digest, version, history, notice), a
//! snapshot read, or the check for writes made by programs that publish nothing.
//!
//! Writes run a script inside MULTI/EXEC after a WATCH of the payload they read, so a write
//! commits only if nobody (Ramp or Ruby) changed that payload meanwhile; the script then merges
//! the registry server-side, so the registry itself never needs watching.
//!
//! Scripts are sent with EVAL each time (a few KiB): no NOSCRIPT failure can ever split a
//! transaction, whatever happens to the server's script cache. Numbers that can exceed Lua's
//! `%.14g` printing (event ids are microsecond times) are formatted with `%.0f`.

/// Helpers shared by every script.
const COMMON: &str = r#"
local function ruby_split(text)
  local parts = {}
  if not text or text == '' then return parts end
  local start = 1
  while true do
    local comma = string.find(text, ',', start, true)
    if not comma then
      parts[#parts + 1] = string.sub(text, start)
      break
    end
    parts[#parts + 1] = string.sub(text, start, comma - 1)
    start = comma + 1
  end
  while #parts > 0 and parts[#parts] == '' do parts[#parts] = nil end
  return parts
end

local function get_string(key)
  local value = redis.pcall('GET', key)
  if type(value) ~= 'string' then return nil end
  return value
end

local function integer(number) return string.format('%.0f', number) end

-- Cheap and exact for the gem's writes: a small payload is its own digest (no hashing; Lua
-- compares interned strings by address); up to 16 KiB, its SHA-1; above, its length plus the
-- SHA-1 of its first 4 KiB and last 12 KiB (percentage, the newest users, groups and data).
local function digest_of(value)
  local length = #value
  if length <= 512 then return '=' .. value end
  if length > 16384 then value = string.sub(value, 1, 4096) .. string.sub(value, -12288) end
  return integer(length) .. ':' .. redis.sha1hex(value)
end

-- The same digest, read from a key without copying a large payload into Lua.
local function digest(key)
  local length = redis.pcall('STRLEN', key)
  if type(length) ~= 'number' then return 'wrongtype' end
  if length == 0 and redis.call('EXISTS', key) == 0 then return '-' end
  if length <= 16384 then return digest_of(redis.call('GET', key)) end
  -- Only large payloads get here: the same as digest_of, without copying them into Lua.
  return integer(length) .. ':' .. redis.sha1hex(redis.call('GETRANGE', key, 0, 4095)
    .. redis.call('GETRANGE', key, -12288, -1))
end

-- The gem's `(features | names).join(',')`, written only when a name is new.
local function registry_add(registry_key, names)
  local registry = get_string(registry_key) or ''
  -- Most writes change a feature already registered: a plain substring search (C speed) spares
  -- splitting a registry of thousands of names on every write.
  local padded = ',' .. registry .. ','
  local all_present = true
  for _, name in ipairs(names) do
    if not string.find(padded, ',' .. name .. ',', 1, true) then all_present = false; break end
  end
  if all_present then return end
  local current = ruby_split(registry)
  local seen, kept, added = {}, {}, false
  for _, name in ipairs(current) do
    if not seen[name] then seen[name] = true; kept[#kept + 1] = name end
  end
  for _, name in ipairs(names) do
    if not seen[name] then seen[name] = true; kept[#kept + 1] = name; added = true end
  end
  if added then redis.call('SET', registry_key, table.concat(kept, ',')) end
end

-- The gem's `features.delete(name)` followed by `join(',')`.
local function registry_remove(registry_key, name)
  local kept, found = {}, false
  for _, existing in ipairs(ruby_split(get_string(registry_key) or '')) do
    if existing == name then found = true else kept[#kept + 1] = existing end
  end
  if found then redis.call('SET', registry_key, table.concat(kept, ',')) end
end

-- An id no event has in the gem's global set, Ramp's group set or `own_key` (the event's
-- feature set), so `history_event(id)` finds one event; with `after_newest`, also above every
-- id in the global and group sets, so new events always page after older ones whatever the
-- writers' clocks say.
local function allocate_id(global_key, group_key, own_key, wanted, after_newest)
  local id = wanted
  if after_newest then
    for _, key in ipairs({global_key, group_key}) do
      local newest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      if newest[2] and -tonumber(newest[2]) >= id then id = -tonumber(newest[2]) + 1 end
    end
  end
  local function taken(key)
    return redis.call('ZCOUNT', key, integer(-id), integer(-id)) > 0
  end
  while taken(global_key) or taken(group_key) or taken(own_key) do
    id = id + 1
  end
  return id
end

-- Like the gem: add with score minus the id, then keep the newest `limit`.
local function add_event(global_key, feature_key, member, id, limit)
  local score = integer(-id)
  redis.call('ZADD', feature_key, score, member)
  redis.call('ZREMRANGEBYRANK', feature_key, limit, -1)
  redis.call('ZADD', global_key, score, member)
  redis.call('ZREMRANGEBYRANK', global_key, limit, -1)
end

-- A group's event: only in Ramp's group set (never where the gem reads), trimmed likewise.
local function add_group_event(group_key, member, id, limit)
  redis.call('ZADD', group_key, integer(-id), member)
  redis.call('ZREMRANGEBYRANK', group_key, limit, -1)
end

local function publish(channel, version, feature, origin)
  local name = 'null'
  if feature then name = '"' .. feature .. '"' end
  redis.call('PUBLISH', channel, '{"version":' .. integer(version) .. ',"feature":' .. name
    .. ',"origin":"' .. origin .. '"}')
end

-- Reads every registered feature (once each, registry order; MGET a thousand at a time),
-- compares its digest with the one last recorded, and records the new ones. Returns the
-- names, their values (the payload, `true` for a key of another type, `false` when missing)
-- and how many changed since (changes nobody announced).
local function detect(registry_key, digests_key, feature_prefix)
  local stored = {}
  local flat = redis.call('HGETALL', digests_key)
  for i = 1, #flat, 2 do stored[flat[i]] = flat[i + 1] end
  local seen, names = {}, {}
  for _, name in ipairs(ruby_split(get_string(registry_key) or '')) do
    if name ~= '' and not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  local values, changed = {}, 0
  for first = 1, #names, 1000 do
    local keys = {}
    for i = first, math.min(first + 999, #names) do keys[#keys + 1] = feature_prefix .. names[i] end
    local chunk = redis.call('MGET', unpack(keys))
    for i = 1, #keys do
      local name, value, current = names[first + i - 1], chunk[i], '-'
      if value then
        current = digest_of(value)
      elseif redis.call('EXISTS', keys[i]) == 1 then
        value, current = true, 'wrongtype'
      end
      values[first + i - 1] = value
      if stored[name] ~= current then
        redis.call('HSET', digests_key, name, current)
        changed = changed + 1
      end
    end
  end
  for name, _ in pairs(stored) do
    if not seen[name] then
      redis.call('HDEL', digests_key, name)
      changed = changed + 1
    end
  end
  return names, values, changed
end
"#;

/// Completes one feature write or deletion, right after the SET or DEL of its payload in the
/// same MULTI/EXEC. KEYS: payload, registry, version, digests, feature events, global events,
/// group events (read only, for unique ids).
/// ARGV: name, mode (`set`|`delete`), member, wanted id, history limit, channel, origin.
/// Returns `{version, event id}`.
const WRITE_FEATURE: &str = r#"
local name = ARGV[1]
if ARGV[2] == 'delete' then
  registry_remove(KEYS[2], name)
  redis.call('HDEL', KEYS[4], name)
else
  registry_add(KEYS[2], {name})
  redis.call('HSET', KEYS[4], name, digest(KEYS[1]))
end
local version = redis.call('INCR', KEYS[3])
local id = allocate_id(KEYS[6], KEYS[7], KEYS[5], tonumber(ARGV[4]), true)
add_event(KEYS[6], KEYS[5], ARGV[3], id, ARGV[5])
publish(ARGV[6], version, name, ARGV[7])
return {version, id}
"#;

/// Reads everything at one version, after noticing unannounced changes (which bump the
/// version and are published).
/// KEYS: registry, digests, version, groups. ARGV: feature key prefix, `1` to return payloads
/// (`0`: only check), channel, origin.
/// Returns `{version, changed}` or `{version, changed, {name, kind, payload, ...}, groups}`,
/// where kind is `s` (a string) or `w` (another Redis type).
const SNAPSHOT: &str = r#"
local names, values, changed = detect(KEYS[1], KEYS[2], ARGV[1])
local version
if changed > 0 then
  version = redis.call('INCR', KEYS[3])
  publish(ARGV[3], version, nil, ARGV[4])
else
  version = tonumber(get_string(KEYS[3]) or '0')
end
if ARGV[2] ~= '1' then return {version, changed} end
local features = {}
for i, name in ipairs(names) do
  local value = values[i]
  if type(value) == 'string' then
    features[#features + 1] = name; features[#features + 1] = 's'; features[#features + 1] = value
  elseif value then
    features[#features + 1] = name; features[#features + 1] = 'w'; features[#features + 1] = ''
  end
  -- A registered name without a key is one the gem's lost updates left behind: not a feature.
end
return {version, changed, features, redis.call('HGETALL', KEYS[4])}
"#;

/// Checks a stored group's version, writes or deletes it and records its event, as one atomic
/// step. The event was computed in Rust from the group at `version read`: the script writes
/// only if the group is still at that version, so every event starts where the previous ended.
/// KEYS: groups, version, group versions, global events, group events. ARGV: name, JSON (empty
/// to delete), channel, origin, expected version (empty: any), version read, event member
/// (empty: nothing to record), wanted id, history limit. A group without a recorded version
/// (written before Ramp kept them) is at version 1. Returns `{0, new version, event id (0:
/// none)}`, `{1, actual version, 0}` when the expected version is not the group's, `{2, 0, 0}`
/// when deleting a missing group, or `{3, actual version, 0}` when the group changed since it
/// was read (read again and retry).
const WRITE_GROUP: &str = r#"
local name, json = ARGV[1], ARGV[2]
local actual = 0
if redis.call('HEXISTS', KEYS[1], name) == 1 then
  actual = tonumber(redis.call('HGET', KEYS[3], name) or '1') or 1
end
if ARGV[5] ~= '' and tonumber(ARGV[5]) ~= actual then return {1, actual, 0} end
if tonumber(ARGV[6]) ~= actual then return {3, actual, 0} end
if json == '' then
  if actual == 0 then return {2, 0, 0} end
  redis.call('HDEL', KEYS[1], name)
  redis.call('HDEL', KEYS[3], name)
end
local version = redis.call('INCR', KEYS[2])
if json ~= '' then
  redis.call('HSET', KEYS[1], name, json)
  redis.call('HSET', KEYS[3], name, integer(version))
end
local id = 0
if ARGV[7] ~= '' then
  id = allocate_id(KEYS[4], KEYS[5], KEYS[5], tonumber(ARGV[8]), true)
  add_group_event(KEYS[5], ARGV[7], id, ARGV[9])
end
publish(ARGV[3], version, nil, ARGV[4])
return {0, version, id}
"#;

/// Writes the lifecycle settings and records their event. KEYS: settings, global events, group
/// events. ARGV: expected version (`''`: any), the version read, JSON, event member, wanted
/// id, history limit. Returns `{outcome, number, id}`: `{0, version, id}` written, `{1,
/// actual, 0}` a stale expected version, `{3, actual, 0}` changed since read (read again).
/// The store version is not bumped and nothing is published: settings are in no snapshot.
const WRITE_SETTINGS: &str = r#"
local actual = tonumber(redis.call('HGET', KEYS[1], 'lifecycle:version') or '0') or 0
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= actual then return {1, actual, 0} end
if tonumber(ARGV[2]) ~= actual then return {3, actual, 0} end
local version = actual + 1
redis.call('HSET', KEYS[1], 'lifecycle', ARGV[3], 'lifecycle:version', integer(version))
local id = allocate_id(KEYS[2], KEYS[3], KEYS[3], tonumber(ARGV[5]), true)
add_group_event(KEYS[3], ARGV[4], id, ARGV[6])
return {0, version, id}
"#;

/// Reads every stored group and the group versions at one moment. KEYS: groups, group
/// versions. Returns `{groups, versions}`, each a flat name, value list.
const READ_GROUPS: &str = r#"
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
"#;

/// Reads one stored group and its version at one moment. KEYS: groups, group versions. ARGV:
/// name. Returns `{version, JSON}`: `{0, ''}` when there is no such group; a group without a
/// recorded version is at 1, as in `WRITE_GROUP`.
const READ_GROUP: &str = r#"
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return {0, ''} end
return {tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '1') or 1, json}
"#;

/// Commits an import. KEYS: registry, version, digests, global events, groups, group versions,
/// group events, then a payload key and an events key per feature. ARGV: feature count, history
/// limit, channel, origin, group count, group event count, wanted id of the groups' events,
/// then name, payload, member, wanted id per feature, then name, JSON per group, then the
/// member of each group event. Returns `{version, {feature event ids}, {group event ids}}`.
const IMPORT: &str = r#"
local count, limit, groups = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[5])
local group_events, group_wanted = tonumber(ARGV[6]), tonumber(ARGV[7])
local names, ids, group_ids = {}, {}, {}
for i = 0, count - 1 do
  local payload_key, events_key = KEYS[8 + 2 * i], KEYS[9 + 2 * i]
  local name = ARGV[8 + 4 * i]
  redis.call('SET', payload_key, ARGV[9 + 4 * i])
  redis.call('HSET', KEYS[3], name, digest(payload_key))
  names[#names + 1] = name
  local id = allocate_id(KEYS[4], KEYS[7], events_key, tonumber(ARGV[11 + 4 * i]), true)
  add_event(KEYS[4], events_key, ARGV[10 + 4 * i], id, limit)
  ids[#ids + 1] = id
end
registry_add(KEYS[1], names)
local version = redis.call('INCR', KEYS[2])
local base = 8 + 4 * count
for j = 0, groups - 1 do
  redis.call('HSET', KEYS[5], ARGV[base + 2 * j], ARGV[base + 2 * j + 1])
  redis.call('HSET', KEYS[6], ARGV[base + 2 * j], integer(version))
end
base = base + 2 * groups
for k = 0, group_events - 1 do
  local id = allocate_id(KEYS[4], KEYS[7], KEYS[7], group_wanted, true)
  add_group_event(KEYS[7], ARGV[base + k], id, limit)
  group_ids[#group_ids + 1] = id
end
publish(ARGV[3], version, nil, ARGV[4])
return {version, ids, group_ids}
"#;

/// Appends copied events at their own times. KEYS: global events, group events, then the events
/// key of each feature event (the group events key again for a group's). ARGV: event count,
/// history limit, then kind (`f`: a feature's, `g`: a group's), wanted id and member per event.
/// Returns ids.
const IMPORT_HISTORY: &str = r#"
local ids = {}
for i = 1, tonumber(ARGV[1]) do
  local kind, wanted, member = ARGV[3 * i], tonumber(ARGV[3 * i + 1]), ARGV[3 * i + 2]
  local own_key = KEYS[2 + i]
  local id = allocate_id(KEYS[1], KEYS[2], own_key, wanted, false)
  if kind == 'g' then
    add_group_event(KEYS[2], member, id, ARGV[2])
  else
    add_event(KEYS[1], own_key, member, id, ARGV[2])
  end
  ids[#ids + 1] = id
end
return ids
"#;

/// The scripts, each with the shared helpers in front.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) write_feature: String,
    pub(crate) snapshot: String,
    pub(crate) write_group: String,
    pub(crate) write_settings: String,
    pub(crate) read_groups: String,
    pub(crate) read_group: String,
    pub(crate) import: String,
    pub(crate) import_history: String,
    pub(crate) exposures: crate::exposure_scripts::ExposureScripts,
    pub(crate) user_sketches: crate::user_sketch_scripts::UserSketchScripts,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let with_common = |body: &str| format!("{COMMON}\n{body}");
        Self {
            write_feature: with_common(WRITE_FEATURE),
            snapshot: with_common(SNAPSHOT),
            write_group: with_common(WRITE_GROUP),
            write_settings: with_common(WRITE_SETTINGS),
            read_groups: with_common(READ_GROUPS),
            read_group: with_common(READ_GROUP),
            import: with_common(IMPORT),
            import_history: with_common(IMPORT_HISTORY),
            exposures: crate::exposure_scripts::ExposureScripts::new(),
            user_sketches: crate::user_sketch_scripts::UserSketchScripts::new(),
        }
    }
}

/// An EVAL command for `script` with `keys` and no arguments yet.
pub(crate) fn eval<K: AsRef<str>>(script: &str, keys: &[K]) -> redis::Cmd {
    let mut command = redis::cmd("EVAL");
    command.arg(script).arg(keys.len());
    for key in keys {
        command.arg(key.as_ref());
    }
    command
}
