//! The feature list's order, on the server: with 10,000 features the UI holds one page, so a
//! sort by percentage or by last check must rank every match before the page is cut, not just
//! the rows the browser happens to have.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ramp_core::{Feature, FeatureName};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::state::AppState;

/// A column of the list to sort by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListSort {
    /// By name.
    #[default]
    Name,
    /// By stage, in lifecycle order (development first).
    Stage,
    /// By percentage.
    Percentage,
    /// By the time of the latest change (history's, else `updated_at`).
    LastChange,
    /// By the latest check applications reported; never checked first.
    LastSeen,
}

/// Sorts `features` by `sort`, ties by name; `descending` reverses the whole order. The
/// store's snapshot already lists features by name, so `Name` costs nothing; `LastChange` and
/// `LastSeen` cost one store read each, for every feature at once.
pub async fn sort_features(
    state: &AppState,
    features: &mut [&Feature],
    sort: ListSort,
    descending: bool,
) -> ApiResult<()> {
    let by_name = |a: &&Feature, b: &&Feature| a.name.as_str().cmp(b.name.as_str());
    match sort {
        ListSort::Name => features.sort_by(by_name),
        ListSort::Stage => features.sort_by(|a, b| a.stage.cmp(&b.stage).then(by_name(a, b))),
        ListSort::Percentage => features.sort_by(|a, b| {
            a.percentage
                .value()
                .total_cmp(&b.percentage.value())
                .then(by_name(a, b))
        }),
        ListSort::LastChange => {
            let names: Vec<FeatureName> = features.iter().map(|f| f.name.clone()).collect();
            let latest = state.store.latest_events(&names).await?;
            let time = |feature: &Feature| {
                latest
                    .get(&feature.name)
                    .map_or(feature.updated_at, |event| event.time)
            };
            features.sort_by(|a, b| by_time(Some(time(a)), Some(time(b))).then(by_name(a, b)));
        }
        ListSort::LastSeen => {
            let seen: HashMap<String, DateTime<Utc>> = state
                .store
                .exposure_features()
                .await?
                .into_iter()
                .map(|seen| (seen.feature, seen.last_seen))
                .collect();
            let time = |feature: &Feature| seen.get(feature.name.as_str()).copied();
            features.sort_by(|a, b| by_time(time(a), time(b)).then(by_name(a, b)));
        }
    }
    if descending {
        features.reverse();
    }
    Ok(())
}

/// Earlier first; no time at all before any time.
fn by_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Ordering {
    a.cmp(&b)
}
