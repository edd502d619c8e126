//! Reading exposure counts: one feature's checks over time with the applications that check
//! it (`GET /api/v1/features/{name}/exposures`), every feature's checks in a period, most
//! checked first, with a small series each for sparklines (`GET /api/v1/exposures/features`),
//! and the features nothing has checked since a date (`GET /api/v1/exposures/unchecked`).
//!
//! Counts are stored per minute for the last 48 hours, then per hour, then per day (see
//! `ServerConfig`); a stored bucket counts in the bin its start falls in, so a bin finer than
//! the data shows the coarser bucket whole in its first bin (`resolutions` says which were
//! read).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use ramp_core::ReasonKind;
use ramp_store::exposure::{active_inactive, add_counts, ReasonCounts, Resolution};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json_errors::{ApiPath, ApiQuery};
use crate::routes::features::feature_name;
use crate::state::AppState;

/// The most bins one answer holds.
const MAX_BINS: i64 = 2_000;
/// The most bins per feature in the every-feature answer.
const MAX_FEATURE_BINS: i64 = 200;
/// Steps chosen when none is asked for (seconds), finest that fits first.
const STEPS: [i64; 7] = [60, 300, 900, 3_600, 21_600, 86_400, 604_800];

/// A period and its bins.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// Start (RFC 3339; default: a day before `to`, or an hour for one feature).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// End, exclusive (RFC 3339; default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
    /// Seconds per bin, a multiple of 60 (default: the finest of 1 min, 5 min, 15 min, 1 h,
    /// 6 h, 1 day, 1 week giving fewer than 200 bins).
    pub step: Option<i64>,
}

struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: i64,
}

impl Period {
    fn read(params: &PeriodParams, now: DateTime<Utc>, default_span: Duration) -> ApiResult<Self> {
        let to = params.to.unwrap_or(now);
        let from = params.from.unwrap_or(to - default_span);
        if from >= to {
            return Err(ApiError::invalid("from must be before to").with_field("from"));
        }
        let span = (to - from).num_seconds();
        let step = match params.step {
            Some(step) if step <= 0 || step % 60 != 0 => {
                return Err(
                    ApiError::invalid("step must be a positive multiple of 60 seconds")
                        .with_field("step"),
                )
            }
            Some(step) => step,
            None => default_step(&STEPS, span),
        };
        let from = bin_start(from, step);
        Ok(Self { from, to, step })
    }

    fn bins(&self) -> i64 {
        ((self.to - self.from).num_seconds() + self.step - 1) / self.step
    }

    fn limit_bins(&self, most: i64) -> ApiResult<()> {
        if self.bins() > most {
            return Err(ApiError::invalid(format!(
                "{} bins of {} s is more than {most}: ask for a shorter period or a longer step",
                self.bins(),
                self.step
            ))
            .with_field("step"));
        }
        Ok(())
    }
}

/// The finest of `steps` giving fewer than `MAX_FEATURE_BINS` bins over `span` seconds.
fn default_step(steps: &[i64], span: i64) -> i64 {
    steps
        .iter()
        .copied()
        .find(|step| span / step < MAX_FEATURE_BINS)
        .unwrap_or(steps[steps.len() - 1])
}

/// The start of the `step`-second bin `time` falls in (bins start at multiples of `step`
/// since the Unix epoch, like the store's).
fn bin_start(time: DateTime<Utc>, step: i64) -> DateTime<Utc> {
    let seconds = time.timestamp();
    ramp_store::exposure::time_from_seconds(seconds - seconds.rem_euclid(step))
}

/// Checks in one bin.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureBinBody {
    /// The bin's start.
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<Utc>,
    /// Checks that answered active.
    pub active: u64,
    /// Checks that answered inactive.
    pub inactive: u64,
    /// Checks per reason (only reasons with checks).
    #[schema(value_type = Object)]
    pub reasons: BTreeMap<&'static str, u64>,
}

/// An application instance that reported checks of the feature.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureApplication {
    /// The application's name.
    pub application: String,
    /// The instance.
    pub instance: String,
    /// When it last reported the feature.
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: DateTime<Utc>,
}

/// A feature's checks over time, and who checks it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureExposures {
    /// The feature.
    pub feature: String,
    /// Start of the first bin.
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<Utc>,
    /// End of the period.
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<Utc>,
    /// Seconds per bin.
    pub step_seconds: i64,
    /// Bins with checks, oldest first.
    pub bins: Vec<ExposureBinBody>,
    /// Checks over the whole period that answered active.
    pub active: u64,
    /// Checks over the whole period that answered inactive.
    pub inactive: u64,
    /// The stored resolutions read (`minute`, `hour`, `day`).
    #[schema(value_type = Vec<String>)]
    pub resolutions: Vec<Resolution>,
    /// When an application last reported the feature (null: never, or past retention).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<DateTime<Utc>>,
    /// Instances that reported the feature, most recent first.
    pub applications: Vec<ExposureApplication>,
}

