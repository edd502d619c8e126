//! The body of OFREP's bulk answer (`POST /ofrep/v1/evaluate/flags`), written straight into
//! bytes.
//!
//! Serializing 350 answer structs with serde was most of a bulk request: every key escaped
//! again, every field name written by the serializer. But an answer's bytes depend on the
//! request only through the decision: the key, as escaped JSON, is fixed per snapshot (made once,
//! `KeyPrefixes`), and the rest is one of a few constant strings per reason, plus the group's
//! name for a group match and the snapshot's version. So a request evaluates each feature by
//! position (no name lookup) and appends those pieces. The bytes are exactly what serde wrote
//! (`routes/ofrep.rs` keeps the typed form for single flags; a test holds the two equal).

use ramp_core::{CodeGroups, CompiledSnapshot, Context, Reason};

/// For each feature of a snapshot, in snapshot order, `{"key":"NAME","value":` with the name
/// escaped as JSON; all in one buffer.
#[derive(Debug, Default)]
pub struct KeyPrefixes {
    bytes: Vec<u8>,
    /// Where each feature's prefix ends in `bytes` (it starts where the previous one ends).
    ends: Vec<usize>,
}

impl KeyPrefixes {
    /// The prefixes of `compiled`'s features.
    pub fn new(compiled: &CompiledSnapshot) -> Self {
        let mut prefixes = KeyPrefixes::default();
        for name in compiled.feature_names() {
            prefixes.bytes.extend_from_slice(b"{\"key\":");
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut prefixes.bytes, name);
            prefixes.bytes.extend_from_slice(b",\"value\":");
            prefixes.ends.push(prefixes.bytes.len());
        }
        prefixes
    }

    fn get(&self, position: usize) -> &[u8] {
        let start = position
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous]);
        &self.bytes[start..self.ends[position]]
    }

    /// How many features.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Everything after `"value":` that a reason decides, up to the group or the version:
/// `true,"reason":"SPLIT","variant":"on","metadata":{"rampReason":"percentage"`.
fn write_reason(body: &mut Vec<u8>, active: bool, reason: &Reason) {
    let piece = match (active, reason) {
        (true, Reason::Everyone) => {
            r#"true,"reason":"STATIC","variant":"on","metadata":{"rampReason":"everyone""#
        }
        (true, Reason::User) => {
            r#"true,"reason":"TARGETING_MATCH","variant":"on","metadata":{"rampReason":"user""#
        }
        (true, Reason::Group(_)) => {
            r#"true,"reason":"TARGETING_MATCH","variant":"on","metadata":{"rampReason":"group""#
        }
        (true, Reason::Percentage) => {
            r#"true,"reason":"SPLIT","variant":"on","metadata":{"rampReason":"percentage""#
        }
        (false, Reason::OutsidePercentage) => {
            r#"false,"reason":"SPLIT","variant":"off","metadata":{"rampReason":"outside_percentage""#
        }
        (false, Reason::Excluded) => {
            r#"false,"reason":"DISABLED","variant":"off","metadata":{"rampReason":"excluded""#
        }
        (false, Reason::Off) => {
            r#"false,"reason":"DISABLED","variant":"off","metadata":{"rampReason":"off""#
        }
        // Evaluating a feature that exists gives none of the other pairs; written the same
        // way all the same, should one ever appear.
        (active, reason) => {
            let ofrep = crate::routes::ofrep::ofrep_reason(reason);
            let variant = if active { "on" } else { "off" };
            let text = format!(
                r#"{active},"reason":"{ofrep}","variant":"{variant}","metadata":{{"rampReason":"{}""#,
                reason.as_str()
            );
            body.extend_from_slice(text.as_bytes());
            return;
        }
    };
    body.extend_from_slice(piece.as_bytes());
}

/// `{"flags":[...]}` for `context`: every feature of `compiled` (whose `prefixes` these are),
/// in snapshot order, at `version`.
pub fn write(
    compiled: &CompiledSnapshot,
    prefixes: &KeyPrefixes,
    context: &Context,
    code_groups: &CodeGroups,
    version: u64,
) -> Vec<u8> {
    let version = version.to_string();
    // About 110 bytes an answer beyond its key.
    let mut body = Vec::with_capacity(prefixes.bytes.len() + prefixes.len() * 112 + 16);
    body.extend_from_slice(b"{\"flags\":[");
    for (position, (_, decision)) in compiled.evaluate_all(context, code_groups).enumerate() {
        if position > 0 {
            body.push(b',');
        }
        body.extend_from_slice(prefixes.get(position));
        write_reason(&mut body, decision.active, &decision.reason);
        if let Some(group) = decision.reason.group() {
            body.extend_from_slice(b",\"group\":");
            let _ = serde_json::to_writer(&mut body, group);
        }
        body.extend_from_slice(b",\"version\":");
        body.extend_from_slice(version.as_bytes());
        body.extend_from_slice(b"}}");
    }
    body.extend_from_slice(b"]}");
    body
}
