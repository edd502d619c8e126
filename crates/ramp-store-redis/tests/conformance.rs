//! The shared conformance suite, run against `RedisStore` on the test Redis, each test under its
//! own key prefix. The fixture's guard deletes that prefix's keys after the test, and nothing
//! else. Without Redis each check says SKIPPED and ends (in CI, `CI=true`, it fails).

mod common;

use std::sync::Arc;

use ramp_store::conformance::Fixture;

async fn fixture() -> Option<Fixture> {
    if !common::redis_available("the Redis conformance suite") {
        return None;
    }
    let (store, guard) = common::store("").await;
    Some(Fixture::with_guard(Arc::new(store), guard))
}

ramp_store::conformance_tests!(fixture);
