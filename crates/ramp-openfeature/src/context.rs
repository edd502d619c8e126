//! From OpenFeature's evaluation context to Ramp's: the targeting key is the user id, and
//! every custom field is an attribute, as the server's OFREP endpoint reads them.
//!
//! Values become JSON, which stored groups' rules compare: booleans, integers and strings as
//! they are; floats unless they are NaN or infinite (JSON has no such numbers, so the field is
//! left out and a rule on it does not match); date-times as Unix seconds, so `>=` rules work
//! on them; structures only when they hold a `serde_json::Value` (any other type is opaque to
//! Ramp and left out).

use open_feature::{EvaluationContext, EvaluationContextFieldValue};
use ramp_core::Context;
use serde_json::Value;

/// Ramp's context for an OpenFeature evaluation context. An empty targeting key is
/// anonymous, like a missing one.
pub fn to_ramp_context(context: &EvaluationContext) -> Context {
    let mut ramp = Context::anonymous();
    ramp.user_id = context
        .targeting_key
        .as_ref()
        .filter(|key| !key.is_empty())
        .cloned();
    for (name, value) in &context.custom_fields {
        if let Some(value) = to_json(value) {
            ramp.attributes.insert(name.clone(), value);
        }
    }
    ramp
}

fn to_json(value: &EvaluationContextFieldValue) -> Option<Value> {
    match value {
        EvaluationContextFieldValue::Bool(value) => Some(Value::Bool(*value)),
        EvaluationContextFieldValue::Int(value) => Some(Value::from(*value)),
        EvaluationContextFieldValue::Float(value) => {
            serde_json::Number::from_f64(*value).map(Value::Number)
        }
        EvaluationContextFieldValue::String(value) => Some(Value::String(value.clone())),
        EvaluationContextFieldValue::DateTime(moment) => Some(Value::from(moment.unix_timestamp())),
        EvaluationContextFieldValue::Struct(structure) => {
            structure.as_ref().downcast_ref::<Value>().cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_targeting_key_is_the_user_and_fields_are_attributes() {
        let context = EvaluationContext::default()
            .with_targeting_key("user-42")
            .with_custom_field("plan", "pro")
            .with_custom_field("age", 30)
            .with_custom_field("beta", true)
            .with_custom_field("score", 0.5)
            .with_custom_field("bad", f64::NAN)
            .with_custom_field(
                "address",
                EvaluationContextFieldValue::new_struct(serde_json::json!({"country": "FR"})),
            )
            .with_custom_field("opaque", EvaluationContextFieldValue::new_struct(7u8));
        let ramp = to_ramp_context(&context);
        assert_eq!(ramp.user_id(), Some("user-42"));
        assert_eq!(ramp.attributes["plan"], "pro");
        assert_eq!(ramp.attributes["age"], 30);
        assert_eq!(ramp.attributes["beta"], true);
        assert_eq!(ramp.attributes["score"], 0.5);
        assert_eq!(ramp.attributes["address"]["country"], "FR");
        assert!(!ramp.attributes.contains_key("bad"));
        assert!(!ramp.attributes.contains_key("opaque"));
    }

    #[test]
    fn an_empty_targeting_key_is_anonymous() {
        let context = EvaluationContext::default().with_targeting_key("");
        assert_eq!(to_ramp_context(&context).user_id(), None);
        assert_eq!(
            to_ramp_context(&EvaluationContext::default()).user_id(),
            None
        );
    }
}
