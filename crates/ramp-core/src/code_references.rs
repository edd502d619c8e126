//! Code references as stored: the latest scan of each repository (`ramp scan --upload`), which
//! places in code name which flag, and the bounds every upload must keep. A new scan of a
//! repository replaces its previous one whole, so the stored references are always one
//! scan's, never a mix.
//!
//! Pure: the scan's time is given by whoever received it (the server's clock), never read here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The longest repository name, in bytes.
pub const MAX_REPOSITORY_BYTES: usize = 200;
/// The longest commit, in bytes (a SHA-256 commit id is 64).
pub const MAX_COMMIT_BYTES: usize = 100;
/// The most references one scan may hold.
pub const MAX_REFERENCES: usize = 20_000;
/// The longest file path, in bytes.
pub const MAX_FILE_BYTES: usize = 1_000;
/// The longest flag name as found in code, in bytes (a typo is kept, so it is not a
/// `FeatureName`).
pub const MAX_REFERENCED_NAME_BYTES: usize = 200;
/// The longest line of context, in characters (the scanner cuts lines to 200 plus `…`).
pub const MAX_CONTEXT_CHARS: usize = 201;

/// One place in code that names a flag, as uploaded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CodeReference {
    /// The flag named (possibly one that is not defined).
    pub feature: String,
    /// The file, relative to the repository's root, with `/` separators.
    pub file: String,
    /// Its line, from 1.
    pub line: u32,
    /// The line itself, trimmed and cut.
    pub context: String,
}

/// One repository's scan: what replaces its stored references.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeScan {
    /// The repository's name (`org/app`).
    pub repository: String,
    /// The commit scanned.
    pub commit: String,
    /// When the server received it.
    pub scanned_at: DateTime<Utc>,
    /// Every reference found.
    pub references: Vec<CodeReference>,
}

/// A stored reference to one feature, with the scan it came from: what a feature page lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureReference {
    /// The repository.
    pub repository: String,
    /// The commit its latest scan saw.
    pub commit: String,
    /// When that scan was received.
    pub scanned_at: DateTime<Utc>,
    /// The file.
    pub file: String,
    /// The line, from 1.
    pub line: u32,
    /// The line's text.
    pub context: String,
}

impl CodeScan {
    /// Checks every bound; a scan that breaks one must store nothing.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_text(
            "repository",
            &self.repository,
            MAX_REPOSITORY_BYTES,
            "bytes",
        )?;
        check_text("commit", &self.commit, MAX_COMMIT_BYTES, "bytes")?;
        if self.references.len() > MAX_REFERENCES {
            return Err(CoreError::InvalidCodeScan {
                field: "references",
                reason: format!(
                    "holds {} references; at most {MAX_REFERENCES} are accepted",
                    self.references.len()
                ),
            });
        }
        for reference in &self.references {
            reference.validate()?;
        }
        Ok(())
    }

    /// The references to `feature`, with this scan's repository, commit and time.
    pub fn references_to<'a>(
        &'a self,
        feature: &'a str,
    ) -> impl Iterator<Item = FeatureReference> + 'a {
        self.references
            .iter()
            .filter(move |reference| reference.feature == feature)
            .map(|reference| FeatureReference {
                repository: self.repository.clone(),
                commit: self.commit.clone(),
                scanned_at: self.scanned_at,
                file: reference.file.clone(),
                line: reference.line,
                context: reference.context.clone(),
            })
    }
}

