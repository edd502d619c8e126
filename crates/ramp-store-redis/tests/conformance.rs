//! The shared conformance suite, run against `RedisStore` on the test Redis, each test under its
//! own key prefix. The fixture's guard deletes that prefix's keys after the test, and nothing
//! else. Without Redis (and without CI=true) the suite says SKIPPED and runs on the memory
//! store instead, so that a laptop without Redis still builds and passes.

mod common;

use std::sync::Arc;

use ramp_store::conformance::Fixture;
use ramp_store::{MemoryStore, Store};

async fn fixture() -> Fixture {
    if !common::redis_available("the Redis conformance suite") {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        return store.into();
    }
    let (store, guard) = common::store("").await;
    Fixture::with_guard(Arc::new(store), guard)
}

ramp_store::conformance_tests!(fixture);
