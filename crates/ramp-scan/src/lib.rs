//! Finding references to feature flags in source code, for `ramp scan`: which files and lines
//! name which flag, in the vocabularies Ramp's users write (Ramp's Rust API, the Ruby gem's
//! `active?`, OpenFeature SDKs in JavaScript/TypeScript, Java, C#, Python and Go), plus a
//! project's own patterns and aliases from `.ramp/scan.toml`.
//!
//! No store and no network here: the caller compares the references with the defined flags
//! ([`Comparison`]). Walking honours `.gitignore` (the `ignore` crate) and runs on every core.
//!
//! ```
//! let directory = tempfile::tempdir().unwrap();
//! std::fs::write(directory.path().join("app.rb"), "if $rollout.active?(:chat, user)\n").unwrap();
//! let scan = ramp_scan::Scanner::new(ramp_scan::Config::default()).unwrap();
//! let found = scan.scan(&[directory.path()]).unwrap();
//! assert_eq!(found.references[0].feature, "chat");
//! assert_eq!(found.references[0].line, 1);
//! ```

mod compare;
mod config;
mod error;
mod patterns;
mod walk;

pub use compare::Comparison;
pub use config::Config;
pub use error::ScanError;
pub use patterns::Language;
pub use walk::{Reference, ScanResult, Scanner};
