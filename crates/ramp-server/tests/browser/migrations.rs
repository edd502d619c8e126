//! Migration progress in the browser: a migrator's report, posted through the API with a
//! reader's token as an application would, shows on the feature page as a Migrations panel with
//! a progress bar at migrated of covered and the sentence "8,230 of 10,000 records migrated;
//! target 12.5 %", the pending counts, the last error and who reported.

use reqwest::Method;
use serde_json::json;

use super::harness::{ensure, poll, Outcome, Scene};

const FEATURE: &str = "orders-backfill";

/// A feature, and one report of its migration sent with a reader's token.
pub async fn seed(scene: &Scene) -> Outcome {
    let server = &scene.server;
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": FEATURE, "percentage": 12.5}),
        )
        .await;
    ensure!(
        status == 201,
        "creating {FEATURE} answered {status}: {body}"
    );
    let reader = server.token("migrator", "reader").await;
    let report = json!({
        "feature": FEATURE, "migration": "orders-v2", "instance": "worker-3",
        "phase": "running", "records": 80_000, "covered": 10_000, "migrated": 8_230,
        "pending_forward": 1_770, "pending_back": 4, "failures": 2,
        "target_percentage": 12.5, "last_error": "order 17: lock timeout",
    });
    let response = server
        .request_as(
            &reader,
            Method::PUT,
            &format!("/api/v1/features/{FEATURE}/migrations/orders-v2"),
        )
        .json(&report)
        .send()
        .await
        .map_err(|error| format!("reporting: {error}"))?;
    ensure!(
        response.status() == 200,
        "reporting answered {}",
        response.status()
    );
    Ok(())
}

/// The panel shows the sentence, the bar's value and maximum, and the rest of the report.
pub async fn feature_page_shows_the_progress(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open(&format!("#/features/{FEATURE}")).await?;
    let item = "#migrations-list li.migration[data-migration=\"orders-v2\"]";
    browser
        .wait_text(
            &format!("{item} .migration-sentence"),
            "8,230 of 10,000 records migrated; target 12.5 %",
        )
        .await?;
    let bar = poll("the progress bar", || async {
        let bar = browser
            .js(
                "const bar = document.querySelector('#migrations progress.migration-bar'); \
                 return bar && !document.querySelector('#migrations').hidden \
                   ? [bar.value, bar.max] : null;",
                vec![],
            )
            .await?;
        ensure!(!bar.is_null(), "no visible bar");
        Ok(bar)
    })
    .await?;
    // Numbers as the page has them (JavaScript has no integers).
    let (value, max) = (bar[0].as_f64(), bar[1].as_f64());
    ensure!(
        value == Some(8_230.0) && max == Some(10_000.0),
        "the bar is {bar}"
    );
    let text = browser.text(item).await?;
    for expected in [
        "Running",
        "1,770 pending forward",
        "4 pending back",
        "2 failures",
        "Last error: order 17: lock timeout",
        "reported",
        "by worker-3",
    ] {
        ensure!(text.contains(expected), "no {expected:?} in {text:?}");
    }
    Ok(())
}
