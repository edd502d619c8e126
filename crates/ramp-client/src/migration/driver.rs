//! `Migration`: the driver. One pass walks every record, compares the feature's coverage with
//! the ledger, and moves the difference; `plan` counts the moves without making them. A pass
//! reports its progress to the application's callback after every batch, and to the server
//! (or a direct client's store) at most once a second and always at its end, so the feature
//! page and `ramp migrate status` show it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ramp_core::{FeatureName, MigrationPhase, MigrationProgress, MAX_MIGRATION_NAME_BYTES};

use super::ledger::{Direction, Ledger};
use super::pace::Pace;
use super::report::{bounded, PassReport, Plan, Tally};
use super::source::RecordSource;
use crate::{Client, ClientError};

/// The most ids a batch may hold: a batch's ids and states are held in memory at once.
pub const MAX_BATCH_SIZE: usize = 100_000;
/// The most moves one migrator runs at once (each holds a database connection).
pub const MAX_CONCURRENCY: usize = 256;
/// How often a running pass reports to the server at most (its end is always reported).
const SERVER_REPORT_INTERVAL: Duration = Duration::from_secs(1);

type ProgressCallback = Arc<dyn Fn(&MigrationProgress) + Send + Sync>;

/// A data migration that follows a feature: after each pass, the records migrated are the
/// records the feature covers (except those whose step failed, retried by the next pass).
///
/// Build it with [`Migration::new`] and the setters; run it with [`run_pass`](Self::run_pass),
/// [`plan`](Self::plan) or [`watch`](Self::watch).
pub struct Migration<Source, L> {
    pub(super) client: Client,
    pub(super) feature: String,
    pub(super) name: String,
    instance: String,
    source: Source,
    ledger: L,
    batch_size: usize,
    concurrency: usize,
    records_per_second: Option<f64>,
    progress: Option<ProgressCallback>,
    report_to_server: bool,
    pub(super) retry_interval: Duration,
}

impl<Source: RecordSource, L: Ledger> Migration<Source, L> {
    /// A migration of the records of `source` following `feature`, its state kept by
    /// `ledger`. Named after the feature unless [`name`](Self::name) says otherwise; batches
    /// of 1,000, one move at a time, no rate limit.
    pub fn new(client: Client, feature: impl Into<String>, source: Source, ledger: L) -> Self {
        let feature = feature.into();
        Self {
            client,
            name: feature.clone(),
            feature,
            instance: default_instance(),
            source,
            ledger,
            batch_size: 1_000,
            concurrency: 1,
            records_per_second: None,
            progress: None,
            report_to_server: true,
            retry_interval: Duration::from_secs(30),
        }
    }

