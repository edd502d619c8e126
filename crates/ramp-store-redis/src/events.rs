//! History events <-> the gem's logging format (the members of
//! `feature:NAME:logging:events` and `feature:_global_:logging:events`).
//!
//! A member is `{"feature","name","data":{"before","after"},"context","created_at"}`; the score
//! is minus the event's id, which for the gem's own events is its time in microseconds. Ruby
//! readers see Ramp's events as ordinary gem events (whole user and group lists before and
//! after, like the gem writes); Ramp's exact record (action, time, the changes with lists as
//! added/removed members, exclusions, stage) rides along in `context.ramp`, which the gem treats
//! as free-form. Members must not have other top-level keys: gem 2.5.0 builds its events with
//! `Event.new(**member)`, which raises on an unknown keyword.
//!
//! Pure functions: no I/O and no clock.

use chrono::{DateTime, Utc};
use ramp_core::{Action, Feature, FeatureName, FieldChange, HistoryEvent, ListField, ValueField};
use serde_json::{json, Map, Value};

/// Lists longer than this are left out of the gem-readable before/after (the exact
/// added/removed members are still in `context.ramp`): the gem would store two copies of a
/// million-id list for every added user, 50 times over.
pub const FULL_LIST_LIMIT: usize = 1_000;

/// The actor shown for gem events whose context names none.
pub const UNKNOWN_ACTOR: &str = "(rollout gem)";

/// A feature's lists at one moment, for the gem's before/after; `None` when too long.
#[derive(Debug, Clone, Default)]
pub(crate) struct FullLists {
    users: Option<Vec<String>>,
    excluded_users: Option<Vec<String>>,
    groups: Option<Vec<String>>,
}

impl FullLists {
    /// The lists of a stored feature (none for a feature that does not exist: all empty).
    pub(crate) fn of(feature: Option<&Feature>) -> Self {
        let Some(feature) = feature else {
            return Self::empty();
        };
        Self {
            users: small(&feature.users),
            excluded_users: small(&feature.excluded_users),
            groups: small(&feature.groups),
        }
    }

    /// Empty lists: what the gem sees before a feature exists and after it is deleted.
    pub(crate) fn empty() -> Self {
        Self {
            users: Some(Vec::new()),
            excluded_users: Some(Vec::new()),
            groups: Some(Vec::new()),
        }
    }

    fn get(&self, field: ListField) -> Option<&Vec<String>> {
        match field {
            ListField::Users => self.users.as_ref(),
            ListField::ExcludedUsers => self.excluded_users.as_ref(),
            ListField::Groups => self.groups.as_ref(),
            // A stored group's field: never in a feature's event, so never shown to the gem.
            ListField::Members => None,
        }
    }
}

fn small<T: AsRef<str>>(list: &[T]) -> Option<Vec<String>> {
    (list.len() <= FULL_LIST_LIMIT).then(|| list.iter().map(|item| item.as_ref().into()).collect())
}

/// The member recording `event`, a change to `feature` (a group's events are never written in
/// this format: see `group_events`). `before`/`after` give the whole lists for the gem's view;
/// when either is unknown (copied history) only `context.ramp` has the list changes.
pub(crate) fn encode(
    feature: &FeatureName,
    event: &HistoryEvent,
    before: &FullLists,
    after: &FullLists,
) -> String {
    let mut old = Map::new();
    let mut new = Map::new();
    for change in &event.changes {
        match change {
            FieldChange::Value {
                field,
                before: was,
                after: is,
            } => {
                old.insert(field.to_string(), was.clone());
                new.insert(field.to_string(), is.clone());
            }
            FieldChange::Members { field, .. } => {
                if let (Some(was), Some(is)) = (before.get(*field), after.get(*field)) {
                    old.insert(field.name().into(), json!(was));
                    new.insert(field.name().into(), json!(is));
                }
            }
        }
    }
    let mut context = Map::new();
    context.insert("actor".into(), event.actor.clone().into());
    if let Some(comment) = &event.comment {
        context.insert("comment".into(), comment.clone().into());
    }
    context.insert(
        "ramp".into(),
        json!({
            "action": event.action,
            "time_us": event.time.timestamp_micros(),
            "changes": event.changes,
        }),
    );
    let name = if event.action == Action::Deleted {
        "delete"
    } else {
        "update"
    };
    json!({
        "feature": feature.as_str(),
        "name": name,
        "data": {"before": old, "after": new},
        "context": context,
        // Ruby's `Time#to_s` in UTC; gem 2.5.0 ignores it (it reads the time from the score).
        "created_at": event.time.format("%Y-%m-%d %H:%M:%S +0000").to_string(),
    })
    .to_string()
}

