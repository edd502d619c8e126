//! The payload codec: a feature <-> the gem's `PERCENTAGE|USERS|GROUPS|DATA_JSON` string.
//!
//! Reading is as lenient as the gem (see `gem_format`) and never fails: what cannot be read at
//! all gives a feature marked `damaged` (it evaluates off), what Ramp cannot represent is
//! skipped. What the gem has no field for travels inside the data JSON under the reserved key
//! `__ramp`, which the gem keeps on every rewrite; callers never see that key.
//!
//! Pure functions: no I/O and no clock.

use std::hash::BuildHasher;

use chrono::{DateTime, Utc};
use foldhash::{HashSet, HashSetExt};
use ramp_core::{
    Feature, FeatureKind, FeatureName, GroupName, Percentage, Stage, UserId, RESERVED_DATA_KEY,
};
use serde_json::{Map, Value};

use crate::gem_format::{ruby_float_to_s, ruby_pieces, ruby_to_f};

/// What the gem reads from a percentage above 100: every user is in, but a caller without a
/// user is not (Ruby compares `percentage == 100`). The largest value below 100 keeps both
/// answers; only a user whose CRC-32 is exactly 0xFFFFFFFF would differ.
const ABOVE_ONE_HUNDRED: f64 = 99.999_999_999_999_99;

/// Reads a stored payload. Never fails: see the module documentation.
pub(crate) fn decode(name: &FeatureName, raw: &[u8]) -> Feature {
    let Ok(text) = std::str::from_utf8(raw) else {
        // Ruby's `split` raises on invalid UTF-8 too.
        return damaged(name, "the stored payload is not valid UTF-8".into());
    };
    let mut fields = text.splitn(4, '|');
    let raw_percentage = fields.next().unwrap_or("");
    let raw_users = fields.next().unwrap_or("");
    let raw_groups = fields.next().unwrap_or("");
    let raw_data = fields.next();
    let mut data = match parse_data(raw_data) {
        Ok(data) => data,
        Err(reason) => return damaged(name, reason),
    };
    let meta = match data.remove(RESERVED_DATA_KEY) {
        Some(Value::Object(meta)) => Some(meta),
        _ => None,
    };
    // A payload Ramp wrote and nobody changed since holds unique, valid lists: the checksum
    // says so, and the costly duplicate check (a million ids) can be skipped.
    let unchanged = meta.as_ref().is_some_and(|meta| {
        meta.get("sum").and_then(Value::as_str) == Some(&checksum(visible_prefix(text), &data))
    });
    let mut feature = Feature::new(name.clone(), DateTime::UNIX_EPOCH);
    feature.percentage = percentage(ruby_to_f(raw_percentage));
    feature.users = unique(name, "user id", ruby_pieces(raw_users), !unchanged, |id| {
        UserId::new(id).ok()
    });
    feature.groups = unique(
        name,
        "group",
        ruby_pieces(raw_groups),
        !unchanged,
        |group| GroupName::new(group).ok(),
    );
    // A feature the gem saved and Ramp never wrote: it exists, so its version is 1.
    feature.version = 1;
    if let Some(meta) = meta {
        apply_meta(&mut feature, &meta);
        if !unchanged {
            // Another writer (a Ruby app) changed the feature since Ramp wrote it: count that
            // as one more version, so that a writer holding the old version gets a conflict.
            feature.version += 1;
        }
    }
    feature.data = data;
    feature
}

/// Writes a feature as the gem would, plus its `__ramp` record.
pub(crate) fn encode(feature: &Feature) -> String {
    let users_length: usize = feature
        .users
        .iter()
        .map(|user| user.as_str().len() + 1)
        .sum();
    let mut text = String::with_capacity(users_length + 256);
    text.push_str(&ruby_float_to_s(feature.percentage.value()));
    text.push('|');
    join_into(&mut text, feature.users.iter().map(UserId::as_str));
    text.push('|');
    join_into(&mut text, feature.groups.iter().map(GroupName::as_str));
    let sum = checksum(&text, &feature.data);
    let mut meta = Map::new();
    meta.insert("version".into(), feature.version.into());
    meta.insert(
        "created".into(),
        feature.created_at.timestamp_micros().into(),
    );
    meta.insert(
        "updated".into(),
        feature.updated_at.timestamp_micros().into(),
    );
    if !feature.excluded_users.is_empty() {
        let excluded = feature.excluded_users.iter().map(|id| id.as_str().into());
        meta.insert("excluded".into(), Value::Array(excluded.collect()));
    }
    if feature.stage != Stage::default() {
        meta.insert("stage".into(), feature.stage.as_str().into());
    }
    // Like the stage: only when not the default, so a release flag's payload is unchanged.
    if feature.kind != FeatureKind::default() {
        meta.insert("kind".into(), feature.kind.as_str().into());
    }
    meta.insert("sum".into(), sum.into());
    let mut data = feature.data.clone();
    data.insert(RESERVED_DATA_KEY.into(), Value::Object(meta));
    text.push('|');
    text.push_str(&Value::Object(data).to_string());
    text
}

/// A feature whose payload cannot be read: listed, off for everyone, replaced by the next write.
pub(crate) fn damaged(name: &FeatureName, reason: String) -> Feature {
    let mut feature = Feature::new(name.clone(), DateTime::UNIX_EPOCH);
    feature.version = 1;
    feature.damaged = Some(reason);
    feature
}