    /// The migration's name, which keys its ledger rows and its progress reports (one feature
    /// may drive several migrations). At most 100 bytes.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Which process reports progress (default: `HOSTNAME-PID`).
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = instance.into();
        self
    }

    /// How many ids are read (and their states looked up) at once: 1 to 100,000.
    pub fn batch_size(mut self, records: usize) -> Self {
        self.batch_size = records;
        self
    }

    /// How many records of a batch move at once: 1 to 256.
    pub fn concurrency(mut self, moves: usize) -> Self {
        self.concurrency = moves;
        self
    }

    /// At most this many moves per second (records walked without a move are not limited).
    pub fn rate_limit(mut self, records_per_second: f64) -> Self {
        self.records_per_second = Some(records_per_second);
        self
    }

    /// Called with the pass's progress after each batch and at its end (`Done`, or `Failed`
    /// when the ledger or the source failed). Keep it short: the pass waits for it.
    pub fn on_progress(
        mut self,
        callback: impl Fn(&MigrationProgress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Whether passes report their progress through the client (on by default): a server
    /// client sends it to the server, a direct client writes it to its store. A report that
    /// fails is logged once per pass and never stops the pass.
    pub fn report_progress(mut self, enabled: bool) -> Self {
        self.report_to_server = enabled;
        self
    }

    /// In [`watch`](Self::watch), how long to wait before another pass after a pass that
    /// failed or left failures, when the feature does not change first (default: 30 s).
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// The ledger, to read the application's state through it.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// A dry run: how many records a pass would move forward and back now. Changes nothing
    /// and reports no progress.
    pub async fn plan(&mut self) -> Result<Plan, ClientError> {
        self.check_settings()?;
        let mut tally = Tally::default();
        self.walk(&mut tally, true, None).await?;
        Ok(tally.plan())
    }

    /// One pass: every covered record not migrated goes forward, every migrated record not
    /// covered goes back. A failing step is counted, not an error; an `Err` means the ledger
    /// or the source failed, and a later pass resumes safely.
    pub async fn run_pass(&mut self) -> Result<PassReport, ClientError> {
        let feature = self.check_settings()?;
        let mut tally = Tally::default();
        tally.report.version = self.client.version();
        let target = self.client.percentage_of(&self.feature);
        let reporter = Reporter {
            callback: self.progress.clone(),
            server: self.report_to_server.then(|| self.client.clone()),
            last_server_report: Mutex::new(None),
            feature,
            migration: self.name.clone(),
            instance: self.instance.clone(),
            target,
        };
        match self.walk(&mut tally, false, Some(&reporter)).await {
            Ok(()) => {
                reporter.send(&tally, MigrationPhase::Done).await;
                Ok(tally.report)
            }
            Err(error) => {
                tally.report.last_error = Some(bounded(error.to_string()));
                reporter.send(&tally, MigrationPhase::Failed).await;
                Err(error)
            }
        }
    }

    /// Walks every record once, moving the difference unless `dry_run`.
    async fn walk(
        &mut self,
        tally: &mut Tally,
        dry_run: bool,
        reporter: Option<&Reporter>,
    ) -> Result<(), ClientError> {
        let Self {
            client,
            feature,
            name,
            source,
            ledger,
            batch_size,
            concurrency,
            ..
        } = self;
        let pace = Pace::new(self.records_per_second);
        source.rewind();
        while let Some(ids) = source
            .next_batch(*batch_size)
            .await
            .map_err(|error| named(error, name))?
        {
            let migrated = ledger
                .migrated(name, &ids)
                .await
                .map_err(|error| named(error, name))?;
            let mut moves = Vec::new();
            for id in ids {
                let covered = client.covers(feature, &id);
                let is_migrated = migrated.contains(&id);
                tally.walked(covered, is_migrated);
                match (covered, is_migrated) {
                    (true, false) => moves.push((id, Direction::Forward)),
                    (false, true) => moves.push((id, Direction::Back)),
                    _ => {}
                }
            }
            if dry_run {
                moves
                    .iter()
                    .for_each(|(_, direction)| tally.planned(*direction));
                continue;
            }
            let (ledger, name, pace) = (&*ledger, name.as_str(), &pace);
            let mut outcomes = futures::stream::iter(moves)
                .map(|(id, direction)| async move {
                    pace.wait().await;
                    let outcome = ledger.apply(name, &id, direction).await;
                    (id, direction, outcome)
                })
                .buffer_unordered(*concurrency);
            while let Some((id, direction, outcome)) = outcomes.next().await {
                tally.moved(&id, direction, outcome.map_err(|error| named(error, name))?);
            }
            if let Some(reporter) = reporter {
                reporter.send(tally, MigrationPhase::Running).await;
            }
        }
        Ok(())
    }

    /// Every setting within its bounds; the feature's name as a report carries it.
    pub(super) fn check_settings(&self) -> Result<FeatureName, ClientError> {
        let invalid = |reason: String| ClientError::MigrationSetting {
            migration: self.name.clone(),
            reason,
        };
        if self.name.trim().is_empty() || self.name.len() > MAX_MIGRATION_NAME_BYTES {
            return Err(invalid(format!(
                "the name must be 1 to {MAX_MIGRATION_NAME_BYTES} bytes"
            )));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return Err(invalid(format!(
                "the batch size must be 1 to {MAX_BATCH_SIZE}"
            )));
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(invalid(format!(
                "the concurrency must be 1 to {MAX_CONCURRENCY}"
            )));
        }
        if let Some(rate) = self.records_per_second {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(invalid(
                    "the rate limit must be above 0 records/s".to_owned(),
                ));
            }
        }
        FeatureName::new(&self.feature)
            .map_err(|error| invalid(format!("feature {:?}: {error}", self.feature)))
    }
}

/// Sends a pass's progress to the application's callback and through the client.
struct Reporter {
    callback: Option<ProgressCallback>,
    /// The client to report through, unless reporting is off.
    server: Option<Client>,
    /// When the server was last sent a report, and whether one has failed this pass.
    last_server_report: Mutex<Option<(Instant, bool)>>,
    feature: FeatureName,
    migration: String,
    instance: String,
    target: Option<ramp_core::Percentage>,
}

impl Reporter {
    /// To the callback every time; to the server when the pass ends or a second has passed
    /// since the last report (a batch of a fast migration takes milliseconds).
    async fn send(&self, tally: &Tally, phase: MigrationPhase) {
        let progress = tally.progress(
            &self.feature,
            &self.migration,
            &self.instance,
            phase,
            self.target,
        );
        if let Some(callback) = &self.callback {
            callback(&progress);
        }
        let Some(client) = &self.server else { return };
        let failed_before = {
            let mut last = self
                .last_server_report
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = phase != MigrationPhase::Running
                || last.is_none_or(|(at, _)| at.elapsed() >= SERVER_REPORT_INTERVAL);
            if !due {
                return;
            }
            let failed_before = last.is_some_and(|(_, failed)| failed);
            *last = Some((Instant::now(), failed_before));
            failed_before
        };
        if let Err(error) = client.report_migration(&progress).await {
            // Once per pass: a server that is down must not fill the log at every batch.
            if !failed_before {
                tracing::warn!(migration = %self.migration, %error, "could not report migration progress");
            }
            if let Some((_, failed)) = self
                .last_server_report
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .as_mut()
            {
                *failed = true;
            }
        }
    }
}

/// A ledger's or source's error, with the migration's name (they do not know it).
fn named(error: ClientError, name: &str) -> ClientError {
    match error {
        ClientError::MigrationStorage {
            migration,
            action,
            source,
        } if migration.is_empty() => ClientError::MigrationStorage {
            migration: name.to_owned(),
            action,
            source,
        },
        ClientError::MigrationSetting { migration, reason } if migration.is_empty() => {
            ClientError::MigrationSetting {
                migration: name.to_owned(),
                reason,
            }
        }
        other => other,
    }
}

/// `HOSTNAME-PID`, as the exposure counts name an instance.
fn default_instance() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|host| !host.trim().is_empty())
        .unwrap_or_else(|| "migrator".to_owned());
    format!("{host}-{}", std::process::id())
}
