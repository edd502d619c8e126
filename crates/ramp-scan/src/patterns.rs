//! What a reference to a flag looks like in each language: a file's extension picks its
//! language, and each language has regular expressions whose `name` group is the flag. Names
//! are held to Ramp's name characters, so a string that could not be a flag is never reported.

use regex::Regex;

/// A flag name as it can appear in code: Ramp's name characters, 1 to 200 of them.
pub(crate) const NAME: &str = r"(?P<name>[A-Za-z0-9_.:-]{1,200})";

/// The languages with built-in patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Ramp's own Rust API (`is_active("x"`, `explain("x"`) and its gem vocabulary.
    Rust,
    /// The rollout gem (`active?(:x`, `activate_user("x"`), in Ruby and templates.
    Ruby,
    /// OpenFeature SDKs of JavaScript/TypeScript, Java, Kotlin, C# (`getBooleanValue("x"`).
    OpenFeature,
    /// OpenFeature's Python SDK (`get_boolean_value("x"`).
    Python,
    /// OpenFeature's Go SDK (`BooleanValue(ctx, "x"`).
    Go,
}

impl Language {
    /// The language of a file with this extension (without the dot), if Ramp knows one.
    pub fn of_extension(extension: &str) -> Option<Language> {
        Some(match extension {
            "rs" => Language::Rust,
            "rb" | "erb" | "rake" | "haml" | "slim" => Language::Ruby,
            "js" | "jsx" | "mjs" | "cjs" | "ts" | "tsx" | "vue" | "svelte" | "java" | "kt"
            | "kts" | "cs" | "scala" | "groovy" => Language::OpenFeature,
            "py" => Language::Python,
            "go" => Language::Go,
            _ => return None,
        })
    }

    /// Every language, for compiling the patterns once.
    pub const ALL: [Language; 5] = [
        Language::Rust,
        Language::Ruby,
        Language::OpenFeature,
        Language::Python,
        Language::Go,
    ];

    /// The built-in patterns, each with a `name` group.
    fn sources(self) -> Vec<String> {
        let quoted = |calls: &str| format!(r#"\b(?:{calls})\(\s*["']{NAME}["']"#);
        match self {
            Language::Rust => vec![format!(
                r#"\b(?:is_active|explain|evaluate|stamp|feature|activate\w*|deactivate\w*)\(\s*"{NAME}""#
            )],
            Language::Ruby => vec![
                quoted(r"active\?|activate\w*|deactivate\w*|set_feature_data|clear_feature_data"),
                // Symbols, with or without parentheses: `active?(:chat, user)`, `active? :chat`.
                r"\b(?:active\?|activate\w*|deactivate\w*|set_feature_data|clear_feature_data)(?:\(\s*|\s+):(?P<name>[A-Za-z_][A-Za-z0-9_]{0,199})".to_owned(),
            ],
            Language::OpenFeature => vec![quoted(
                r"[gG]et(?:Boolean|String|Number|Integer|Float|Double|Object)(?:Value|Details)(?:Async)?",
            )],
            Language::Python => vec![quoted(
                r"get_(?:boolean|string|integer|float|object)_(?:value|details)",
            )],
            Language::Go => vec![format!(
                r#"\b(?:Boolean|String|Int|Float|Object)Value(?:Details)?\(\s*[^,()"]+,\s*"{NAME}""#
            )],
        }
    }
}

/// The compiled built-in patterns of one language.
pub(crate) fn built_in(language: Language) -> Vec<Regex> {
    language
        .sources()
        .iter()
        // Written above and covered by the tests: they always compile.
        .filter_map(|source| Regex::new(source).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(language: Language, line: &str) -> Vec<String> {
        built_in(language)
            .iter()
            .flat_map(|pattern| pattern.captures_iter(line))
            .map(|found| found["name"].to_owned())
            .collect()
    }

    #[test]
    fn every_built_in_pattern_compiles() {
        for language in Language::ALL {
            assert_eq!(
                built_in(language).len(),
                language.sources().len(),
                "{language:?}"
            );
        }
    }

    #[test]
    fn each_language_finds_its_calls() {
        let cases: &[(Language, &str, &[&str])] = &[
            (
                Language::Rust,
                r#"if client.is_active("new-checkout", &user) {"#,
                &["new-checkout"],
            ),
            (
                Language::Rust,
                r#"rollout.activate_user("chat", "1").await?;"#,
                &["chat"],
            ),
            (Language::Rust, r#"let name = "not-a-call";"#, &[]),
            (
                Language::Ruby,
                "if $rollout.active?(:chat, current_user)",
                &["chat"],
            ),
            (Language::Ruby, "$rollout.active? :chat, user", &["chat"]),
            (
                Language::Ruby,
                r#"$rollout.activate_group("new:ui", :staff)"#,
                &["new:ui"],
            ),
            (
                Language::OpenFeature,
                r#"await client.getBooleanValue('dark-mode', false)"#,
                &["dark-mode"],
            ),
            (
                Language::OpenFeature,
                r#"client.GetStringValueAsync("theme", "x")"#,
                &["theme"],
            ),
            (
                Language::Python,
                r#"client.get_boolean_value("beta_search", False)"#,
                &["beta_search"],
            ),
            (
                Language::Go,
                r#"v, _ := client.BooleanValue(ctx, "fast-path", false, ec)"#,
                &["fast-path"],
            ),
            (
                Language::OpenFeature,
                r#"getBooleanValue("has space")"#,
                &[],
            ),
        ];
        for (language, line, expected) in cases {
            assert_eq!(names(*language, line), *expected, "{language:?}: {line}");
        }
    }

    #[test]
    fn extensions_pick_languages() {
        assert_eq!(Language::of_extension("tsx"), Some(Language::OpenFeature));
        assert_eq!(Language::of_extension("erb"), Some(Language::Ruby));
        assert_eq!(Language::of_extension("md"), None);
    }
}