impl CodeReference {
    /// Checks this reference's bounds.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_text(
            "references.feature",
            &self.feature,
            MAX_REFERENCED_NAME_BYTES,
            "bytes",
        )?;
        check_text("references.file", &self.file, MAX_FILE_BYTES, "bytes")?;
        if self.line == 0 {
            return Err(CoreError::InvalidCodeScan {
                field: "references.line",
                reason: "must be 1 or more".to_owned(),
            });
        }
        // Context may be empty (a blank line cannot name a flag, but nothing breaks) and may
        // hold a tab; other control characters would garble a terminal.
        let characters = self.context.chars().count();
        if characters > MAX_CONTEXT_CHARS
            || self
                .context
                .chars()
                .any(|character| character.is_control() && character != '\t')
        {
            return Err(CoreError::InvalidCodeScan {
                field: "references.context",
                reason: format!(
                    "must be at most {MAX_CONTEXT_CHARS} characters without line breaks or control characters"
                ),
            });
        }
        Ok(())
    }
}

/// Sorts feature references the way every store returns them: by repository, file, line.
pub fn sort_feature_references(references: &mut [FeatureReference]) {
    references.sort_by(|left, right| {
        (&left.repository, &left.file, left.line).cmp(&(&right.repository, &right.file, right.line))
    });
}

fn check_text(field: &'static str, value: &str, limit: usize, unit: &str) -> Result<(), CoreError> {
    if value.is_empty() || value.len() > limit || value.chars().any(char::is_control) {
        return Err(CoreError::InvalidCodeScan {
            field,
            reason: format!("must be 1 to {limit} {unit} without control characters"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(references: Vec<CodeReference>) -> CodeScan {
        CodeScan {
            repository: "org/app".to_owned(),
            commit: "abc123".to_owned(),
            scanned_at: DateTime::UNIX_EPOCH,
            references,
        }
    }

    fn reference(feature: &str, file: &str, line: u32) -> CodeReference {
        CodeReference {
            feature: feature.to_owned(),
            file: file.to_owned(),
            line,
            context: format!("active?(:{feature})"),
        }
    }

    fn field_of(result: Result<(), CoreError>) -> &'static str {
        match result {
            Err(CoreError::InvalidCodeScan { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_scan_within_bounds_is_valid() {
        assert_eq!(
            scan(vec![reference("chat", "app.rb", 1)]).validate(),
            Ok(())
        );
    }

    #[test]
    fn each_bound_names_its_field() {
        let mut long_name = scan(Vec::new());
        long_name.repository = "r".repeat(MAX_REPOSITORY_BYTES + 1);
        assert_eq!(field_of(long_name.validate()), "repository");
        let mut no_commit = scan(Vec::new());
        no_commit.commit.clear();
        assert_eq!(field_of(no_commit.validate()), "commit");
        let many = scan(vec![reference("chat", "app.rb", 1); MAX_REFERENCES + 1]);
        assert_eq!(field_of(many.validate()), "references");
        let mut line_zero = reference("chat", "app.rb", 1);
        line_zero.line = 0;
        assert_eq!(
            field_of(scan(vec![line_zero]).validate()),
            "references.line"
        );
        let mut long_context = reference("chat", "app.rb", 1);
        long_context.context = "x".repeat(MAX_CONTEXT_CHARS + 1);
        assert_eq!(
            field_of(scan(vec![long_context]).validate()),
            "references.context"
        );
        let mut broken_context = reference("chat", "app.rb", 1);
        broken_context.context = "a\nb".to_owned();
        assert_eq!(
            field_of(scan(vec![broken_context]).validate()),
            "references.context"
        );
        let long_file = reference("chat", &"f".repeat(MAX_FILE_BYTES + 1), 1);
        assert_eq!(
            field_of(scan(vec![long_file]).validate()),
            "references.file"
        );
    }

    #[test]
    fn references_to_one_feature_carry_the_scan() {
        let found = scan(vec![
            reference("chat", "app.rb", 3),
            reference("search", "app.rb", 4),
        ]);
        let chat: Vec<FeatureReference> = found.references_to("chat").collect();
        assert_eq!(chat.len(), 1);
        assert_eq!(chat[0].repository, "org/app");
        assert_eq!(chat[0].commit, "abc123");
        assert_eq!(chat[0].line, 3);
    }
}
