//! Reporting a data migration's progress (`ramp_core::MigrationProgress`) to where the feature
//! page and `ramp migrate status` read it: [`Client::report_migration`].
//!
//! A server client sends `PUT /api/v1/features/{name}/migrations/{migration}` with its own
//! token (a reader's will do) within the refresh policy's request timeout; the server stamps the
//! report with its clock. A direct client has no server: it writes the report into the store it
//! follows (`Store::put_migration_progress`), stamped with this machine's clock, so the report
//! shows all the same. Reporting never touches the snapshot checks read.

#[cfg(feature = "direct")]
use std::sync::Arc;

use ramp_core::MigrationProgress;

use crate::http::Http;
use crate::{Client, ClientError};

/// Where a client's reports go.
pub(crate) enum Reporter {
    /// Through the server the client follows.
    Server(Http),
    /// Into a store the application opened.
    #[cfg(feature = "direct")]
    Store(Arc<dyn ramp_store::Store>),
    /// Into the store at a URL, opened at the first report (the follower opens its own).
    #[cfg(feature = "direct")]
    StoreUrl {
        /// The store's URL.
        url: String,
        /// The store once opened.
        opened: tokio::sync::OnceCell<Arc<dyn ramp_store::Store>>,
    },
}

impl Reporter {
    /// The reporter of a direct client over `origin`.
    #[cfg(feature = "direct")]
    pub(crate) fn of_store(origin: &crate::store_sync::StoreOrigin) -> Self {
        match origin {
            crate::store_sync::StoreOrigin::Store(store) => Reporter::Store(Arc::clone(store)),
            crate::store_sync::StoreOrigin::Url(url) => Reporter::StoreUrl {
                url: url.clone(),
                opened: tokio::sync::OnceCell::new(),
            },
        }
    }

    async fn report(&self, progress: &MigrationProgress) -> Result<(), ClientError> {
        // Checked before anything is sent, so a report over a bound names its field at once.
        progress.validate()?;
        match self {
            Reporter::Server(http) => {
                let url = http.api_url(&[
                    "features",
                    progress.feature.as_str(),
                    "migrations",
                    &progress.migration,
                ])?;
                http.put_json(url, progress).await
            }
            #[cfg(feature = "direct")]
            Reporter::Store(store) => stamped_into(store.as_ref(), progress).await,
            #[cfg(feature = "direct")]
            Reporter::StoreUrl { url, opened } => {
                let store = opened
                    .get_or_try_init(|| ramp_rollout::open_store(url))
                    .await?;
                stamped_into(store.as_ref(), progress).await
            }
        }
    }
}

/// Writes the report with this machine's time: there is no server to set it.
#[cfg(feature = "direct")]
async fn stamped_into(
    store: &dyn ramp_store::Store,
    progress: &MigrationProgress,
) -> Result<(), ClientError> {
    let stamped = MigrationProgress {
        reported_at: chrono::Utc::now(),
        ..progress.clone()
    };
    Ok(store.put_migration_progress(&stamped).await?)
}

impl Client {
    /// Reports a migration's progress: replaces the latest report of its (feature,
    /// migration), shown on the feature page and by `ramp migrate status`. Fails when the
    /// report breaks a bound ([`MigrationProgress::validate`]), the feature does not exist,
    /// the feature already has 50 other migrations, or the server (or store) cannot be reached
    /// in time; a failed report changes nothing, and the next one may simply follow.
    ///
    /// ```no_run
    /// use ramp_core::{FeatureName, MigrationPhase, MigrationProgress};
    ///
    /// # async fn run(client: ramp_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// client
    ///     .report_migration(&MigrationProgress {
    ///         feature: FeatureName::new("orders-v2")?,
    ///         migration: "orders-v2".into(),
    ///         instance: "worker-1".into(),
    ///         phase: MigrationPhase::Running,
    ///         records: 10_000,
    ///         covered: 1_250,
    ///         migrated: 823,
    ///         pending_forward: 427,
    ///         pending_back: 0,
    ///         failures: 0,
    ///         target_percentage: None,
    ///         last_error: None,
    ///         reported_at: Default::default(),
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn report_migration(&self, progress: &MigrationProgress) -> Result<(), ClientError> {
        self.reporter.report(progress).await
    }
}