/// Reads a member and its score; `None` for members that are not events Ramp can show (not
/// JSON, no valid feature name, a positive score).
pub(crate) fn decode(member: &[u8], score: f64) -> Option<HistoryEvent> {
    if score > 0.0 || !score.is_finite() {
        return None;
    }
    let id = (-score) as u64;
    let Value::Object(member) = serde_json::from_slice::<Value>(member).ok()? else {
        return None;
    };
    let feature = FeatureName::new(member.get("feature")?.as_str()?).ok()?;
    let empty = Map::new();
    let context = member
        .get("context")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let actor = match context.get("actor") {
        Some(Value::String(actor)) => actor.clone(),
        None | Some(Value::Null) => UNKNOWN_ACTOR.into(),
        Some(other) => other.to_string(),
    };
    let comment = context
        .get("comment")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let id_time = DateTime::<Utc>::from_timestamp_micros(id as i64)?;
    if let Some(ramp) = context.get("ramp").and_then(Value::as_object) {
        if let Some(event) = decode_ramp(ramp, id, &feature, &actor, &comment, id_time) {
            return Some(event);
        }
    }
    let action = match member.get("name").and_then(Value::as_str) {
        Some("delete") => Action::Deleted,
        _ => Action::Updated,
    };
    let data = member
        .get("data")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    Some(HistoryEvent {
        id,
        subject: feature.into(),
        action,
        actor,
        time: id_time,
        comment,
        changes: gem_changes(data),
    })
}

fn decode_ramp(
    ramp: &Map<String, Value>,
    id: u64,
    feature: &FeatureName,
    actor: &str,
    comment: &Option<String>,
    id_time: DateTime<Utc>,
) -> Option<HistoryEvent> {
    let action: Action = serde_json::from_value(ramp.get("action")?.clone()).ok()?;
    let changes: Vec<FieldChange> = serde_json::from_value(ramp.get("changes")?.clone()).ok()?;
    let time = ramp
        .get("time_us")
        .and_then(Value::as_i64)
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .unwrap_or(id_time);
    Some(HistoryEvent {
        id,
        subject: feature.clone().into(),
        action,
        actor: actor.to_owned(),
        time,
        comment: comment.clone(),
        changes,
    })
}

/// The changes a gem event records, in the order Ramp lists fields; lists become the members
/// added and removed, exactly as the core computes them.
fn gem_changes(data: &Map<String, Value>) -> Vec<FieldChange> {
    let empty = Map::new();
    let before = data
        .get("before")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let after = data
        .get("after")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut changes = Vec::new();
    let number = |value: Option<&Value>| Value::from(value.and_then(Value::as_f64).unwrap_or(0.0));
    if before.contains_key("percentage") || after.contains_key("percentage") {
        let (was, is) = (
            number(before.get("percentage")),
            number(after.get("percentage")),
        );
        if was != is {
            changes.push(FieldChange::value(ValueField::Percentage, was, is));
        }
    }
    for field in ListField::OF_FEATURES {
        let name = field.name();
        if before.contains_key(name) || after.contains_key(name) {
            let (was, is) = (strings(before.get(name)), strings(after.get(name)));
            changes.extend(FieldChange::members(field, &was, &is));
        }
    }
    let mut data_keys: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| key.starts_with("data."))
        .collect();
    data_keys.sort();
    data_keys.dedup();
    for key in data_keys {
        let was = before.get(key).cloned().unwrap_or(Value::Null);
        let is = after.get(key).cloned().unwrap_or(Value::Null);
        if let (true, Some(field)) = (was != is, ValueField::parse(key)) {
            changes.push(FieldChange::value(field, was, is));
        }
    }
    if let (Some(was), Some(is)) = (before.get("stage"), after.get("stage")) {
        changes.push(FieldChange::value(
            ValueField::Stage,
            was.clone(),
            is.clone(),
        ));
    }
    changes
}

/// A list as the gem logs it (strings; symbols arrive as strings); anything else is empty.
fn strings(value: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
