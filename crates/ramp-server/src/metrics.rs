//! Prometheus metrics: requests by route pattern and status, latency, evaluations, the
//! snapshot's version and age, stream subscribers and store errors.
//!
//! Labels hold route patterns (`/api/v1/features/{name}`), never the feature names or user ids
//! of a request: those would make one time series per user.

use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use ramp_core::ReasonKind;
use ramp_store::exposure::{active_inactive, add_counts, ExposureBatch, ReasonCounts};

use crate::live::Loaded;
use crate::state::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The method as a static label (no allocation per request); rare methods share one label.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EvaluationLabels {
    source: &'static str,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExposureLabels {
    answer: &'static str,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeatureExposureLabels {
    feature: String,
    answer: &'static str,
}

/// A batch's checks, counted before it is written and added to the metrics once it is stored
/// (so a retried batch is not counted twice).
#[derive(Debug, Default)]
pub struct ExposureTally {
    by_reason: ReasonCounts,
    /// Per feature: checks active and inactive (only when exported per feature).
    by_feature: Vec<(String, u64, u64)>,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    evaluations: Family<EvaluationLabels, Counter>,
    snapshot_version: Gauge,
    snapshot_features: Gauge,
    snapshot_age: Gauge<f64, AtomicU64>,
    snapshot_loaded_at: Mutex<SystemTime>,
    stream_subscribers: Gauge,
    store_errors: Counter,
    password_checks: Counter,
    logins_refused: Counter,
    resume_buffer_bytes: Gauge,
    exposures: Family<ExposureLabels, Counter>,
    feature_exposures: Option<Family<FeatureExposureLabels, Counter>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(false)
    }
}

impl Metrics {
    /// Registers every metric; exposure totals per feature only if `exposures_per_feature`.
    pub fn new(exposures_per_feature: bool) -> Self {
        let mut registry = Registry::with_prefix("ramp");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route pattern and status",
            requests.clone(),
        );
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by method and route pattern",
            latency.clone(),
        );
        let evaluations = Family::<EvaluationLabels, Counter>::default();
        registry.register(
            "evaluations",
            "Feature evaluations answered, by endpoint and reason",
            evaluations.clone(),
        );
        let snapshot_version = Gauge::default();
        registry.register(
            "snapshot_version",
            "Version of the snapshot being served",
            snapshot_version.clone(),
        );
        let snapshot_features = Gauge::default();
        registry.register(
            "snapshot_features",
            "Features in the snapshot being served",
            snapshot_features.clone(),
        );
        let snapshot_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "snapshot_age_seconds",
            "Seconds since the snapshot being served was read from the store",
            snapshot_age.clone(),
        );
        let stream_subscribers = Gauge::default();
        registry.register(
            "stream_subscribers",
            "Open /api/v1/stream connections",
            stream_subscribers.clone(),
        );
        let store_errors = Counter::default();
        registry.register(
            "store_errors",
            "Store operations that failed",
            store_errors.clone(),
        );
        let password_checks = Counter::default();
        registry.register(
            "password_checks",
            "Passwords checked with argon2 (one per login that was not refused first)",
            password_checks.clone(),
        );
        let logins_refused = Counter::default();
        registry.register(
            "logins_refused",
            "Logins refused before any password check (throttled, or too many waiting)",
            logins_refused.clone(),
        );
        let resume_buffer_bytes = Gauge::default();
        registry.register(
            "resume_buffer_bytes",
            "Bytes of recent change events kept for stream subscribers that reconnect",
            resume_buffer_bytes.clone(),
        );
        let exposures = Family::<ExposureLabels, Counter>::default();
        registry.register(
            "exposures",
            "Checks that applications and this server counted and stored, by answer and reason",
            exposures.clone(),
        );
        let feature_exposures = exposures_per_feature.then(|| {
            let family = Family::<FeatureExposureLabels, Counter>::default();
            registry.register(
                "feature_exposures",
                "Checks stored per feature and answer (exposure_metrics_per_feature)",
                family.clone(),
            );
            family
        });
        Self {
            exposures,
            feature_exposures,
            registry,
            requests,
            latency,
            evaluations,
            snapshot_version,
            snapshot_features,
            snapshot_age,
            snapshot_loaded_at: Mutex::new(SystemTime::now()),
            stream_subscribers,
            store_errors,
            password_checks,
            logins_refused,
            resume_buffer_bytes,
        }
    }

    /// Counts one password check.
    pub fn password_check(&self) {
        self.password_checks.inc();
    }

    /// Counts one login refused before its password was checked.
    pub fn login_refused(&self) {
        self.logins_refused.inc();
    }

    /// Counts one evaluation.
    pub fn evaluation(&self, source: &'static str, reason: &'static str) {
        self.evaluations
            .get_or_create(&EvaluationLabels { source, reason })
            .inc();
    }

    /// What `batch` will add to the exposure metrics once stored.
    pub fn exposure_tally(&self, batch: &ExposureBatch) -> ExposureTally {
        let mut tally = ExposureTally::default();
        for (feature, counts) in &batch.counts {
            add_counts(&mut tally.by_reason, counts);
            if self.feature_exposures.is_some() {
                let (active, inactive) = active_inactive(counts);
                tally.by_feature.push((feature.clone(), active, inactive));
            }
        }
        tally
    }

    /// Adds a stored batch's tally.
    pub fn exposures_stored(&self, tally: ExposureTally) {
        for (reason, count) in ReasonKind::ALL.into_iter().zip(tally.by_reason) {
            if count > 0 {
                let answer = if reason.is_active() {
                    "active"
                } else {
                    "inactive"
                };
                let labels = ExposureLabels {
                    answer,
                    reason: reason.as_str(),
                };
                self.exposures.get_or_create(&labels).inc_by(count);
            }
        }
        let Some(family) = &self.feature_exposures else {
            return;
        };
        for (feature, active, inactive) in tally.by_feature {
            for (answer, count) in [("active", active), ("inactive", inactive)] {
                if count > 0 {
                    let labels = FeatureExposureLabels {
                        feature: feature.clone(),
                        answer,
                    };
                    family.get_or_create(&labels).inc_by(count);
                }
            }
        }
    }

    /// Counts a failed store operation.
    pub fn store_error(&self) {
        self.store_errors.inc();
    }

    /// Records the snapshot now being served.
    pub fn set_snapshot(&self, loaded: &Loaded) {
        self.snapshot_version
            .set(i64::try_from(loaded.snapshot.version).unwrap_or(i64::MAX));
        self.snapshot_features
            .set(i64::try_from(loaded.snapshot.features.len()).unwrap_or(i64::MAX));
        *self
            .snapshot_loaded_at
            .lock()
            .unwrap_or_else(|error| error.into_inner()) = loaded.loaded_at;
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, subscribers: usize, resume_buffer_bytes: usize) -> String {
        let loaded_at = *self
            .snapshot_loaded_at
            .lock()
            .unwrap_or_else(|error| error.into_inner());
        let age = SystemTime::now()
            .duration_since(loaded_at)
            .unwrap_or_default();
        self.snapshot_age.set(age.as_secs_f64());
        self.stream_subscribers
            .set(i64::try_from(subscribers).unwrap_or(i64::MAX));
        self.resume_buffer_bytes
            .set(i64::try_from(resume_buffer_bytes).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Middleware: counts and times every request under its route pattern.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    // Unmatched paths share one label so that scanning for random URLs creates no new series.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
