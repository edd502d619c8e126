//! OFREP, OpenFeature's remote evaluation protocol: one flag or every flag for a context.
//!
//! The context's `targetingKey` is the user id; its other fields are attributes for stored
//! groups. Ramp's reasons map to OpenFeature's: `everyone` -> STATIC, `user`/`group` ->
//! TARGETING_MATCH, `percentage` and `outside_percentage` -> SPLIT, `off`/`excluded` ->
//! DISABLED.

use std::collections::BTreeMap;

use crate::json_errors::ApiPath;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ramp_core::{Context, Decision, Reason, Stamp};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::extract::none_match;
use crate::routes::evaluate::no_code_groups;
use crate::state::AppState;

/// OpenFeature's specification defines SPLIT as "the resolved value was the result of
/// pseudorandom assignment" and DISABLED as "the result of the flag being disabled in the
/// management system". A user outside a percentage was assigned `false` by the same
/// pseudorandom bucketing that gives others `true`, and the flag is not disabled (it is rolling
/// out), so `outside_percentage` is SPLIT like `percentage`; `off` (a flag that reaches nobody)
/// stays DISABLED.
pub(crate) fn ofrep_reason(reason: &Reason) -> &'static str {
    match reason {
        Reason::Everyone => "STATIC",
        Reason::User | Reason::Group(_) => "TARGETING_MATCH",
        Reason::Percentage | Reason::OutsidePercentage => "SPLIT",
        Reason::Off | Reason::Excluded => "DISABLED",
        Reason::NotFound => "ERROR",
    }
}

/// One flag's answer. Typed rather than built as a `serde_json::Value`: this is the hot path.
#[derive(Serialize)]
struct Success<'a> {
    key: &'a str,
    value: bool,
    reason: &'static str,
    variant: &'static str,
    metadata: Metadata<'a>,
}

/// Ramp's own reason, the group that matched, and the snapshot version.
#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "rampReason")]
    ramp_reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    version: u64,
    /// Single-flag answers only: the stamp to keep on a record the answer shaped (resolved by
    /// `GET /api/v1/stamps/{stamp}`), so applications in any language can record it.
    #[serde(skip_serializing_if = "Option::is_none")]
    stamp: Option<String>,
}

fn success<'a>(key: &'a str, decision: &'a Decision, version: u64) -> Success<'a> {
    Success {
        key,
        value: decision.active,
        reason: ofrep_reason(&decision.reason),
        variant: if decision.active { "on" } else { "off" },
        metadata: Metadata {
            ramp_reason: decision.reason.as_str(),
            group: decision.reason.group(),
            version,
            stamp: None,
        },
    }
}

fn failure(
    status: StatusCode,
    key: Option<&str>,
    code: &str,
    details: impl Into<String>,
) -> Response {
    let mut body = json!({ "errorCode": code, "errorDetails": details.into() });
    if let Some(key) = key {
        body["key"] = key.into();
    }
    (status, Json(body)).into_response()
}

/// Reads `{"context": {...}}` (an empty body counts as no context).
fn parse_context(body: &[u8]) -> Result<Context, (&'static str, String)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Context::anonymous());
    }
    let request: Value = serde_json::from_slice(body)
        .map_err(|error| ("PARSE_ERROR", format!("malformed JSON: {error}")))?;
    let fields = match request.get("context") {
        None | Some(Value::Null) => return Ok(Context::anonymous()),
        Some(Value::Object(fields)) => fields,
        Some(_) => return Err(("INVALID_CONTEXT", "context must be a JSON object".into())),
    };
    let mut context = Context::anonymous();
    let mut attributes = BTreeMap::new();
    for (name, value) in fields {
        if name == "targetingKey" {
            context.user_id = match value {
                Value::String(text) if text.is_empty() => None,
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                Value::Null => None,
                _ => return Err(("INVALID_CONTEXT", "targetingKey must be a string".into())),
            };
        } else {
            attributes.insert(name.clone(), value.clone());
        }
    }
    context.attributes = attributes;
    Ok(context)
}

/// Evaluates one flag.
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags/{key}", tag = "ofrep",
    params(("key" = String, Path, description = "The flag (feature name)")),
    request_body(content = serde_json::Value, description = "{\"context\": {\"targetingKey\": \"user-1\", ...}}"),
    responses((status = 200, body = serde_json::Value), (status = 400, body = serde_json::Value),
        (status = 404, body = serde_json::Value)))]
pub async fn evaluate_flag(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
    body: Bytes,
) -> Response {
    let context = match parse_context(&body) {
        Ok(context) => context,
        Err((code, details)) => return failure(StatusCode::BAD_REQUEST, Some(&key), code, details),
    };
    let loaded = state.live.current();
    let decision = loaded.compiled.evaluate(&key, &context, no_code_groups());
    state.metrics.evaluation("ofrep", decision.reason.as_str());
    // Counted like an SDK's check. A bulk evaluation is not: it fetches every flag for a
    // client to cache, which says nothing of which flags the application then asks for.
    state.exposures.own.count(
        [(key.as_str(), decision.reason.kind())],
        context.user_id.as_deref(),
    );
    if decision.reason == Reason::NotFound {
        return failure(
            StatusCode::NOT_FOUND,
            Some(&key),
            "FLAG_NOT_FOUND",
            format!("no feature named {key:?}"),
        );
    }
    let mut answer = success(&key, &decision, loaded.snapshot.version);
    let features = &loaded.snapshot.features;
    if let Ok(index) = features.binary_search_by(|feature| feature.name.as_str().cmp(key.as_str()))
    {
        answer.metadata.stamp = Some(Stamp::of(&features[index], decision.active).to_string());
    }
    Json(answer).into_response()
}

