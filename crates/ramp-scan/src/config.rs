//! `.ramp/scan.toml`: a project's own patterns (a function of its own that checks a flag) and
//! aliases (a constant that stands for a flag), and extra file extensions to read.
//!
//! ```toml
//! # Regular expressions with a `name` group (or one capture group) that is the flag.
//! patterns = ['feature_on\?\(\s*"(?P<name>[^"]+)"']
//! # Extensions (without the dot) scanned besides the built-in languages'.
//! extensions = ["liquid"]
//! # An identifier in code -> the flag it stands for.
//! [aliases]
//! NEW_FORM = "new-event-form"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ScanError;

/// The configuration file's place under a scanned root.
pub const CONFIG_PATH: &str = ".ramp/scan.toml";

/// A scan's configuration beyond the built-in languages.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Extra patterns, applied to every scanned file.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Identifier -> flag: each whole-word occurrence of the identifier is a reference.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Extra extensions to scan (with the extra patterns and aliases only).
    #[serde(default)]
    pub extensions: Vec<String>,
}

impl Config {
    /// The configuration under `root` (`root/.ramp/scan.toml`), or the default when there is
    /// none.
    pub fn load(root: &Path) -> Result<Config, ScanError> {
        let path: PathBuf = root.join(CONFIG_PATH);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(error) => {
                return Err(ScanError::Config {
                    path,
                    reason: error.to_string(),
                })
            }
        };
        toml::from_str(&text).map_err(|error| ScanError::Config {
            path,
            reason: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_the_default_and_a_bad_one_is_named() {
        let directory = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(directory.path()).unwrap(), Config::default());
        std::fs::create_dir(directory.path().join(".ramp")).unwrap();
        std::fs::write(directory.path().join(CONFIG_PATH), "patterns = 3").unwrap();
        let error = Config::load(directory.path()).unwrap_err().to_string();
        assert!(error.contains("scan.toml"), "{error}");
        std::fs::write(
            directory.path().join(CONFIG_PATH),
            "patterns = ['x\\(\"(?P<name>[^\"]+)\"']\n[aliases]\nNEW_FORM = \"new-form\"\n",
        )
        .unwrap();
        let config = Config::load(directory.path()).unwrap();
        assert_eq!(config.aliases["NEW_FORM"], "new-form");
        assert_eq!(config.patterns.len(), 1);
    }
}
