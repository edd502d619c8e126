//! Health in the browser, on the WIP session's server whose clock is 12 days ahead of the
//! store's: an operational flag (expected to live 7 days) created now is stale there. The
//! Cleanup screen lists it under Stale with the evidence, and the Features list shows its
//! health badge and its time in stage, from the one `with=health` list request.

use reqwest::Method;
use serde_json::json;

use super::harness::{ensure, Outcome, Scene};

const STALE: &str = "old-migration";

/// Creates an operational flag in beta; 12 days later (the server's clock) it is stale.
pub async fn seed(scene: &Scene) -> Outcome {
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": STALE, "kind": "operational", "stage": "beta", "percentage": 5}),
        )
        .await;
    ensure!(status == 201, "creating {STALE} answered {status}: {body}");
    Ok(())
}

/// The Cleanup screen groups it under Stale with the sentence saying why.
pub async fn cleanup_shows_the_stale_feature(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/cleanup").await?;
    let item = format!(".cleanup-group[data-state=stale] li[data-feature=\"{STALE}\"]");
    let evidence = browser
        .wait_text(
            &format!("{item} .evidence"),
            "operational flags are expected to live 7 days",
        )
        .await?;
    ensure!(
        evidence.contains("created 12 days ago"),
        "the evidence says {evidence:?}"
    );
    let link = browser
        .attribute(&format!("{item} a.feature-link"), "href")
        .await?;
    ensure!(
        link.as_deref() == Some(&format!("#/features/{STALE}")[..]),
        "the link is {link:?}"
    );
    let heading = browser.text(".cleanup-group[data-state=stale] h2").await?;
    ensure!(heading.contains("Stale (1)"), "the heading is {heading:?}");
    Ok(())
}

/// Its row on the Features list has the stale badge (the evidence as its tooltip) and says
/// how long it has been in Beta.
pub async fn features_list_shows_health_and_time_in_stage(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/features").await?;
    let row = format!("tr[data-feature=\"{STALE}\"]");
    // Badges are shown in capitals (CSS): compare without case.
    let badge = browser.text(&format!("{row} [data-health=stale]")).await?;
    ensure!(badge.to_lowercase() == "stale", "the badge says {badge:?}");
    let tooltip = browser
        .attribute(&format!("{row} [data-health=stale]"), "title")
        .await?
        .unwrap_or_default();
    ensure!(
        tooltip.contains("expected to live 7 days"),
        "the tooltip says {tooltip:?}"
    );
    let age = browser.text(&format!("{row} .stage-age")).await?;
    ensure!(age.contains("in Beta for 12 days"), "the row says {age:?}");
    Ok(())
}
