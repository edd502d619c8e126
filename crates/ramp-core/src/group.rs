//! Stored groups: defined by product owners (not in code) as an explicit member list and/or
//! attribute rules over the evaluation context.
//!
//! Rules are parsed once into a typed enum; evaluation never parses text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Context, CoreError, GroupName, UserId};

/// A group kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredGroup {
    /// The group's name, as features list it.
    pub name: GroupName,
    /// What the group is for, for people.
    #[serde(default)]
    pub description: String,
    /// Users who belong whatever their attributes.
    #[serde(default)]
    pub members: Vec<UserId>,
    /// Attribute rules; a user whose context satisfies all of them belongs. No rules: only the
    /// members belong.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl StoredGroup {
    /// Whether the context's user belongs to this group.
    pub fn contains(&self, context: &Context) -> bool {
        if let Some(user_id) = context.user_id() {
            if self.members.iter().any(|member| member.as_str() == user_id) {
                return true;
            }
        }
        !self.rules.is_empty() && self.rules.iter().all(|rule| rule.matches(context))
    }
}

/// One condition on a context attribute. A context without the attribute never matches, not
/// even `not_in`: a rule cannot target users by what is unknown about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The attribute's name.
    pub attribute: String,
    /// The comparison.
    #[serde(flatten)]
    pub condition: Condition,
}

/// The comparison a rule makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operator", content = "value", rename_all = "snake_case")]
pub enum Condition {
    /// The attribute, as text, is one of these.
    In(Vec<String>),
    /// The attribute, as text, is none of these.
    NotIn(Vec<String>),
    /// The attribute is a string ending with this.
    EndsWith(String),
    /// The attribute is a number (or numeric string) at least this.
    AtLeast(f64),
    /// The attribute is a number (or numeric string) below this.
    Below(f64),
}

