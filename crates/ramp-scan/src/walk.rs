//! The scan itself: walking the given paths in parallel (honouring `.gitignore`, `.ignore` and
//! hidden files as git does), reading each file of a known language once, and matching every
//! pattern of its language, the project's own patterns and its aliases, line by line.
//!
//! Bounded: a file larger than [`MAX_FILE_BYTES`] or holding a NUL byte (binary) is skipped and
//! counted, and a reference's context line is cut to [`MAX_CONTEXT_CHARS`].

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};
use regex::Regex;
use serde::Serialize;

use crate::patterns::built_in;
use crate::{Config, Language, ScanError};

/// Files larger than this are skipped (generated bundles, data): flags live in code.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// A reference's line of context is cut to this many characters.
pub const MAX_CONTEXT_CHARS: usize = 200;

/// One place in code that names a flag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reference {
    /// The file, as reached from the path given.
    pub file: PathBuf,
    /// Its line, from 1.
    pub line: usize,
    /// The flag named.
    pub feature: String,
    /// The line, trimmed and cut.
    pub context: String,
    /// The identifier from `.ramp/scan.toml`'s aliases that named the flag, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether the file is routing code (under `routes`, `controllers` or `handlers`, or a
    /// route table such as `routes.rb`): graduation removes those references first.
    pub in_routes: bool,
}

/// What a scan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanResult {
    /// Every reference, sorted by file, line and flag.
    pub references: Vec<Reference>,
    /// Files read and matched.
    pub files_scanned: usize,
    /// Files of a scanned language skipped: too large, binary or unreadable.
    pub files_skipped: usize,
}

/// A scanner: the patterns compiled once, for any number of scans.
#[derive(Debug)]
pub struct Scanner {
    languages: HashMap<Language, Vec<Regex>>,
    extra: Vec<Regex>,
    aliases: Option<(Regex, HashMap<String, String>)>,
    extensions: HashSet<String>,
}

impl Scanner {
    /// Compiles the built-in patterns and `config`'s; a configured pattern must compile and
    /// have a `name` group or exactly one capture group.
    pub fn new(config: Config) -> Result<Scanner, ScanError> {
        let languages = Language::ALL
            .into_iter()
            .map(|language| (language, built_in(language)))
            .collect();
        let mut extra = Vec::new();
        for pattern in &config.patterns {
            let invalid = |reason: String| ScanError::Pattern {
                pattern: pattern.clone(),
                reason,
            };
            let compiled = Regex::new(pattern).map_err(|error| invalid(error.to_string()))?;
            let named = compiled
                .capture_names()
                .flatten()
                .any(|name| name == "name");
            if !named && compiled.captures_len() != 2 {
                return Err(invalid(
                    "it needs a (?P<name>...) group or exactly one capture group: the flag".into(),
                ));
            }
            extra.push(compiled);
        }
        let aliases = if config.aliases.is_empty() {
            None
        } else {
            let words: Vec<String> = config
                .aliases
                .keys()
                .map(|word| regex::escape(word))
                .collect();
            let pattern = format!(r"\b(?P<alias>{})\b", words.join("|"));
            let compiled = Regex::new(&pattern).map_err(|error| ScanError::Pattern {
                pattern: "aliases".into(),
                reason: error.to_string(),
            })?;
            Some((compiled, config.aliases.into_iter().collect()))
        };
        Ok(Scanner {
            languages,
            extra,
            aliases,
            extensions: config.extensions.into_iter().collect(),
        })
    }

    /// Scans every path (files or directories).
    pub fn scan<P: AsRef<Path>>(&self, paths: &[P]) -> Result<ScanResult, ScanError> {
        let Some((first, rest)) = paths.split_first() else {
            return Ok(ScanResult::default());
        };
        for path in paths {
            if !path.as_ref().exists() {
                return Err(ScanError::Missing {
                    path: path.as_ref().to_owned(),
                });
            }
        }
        let mut walk = WalkBuilder::new(first);
        for path in rest {
            walk.add(path);
        }
        // `.gitignore` counts whether or not the tree is a git checkout (an unpacked archive,
        // a CI workspace without `.git`).
        walk.require_git(false);
        let found = Mutex::new(Vec::new());
        let scanned = AtomicUsize::new(0);
        let skipped = AtomicUsize::new(0);
        walk.build_parallel().run(|| {
            Box::new(|entry| {
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                    return WalkState::Continue;
                }
                let path = entry.path();
                let extension = path.extension().and_then(|extension| extension.to_str());
                let language = extension.and_then(Language::of_extension);
                let extra_extension = extension.is_some_and(|ext| self.extensions.contains(ext));
                if language.is_none() && !extra_extension {
                    return WalkState::Continue;
                }
                match read_text(path) {
                    Some(text) => {
                        scanned.fetch_add(1, Ordering::Relaxed);
                        let references = self.references_in(path, &text, language);
                        if !references.is_empty() {
                            found
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .extend(references);
                        }
                    }
                    None => {
                        skipped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                WalkState::Continue
            })
        });
        let mut references = found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        references.sort();
        references.dedup();
        Ok(ScanResult {
            references,
            files_scanned: scanned.into_inner(),
            files_skipped: skipped.into_inner(),
        })
    }

    /// The references in one file's text.
    fn references_in(&self, path: &Path, text: &str, language: Option<Language>) -> Vec<Reference> {
        let built_in = language
            .and_then(|language| self.languages.get(&language))
            .map_or(&[][..], Vec::as_slice);
        let in_routes = is_routing(path);
        let mut found = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let mut add = |feature: &str, alias: Option<&str>| {
                found.push(Reference {
                    file: path.to_owned(),
                    line: index + 1,
                    feature: feature.to_owned(),
                    context: context(line),
                    alias: alias.map(str::to_owned),
                    in_routes,
                });
            };
            for pattern in built_in.iter().chain(&self.extra) {
                for captures in pattern.captures_iter(line) {
                    let name = captures.name("name").or_else(|| captures.get(1));
                    if let Some(name) = name.filter(|name| is_flag_name(name.as_str())) {
                        add(name.as_str(), None);
                    }
                }
            }
            if let Some((pattern, flags)) = &self.aliases {
                for found_alias in pattern.captures_iter(line) {
                    let alias = &found_alias["alias"];
                    if let Some(flag) = flags.get(alias) {
                        add(flag, Some(alias));
                    }
                }
            }
        }
        found
    }
}

/// A file's text, or `None` when it is too large, binary or unreadable.
fn read_text(path: &Path) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if metadata.len() > MAX_FILE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    if bytes.contains(&0) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The characters and length of `patterns::NAME`: a configured pattern may capture anything.
fn is_flag_name(text: &str) -> bool {
    (1..=200).contains(&text.len())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"_.:-".contains(&byte))
}

fn context(line: &str) -> String {
    let trimmed = line.trim();
    if trimmed.chars().count() <= MAX_CONTEXT_CHARS {
        return trimmed.to_owned();
    }
    trimmed.chars().take(MAX_CONTEXT_CHARS).collect::<String>() + "…"
}

/// Routing code, which the talk says to remove first when a flag graduates: one definition,
/// the core's, shared with the server's removal checklist.
fn is_routing(path: &Path) -> bool {
    ramp_core::is_routing_file(&path.to_string_lossy())
}
