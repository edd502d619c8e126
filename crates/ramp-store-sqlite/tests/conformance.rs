//! The shared conformance suite, run against `SqliteStore` on a fresh file per test. The
//! temporary directory is the fixture's guard, so it outlives the store and no test leaves
//! files behind.

use std::sync::Arc;

use ramp_store::conformance::Fixture;
use ramp_store_sqlite::SqliteStore;

fn temporary_store() -> Fixture {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(directory.path().join("ramp.db"), false).unwrap();
    Fixture::with_guard(Arc::new(store), directory)
}

ramp_store::conformance_tests!(|| async { temporary_store() });
