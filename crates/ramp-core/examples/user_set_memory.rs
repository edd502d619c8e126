//! Prints how many heap bytes a `UserSet` of 1,000,000 ids holds per id, for the memory figures
//! in BENCHMARKS.md. Targets: at most 16 bytes per numeric id, at most 48 per string id.
//!
//! Run with `cargo run --release -p ramp-core --example user_set_memory`.

use ramp_core::UserSet;

/// How many ids each set holds.
const USER_COUNT: u64 = 1_000_000;

/// Builds a set from `ids` and prints its size per id next to the target.
fn report(label: &str, ids: &[String], target_bytes_per_id: f64) {
    let set = UserSet::new(ids.iter().map(String::as_str));
    assert_eq!(set.len(), ids.len(), "{label}: duplicate ids");
    let total_bytes = set.memory_bytes();
    let bytes_per_id = total_bytes as f64 / ids.len() as f64;
    let text_bytes_per_id = ids.iter().map(String::len).sum::<usize>() as f64 / ids.len() as f64;
    let verdict = if bytes_per_id <= target_bytes_per_id {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "{label:<34} {total_bytes:>11} bytes  {bytes_per_id:>6.2} bytes/id \
         (ids average {text_bytes_per_id:.1} bytes; target <= {target_bytes_per_id}: {verdict})"
    );
}

/// A uuid-like id (8-4-4-4-12 lowercase hex digits) derived from `number`.
fn uuid_like(number: u64) -> String {
    // Two rounds of a multiplicative mix give 128 scrambled bits.
    let high = number.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let low = (high ^ (high >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

fn main() {
    let numeric: Vec<String> = (0..USER_COUNT).map(|id| id.to_string()).collect();
    let prefixed: Vec<String> = (0..USER_COUNT).map(|id| format!("user-{id:010}")).collect();
    let uuids: Vec<String> = (0..USER_COUNT).map(uuid_like).collect();
    println!("UserSet memory for {USER_COUNT} ids (UserSet::memory_bytes):");
    report("numeric ids \"0\"..\"999999\"", &numeric, 16.0);
    report("string ids \"user-0000000000\"", &prefixed, 48.0);
    report("uuid-like string ids (36 bytes)", &uuids, 48.0);
}