impl Rule {
    /// Whether the context satisfies this rule.
    pub fn matches(&self, context: &Context) -> bool {
        let Some(value) = context.attributes.get(&self.attribute) else {
            return false;
        };
        match &self.condition {
            Condition::In(values) => {
                is_scalar(value) && values.iter().any(|listed| scalar_equals(value, listed))
            }
            Condition::NotIn(values) => {
                is_scalar(value) && !values.iter().any(|listed| scalar_equals(value, listed))
            }
            Condition::EndsWith(suffix) => value
                .as_str()
                .is_some_and(|text| text.ends_with(suffix.as_str())),
            Condition::AtLeast(bound) => number_of(value).is_some_and(|number| number >= *bound),
            Condition::Below(bound) => number_of(value).is_some_and(|number| number < *bound),
        }
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Scalars compare with listed text so that `plan in [pro]` and `tier in [2]` both work whatever
/// JSON type the application sent; arrays, objects and null never match. No allocation: this
/// runs inside evaluation.
fn scalar_equals(value: &Value, listed: &str) -> bool {
    match value {
        Value::String(text) => text == listed,
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|number| listed.parse::<f64>() == Ok(number)),
        Value::Bool(flag) => listed == if *flag { "true" } else { "false" },
        _ => false,
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

impl FromStr for Rule {
    type Err = CoreError;

    /// Parses `ATTR in [a, b]`, `ATTR not_in [a]`, `ATTR ends_with @example.com`, `ATTR >= 18`,
    /// `ATTR < 5`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| CoreError::InvalidRule {
            rule: text.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim();
        let (attribute, rest) = trimmed
            .split_once(char::is_whitespace)
            .ok_or_else(|| invalid("expected ATTRIBUTE OPERATOR VALUE"))?;
        let rest = rest.trim_start();
        let (operator, operand) = rest
            .split_once(char::is_whitespace)
            .map(|(operator, operand)| (operator, operand.trim()))
            .ok_or_else(|| invalid("expected ATTRIBUTE OPERATOR VALUE"))?;
        if attribute.is_empty() || attribute.chars().any(|c| c.is_control()) {
            return Err(invalid(
                "the attribute name is empty or has control characters",
            ));
        }
        let number = || {
            operand
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite())
                .ok_or_else(|| invalid("expected a number after the operator"))
        };
        let condition = match operator {
            "in" => Condition::In(parse_list(operand).map_err(invalid)?),
            "not_in" => Condition::NotIn(parse_list(operand).map_err(invalid)?),
            "ends_with" => {
                if operand.is_empty() {
                    return Err(invalid("ends_with needs a suffix"));
                }
                Condition::EndsWith(operand.to_owned())
            }
            ">=" => Condition::AtLeast(number()?),
            "<" => Condition::Below(number()?),
            _ => {
                return Err(invalid(
                    "unknown operator: expected in, not_in, ends_with, >= or <",
                ))
            }
        };
        let rule = Rule {
            attribute: attribute.to_owned(),
            condition,
        };
        rule.validate()?;
        Ok(rule)
    }
}

/// `[a, b, c]` with optional quotes around each value.
fn parse_list(operand: &str) -> Result<Vec<String>, &'static str> {
    let inner = operand
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or("expected a list such as [a, b]")?;
    let values: Vec<String> = inner
        .split(',')
        .map(|value| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
        .collect();
    if values.is_empty() {
        return Err("the list is empty");
    }
    Ok(values)
}

impl fmt::Display for Rule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let attribute = &self.attribute;
        match &self.condition {
            Condition::In(values) => write!(formatter, "{attribute} in [{}]", values.join(", ")),
            Condition::NotIn(values) => {
                write!(formatter, "{attribute} not_in [{}]", values.join(", "))
            }
            Condition::EndsWith(suffix) => write!(formatter, "{attribute} ends_with {suffix}"),
            Condition::AtLeast(bound) => write!(formatter, "{attribute} >= {bound}"),
            Condition::Below(bound) => write!(formatter, "{attribute} < {bound}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(attributes: Value) -> Context {
        let mut context = Context::user("7");
        for (name, value) in attributes.as_object().unwrap() {
            context.attributes.insert(name.clone(), value.clone());
        }
        context
    }

    #[test]
    fn rules_match_as_documented() {
        let cases: &[(&str, Value, bool)] = &[
            ("plan in [pro, enterprise]", json!({"plan": "pro"}), true),
            ("plan in [pro, enterprise]", json!({"plan": "free"}), false),
            ("plan in [pro]", json!({}), false),
            ("tier in [2, 3]", json!({"tier": 2}), true),
            ("tier in [2, 3]", json!({"tier": 2.0}), true),
            ("tier in [2, 3]", json!({"tier": 4}), false),
            ("beta in [true]", json!({"beta": true}), true),
            ("beta in [true]", json!({"beta": false}), false),
            ("plan in [pro]", json!({"plan": ["pro"]}), false),
            ("plan not_in [free]", json!({"plan": null}), false),
            ("plan not_in [free]", json!({"plan": "pro"}), true),
            ("plan not_in [free]", json!({"plan": "free"}), false),
            ("plan not_in [free]", json!({}), false),
            (
                "email ends_with @example.com",
                json!({"email": "a@example.com"}),
                true,
            ),
            (
                "email ends_with @example.com",
                json!({"email": "a@other.com"}),
                false,
            ),
            ("email ends_with @example.com", json!({"email": 5}), false),
            ("age >= 18", json!({"age": 18}), true),
            ("age >= 18", json!({"age": "21"}), true),
            ("age >= 18", json!({"age": 17.9}), false),
            ("age < 18", json!({"age": 17}), true),
            ("age < 18", json!({"age": 18}), false),
            ("age < 18", json!({"age": "young"}), false),
        ];
        for (rule, attributes, expected) in cases {
            let parsed: Rule = rule.parse().unwrap();
            assert_eq!(
                parsed.matches(&context(attributes.clone())),
                *expected,
                "{rule} with {attributes}"
            );
        }
    }

    #[test]
    fn malformed_rules_are_rejected() {
        for rule in [
            "",
            "plan",
            "plan in",
            "plan in pro",
            "plan in []",
            "plan like [a]",
            "age >= old",
            "age < NaN",
        ] {
            assert!(rule.parse::<Rule>().is_err(), "{rule:?} was accepted");
        }
    }

    #[test]
    fn rules_print_as_they_parse() {
        for rule in [
            "plan in [pro, enterprise]",
            "email ends_with @x.io",
            "age >= 18",
            "age < 2.5",
        ] {
            assert_eq!(rule.parse::<Rule>().unwrap().to_string(), rule);
        }
    }

    #[test]
    fn members_or_all_rules_make_a_user_belong() {
        let group = StoredGroup {
            name: GroupName::new("staff").unwrap(),
            description: String::new(),
            members: vec![UserId::new("42").unwrap()],
            rules: vec![
                "email ends_with @corp.com".parse().unwrap(),
                "age >= 18".parse().unwrap(),
            ],
        };
        assert!(group.contains(&Context::user("42")));
        assert!(!group.contains(&Context::user("43")));
        let adult_staff = Context::user("43")
            .with_attribute("email", "x@corp.com")
            .with_attribute("age", 30);
        assert!(group.contains(&adult_staff));
        let minor = Context::user("43")
            .with_attribute("email", "x@corp.com")
            .with_attribute("age", 12);
        assert!(!group.contains(&minor));
        let members_only = StoredGroup {
            rules: vec![],
            ..group
        };
        assert!(!members_only.contains(&adult_staff));
    }
}