/// Evaluates every flag; the ETag changes when the flags or the context change.
#[utoipa::path(post, path = "/ofrep/v1/evaluate/flags", tag = "ofrep",
    request_body(content = serde_json::Value, description = "{\"context\": {...}}"),
    responses((status = 200, body = serde_json::Value), (status = 304), (status = 400, body = serde_json::Value)))]
pub async fn evaluate_flags(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let context = match parse_context(&body) {
        Ok(context) => context,
        Err((code, details)) => return failure(StatusCode::BAD_REQUEST, None, code, details),
    };
    let loaded = state.live.current();
    // The answer depends on the data and on this context, so the ETag covers both: a client
    // that changes attributes but keeps its targetingKey must not get a 304 for the old ones.
    let context_hash = Sha256::digest(serde_json::to_vec(&context).unwrap_or_default());
    let tag = format!(
        "\"{}-{}\"",
        loaded.snapshot.version,
        hex::encode(&context_hash[..8])
    );
    let tag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\""));
    if none_match(&headers, &tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    // One count per request: a lock and a hash per flag would dominate a large bulk answer.
    state.metrics.evaluation("ofrep_bulk", "all");
    let body = crate::ofrep_bulk::write(
        &loaded.compiled,
        loaded.ofrep_keys(),
        &context,
        no_code_groups(),
        loaded.snapshot.version,
    );
    (
        [
            (header::ETAG, tag),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use ramp_core::{CompiledSnapshot, Feature, FeatureName, GroupName, Percentage, Snapshot};
    use ramp_core::{StoredGroup, UserId};

    /// The bulk answer as the typed answers serialize it: what `ofrep_bulk` must reproduce.
    #[derive(Serialize)]
    struct Bulk<'a> {
        flags: Vec<Success<'a>>,
    }

    fn feature(
        name: &str,
        percentage: f64,
        users: &[&str],
        excluded: &[&str],
        groups: &[&str],
    ) -> Feature {
        let mut feature = Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
        feature.percentage = Percentage::new(percentage).unwrap();
        feature.users = users.iter().map(|id| UserId::new(*id).unwrap()).collect();
        feature.excluded_users = excluded
            .iter()
            .map(|id| UserId::new(*id).unwrap())
            .collect();
        feature.groups = groups
            .iter()
            .map(|group| GroupName::new(*group).unwrap())
            .collect();
        feature
    }

    #[test]
    fn the_bulk_writer_gives_the_bytes_serde_gave_for_every_reason() {
        let mut features = vec![
            feature("a.everyone", 100.0, &[], &[], &[]),
            feature("b-everyone-but", 100.0, &[], &["8"], &[]),
            feature("c_listed", 0.0, &["7", "user-72"], &["user-72"], &[]),
            feature("d:staff", 0.0, &[], &[], &["staff", "all"]),
            feature("e-code", 30.0, &[], &[], &["admins"]),
            feature("f-quarter", 25.0, &[], &[], &[]),
            feature("g-off", 0.0, &[], &[], &[]),
            feature("h-all", 0.0, &[], &[], &["all"]),
        ];
        features.sort_by(|left, right| left.name.cmp(&right.name));
        let snapshot = Snapshot {
            version: 42,
            randomize_percentage: false,
            features,
            groups: vec![StoredGroup {
                name: GroupName::new("staff").unwrap(),
                description: String::new(),
                members: vec![UserId::new("boss").unwrap()],
                rules: vec!["email ends_with @corp.com".parse().unwrap()],
            }],
        };
        let compiled = CompiledSnapshot::compile(&snapshot);
        let prefixes = crate::ofrep_bulk::KeyPrefixes::new(&compiled);
        let mut contexts = vec![Context::anonymous()];
        contexts.extend((0..200).map(|user| Context::user(user.to_string())));
        contexts.extend(["boss", "8", "7", "user-72"].map(Context::user));
        let mut staff = Context::user("someone");
        staff.attributes.insert("email".into(), "x@corp.com".into());
        contexts.push(staff);

        let mut reasons = std::collections::BTreeSet::new();
        for context in &contexts {
            let decisions: Vec<Decision> = snapshot
                .features
                .iter()
                .map(|feature| compiled.evaluate(feature.name.as_str(), context, no_code_groups()))
                .collect();
            reasons.extend(decisions.iter().map(|decision| decision.reason.as_str()));
            let flags = snapshot
                .features
                .iter()
                .zip(&decisions)
                .map(|(feature, decision)| success(feature.name.as_str(), decision, 42))
                .collect();
            let expected = serde_json::to_vec(&Bulk { flags }).unwrap();
            let written =
                crate::ofrep_bulk::write(&compiled, &prefixes, context, no_code_groups(), 42);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(expected).unwrap(),
                "{context:?}"
            );
        }
        // Every reason a feature that exists can give was written at least once.
        let every: std::collections::BTreeSet<&str> = [
            "everyone",
            "excluded",
            "user",
            "group",
            "percentage",
            "outside_percentage",
            "off",
        ]
        .into();
        assert_eq!(reasons, every);
    }
}
