//! `HttpStore`: the `Store` trait as requests to a Ramp server. Reads, history, credentials
//! and import are here; feature writes (versions, events) are in `writes.rs`, stored groups in
//! `groups.rs`,
//! tokens in `tokens.rs`, notices in `feed.rs`.

use async_trait::async_trait;
use chrono::Utc;
use ramp_core::{
    Attribution, Change, CoreError, Feature, FeatureName, GroupName, HistoryEvent,
    LifecycleSettings, Snapshot, StoredGroup,
};
use ramp_store::{
    Applied, AppliedGroup, ChangeNotice, Credential, CredentialKind, HistoryQuery, ImportSummary,
    ImportedFeature, Store, StoreError, VersionedGroup,
};
use ramp_store::{AppliedSettings, VersionedSettings};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::api::Api;
use crate::error::Subject;
use crate::feed::Feed;
use crate::writes::comment_header;

/// The largest history page the server gives; longer queries are read page by page.
const MAX_PAGE: usize = 1000;

/// The export document's `format`. Written out here because `ramp-rollout`, which owns the
/// format, depends on this crate.
const EXPORT_FORMAT: &str = "ramp-export";

/// A Ramp server used as a store. See the crate documentation for what differs from a store
/// opened directly (the actor is the token's name, tokens are made by the server).
pub struct HttpStore {
    pub(crate) api: Api,
    feed: Feed,
}

impl std::fmt::Debug for HttpStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpStore")
            .field("server", &self.api.base().as_str())
            .finish()
    }
}

impl HttpStore {
    /// A store over the server at `base_url` (`http://HOST:PORT`, or `https://`, with an
    /// optional path prefix), presenting `token`. Does no I/O: see [`HttpStore::check`].
    pub fn new(base_url: &str, token: &str) -> Result<Self, StoreError> {
        Ok(Self {
            api: Api::new(base_url, token)?,
            feed: Feed::new(),
        })
    }

    /// The server's address.
    pub fn base_url(&self) -> &str {
        self.api.base().as_str()
    }

    /// Checks that a Ramp server answers at the address and accepts the token (with one
    /// cheap read), so that a wrong address or token is reported before anything else.
    pub async fn check(&self) -> Result<(), StoreError> {
        let mut url = self.api.url(&["history"]);
        url.query_pairs_mut().append_pair("limit", "1");
        match self.api.send(self.api.request(Method::GET, url)).await {
            Ok(_) => Ok(()),
            Err(failure) if failure.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                Err(StoreError::invalid_url(
                    self.base_url(),
                    "no Ramp server answers there (expected the address `ramp serve` \
                     prints, such as http://127.0.0.1:4242)",
                ))
            }
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "server",
                name: self.base_url(),
            })),
        }
    }
}

#[derive(Deserialize)]
struct HistoryPage {
    events: Vec<HistoryEvent>,
    next_before: Option<u64>,
}

/// The document `POST /api/v1/import` takes (what `ramp export` writes).
#[derive(Serialize)]
struct ExportDocument<'a> {
    format: &'static str,
    version: u32,
    exported_at: chrono::DateTime<Utc>,
    features: &'a [ImportedFeature],
    groups: &'a [StoredGroup],
}

fn refused(reason: &str) -> StoreError {
    StoreError::Invalid(CoreError::InvalidChange {
        reason: reason.to_owned(),
    })
}

