//! `ramp scan --upload`: sends a scan's references to the store (through a server with
//! `--server`, where a reader's token is enough), as the latest scan of one repository. The
//! repository and commit come from git in the scanned directory unless `--repository` and
//! `--commit` say otherwise; files are sent relative to the repository's root, so every
//! machine's checkout uploads the same paths.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use chrono::Utc;
use ramp_core::{CodeReference, CodeScan};
use ramp_scan::ScanResult;

use super::Session;

/// Where a scan came from.
#[derive(Debug)]
pub struct Origin {
    /// The repository's name.
    pub repository: String,
    /// The commit scanned.
    pub commit: String,
    /// The repository's root, which uploaded paths are relative to (`None`: not in git).
    pub root: Option<PathBuf>,
}

/// Finds the repository and commit of `directory`, with the names given winning over git's.
pub fn origin(
    directory: &Path,
    repository: Option<String>,
    commit: Option<String>,
) -> anyhow::Result<Origin> {
    let root = git(directory, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let repository = match repository {
        Some(name) => name,
        None => git(directory, &["remote", "get-url", "origin"])
            .map(|url| repository_of_url(&url))
            .or_else(|| {
                root.as_deref()
                    .and_then(Path::file_name)
                    .map(|name| name.to_string_lossy().into_owned())
            })
            .context(
                "cannot tell the repository: the scanned directory is not in git; give --repository NAME",
            )?,
    };
    let commit = match commit {
        Some(commit) => commit,
        None => git(directory, &["rev-parse", "HEAD"])
            .context("cannot tell the commit from git; give --commit SHA")?,
    };
    Ok(Origin {
        repository,
        commit,
        root,
    })
}

/// `org/app` from `git@github.com:org/app.git` or `https://host/org/app.git`.
pub fn repository_of_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    // The path after the host: after `host:` for scp-like URLs, after `host/` otherwise.
    let path = match trimmed.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or(rest, |(_, path)| path),
        None => trimmed.split_once(':').map_or(trimmed, |(_, path)| path),
    };
    path.trim_start_matches('/').to_owned()
}

/// A git command's trimmed output, or `None` when git fails or is missing.
fn git(directory: &Path, arguments: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(directory)
        .args(arguments)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

/// The scan as stored: paths relative to the repository's root with `/` separators.
pub fn code_scan(found: &ScanResult, origin: &Origin) -> anyhow::Result<CodeScan> {
    let root = origin
        .root
        .as_deref()
        .and_then(|root| root.canonicalize().ok());
    let mut references = Vec::with_capacity(found.references.len());
    for reference in &found.references {
        let relative = root
            .as_deref()
            .and_then(|root| {
                let file = reference.file.canonicalize().ok()?;
                file.strip_prefix(root).ok().map(Path::to_path_buf)
            })
            .unwrap_or_else(|| reference.file.clone());
        let file = relative.to_string_lossy().replace('\\', "/");
        references.push(CodeReference {
            feature: reference.feature.clone(),
            file: file.trim_start_matches("./").to_owned(),
            line: u32::try_from(reference.line).unwrap_or(u32::MAX),
            context: reference.context.clone(),
        });
    }
    let scan = CodeScan {
        repository: origin.repository.clone(),
        commit: origin.commit.clone(),
        // A server stamps the scan with its own clock; a store opened directly keeps this.
        scanned_at: Utc::now(),
        references,
    };
    if let Err(error) = scan.validate() {
        bail!("cannot upload this scan: {error}");
    }
    Ok(scan)
}

/// Uploads the scan.
pub async fn upload(session: &Session, scan: &CodeScan) -> anyhow::Result<()> {
    session
        .rollout
        .store()
        .put_code_references(scan)
        .await
        .with_context(|| format!("uploading the references of {}", scan.repository))
}

#[cfg(test)]
mod tests {
    use super::repository_of_url;

    #[test]
    fn repository_names_come_from_remote_urls() {
        assert_eq!(repository_of_url("git@github.com:org/app.git"), "org/app");
        assert_eq!(
            repository_of_url("https://github.com/org/app.git"),
            "org/app"
        );
        assert_eq!(
            repository_of_url("https://git.example/group/sub/app/"),
            "group/sub/app"
        );
        assert_eq!(repository_of_url("ssh://git@host:22/org/app"), "org/app");
    }
}
