//! The conformance suite: the behaviour every `Store` backend must show. Each backend's tests
//! call [`conformance_tests!`](crate::conformance_tests) with a factory that makes an empty
//! store, and get one `#[tokio::test]` per check below.
// This is test code compiled as a library: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use ramp_core::{
    Action, Attribution, Change, FeatureKind, FeatureName, FeatureState, GroupName, HistoryEvent,
    Percentage, Stage, StoredGroup, UserId,
};
use serde_json::json;

use crate::{HistoryQuery, ImportedFeature, Store, StoreError};

/// Generates one test per conformance check. `$factory` is an expression callable with no
/// arguments that returns a future of a [`Fixture`] (or an `Arc<dyn Store>`): an empty store
/// private to the test; or of an `Option<Fixture>`, `None` when the backend's server is not
/// there (the factory says so loudly, and fails in CI), and the check then ends at once.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            empty_store_has_nothing,
            first_change_creates_the_feature,
            every_change_kind_is_applied,
            kinds_round_trip_and_are_recorded,
            a_change_that_changes_nothing_records_nothing,
            stale_expected_version_is_a_conflict,
            invalid_change_leaves_the_store_unchanged,
            delete_removes_and_records,
            stored_groups_round_trip,
            group_create_if_absent_twice_conflicts,
            stale_group_version_is_a_conflict,
            group_delete_at_stale_version_is_refused,
            concurrent_group_creates_have_one_winner,
            invalid_group_stores_nothing,
            group_edits_are_recorded,
            imported_groups_are_recorded,
            concurrent_group_writes_chain_their_events,
            group_history_refuses_and_copies_like_features,
            lifecycle_settings_round_trip_and_are_recorded,
            bad_lifecycle_settings_writes_change_nothing,
            concurrent_lifecycle_settings_writes_have_one_winner,
            history_is_newest_first_and_pages,
            history_filters_match_their_definition,
            history_filters_on_live_writes,
            latest_events_are_each_features_newest,
            import_is_all_or_nothing,
            copied_history_is_kept_once,
            subscribers_hear_of_changes,
            large_user_lists_round_trip,
            concurrent_writers_lose_nothing,
            credentials_round_trip_sorted,
            duplicate_credential_is_a_conflict,
            invalid_credential_stores_nothing,
            delete_credential_removes_it,
            concurrent_credential_creates_have_one_winner,
            credentials_stay_out_of_snapshots,
            exposures_add_up_once_per_batch,
            exposure_counts_saturate,
            exposures_roll_up_and_expire,
            every_reason_is_counted_apart,
            concurrent_exposure_batches_lose_nothing,
            user_sketches_merge_by_feature_day_and_answer,
            concurrent_user_sketch_merges_lose_nothing,
            old_user_sketches_are_forgotten,
            latest_code_scan_replaces_the_previous,
            invalid_code_scan_stores_nothing,
            concurrent_code_scans_leave_one_whole,
            code_reference_summary_counts_the_latest_scans,
            migration_progress_round_trips_and_is_replaced,
            migration_progress_keeps_its_report_time,
            bad_migration_progress_stores_nothing,
            migrations_per_feature_are_capped,
            concurrent_new_migrations_respect_the_cap,
            deleting_forgets_migration_progress
        );
    };
    (@each $factory:expr; $($check:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let Some(fixture) =
                    $crate::conformance::IntoFixture::into_fixture(($factory)().await)
                else {
                    return;
                };
                $crate::conformance::$check(std::sync::Arc::clone(&fixture.store)).await;
                drop(fixture);
            }
        )+
    };
}

/// A store under test, with whatever must live as long as it (a temporary directory) and be
/// cleaned up after it (a guard whose `Drop` removes a schema or key prefix).
pub struct Fixture {
    /// The store the checks run against.
    pub store: Arc<dyn Store>,
    /// Dropped after the check, after the store's last use.
    _guard: Option<Box<dyn Send + Sync>>,
}

impl Fixture {
    /// A store and the guard that must outlive it.
    pub fn with_guard(store: Arc<dyn Store>, guard: impl Send + Sync + 'static) -> Self {
        Self {
            store,
            _guard: Some(Box::new(guard)),
        }
    }
}

impl From<Arc<dyn Store>> for Fixture {
    fn from(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            _guard: None,
        }
    }
}

/// What a conformance factory may return: a fixture, a bare store, or `None` for "this
/// backend's server is not there, skip".
pub trait IntoFixture {
    /// The fixture, or `None` to skip the check.
    fn into_fixture(self) -> Option<Fixture>;
}

impl IntoFixture for Fixture {
    fn into_fixture(self) -> Option<Fixture> {
        Some(self)
    }
}

impl IntoFixture for Arc<dyn Store> {
    fn into_fixture(self) -> Option<Fixture> {
        Some(self.into())
    }
}

impl IntoFixture for Option<Fixture> {
    fn into_fixture(self) -> Option<Fixture> {
        self
    }
}

pub(crate) fn name(text: &str) -> FeatureName {
    FeatureName::new(text).unwrap()
}

pub(crate) fn users(ids: &[&str]) -> Vec<UserId> {
    ids.iter().map(|id| UserId::new(*id).unwrap()).collect()
}

pub(crate) fn ana() -> Attribution {
    Attribution {
        actor: "ana".into(),
        comment: Some("testing".into()),
    }
}

mod code_references;
mod credentials;
mod exposure_reasons;
mod exposures;
mod features;
mod group_history;
mod groups;
mod history;
mod history_filters;
mod kinds;
mod lifecycle_settings;
mod load;
mod migration_progress;
mod unconfirmed;
mod user_sketches;

pub use code_references::*;
pub use credentials::*;
pub use exposure_reasons::*;
pub use exposures::*;
pub use features::*;
pub use group_history::*;
pub use groups::*;
pub use history::*;
pub use history_filters::*;
pub use kinds::*;
pub use lifecycle_settings::*;
pub use load::*;
pub use migration_progress::*;
pub use unconfirmed::*;
pub use user_sketches::*;
