//! Which characters free text may hold once it reaches a store: feature data, the actor and
//! comment of a change, stored groups' descriptions and rule values.
//!
//! Names and user ids have stricter rules of their own (`name.rs`, `user_id.rs`). Everything
//! else is free text, with one character refused everywhere: NUL. SQLite and Redis keep it,
//! PostgreSQL refuses it (in `text` and in `jsonb`), so a value with a NUL would be stored in
//! one backend and break `ramp copy` to another; many C-based readers of the gem's Redis keys
//! also cut text there. Other control characters stay allowed in values (a description may
//! have line breaks; JSON escapes them, so the gem's format is unchanged), but not in what is
//! shown as a label on one line: data keys and the actor.

use serde_json::{Map, Value};

use crate::feature::RESERVED_DATA_KEY;
use crate::{Attribution, Condition, CoreError, FieldChange, HistoryEvent, Rule, StoredGroup};

/// Why text with a NUL is refused, for error messages.
pub(crate) const NUL_REASON: &str = "must not contain a NUL character (\\0)";

/// Whether any string in `value`, or any key of an object inside it, holds a NUL.
pub(crate) fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A feature's data: keys non-empty, not reserved and without control characters; values
/// (at any depth) without NUL.
pub fn check_data(data: &Map<String, Value>) -> Result<(), CoreError> {
    let invalid = |reason: String| Err(CoreError::InvalidData { reason });
    for (key, value) in data {
        if key.is_empty() {
            return invalid("a data key must not be empty".into());
        }
        if key == RESERVED_DATA_KEY {
            return invalid(format!("data key {key:?} is reserved for Ramp's own use"));
        }
        if key.chars().any(char::is_control) {
            return invalid(format!(
                "data key {key:?} must not contain control characters"
            ));
        }
        if holds_nul(value) {
            return invalid(format!("the value of data key {key:?} {NUL_REASON}"));
        }
    }
    Ok(())
}

impl Attribution {
    /// Checks what a store will record: an actor without control characters (it is shown on
    /// one line of history) and a comment without NUL.
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.actor.chars().any(char::is_control) {
            return Err(CoreError::InvalidChange {
                reason: format!(
                    "the actor {:?} must not contain control characters",
                    self.actor
                ),
            });
        }
        if self
            .comment
            .as_deref()
            .is_some_and(|comment| comment.contains('\0'))
        {
            return Err(CoreError::InvalidChange {
                reason: format!("the comment {NUL_REASON}"),
            });
        }
        Ok(())
    }
}

impl HistoryEvent {
    /// Checks what a store will record when this event is copied into it: the same rules as
    /// for a new change's attribution, and no NUL in any recorded value.
    pub fn validate(&self) -> Result<(), CoreError> {
        Attribution {
            actor: self.actor.clone(),
            comment: self.comment.clone(),
        }
        .validate()?;
        let nul = self.changes.iter().any(|change| match change {
            FieldChange::Value {
                field,
                before,
                after,
            } => field.name().contains('\0') || holds_nul(before) || holds_nul(after),
            // List field names are fixed words.
            FieldChange::Members { added, removed, .. } => added
                .iter()
                .chain(removed)
                .any(|member| member.contains('\0')),
        });
        if nul {
            return Err(CoreError::InvalidChange {
                reason: format!("a recorded value {NUL_REASON}"),
            });
        }
        Ok(())
    }
}

impl Rule {
    /// Checks what parsing checks, for rules that arrive as JSON: an attribute name without
    /// control characters and values without NUL.
    pub fn validate(&self) -> Result<(), CoreError> {
        let invalid = |reason: &str| CoreError::InvalidRule {
            rule: self.to_string(),
            reason: reason.to_owned(),
        };
        if self.attribute.is_empty() || self.attribute.chars().any(char::is_control) {
            return Err(invalid(
                "the attribute name is empty or has control characters",
            ));
        }
        let nul = match &self.condition {
            Condition::In(values) | Condition::NotIn(values) => {
                values.iter().any(|value| value.contains('\0'))
            }
            Condition::EndsWith(suffix) => suffix.contains('\0'),
            Condition::AtLeast(_) | Condition::Below(_) => false,
        };
        if nul {
            return Err(invalid(&format!("a value {NUL_REASON}")));
        }
        Ok(())
    }
}

