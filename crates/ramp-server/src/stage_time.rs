//! Since when each feature has been in its stage, derived from history rather than stored:
//! the time of the newest event that changed the feature's `stage` (or created it), else its
//! creation time (a feature whose history is gone, or one the gem wrote).
//!
//! A list first reads every feature's newest event in one store query (`latest_events`); only
//! features whose newest event did not move them are then read back page by page, and at most
//! `MAX_PAGES` pages each, so a list costs one query plus one per feature changed since its
//! last move, never a whole history. Past that bound the creation time stands in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ramp_core::{Action, Feature, FeatureName, HistoryEvent};
use ramp_store::{HistoryQuery, Store, StoreError};

/// Events read per page when looking further back.
const PAGE: usize = 100;
/// Pages read per feature before falling back to its creation time.
const MAX_PAGES: usize = 5;

/// Whether the event put the feature in the stage it has now (or created it).
fn moved(event: &HistoryEvent) -> bool {
    event.action == Action::Created || event.changes.iter().any(|change| change.field() == "stage")
}

/// When each of `features` entered its stage, in the order given.
pub async fn stage_since(
    store: &dyn Store,
    features: &[&Feature],
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let names: Vec<FeatureName> = features
        .iter()
        .map(|feature| feature.name.clone())
        .collect();
    let mut latest: HashMap<FeatureName, HistoryEvent> = store.latest_events(&names).await?;
    let mut since = Vec::with_capacity(features.len());
    for feature in features {
        let time = match latest.remove(&feature.name) {
            None => feature.created_at,
            Some(event) if moved(&event) => event.time,
            Some(event) => look_back(store, feature, event.id).await?,
        };
        since.push(time);
    }
    Ok(since)
}

/// Reads one feature's history back from before `before_id` to its last move.
async fn look_back(
    store: &dyn Store,
    feature: &Feature,
    mut before_id: u64,
) -> Result<DateTime<Utc>, StoreError> {
    for _ in 0..MAX_PAGES {
        let page = store
            .history(&HistoryQuery {
                feature: Some(feature.name.clone()),
                before_id: Some(before_id),
                limit: PAGE,
                ..HistoryQuery::default()
            })
            .await?;
        if let Some(event) = page.iter().find(|event| moved(event)) {
            return Ok(event.time);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => before_id = last.id,
            _ => break,
        }
    }
    Ok(feature.created_at)
}
