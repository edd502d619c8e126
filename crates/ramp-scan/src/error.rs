//! `ScanError`: why a scan could not run (an unreadable configuration, a bad pattern, a path
//! that does not exist). Files that cannot be read during a scan are counted, not errors.

use std::path::PathBuf;

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// `.ramp/scan.toml` could not be read or parsed.
    #[error("cannot use {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A pattern from the configuration is not a regular expression with one capture group.
    #[error("invalid pattern {pattern:?}: {reason}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A path to scan does not exist.
    #[error("{path}: no such file or directory")]
    Missing {
        /// The path as given.
        path: PathBuf,
    },
}