impl StoredGroup {
    /// Checks what types cannot: a description without NUL and valid rules (names and member
    /// ids are checked by their types).
    pub fn validate(&self) -> Result<(), CoreError> {
        if self.description.contains('\0') {
            return Err(CoreError::InvalidChange {
                reason: format!("the description of group {:?} {NUL_REASON}", self.name),
            });
        }
        self.rules.iter().try_for_each(Rule::validate)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn ordinary_data_passes_even_with_line_breaks_in_values() {
        let ordinary = data(json!({
            "description": "two\nlines\tand a tab",
            "owner": "ana",
            "links": ["https://a", {"nested": "ümlaut"}],
            "count": 3
        }));
        assert_eq!(check_data(&ordinary), Ok(()));
    }

    #[test]
    fn nul_is_refused_at_any_depth_and_named() {
        for bad in [
            json!({"owner": "a\u{0}b"}),
            json!({"links": ["ok", "b\u{0}"]}),
            json!({"meta": {"deep": {"x": "\u{0}"}}}),
            json!({"meta": {"key\u{0}": 1}}),
        ] {
            let error = check_data(&data(bad.clone())).unwrap_err().to_string();
            assert!(error.contains("NUL"), "{bad}: {error}");
        }
        let error = check_data(&data(json!({"owner": "a\u{0}"})))
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"owner\""), "{error}");
    }

    #[test]
    fn keys_must_be_plain_labels() {
        for key in ["", "__ramp", "a\u{0}", "two\nlines", "bell\u{7}"] {
            let mut map = Map::new();
            map.insert(key.to_owned(), json!("value"));
            assert!(
                matches!(check_data(&map), Err(CoreError::InvalidData { .. })),
                "{key:?} was accepted"
            );
        }
    }

    #[test]
    fn attribution_refuses_control_characters_in_the_actor_and_nul_in_the_comment() {
        assert_eq!(Attribution::new("ana").validate(), Ok(()));
        let with_comment = |comment: &str| Attribution {
            actor: "ana".into(),
            comment: Some(comment.into()),
        };
        assert_eq!(with_comment("rolling back\nerrors").validate(), Ok(()));
        assert!(with_comment("a\u{0}b").validate().is_err());
        assert!(Attribution::new("an\u{0}a").validate().is_err());
        assert!(Attribution::new("an\na").validate().is_err());
    }

    #[test]
    fn history_events_with_nul_anywhere_are_refused() {
        let event = |changes: Vec<FieldChange>, comment: Option<&str>| HistoryEvent {
            id: 1,
            subject: crate::Subject::Feature(crate::FeatureName::new("chat").unwrap()),
            action: crate::Action::Updated,
            actor: "ana".into(),
            time: chrono::DateTime::UNIX_EPOCH,
            comment: comment.map(str::to_owned),
            changes,
        };
        let value = |after: Value| FieldChange::Value {
            field: crate::ValueField::Data("note".into()),
            before: Value::Null,
            after,
        };
        assert_eq!(
            event(vec![value(json!("fine\n"))], Some("ok")).validate(),
            Ok(())
        );
        assert!(event(vec![value(json!({"x": ["\u{0}"]}))], None)
            .validate()
            .is_err());
        assert!(event(vec![], Some("\u{0}")).validate().is_err());
        let members = FieldChange::Members {
            field: crate::ListField::Users,
            added: vec!["1".into()],
            removed: vec!["a\u{0}".into()],
        };
        assert!(event(vec![members], None).validate().is_err());
    }

    #[test]
    fn stored_groups_refuse_nul_in_descriptions_and_rule_values() {
        let group = |description: &str, rule: Rule| StoredGroup {
            name: crate::GroupName::new("staff").unwrap(),
            description: description.into(),
            members: Vec::new(),
            rules: vec![rule],
        };
        let rule = |condition| Rule {
            attribute: "plan".into(),
            condition,
        };
        let fine = rule(Condition::In(vec!["pro".into()]));
        assert_eq!(
            group("the team\nand friends", fine.clone()).validate(),
            Ok(())
        );
        assert!(group("a\0b", fine).validate().is_err());
        for condition in [
            Condition::In(vec!["pro".into(), "te\0am".into()]),
            Condition::NotIn(vec!["\0".into()]),
            Condition::EndsWith("@corp\0".into()),
        ] {
            let error = group("", rule(condition)).validate().unwrap_err();
            assert!(error.to_string().contains("NUL"), "{error}");
        }
        assert!("plan in [pro, te\0am]".parse::<Rule>().is_err());
        assert!("email ends_with @x\0".parse::<Rule>().is_err());
    }
}