/// The percentage Ramp can hold that the gem reads the same way (see `ABOVE_ONE_HUNDRED`).
fn percentage(value: f64) -> Percentage {
    let clamped = if value > 100.0 {
        ABOVE_ONE_HUNDRED
    } else if value > 0.0 {
        value
    } else {
        // Negative (and -0.0, and -infinity) put nobody in: exactly like 0.
        0.0
    };
    Percentage::new(clamped).unwrap_or(Percentage::ZERO)
}

/// The data field as the gem reads it: absent or blank is `{}`; JSON that is not an object is
/// `{}` too (the gem drops it on its next save); malformed JSON is a reason for damage.
fn parse_data(raw: Option<&str>) -> Result<Map<String, Value>, String> {
    // Ruby's `strip` also removes NUL.
    let Some(raw) = raw.filter(|raw| {
        !raw.trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .is_empty()
    }) else {
        return Ok(Map::new());
    };
    // serde_json keeps the last of duplicate keys, as Ruby's JSON.parse does.
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Ok(Map::new()),
        Err(error) => Err(format!("the data is not valid JSON: {error}")),
    }
}

/// Keeps the members Ramp can represent, once each (when `check_duplicates`), in order; says
/// how many it dropped.
fn unique<'a, T: AsRef<str>>(
    name: &FeatureName,
    what: &str,
    pieces: impl Iterator<Item = &'a str> + Clone,
    check_duplicates: bool,
    parse: impl Fn(&str) -> Option<T>,
) -> Vec<T> {
    let mut kept = Vec::with_capacity(pieces.clone().count());
    let mut skipped = 0usize;
    if check_duplicates && has_duplicates(pieces.clone()) {
        let mut seen: HashSet<&str> = HashSet::with_capacity(kept.capacity());
        for piece in pieces {
            match parse(piece) {
                Some(member) if seen.insert(piece) => kept.push(member),
                Some(_) => {} // a duplicate: the gem would match it once too
                None => skipped += 1,
            }
        }
    } else {
        for piece in pieces {
            match parse(piece) {
                Some(member) => kept.push(member),
                None => skipped += 1,
            }
        }
    }
    if skipped > 0 {
        tracing::warn!(feature = %name, skipped, "skipped {what}s Ramp cannot represent (empty, control characters or too long)");
    }
    kept
}

/// Whether any piece may occur twice. Sorting 64-bit hashes is several times faster than a
/// hash set of a million strings (whose random writes miss the cache); a hash collision only
/// sends the list down the exact path.
fn has_duplicates<'a>(pieces: impl Iterator<Item = &'a str>) -> bool {
    let state = foldhash::fast::FixedState::default();
    let mut hashes: Vec<u64> = pieces.map(|piece| state.hash_one(piece)).collect();
    hashes.sort_unstable();
    hashes.windows(2).any(|pair| pair[0] == pair[1])
}

fn apply_meta(feature: &mut Feature, meta: &Map<String, Value>) {
    if let Some(version) = meta.get("version").and_then(Value::as_u64) {
        feature.version = version.max(1);
    }
    let time = |key: &str| {
        meta.get(key)
            .and_then(Value::as_i64)
            .and_then(DateTime::<Utc>::from_timestamp_micros)
    };
    feature.created_at = time("created").unwrap_or(DateTime::UNIX_EPOCH);
    feature.updated_at = time("updated").unwrap_or(feature.created_at);
    if let Some(Value::Array(excluded)) = meta.get("excluded") {
        let pieces = excluded.iter().filter_map(Value::as_str);
        feature.excluded_users = unique(&feature.name, "excluded user id", pieces, true, |id| {
            UserId::new(id).ok()
        });
    }
    if let Some(stage) = meta.get("stage").and_then(Value::as_str) {
        feature.stage = stage.parse().unwrap_or_default();
    }
    // A kind a newer Ramp wrote reads as the default, as an unknown stage does: the payload
    // is shared with the gem, which must never see a flag fail because of Ramp's own record.
    if let Some(kind) = meta.get("kind").and_then(Value::as_str) {
        feature.kind = kind.parse().unwrap_or_default();
    }
}

/// `PERCENTAGE|USERS|GROUPS` of a payload, as stored.
fn visible_prefix(text: &str) -> &str {
    match text.match_indices('|').nth(2) {
        Some((index, _)) => &text[..index],
        // Fewer than three separators (an old 3-field or a truncated payload): all of it.
        None => text,
    }
}

/// A checksum of everything the gem can see and change: the first three fields as stored and
/// the data (without `__ramp`) in canonical form, so that the gem re-saving the same values
/// (with its own key order or float spelling) does not count as a change.
fn checksum(visible_prefix: &str, data: &Map<String, Value>) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(visible_prefix.as_bytes());
    hasher.update(b"|");
    // Serializing a map of JSON values cannot fail.
    hasher.update(&serde_json::to_vec(data).unwrap_or_default());
    format!("{:016x}", hasher.digest())
}

fn join_into<'a>(text: &mut String, items: impl Iterator<Item = &'a str>) {
    for (index, item) in items.enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(item);
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
