//! A migrator killed with SIGKILL mid-pass and restarted ends exactly where an uninterrupted
//! one would, with each record's `forward` (or `back`) committed once per transition: the
//! ledger row and the record's change share one transaction.
//!
//! The migrator is the example `migrate_table`, run as a child process (built here first).

mod migration_common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use migration_common::{count, covered, ids, postgres_available, seed, wait_for, Schema, SERVER};

const ROWS: i64 = 20_000;
const FEATURE: &str = "layout-v2";

/// Builds the example with the same profile as this test, and returns its path.
fn migrator() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let profile_directory = deps.parent().unwrap().to_path_buf();
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    build.args([
        "build",
        "-p",
        "ramp-client",
        "--example",
        "migrate_table",
        "--features",
        "direct,migration-postgres",
    ]);
    if profile_directory.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "building the migrate_table example failed"
    );
    profile_directory.join("examples").join("migrate_table")
}

fn start(program: &PathBuf, schema: &Schema, percentage: f64, rate: Option<u32>) -> Child {
    let mut command = Command::new(program);
    command.args([SERVER, &schema.name, FEATURE, &percentage.to_string()]);
    if let Some(rate) = rate {
        command.arg(rate.to_string());
    }
    command
        .stdout(Stdio::piped())
        .spawn()
        .expect("the migrator starts")
}

/// Runs a migrator to its end; returns its summary line.
fn finish(child: Child) -> String {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the migrator failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrator_killed_mid_pass_and_restarted_moves_each_record_once() {
    if !postgres_available("a_migrator_killed_mid_pass").await {
        return;
    }
    let program = tokio::task::spawn_blocking(migrator).await.unwrap();
    let schema = Schema::create().await;
    let pool = schema.pool(2);
    seed(&pool, ROWS).await;

    let mut expected_forward = 0;
    let mut expected_back = 0;
    let mut before = std::collections::BTreeSet::new();
    for (percentage, direction) in [(30.0, "forward"), (10.0, "back")] {
        let now = covered(FEATURE, percentage, ROWS);
        let moving = now.symmetric_difference(&before).count() as i64;
        let done_before = count(
            &pool,
            &format!("SELECT count(*) FROM effects WHERE direction = '{direction}'"),
        )
        .await;
        // Slowed down so the kill lands mid-pass.
        let mut child = start(&program, &schema, percentage, Some(1_500));
        let query = format!("SELECT count(*) FROM effects WHERE direction = '{direction}'");
        wait_for("the first moves", 60, || {
            let (pool, query) = (pool.clone(), query.clone());
            async move { count(&pool, &query).await >= done_before + 300 }
        })
        .await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The server may still be committing what the dead process sent last: wait until its
        // sessions are gone before counting what it did.
        let sessions = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'migrate_table-{}'",
            schema.name
        );
        wait_for("the killed migrator's sessions to end", 30, || {
            let (pool, sessions) = (pool.clone(), sessions.clone());
            async move { count(&pool, &sessions).await == 0 }
        })
        .await;
        let done_at_kill = count(&pool, &query).await - done_before;
        assert!(
            done_at_kill < moving,
            "the pass ended before the kill ({done_at_kill} of {moving})"
        );

        let summary = finish(start(&program, &schema, percentage, None));
        let (forward, back) = if direction == "forward" {
            (moving - done_at_kill, 0)
        } else {
            (0, moving - done_at_kill)
        };
        assert_eq!(
            summary.trim(),
            format!("forwarded={forward} moved_back={back} failures=0")
        );

        assert_eq!(
            ids(&pool, "SELECT id FROM records WHERE layout = 2").await,
            now,
            "{percentage} %"
        );
        assert_eq!(
            ids(&pool, "SELECT record_id::bigint FROM ramp_migrated").await,
            now
        );
        if direction == "forward" {
            expected_forward += moving;
        } else {
            expected_back += moving;
        }
        // Once per record per transition: as many effects as moves, and no record twice.
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM effects WHERE direction = 'forward'"
            )
            .await,
            expected_forward
        );
        assert_eq!(
            count(
                &pool,
                "SELECT count(*) FROM effects WHERE direction = 'back'"
            )
            .await,
            expected_back
        );
        assert_eq!(
            count(&pool, "SELECT count(*) FROM (SELECT 1 FROM effects GROUP BY record_id, direction HAVING count(*) > 1) AS twice").await,
            0
        );
        before = now;
    }
}
