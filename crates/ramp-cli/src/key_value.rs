//! `KEY=VALUE` arguments (`data set`, `check --attr`): the value is read as JSON when it is
//! valid JSON (`30`, `true`, `["a"]`, `null`), else taken as text, so people need not quote
//! plain words on the command line.

use anyhow::{anyhow, bail};
use serde_json::Value;

/// Splits `KEY=VALUE`; `what` names the argument in messages ("data entry", "attribute").
pub fn parse(text: &str, what: &str) -> anyhow::Result<(String, Value)> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("{what} {text:?} must be KEY=VALUE"))?;
    if key.is_empty() {
        bail!("{what} {text:?} has an empty key: expected KEY=VALUE");
    }
    if value.is_empty() {
        bail!("{what} {text:?} has no value after '=': expected KEY=VALUE");
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_json_when_they_parse_and_text_otherwise() {
        let cases = [
            ("age=30", json!(30)),
            ("beta=true", json!(true)),
            ("plan=pro", json!("pro")),
            ("name=\"quoted\"", json!("quoted")),
            ("tags=[1,2]", json!([1, 2])),
            ("owner=null", Value::Null),
            ("url=https://x.io/a=b", json!("https://x.io/a=b")),
            ("words=two words", json!("two words")),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text, "entry").unwrap().1, expected, "{text}");
        }
    }

    #[test]
    fn missing_parts_are_errors() {
        for text in ["novalue", "key=", "=value"] {
            assert!(parse(text, "entry").is_err(), "{text}");
        }
    }
}
