//! `Scanner` on fixture trees: each language's calls, a project's own patterns and aliases,
//! files git ignores, hidden, binary and oversized files, routing code, and the comparison
//! with the defined flags.

use std::fs;
use std::path::Path;

use ramp_scan::{Comparison, Config, Scanner};

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn fixture() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(
        root,
        "src/checkout.rs",
        "fn pay() {\n    if client.is_active(\"new-checkout\", &user) {}\n}\n",
    );
    write(
        root,
        "app/models/user.rb",
        "def beta?\n  $rollout.active?(:beta_search, self)\nend\n",
    );
    write(
        root,
        "config/routes.rb",
        "get '/x' if $rollout.active?(:new_routes, nil)\n",
    );
    write(
        root,
        "web/app.tsx",
        "const dark = await client.getBooleanValue('dark-mode', false);\n",
    );
    write(
        root,
        "svc/main.go",
        "ok, _ := client.BooleanValue(ctx, \"fast-path\", false, ec)\n",
    );
    write(
        root,
        "jobs/run.py",
        "if client.get_boolean_value(\"nightly\", False):\n    pass\n",
    );
    write(root, "notes.md", "client.is_active(\"only-in-docs\")\n");
    write(root, ".gitignore", "vendor/\n");
    write(root, "vendor/lib.rb", "$rollout.active?(:vendored, u)\n");
    write(root, ".hidden/tool.rb", "$rollout.active?(:hidden, u)\n");
    write(
        root,
        "web/constants.ts",
        "export const FORM = NEW_FORM_FLAG; // aliased\n",
    );
    write(root, "lib/own.rb", "if feature_on?(\"own-helper\")\n");
    fs::write(root.join("src/blob.rs"), b"is_active(\"binary\")\0\0").unwrap();
    let big = "x".repeat(5 * 1024 * 1024);
    write(root, "src/huge.rs", &format!("is_active(\"huge\")\n{big}"));
    directory
}

#[test]
fn every_language_and_the_project_s_own_patterns_are_found() {
    let tree = fixture();
    let config = Config {
        patterns: vec![r#"feature_on\?\("(?P<name>[^"]+)""#.into()],
        aliases: [("NEW_FORM_FLAG".to_owned(), "new-form".to_owned())].into(),
        extensions: Vec::new(),
    };
    let result = Scanner::new(config).unwrap().scan(&[tree.path()]).unwrap();
    let found: Vec<(String, usize)> = result
        .references
        .iter()
        .map(|reference| (reference.feature.clone(), reference.line))
        .collect();
    let mut names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "beta_search",
            "dark-mode",
            "fast-path",
            "new-checkout",
            "new-form",
            "new_routes",
            "nightly",
            "own-helper"
        ]
    );
    let checkout = &result
        .references
        .iter()
        .find(|r| r.feature == "new-checkout")
        .unwrap();
    assert_eq!(checkout.line, 2);
    assert!(
        checkout.context.starts_with("if client.is_active"),
        "{checkout:?}"
    );
    let alias = result
        .references
        .iter()
        .find(|r| r.feature == "new-form")
        .unwrap();
    assert_eq!(alias.alias.as_deref(), Some("NEW_FORM_FLAG"));
    let routes: Vec<&str> = result
        .references
        .iter()
        .filter(|reference| reference.in_routes)
        .map(|reference| reference.feature.as_str())
        .collect();
    assert_eq!(routes, ["new_routes"]);
    // The binary and the oversized file were skipped, not read.
    assert_eq!(result.files_skipped, 2);
}

#[test]
fn defined_flags_are_compared_with_the_references() {
    let tree = fixture();
    let result = Scanner::new(Config::default())
        .unwrap()
        .scan(&[tree.path()])
        .unwrap();
    let comparison = Comparison::new(&result.references, ["new-checkout", "dark-mode", "retired"]);
    assert_eq!(comparison.unreferenced, ["retired"]);
    assert_eq!(comparison.referenced.len(), 2);
    assert!(comparison.undefined.contains_key("beta_search"));
    assert!(
        !comparison.undefined.contains_key("vendored"),
        "git ignores vendor/"
    );
}

#[test]
fn a_bad_pattern_or_path_is_an_error_naming_it() {
    let bad = Config {
        patterns: vec!["no_group\\(".into()],
        ..Config::default()
    };
    let error = Scanner::new(bad).unwrap_err().to_string();
    assert!(error.contains("no_group"), "{error}");
    let error = Scanner::new(Config::default())
        .unwrap()
        .scan(&["/no/such/tree"])
        .unwrap_err()
        .to_string();
    assert!(error.contains("/no/such/tree"), "{error}");
}
