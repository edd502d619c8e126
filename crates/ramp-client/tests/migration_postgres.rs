//! Gradual data migrations in a real PostgreSQL: a table follows a feature's percentage up and
//! down, failing steps are counted and retried, a dry run changes nothing, `watch` follows
//! changes by itself.

mod migration_common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use migration_common::{count, covered, ids, postgres_available, seed, wait_for, Feature, Schema};
use ramp_client::migration::{Migration, PostgresLedger, PostgresRecords, StepError};
use ramp_core::{MigrationPhase, MigrationProgress};
use tokio_util::sync::CancellationToken;

/// The ledger every test uses: `forward` sets layout 2 and writes an effect row, `back` sets
/// layout 1 and writes one, both on the ledger's transaction.
async fn ledger(pool: &deadpool_postgres::Pool, failing: Arc<AtomicBool>) -> PostgresLedger {
    PostgresLedger::open(
        pool.clone(),
        move |transaction, id| {
            let failing = failing.clone();
            Box::pin(async move {
                transaction
                    .execute(
                        "UPDATE records SET layout = 2 WHERE id = $1::text::bigint",
                        &[&id],
                    )
                    .await?;
                transaction
                    .execute(
                        "INSERT INTO effects VALUES ($1::text::bigint, 'forward')",
                        &[&id],
                    )
                    .await?;
                let id: i64 = id.parse()?;
                if failing.load(Ordering::SeqCst) && id % 7 == 0 {
                    return Err(StepError::from(format!("record {id} is locked by billing")));
                }
                Ok(())
            })
        },
        |transaction, id| {
            Box::pin(async move {
                transaction
                    .execute(
                        "UPDATE records SET layout = 1 WHERE id = $1::text::bigint",
                        &[&id],
                    )
                    .await?;
                transaction
                    .execute(
                        "INSERT INTO effects VALUES ($1::text::bigint, 'back')",
                        &[&id],
                    )
                    .await?;
                Ok(())
            })
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_rows_follow_the_percentage_up_and_back_down() {
    if !postgres_available("a_hundred_thousand_rows_follow_the_percentage").await {
        return;
    }
    const ROWS: i64 = 100_000;
    let schema = Schema::create().await;
    let pool = schema.pool(6);
    seed(&pool, ROWS).await;
    let feature = Feature::new("layout-v2").await;
    let reports: Arc<Mutex<Vec<MigrationProgress>>> = Arc::default();
    let seen = reports.clone();
    let mut migration = Migration::new(
        feature.client.clone(),
        feature.name,
        PostgresRecords::integer_ids(pool.clone(), "records", "id").unwrap(),
        ledger(&pool, Arc::default()).await,
    )
    .name("records-v2")
    .batch_size(10_000)
    .concurrency(4)
    .on_progress(move |progress| seen.lock().unwrap().push(progress.clone()));

    let mut before = BTreeSet::new();
    // Per record, how many times each way it should have moved so far.
    let mut expected_moves: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    for percentage in [10.0, 50.0, 20.0, 100.0] {
        feature.set_percentage(percentage).await;
        let now = covered(feature.name, percentage, ROWS);
        let forward: BTreeSet<i64> = now.difference(&before).copied().collect();
        let back: BTreeSet<i64> = before.difference(&now).copied().collect();

        let effects_before = count(&pool, "SELECT count(*) FROM effects").await;
        let plan = migration.plan().await.unwrap();
        assert_eq!(
            (plan.forward, plan.back),
            (forward.len() as u64, back.len() as u64),
            "{percentage} %"
        );
        assert_eq!(
            (plan.records, plan.covered),
            (ROWS as u64, now.len() as u64)
        );
        assert_eq!(
            count(&pool, "SELECT count(*) FROM effects").await,
            effects_before,
            "a dry run wrote"
        );

        reports.lock().unwrap().clear();
        let report = migration.run_pass().await.unwrap();
        assert_eq!(report.forwarded, forward.len() as u64, "{percentage} %");
        assert_eq!(report.moved_back, back.len() as u64, "{percentage} %");
        assert_eq!((report.failures, report.migrated), (0, now.len() as u64));

        // Exactly the covered rows are migrated, in the table and in the ledger.
        assert_eq!(
            ids(&pool, "SELECT id FROM records WHERE layout = 2").await,
            now,
            "{percentage} %"
        );
        let ledger_ids = ids(
            &pool,
            "SELECT record_id::bigint FROM ramp_migrated WHERE migration = 'records-v2'",
        )
        .await;
        assert_eq!(ledger_ids, now);
        for id in &forward {
            *expected_moves.entry((*id, "forward")).or_default() += 1;
        }
        for id in &back {
            *expected_moves.entry((*id, "back")).or_default() += 1;
        }
        let last = reports.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last.phase, MigrationPhase::Done);
        assert_eq!(
            (last.records, last.covered, last.migrated),
            (ROWS as u64, now.len() as u64, now.len() as u64)
        );
        assert_eq!(
            (last.pending_forward, last.pending_back, last.failures),
            (0, 0, 0)
        );
        assert_eq!(last.migration, "records-v2");
        assert_eq!(last.target_percentage.map(|p| p.value()), Some(percentage));
        last.validate().unwrap();
        // One report per batch of 10,000, then the end.
        assert_eq!(reports.lock().unwrap().len(), 11);
        before = now;
    }
    // Each record moved once per transition, never more.
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT record_id, direction, count(*) FROM effects GROUP BY 1, 2",
            &[],
        )
        .await
        .unwrap();
    let moves: BTreeMap<(i64, &str), i64> = rows
        .iter()
        .map(|row| {
            let direction = if row.get::<_, &str>(1) == "forward" {
                "forward"
            } else {
                "back"
            };
            ((row.get(0), direction), row.get(2))
        })
        .collect();
    assert_eq!(moves, expected_moves);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_step_is_counted_rolled_back_and_retried_by_the_next_pass() {
    if !postgres_available("a_failing_step_is_counted").await {
        return;
    }
    let schema = Schema::create().await;
    let pool = schema.pool(4);
    seed(&pool, 1_000).await;
    let feature = Feature::new("layout-v2").await;
    feature.set_percentage(100.0).await;
    let failing = Arc::new(AtomicBool::new(true));
    let mut migration = Migration::new(
        feature.client.clone(),
        feature.name,
        PostgresRecords::integer_ids(pool.clone(), "records", "id").unwrap(),
        ledger(&pool, failing.clone()).await,
    )
    .batch_size(300)
    .concurrency(2);

    let report = migration.run_pass().await.unwrap();
    let sevens: BTreeSet<i64> = (1..=1_000).filter(|id| id % 7 == 0).collect();
    assert_eq!(report.failures, sevens.len() as u64);
    assert_eq!(report.forwarded, 1_000 - sevens.len() as u64);
    let error = report.last_error.unwrap();
    assert!(error.starts_with("forward of record "), "{error}");
    assert!(error.contains("is locked by billing"), "{error}");
    // The failed records' own writes were rolled back with their ledger rows.
    assert_eq!(
        ids(&pool, "SELECT id FROM records WHERE layout = 1").await,
        sevens
    );
    assert_eq!(
        ids(&pool, "SELECT record_id FROM effects")
            .await
            .intersection(&sevens)
            .count(),
        0
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ramp_migrated").await,
        1_000 - sevens.len() as i64
    );

    failing.store(false, Ordering::SeqCst);
    let report = migration.run_pass().await.unwrap();
    assert_eq!(
        (report.forwarded, report.failures, report.migrated),
        (sevens.len() as u64, 0, 1_000)
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM records WHERE layout = 2").await,
        1_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_runs_a_pass_on_each_change_until_stopped() {
    if !postgres_available("watch_runs_a_pass_on_each_change").await {
        return;
    }
    const ROWS: i64 = 3_000;
    let schema = Schema::create().await;
    let pool = schema.pool(4);
    seed(&pool, ROWS).await;
    let feature = Feature::new("layout-v2").await;
    feature.set_percentage(10.0).await;
    let mut migration = Migration::new(
        feature.client.clone(),
        feature.name,
        PostgresRecords::integer_ids(pool.clone(), "records", "id").unwrap(),
        ledger(&pool, Arc::default()).await,
    )
    .batch_size(500);
    let stop = CancellationToken::new();
    let watching = tokio::spawn({
        let stop = stop.clone();
        async move { migration.watch(stop).await }
    });

    for percentage in [10.0, 30.0, 5.0] {
        feature.set_percentage(percentage).await;
        let expected = covered(feature.name, percentage, ROWS);
        wait_for(&format!("{percentage} % migrated"), 30, || {
            let pool = pool.clone();
            let expected = expected.clone();
            async move { ids(&pool, "SELECT id FROM records WHERE layout = 2").await == expected }
        })
        .await;
    }
    stop.cancel();
    watching.await.unwrap().unwrap();
}