#[async_trait]
impl Store for HttpStore {
    fn backend(&self) -> &'static str {
        crate::error::BACKEND
    }

    async fn snapshot(&self) -> Result<Snapshot, StoreError> {
        // `fresh`: read the store now, not the server's live copy, so that a write through
        // this store is always seen by the next read.
        let mut url = self.api.url(&["snapshot"]);
        url.query_pairs_mut().append_pair("fresh", "true");
        let subject = Subject {
            kind: "snapshot",
            name: "",
        };
        self.api
            .call(self.api.request(Method::GET, url), subject)
            .await
    }

    async fn feature(&self, name: &FeatureName) -> Result<Option<Feature>, StoreError> {
        let url = self.api.url(&["features", name.as_str()]);
        match self.api.send(self.api.request(Method::GET, url)).await {
            Ok(response) => Ok(Some(Api::json(response).await?)),
            Err(failure) if failure.is_not_found() => Ok(None),
            Err(failure) => Err(failure.into_store_error(Subject::feature(name.as_str()))),
        }
    }

    async fn apply(
        &self,
        name: &FeatureName,
        change: &Change,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<Applied, StoreError> {
        // Refused here like in every store: the header would carry a NUL as a space.
        attribution.validate()?;
        self.apply_change(name, change, expected_version, attribution)
            .await
    }

    async fn delete(
        &self,
        name: &FeatureName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        // Checked before the lock: the event a deletion records must be storable anywhere.
        attribution.validate()?;
        self.delete_feature(name, expected_version, attribution)
            .await
    }

    async fn groups(&self) -> Result<Vec<VersionedGroup>, StoreError> {
        self.list_groups().await
    }

    async fn put_group(
        &self,
        group: &StoredGroup,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedGroup, StoreError> {
        // NUL and the like: refused the same way by every backend.
        group.validate()?;
        attribution.validate()?;
        self.write_group(group, expected_version, attribution).await
    }

    async fn delete_group(
        &self,
        name: &GroupName,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<HistoryEvent, StoreError> {
        attribution.validate()?;
        self.remove_group(name, expected_version, attribution).await
    }

    async fn lifecycle_settings(&self) -> Result<VersionedSettings, StoreError> {
        self.read_lifecycle_settings().await
    }

    async fn put_lifecycle_settings(
        &self,
        settings: &LifecycleSettings,
        expected_version: Option<u64>,
        attribution: &Attribution,
    ) -> Result<AppliedSettings, StoreError> {
        settings.validate()?;
        attribution.validate()?;
        self.write_lifecycle_settings(settings, expected_version, attribution)
            .await
    }

    async fn import(
        &self,
        features: &[ImportedFeature],
        groups: &[StoredGroup],
        attribution: &Attribution,
    ) -> Result<ImportSummary, StoreError> {
        attribution.validate()?;
        let document = ExportDocument {
            format: EXPORT_FORMAT,
            version: 1,
            exported_at: Utc::now(),
            features,
            groups,
        };
        let mut request = self
            .api
            .request(Method::POST, self.api.url(&["import"]))
            .json(&document);
        if let Some(comment) = attribution.comment.as_deref().and_then(comment_header) {
            request = request.header("X-Ramp-Comment", comment);
        }
        let subject = Subject {
            kind: "import",
            name: "",
        };
        self.api.call(request, subject).await
    }

    async fn import_history(&self, _events: &[HistoryEvent]) -> Result<usize, StoreError> {
        // The server records every change as made now by the caller's token: it has no way
        // to take events with their own actors and times.
        Err(refused(
            "copying history through a server is not supported; copy between stores directly",
        ))
    }

    async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEvent>, StoreError> {
        if query.feature.is_some() && query.group.is_some() {
            // No event is both; the server refuses the pair rather than answer nothing.
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        let mut before = query.before_id;
        let wanted = query.effective_limit();
        while events.len() < wanted {
            let mut url = self.api.url(&["history"]);
            {
                let mut pairs = url.query_pairs_mut();
                if let Some(feature) = &query.feature {
                    pairs.append_pair("feature", feature.as_str());
                }
                if let Some(group) = &query.group {
                    pairs.append_pair("group", group.as_str());
                }
                if let Some(actor) = &query.actor {
                    pairs.append_pair("actor", actor);
                }
                // Full precision: the server compares to the stored time, not to the second.
                let time = |time: &chrono::DateTime<Utc>| {
                    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                };
                if let Some(since) = &query.since {
                    pairs.append_pair("since", &time(since));
                }
                if let Some(until) = &query.until {
                    pairs.append_pair("until", &time(until));
                }
                if let Some(before) = before {
                    pairs.append_pair("before", &before.to_string());
                }
                let limit = (wanted - events.len()).min(MAX_PAGE);
                pairs.append_pair("limit", &limit.to_string());
            }
            let subject = Subject {
                kind: "history",
                name: "",
            };
            let page: HistoryPage = self
                .api
                .call(self.api.request(Method::GET, url), subject)
                .await?;
            events.extend(page.events);
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        Ok(events)
    }

    async fn history_event(&self, id: u64) -> Result<Option<HistoryEvent>, StoreError> {
        let id = id.to_string();
        let url = self.api.url(&["history", &id]);
        match self.api.send(self.api.request(Method::GET, url)).await {
            Ok(response) => Ok(Some(Api::json(response).await?)),
            Err(failure) if failure.is_not_found() => Ok(None),
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "history event",
                name: &id,
            })),
        }
    }

    async fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        // Tokens and web-UI accounts: what the API lists. Sessions it keeps to itself.
        let mut credentials = self.list_tokens().await?;
        credentials.extend(self.list_accounts().await?);
        credentials.sort_by(|left, right| left.sort_key().cmp(&right.sort_key()));
        Ok(credentials)
    }

    async fn create_credential(&self, _credential: &Credential) -> Result<(), StoreError> {
        // The server generates every token's secret and hashes every password itself; it
        // never accepts a hash.
        Err(refused(
            "a server makes its credentials itself: create a token with POST /api/v1/tokens \
             (`ramp --server URL token create`) and an account with POST /api/v1/accounts \
             (`ramp --server URL account create`)",
        ))
    }

    async fn delete_credential(&self, kind: CredentialKind, name: &str) -> Result<(), StoreError> {
        match kind {
            CredentialKind::Token => {}
            CredentialKind::Password => return self.delete_account(name).await,
            _ => return Err(refused("a server's API manages tokens and accounts only")),
        }
        let url = self.api.url(&["tokens", name]);
        match self.api.send(self.api.request(Method::DELETE, url)).await {
            Ok(_) => Ok(()),
            Err(failure) if failure.is_not_found() => {
                Err(StoreError::credential_not_found(kind, name))
            }
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "credential",
                name,
            })),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.feed.subscribe(&self.api)
    }
    async fn record_exposures(
        &self,
        _batches: &[ramp_store::exposure::ExposureBatch],
    ) -> Result<Vec<bool>, StoreError> {
        Err(exposures_refused())
    }

    async fn exposure_buckets(
        &self,
        _feature: &str,
        _from: chrono::DateTime<chrono::Utc>,
        _to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ramp_store::exposure::ExposureBucket>, StoreError> {
        Err(exposures_refused())
    }

    async fn exposure_activity(
        &self,
        _from: chrono::DateTime<chrono::Utc>,
        _to: chrono::DateTime<chrono::Utc>,
        _bin: ramp_store::exposure::Resolution,
    ) -> Result<Vec<ramp_store::exposure::FeatureActivity>, StoreError> {
        Err(exposures_refused())
    }

    async fn exposure_features(
        &self,
    ) -> Result<Vec<ramp_store::exposure::FeatureSeen>, StoreError> {
        Err(exposures_refused())
    }

    async fn exposure_applications(
        &self,
        _feature: &str,
    ) -> Result<Vec<ramp_store::exposure::ApplicationSeen>, StoreError> {
        Err(exposures_refused())
    }

    async fn exposure_totals(&self) -> Result<ramp_store::exposure::ExposureTotals, StoreError> {
        Err(exposures_refused())
    }

    async fn compact_exposures(
        &self,
        _retention: &ramp_store::exposure::ExposureRetention,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ramp_store::exposure::Compacted, StoreError> {
        Err(exposures_refused())
    }

    async fn merge_user_sketches(
        &self,
        _sketches: &[ramp_store::daily_users::DailyUsers],
    ) -> Result<(), StoreError> {
        Err(exposures_refused())
    }

    async fn user_sketches(
        &self,
        _feature: &str,
        _from: chrono::NaiveDate,
        _to: chrono::NaiveDate,
    ) -> Result<Vec<ramp_store::daily_users::DailyUsers>, StoreError> {
        Err(exposures_refused())
    }

    async fn forget_user_sketches(&self, _before: chrono::NaiveDate) -> Result<u64, StoreError> {
        Err(exposures_refused())
    }

    async fn put_code_references(&self, scan: &ramp_core::CodeScan) -> Result<(), StoreError> {
        self.upload_code_references(scan).await
    }

    async fn code_references(
        &self,
        feature: &str,
    ) -> Result<Vec<ramp_core::FeatureReference>, StoreError> {
        self.feature_code_references(feature).await
    }

    async fn code_reference_summary(&self) -> Result<ramp_store::CodeReferenceSummary, StoreError> {
        self.code_reference_counts().await
    }

    async fn put_migration_progress(
        &self,
        progress: &ramp_core::MigrationProgress,
    ) -> Result<(), StoreError> {
        self.report_migration(progress).await
    }

    async fn migration_progress(
        &self,
        feature: &str,
    ) -> Result<Vec<ramp_core::MigrationProgress>, StoreError> {
        self.feature_migrations(feature).await
    }

    async fn delete_migration_progress(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError> {
        self.forget_migration(feature, migration).await
    }
}

/// A server keeps its own counts; an application posts them, and people read them, through
/// the server's API rather than through a store opened over HTTP.
fn exposures_refused() -> StoreError {
    refused(
        "a server keeps its own exposure counts: applications post them to \
         POST /api/v1/exposures and they are read with GET /api/v1/features/{name}/exposures",
    )
}
