//! The memory store passes the conformance suite every backend runs.

ramp_store::conformance_tests!(|| async {
    std::sync::Arc::new(ramp_store::MemoryStore::default()) as std::sync::Arc<dyn ramp_store::Store>
});