fn bin_body(start: DateTime<Utc>, counts: &ReasonCounts) -> ExposureBinBody {
    let (active, inactive) = active_inactive(counts);
    let reasons = ReasonKind::ALL
        .into_iter()
        .zip(counts)
        .filter(|(_, count)| **count > 0)
        .map(|(kind, count)| (kind.as_str(), *count))
        .collect();
    ExposureBinBody {
        start,
        active,
        inactive,
        reasons,
    }
}

/// A feature's checks per bin (active, inactive, per reason), as applications and this
/// server's own evaluations reported them, and the applications that check it.
#[utoipa::path(get, path = "/api/v1/features/{name}/exposures", tag = "exposures",
    params(("name" = String, Path, description = "The feature"), PeriodParams),
    responses((status = 200, body = FeatureExposures), (status = 422, body = ErrorBody)))]
pub async fn feature_exposures(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<PeriodParams>,
) -> ApiResult<Json<FeatureExposures>> {
    let name = feature_name(&name)?;
    let period = Period::read(&params, state.clock.now(), Duration::hours(1))?;
    period.limit_bins(MAX_BINS)?;
    let buckets = state
        .store
        .exposure_buckets(name.as_str(), period.from, period.to)
        .await?;
    let mut bins: BTreeMap<DateTime<Utc>, ReasonCounts> = BTreeMap::new();
    let mut total = [0; ramp_core::ReasonKind::ALL.len()];
    let mut resolutions = BTreeSet::new();
    for bucket in &buckets {
        resolutions.insert(bucket.resolution);
        let start = bin_start(bucket.start, period.step);
        add_counts(
            bins.entry(start)
                .or_insert([0; ramp_core::ReasonKind::ALL.len()]),
            &bucket.counts,
        );
        add_counts(&mut total, &bucket.counts);
    }
    let (active, inactive) = active_inactive(&total);
    let applications: Vec<ExposureApplication> = state
        .store
        .exposure_applications(name.as_str())
        .await?
        .into_iter()
        .map(|seen| ExposureApplication {
            application: seen.application,
            instance: seen.instance,
            last_seen: seen.last_seen,
        })
        .collect();
    Ok(Json(FeatureExposures {
        feature: name.to_string(),
        from: period.from,
        to: period.to,
        step_seconds: period.step,
        bins: bins
            .iter()
            .map(|(start, counts)| bin_body(*start, counts))
            .collect(),
        active,
        inactive,
        resolutions: resolutions.into_iter().collect(),
        last_seen: applications.first().map(|seen| seen.last_seen),
        applications,
    }))
}

/// Which features to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// Start (RFC 3339; default: a day before `to`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<DateTime<Utc>>,
    /// End, exclusive (RFC 3339; default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<DateTime<Utc>>,
    /// Seconds per bin of each feature's series: a multiple of 3600 (default: the finest of
    /// 1 h, 6 h, 1 day, 1 week giving fewer than 200 bins).
    pub step: Option<i64>,
    /// At most this many features (default 100, at most 20,000).
    pub limit: Option<usize>,
}

/// One feature's checks over the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureActivityBody {
    /// The name as checked.
    pub feature: String,
    /// Whether a feature of that name exists now.
    pub exists: bool,
    /// Checks that answered active.
    pub active: u64,
    /// Checks that answered inactive.
    pub inactive: u64,
    /// All checks per bin, one number per bin from `from` (zeros included).
    pub series: Vec<u64>,
    /// When an application last reported it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<DateTime<Utc>>,
}

/// Every feature's checks over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureActivity {
    /// Start of the first bin.
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<Utc>,
    /// End of the period.
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<Utc>,
    /// Seconds per bin.
    pub step_seconds: i64,
    /// The features with checks, most checks first (ties by name).
    pub features: Vec<FeatureActivityBody>,
}

/// The most checked features in a period (all checks, active and inactive), each with its
/// series of checks per bin for a sparkline and when it was last seen.
#[utoipa::path(get, path = "/api/v1/exposures/features", tag = "exposures",
    params(ActivityParams),
    responses((status = 200, body = ExposureActivity), (status = 422, body = ErrorBody)))]
