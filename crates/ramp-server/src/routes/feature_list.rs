//! The feature list: filtered (search, stage, owner), sorted (by name, stage, percentage, last
//! change or last check, either way) and paged, with the `with=` additions computed for the
//! page only, so the UI can show the first hundred of 10,000 features at the cost of a hundred.

use axum::extract::State;
use axum::Json;
use ramp_core::{Feature, FeatureName, Stage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::fresh_snapshot::fresh_snapshot;
use crate::health_report::{health_of, HealthFacts};
use crate::json_errors::ApiQuery;
use crate::routes::feature_order::{sort_features, ListSort};
use crate::routes::features::{stage_since_text, FeatureSummary};
use crate::routes::last_change::last_changes;
use crate::state::AppState;

/// The feature list.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureList {
    /// The store version the list was read at.
    pub version: u64,
    /// The server's time (RFC 3339), to measure `stage_since` against.
    pub server_time: String,
    /// How many features match the filters, before `offset` and `limit`.
    pub total: usize,
    /// The features in the order asked (by name by default): at most `limit` of them, from `offset`.
    pub features: Vec<FeatureSummary>,
}

/// The most features one list answer carries when `limit` is given; without `limit` the
/// answer holds every match (older clients and the CLI rely on that).
pub const MAX_LIST_LIMIT: usize = 1_000;

/// Filters for the feature list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilters {
    /// Only features whose name or description contains this (any case).
    pub search: Option<String>,
    /// Only features at this stage.
    pub stage: Option<String>,
    /// `last_change` adds who changed each feature last, and when; `stage_since` since when
    /// each has been in its stage; `health` its health states; several:
    /// `last_change,stage_since,health`.
    pub with: Option<String>,
    /// Only features whose `data.owner` is this (any case).
    pub owner: Option<String>,
    /// Skip this many matches (paging; `total` says how many there are).
    pub offset: Option<usize>,
    /// At most this many features (1 to 1,000). The `with` additions are computed for this
    /// page only, so a paged list of 10,000 features costs what its page costs.
    pub limit: Option<usize>,
    /// The order: `name` (the default), `stage`, `percentage`, `last_change` (latest change,
    /// from history) or `last_seen` (latest check reported by applications; never checked
    /// first); ties by name.
    #[param(value_type = Option<String>)]
    pub sort: Option<ListSort>,
    /// `true`: the order reversed (ties still by name, reversed too).
    pub descending: Option<bool>,
}

/// Lists features, optionally filtered.
#[utoipa::path(get, path = "/api/v1/features", tag = "features", params(ListFilters),
    responses((status = 200, body = FeatureList), (status = 422, body = ErrorBody)))]
pub async fn list_features(
    State(state): State<AppState>,
    ApiQuery(filters): ApiQuery<ListFilters>,
) -> ApiResult<Json<FeatureList>> {
    let stage = filters
        .stage
        .as_deref()
        .map(|stage| stage.parse::<Stage>())
        .transpose()?;
    let search = filters.search.map(|text| text.to_lowercase());
    let owner = filters.owner.map(|text| text.to_lowercase());
    if let Some(limit) = filters.limit {
        if !(1..=MAX_LIST_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(format!(
                "limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}"
            ))
            .with_field("limit"));
        }
    }
    let (mut with_last_change, mut with_stage_since, mut with_health) = (false, false, false);
    for word in filters.with.as_deref().unwrap_or_default().split(',') {
        match word.trim() {
            "" => {}
            "last_change" => with_last_change = true,
            "stage_since" => with_stage_since = true,
            "health" => with_health = true,
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown with={other:?}: expected last_change, stage_since or health"
                ))
                .with_field("with"))
            }
        }
    }
    // The live snapshot when it holds this server's writes: no copy of every feature per keystroke.
    let snapshot = fresh_snapshot(&state).await?;
    let matching = snapshot
        .features
        .iter()
        .filter(|feature| stage.is_none_or(|stage| feature.stage == stage))
        .filter(|feature| {
            owner.as_deref().is_none_or(|owner| {
                feature
                    .data
                    .get("owner")
                    .and_then(|value| value.as_str())
                    .is_some_and(|text| text.to_lowercase() == owner)
            })
        })
        .filter(|feature| {
            search.as_deref().is_none_or(|search| {
                feature.name.as_str().to_lowercase().contains(search)
                    || feature
                        .description()
                        .is_some_and(|text| text.to_lowercase().contains(search))
            })
        });
    let mut matching: Vec<&Feature> = matching.collect();
    let sort = filters.sort.unwrap_or_default();
    sort_features(
        &state,
        &mut matching,
        sort,
        filters.descending.unwrap_or(false),
    )
    .await?;
    let total = matching.len();
    let start = filters.offset.unwrap_or(0).min(total);
    let end = start
        .saturating_add(filters.limit.unwrap_or(total))
        .min(total);
    let listed = &matching[start..end];
    let mut features: Vec<FeatureSummary> = listed
        .iter()
        .map(|feature| FeatureSummary::from(*feature))
        .collect();
    if with_last_change {
        let names: Vec<FeatureName> = listed.iter().map(|feature| feature.name.clone()).collect();
        for (summary, change) in features.iter_mut().zip(last_changes(&state, &names).await?) {
            summary.last_change = change;
        }
    }
    let mut since = None;
    if with_stage_since {
        let times = crate::stage_time::stage_since(state.store.as_ref(), listed).await?;
        for (summary, time) in features.iter_mut().zip(&times) {
            summary.stage_since = Some(stage_since_text(*time));
        }
        since = Some(times);
    }
    if with_health {
        let store = state.store.as_ref();
        let facts = HealthFacts::read(store).await?;
        let now = state.clock.now();
        let healths = health_of(store, &facts, listed, now, since.as_deref()).await?;
        for (summary, health) in features.iter_mut().zip(healths) {
            summary.health = Some(health);
        }
    }
    let version = snapshot.version;
    // Freeing every feature (one of 100,000 users, say) takes as long as reading them: a copy
    // read from the store, or the last hold on a replaced live snapshot, is freed off the
    // request's path, so a search's answer does not wait for it.
    tokio::task::spawn_blocking(move || drop(snapshot));
    Ok(Json(FeatureList {
        version,
        server_time: state.clock.now().to_rfc3339(),
        total,
        features,
    }))
}
