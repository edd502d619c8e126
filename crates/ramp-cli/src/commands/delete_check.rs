//! Why `ramp delete NAME` should ask first: code still names the flag (the stored scans of
//! `ramp scan --upload`), or applications checked it recently (the store's exposure counts).
//! Without `--force`, either reason stops the deletion and says so, as the server's 409
//! `confirmation_required` does for the API and the web UI.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use ramp_core::FeatureName;

use super::Session;

/// Checks within this many days count as recent (the server's window too).
const RECENTLY_CHECKED_DAYS: i64 = 7;

/// The reasons to ask before deleting `name`, in a sentence, or `None`.
pub async fn reasons(session: &Session, name: &str) -> anyhow::Result<Option<String>> {
    // A bad name is reported by the deletion itself, in its usual words.
    if FeatureName::new(name).is_err() {
        return Ok(None);
    }
    let store = session.rollout.store();
    let references = store.code_references(name).await?;
    let mut parts = Vec::new();
    if !references.is_empty() {
        let repositories: BTreeSet<&str> = references
            .iter()
            .map(|reference| reference.repository.as_str())
            .collect();
        parts.push(format!(
            "code still names it {} times (in {})",
            references.len(),
            repositories.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    // Through a server the counts are the server's own and a store opened over HTTP cannot
    // read them: then only the references are checked here (the server's own check is for
    // the API and the web UI).
    if let Ok(seen) = store.exposure_features().await {
        let since = Utc::now() - Duration::days(RECENTLY_CHECKED_DAYS);
        if let Some(last) = seen
            .iter()
            .find(|seen| seen.feature == name)
            .map(|seen| seen.last_seen)
            .filter(|last| *last >= since)
        {
            parts.push(format!(
                "applications checked it at {}",
                last.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join(", and ")))
}
