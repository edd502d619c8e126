//! The removal checklist shown when a feature graduates: the code that still names it, grouped
//! by file, routing code first ("start by removing the routes"), then the rest. One definition
//! for the CLI and the web UI, which both read it from the server.

use serde::{Deserialize, Serialize};

use crate::FeatureReference;

/// Directory and file names (before any extension) that mark routing code: route tables
/// (`routes.rb`, `urls.py`, `router.ts`) and the directories requests enter by.
const ROUTING_NAMES: &[&str] = &[
    "routes",
    "route",
    "router",
    "controllers",
    "handlers",
    "urls",
];

/// Whether a path (`/` or `\` separated) is routing code: a directory or a file named in
/// [`ROUTING_NAMES`], ignoring case and a file's extensions.
pub fn is_routing_file(path: &str) -> bool {
    path.split(['/', '\\']).any(|part| {
        let stem = part.split('.').next().unwrap_or_default();
        ROUTING_NAMES
            .iter()
            .any(|name| stem.eq_ignore_ascii_case(name))
    })
}

/// One line to remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistLine {
    /// The line, from 1.
    pub line: u32,
    /// Its text when last scanned.
    pub context: String,
}

/// One file to clean up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistFile {
    /// The repository.
    pub repository: String,
    /// The file.
    pub file: String,
    /// Whether it is routing code (listed first).
    pub routes: bool,
    /// Its lines naming the feature, in order.
    pub lines: Vec<ChecklistLine>,
}

/// Groups references by file: routing files first, then the others, each part by repository
/// and file, lines in order.
pub fn removal_checklist(references: &[FeatureReference]) -> Vec<ChecklistFile> {
    let mut files: Vec<ChecklistFile> = Vec::new();
    let mut sorted: Vec<&FeatureReference> = references.iter().collect();
    sorted.sort_by(|left, right| {
        (
            !is_routing_file(&left.file),
            &left.repository,
            &left.file,
            left.line,
        )
            .cmp(&(
                !is_routing_file(&right.file),
                &right.repository,
                &right.file,
                right.line,
            ))
    });
    for reference in sorted {
        let line = ChecklistLine {
            line: reference.line,
            context: reference.context.clone(),
        };
        match files.last_mut() {
            Some(last)
                if last.repository == reference.repository && last.file == reference.file =>
            {
                last.lines.push(line);
            }
            _ => files.push(ChecklistFile {
                repository: reference.repository.clone(),
                file: reference.file.clone(),
                routes: is_routing_file(&reference.file),
                lines: vec![line],
            }),
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn at(repository: &str, file: &str, line: u32) -> FeatureReference {
        FeatureReference {
            repository: repository.to_owned(),
            commit: "c1".to_owned(),
            scanned_at: DateTime::UNIX_EPOCH,
            file: file.to_owned(),
            line,
            context: format!("line {line}"),
        }
    }

    #[test]
    fn routing_files_are_recognised_by_directory_or_table_name() {
        for routing in [
            "config/routes.rb",
            "app/controllers/chat_controller.rb",
            "src/handlers/chat.rs",
            "site/urls.py",
            "web/Router.tsx",
            "src\\routes\\index.js",
        ] {
            assert!(is_routing_file(routing), "{routing}");
        }
        for other in [
            "app/models/chat.rb",
            "src/routing_table_helpers.rs",
            "lib/controller.rb",
        ] {
            assert!(!is_routing_file(other), "{other}");
        }
    }

    #[test]
    fn routes_come_first_then_files_in_order_with_lines_grouped() {
        let checklist = removal_checklist(&[
            at("app", "app/models/chat.rb", 9),
            at("app", "config/routes.rb", 4),
            at("app", "app/models/chat.rb", 2),
            at("api", "src/views.py", 1),
            at("app", "app/controllers/chat_controller.rb", 7),
        ]);
        let order: Vec<(&str, bool, Vec<u32>)> = checklist
            .iter()
            .map(|file| {
                (
                    file.file.as_str(),
                    file.routes,
                    file.lines.iter().map(|line| line.line).collect(),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                ("app/controllers/chat_controller.rb", true, vec![7]),
                ("config/routes.rb", true, vec![4]),
                ("src/views.py", false, vec![1]),
                ("app/models/chat.rb", false, vec![2, 9]),
            ]
        );
    }

    #[test]
    fn the_same_path_in_two_repositories_is_two_files() {
        let checklist = removal_checklist(&[at("a", "x.rb", 1), at("b", "x.rb", 1)]);
        assert_eq!(checklist.len(), 2);
    }

    #[test]
    fn no_references_make_an_empty_checklist() {
        assert!(removal_checklist(&[]).is_empty());
    }
}
