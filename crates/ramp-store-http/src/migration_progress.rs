//! Migration progress through a server: a report is
//! `PUT /api/v1/features/{name}/migrations/{migration}` (the server stamps it with its own
//! clock, so the `reported_at` sent is ignored), a feature's reports are
//! `GET /api/v1/features/{name}/migrations`, forgetting one is `DELETE` of the first.

use ramp_core::MigrationProgress;
use ramp_store::StoreError;
use reqwest::Method;
use serde::Deserialize;

use crate::error::Subject;
use crate::HttpStore;

/// The server's list of a feature's reports.
#[derive(Deserialize)]
struct FeatureMigrations {
    migrations: Vec<MigrationProgress>,
}

impl HttpStore {
    pub(crate) async fn report_migration(
        &self,
        progress: &MigrationProgress,
    ) -> Result<(), StoreError> {
        // Checked here too, so a report over a bound fails with the field named before any
        // bytes are sent.
        progress.validate()?;
        let feature = progress.feature.as_str();
        let url = self
            .api
            .url(&["features", feature, "migrations", &progress.migration]);
        self.api
            .send(self.api.request(Method::PUT, url).json(progress))
            .await
            .map_err(|failure| failure.into_store_error(Subject::feature(feature)))?;
        Ok(())
    }

    pub(crate) async fn feature_migrations(
        &self,
        feature: &str,
    ) -> Result<Vec<MigrationProgress>, StoreError> {
        let url = self.api.url(&["features", feature, "migrations"]);
        let list: FeatureMigrations = self
            .api
            .call(
                self.api.request(Method::GET, url),
                Subject::feature(feature),
            )
            .await?;
        Ok(list.migrations)
    }

    pub(crate) async fn forget_migration(
        &self,
        feature: &str,
        migration: &str,
    ) -> Result<bool, StoreError> {
        let url = self
            .api
            .url(&["features", feature, "migrations", migration]);
        match self.api.send(self.api.request(Method::DELETE, url)).await {
            Ok(_) => Ok(true),
            Err(failure) if failure.is_not_found() => Ok(false),
            Err(failure) => Err(failure.into_store_error(Subject {
                kind: "migration",
                name: migration,
            })),
        }
    }
}
