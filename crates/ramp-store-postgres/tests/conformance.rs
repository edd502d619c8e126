//! The shared conformance suite, run against `PostgresStore` in a new schema per test on the
//! test server. The schema's `DropSchema` is the fixture's guard, so it is dropped after the
//! store's last use and no test leaves tables behind.
//!
//! When the server is not reachable (outside CI), there is nothing to test: each check prints a
//! loud SKIPPED line and ends; in CI (`CI=true`) it fails.

use std::sync::Arc;

use ramp_store::conformance::Fixture;

mod common;

async fn temporary_store() -> Option<Fixture> {
    let (store, guard) = common::temporary_store().await?;
    Some(Fixture::with_guard(Arc::new(store), guard))
}

ramp_store::conformance_tests!(temporary_store);