pub async fn exposure_activity(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ActivityParams>,
) -> ApiResult<Json<ExposureActivity>> {
    let now = state.clock.now();
    let to = params.to.unwrap_or(now);
    let from = params.from.unwrap_or(to - Duration::days(1));
    let step = params
        .step
        .unwrap_or_else(|| default_step(&STEPS[3..], (to - from).num_seconds()));
    if step % 3_600 != 0 {
        return Err(
            ApiError::invalid("step must be a multiple of 3600 seconds here").with_field("step"),
        );
    }
    let period_params = PeriodParams {
        from: Some(from),
        to: Some(to),
        step: Some(step),
    };
    let period = Period::read(&period_params, now, Duration::days(1))?;
    period.limit_bins(MAX_FEATURE_BINS)?;
    let limit = params.limit.unwrap_or(100);
    if limit == 0 || limit > 20_000 {
        return Err(ApiError::invalid("limit must be 1 to 20000").with_field("limit"));
    }
    let bin = if period.step % 86_400 == 0 {
        Resolution::Day
    } else {
        Resolution::Hour
    };
    let _turn = state.exposures.heavy_reads.acquire().await;
    let activity = state
        .store
        .exposure_activity(period.from, period.to, bin)
        .await?;
    let last_seen = last_seen_by_name(&state).await?;
    let loaded = state.live.current();
    let bins = period.bins() as usize;
    let mut features: Vec<FeatureActivityBody> = activity
        .into_iter()
        .map(|activity| {
            let mut series = vec![0u64; bins];
            for bin in &activity.bins {
                let index = (bin.start - period.from).num_seconds() / period.step;
                if let Some(slot) = usize::try_from(index).ok().and_then(|i| series.get_mut(i)) {
                    let (active, inactive) = active_inactive(&bin.counts);
                    *slot = slot.saturating_add(active).saturating_add(inactive);
                }
            }
            let (active, inactive) = active_inactive(&activity.counts());
            FeatureActivityBody {
                exists: loaded.compiled.contains(&activity.feature),
                last_seen: last_seen.get(&activity.feature).copied(),
                feature: activity.feature,
                active,
                inactive,
                series,
            }
        })
        .collect();
    features.sort_by(|a, b| {
        (b.active.saturating_add(b.inactive))
            .cmp(&a.active.saturating_add(a.inactive))
            .then_with(|| a.feature.cmp(&b.feature))
    });
    features.truncate(limit);
    Ok(Json(ExposureActivity {
        from: period.from,
        to: period.to,
        step_seconds: period.step,
        features,
    }))
}

/// When each feature name was last reported.
async fn last_seen_by_name(state: &AppState) -> ApiResult<HashMap<String, DateTime<Utc>>> {
    Ok(state
        .store
        .exposure_features()
        .await?
        .into_iter()
        .map(|seen| (seen.feature, seen.last_seen))
        .collect())
}

/// Since when.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UncheckedParams {
    /// RFC 3339 (default: 30 days ago).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<DateTime<Utc>>,
}

/// A feature nothing has checked since a date.
#[derive(Debug, Serialize, ToSchema)]
pub struct UncheckedFeature {
    /// The feature.
    pub feature: String,
    /// When it was last checked (null: never, or before retention).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<DateTime<Utc>>,
}

/// The features nothing checked since a date.
#[derive(Debug, Serialize, ToSchema)]
pub struct UncheckedFeatures {
    /// The date.
    #[schema(value_type = String, format = DateTime)]
    pub since: DateTime<Utc>,
    /// Features that exist and were not checked since then, by name.
    pub features: Vec<UncheckedFeature>,
}

/// Features that exist but that no application (nor this server) has checked since `since`:
/// candidates for removal, or code that never shipped.
#[utoipa::path(get, path = "/api/v1/exposures/unchecked", tag = "exposures",
    params(UncheckedParams),
    responses((status = 200, body = UncheckedFeatures), (status = 400, body = ErrorBody)))]
pub async fn unchecked_features(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<UncheckedParams>,
) -> ApiResult<Json<UncheckedFeatures>> {
    let since = params
        .since
        .unwrap_or_else(|| state.clock.now() - Duration::days(30));
    let _turn = state.exposures.heavy_reads.acquire().await;
    let last_seen = last_seen_by_name(&state).await?;
    let loaded = state.live.current();
    let mut features: Vec<UncheckedFeature> = loaded
        .snapshot
        .features
        .iter()
        .map(|feature| feature.name.as_str())
        .filter_map(|name| {
            let seen = last_seen.get(name).copied();
            (seen.is_none_or(|seen| seen < since)).then(|| UncheckedFeature {
                feature: name.to_owned(),
                last_seen: seen,
            })
        })
        .collect();
    features.sort_by(|a, b| a.feature.cmp(&b.feature));
    Ok(Json(UncheckedFeatures { since, features }))
}
