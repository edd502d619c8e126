//! Exposures in the browser: counts an application posts for a feature (this minute and a few
//! minutes ago) show on the feature page as bars, with totals that match what was posted, the
//! feature's percentage changes marked on the time axis in words naming who changed what, a
//! 1-hour period that still draws them, and no sideways scrolling at a phone's width; the
//! features list shows when the feature was last checked and a sparkline of its day.
//!
//! Times are relative to now (`chrono::Utc::now()`), so the test passes at any time of day.

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{ensure, poll, Outcome, Scene, DESKTOP, PHONE};

/// Checks posted per batch: (minutes ago, active by percentage, inactive as off).
const BATCHES: [(i64, u64, u64); 2] = [(6, 7, 4), (0, 3, 1)];

/// The users the last batch reports: (ids answered active, ids answered inactive).
fn users() -> (ramp_core::UserSketch, ramp_core::UserSketch) {
    let mut active = ramp_core::UserSketch::new();
    for id in ["u1", "u2", "u3"] {
        active.insert_user(id);
    }
    let mut inactive = ramp_core::UserSketch::new();
    inactive.insert_user("u9");
    (active, inactive)
}

/// The feature made through the API at 0 %, then set to 5 % and 25 % by alice, and checked
/// by a "shop" application in two minutes.
pub async fn seed(scene: &Scene) -> Outcome {
    let server = &scene.server;
    let feature = &scene.feature;
    let (status, body) = server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": feature, "data": {"description": "Checked by the shop"}}),
        )
        .await;
    ensure!(
        status == 201,
        "creating {feature} answered {status}: {body}"
    );
    let alice = server.token("alice", "admin").await;
    for percentage in [5, 25] {
        let response = server
            .request_as(
                &alice,
                Method::PUT,
                &format!("/api/v1/features/{feature}/percentage"),
            )
            .json(&json!({ "percentage": percentage }))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        ensure!(
            response.status() == 200,
            "alice setting {percentage} % answered {}",
            response.status()
        );
    }
    let now = Utc::now();
    for (index, (minutes_ago, active, inactive)) in BATCHES.into_iter().enumerate() {
        let at = (now - Duration::minutes(minutes_ago)).to_rfc3339_opts(SecondsFormat::Secs, true);
        let (active_users, inactive_users) = users();
        let batch = json!({
            "users": if minutes_ago == 0 {
                json!([
                    {"feature": feature, "active": true, "sketch": active_users},
                    {"feature": feature, "active": false, "sketch": inactive_users},
                ])
            } else {
                json!([])
            },
            "application": "shop", "instance": "web-1", "batch_id": format!("web-1:{index}"),
            "from": at, "to": at,
            "counts": [
                {"feature": feature, "active": true, "reason": "percentage", "count": active},
                {"feature": feature, "active": false, "reason": "off", "count": inactive},
            ],
        });
        let (status, body) = server
            .send_json(Method::POST, "/api/v1/exposures", batch)
            .await;
        ensure!(
            status == 200,
            "posting batch {index} answered {status}: {body}"
        );
    }
    Ok(())
}

fn posted() -> (u64, u64) {
    BATCHES
        .iter()
        .fold((0, 0), |(active, inactive), (_, a, i)| {
            (active + a, inactive + i)
        })
}

/// The bars drawn now, as `(start, active, inactive)`.
async fn bars(scene: &Scene) -> Outcome<Vec<Value>> {
    let drawn = scene
        .browser
        .js(
            "return [...document.querySelectorAll('#exposure-chart .exposure-bar[data-start]')]
               .map((bar) => [bar.dataset.start, Number(bar.dataset.active), Number(bar.dataset.inactive)])",
            vec![],
        )
        .await?;
    Ok(drawn.as_array().cloned().unwrap_or_default())
}

/// The feature page draws the posted checks, their totals, the changes and the applications;
/// the 1-hour period keeps the chart; at 375 px the section fits.
pub async fn feature_page_charts_the_checks(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let feature = &scene.feature;
    let (active, inactive) = posted();
    browser.open(&format!("#/features/{feature}")).await?;
    browser.find("#exposure-chart").await?;
    let pressed = browser
        .attribute("#exposure-range button[data-range=\"24h\"]", "aria-pressed")
        .await?;
    ensure!(
        pressed.as_deref() == Some("true"),
        "24 h is not the first period: {pressed:?}"
    );

    let drawn = poll("bars holding every posted check", || async {
        let drawn = bars(scene).await?;
        let sum = |column: usize| {
            drawn
                .iter()
                .filter_map(|bar| bar[column].as_u64())
                .sum::<u64>()
        };
        ensure!(
            !drawn.is_empty() && sum(1) == active && sum(2) == inactive,
            "bars {drawn:?}"
        );
        Ok(drawn)
    })
    .await?;
    ensure!(
        drawn.len() <= BATCHES.len(),
        "more bars than minutes posted: {drawn:?}"
    );

    let totals = browser.find("#exposure-totals").await?;
    let shown = (
        totals.attr("data-active").await,
        totals.attr("data-inactive").await,
    );
    ensure!(
        matches!(&shown, (Ok(Some(a)), Ok(Some(i))) if *a == active.to_string() && *i == inactive.to_string()),
        "#exposure-totals says {shown:?}, posted {active} active and {inactive} inactive"
    );
    let words = browser.text("#exposure-totals").await?;
    ensure!(
        words.contains(&active.to_string()) && words.contains(&inactive.to_string()),
        "#exposure-totals reads {words:?}"
    );
    let (active_users, inactive_users) = users();
    let shown_users = (
        totals.attr("data-users-active").await,
        totals.attr("data-users-inactive").await,
    );
    let expected_users = (
        active_users.estimate().to_string(),
        inactive_users.estimate().to_string(),
    );
    ensure!(
        matches!(&shown_users, (Ok(Some(a)), Ok(Some(i))) if *a == expected_users.0 && *i == expected_users.1),
        "#exposure-totals shows users {shown_users:?}, posted sketches estimating {expected_users:?}"
    );
    ensure!(
        words.contains("Users active") && words.contains(&format!("≈ {}", expected_users.0)),
        "#exposure-totals reads {words:?}"
    );
    ensure!(
        !words.contains("never"),
        "#exposure-totals has no last-checked time: {words:?}"
    );
    let summary = browser.text("#exposure-summary").await?;
    ensure!(
        summary.contains(&format!("{} checks", active + inactive)),
        "#exposure-summary reads {summary:?}"
    );

    // The changes made a moment ago are marked; alice's reads in words with both percentages.
    let titles = browser
        .js(
            "return [...document.querySelectorAll('#exposure-chart .change-marker[data-event]')]
               .map((marker) => marker.querySelector('title').textContent)",
            vec![],
        )
        .await?;
    let titles: Vec<&str> = titles
        .as_array()
        .map(|titles| titles.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ensure!(
        titles
            .iter()
            .any(|title| title.contains("alice") && title.contains("from 5 to 25")),
        "no change marker names alice's 5 → 25: {titles:?}"
    );
    let labels = browser
        .js(
            "return [...document.querySelectorAll('#exposure-chart .axis-title')].map((t) => t.textContent)",
            vec![],
        )
        .await?;
    ensure!(
        labels.to_string().contains("checks per 15 minutes") && labels.to_string().contains("time"),
        "the axes read {labels}"
    );

    no_null_or_undefined(scene).await?;
    let applications = browser.text("#exposure-applications").await?;
    ensure!(
        applications.contains("shop") && applications.contains("web-1"),
        "#exposure-applications reads {applications:?}"
    );

    show_the_section(scene).await?;
    browser.screenshot("feature-exposures-24h").await?;
    // Every period draws the same checks (in fewer, longer bars); the last, 1 h, one bar per
    // posted minute.
    for range in ["7d", "30d", "1h"] {
        browser
            .click(&format!("#exposure-range button[data-range=\"{range}\"]"))
            .await?;
        poll(
            &format!("the {range} chart with the posted checks"),
            || async {
                let shown = browser.attribute("#exposure-chart", "data-range").await?;
                ensure!(shown.as_deref() == Some(range), "the chart shows {shown:?}");
                let drawn = bars(scene).await?;
                let sum = |column: usize| {
                    drawn
                        .iter()
                        .filter_map(|bar| bar[column].as_u64())
                        .sum::<u64>()
                };
                ensure!(
                    !drawn.is_empty() && sum(1) == active && sum(2) == inactive,
                    "bars {drawn:?}"
                );
                ensure!(
                    range != "1h" || drawn.len() == BATCHES.len(),
                    "one bar per posted minute expected: {drawn:?}"
                );
                users_per_day_drawn(scene, range).await?;
                Ok(())
            },
        )
        .await?;
        browser
            .screenshot(&format!("feature-exposures-{range}"))
            .await?;
    }
    let pressed = browser
        .attribute("#exposure-range button[data-range=\"1h\"]", "aria-pressed")
        .await?;
    ensure!(
        pressed.as_deref() == Some("true"),
        "1 h is not marked chosen: {pressed:?}"
    );

    browser.resize(PHONE).await?;
    let fits = phone_fits(scene).await;
    if fits.is_ok() {
        browser.screenshot("feature-exposures-phone").await?;
    }
    browser.resize(DESKTOP).await?;
    fits
}

/// For 7 and 30 days, the distinct users are also drawn per UTC day: the posted sketches fall
/// on one day, whose bar holds their estimates; shorter periods draw no users chart.
async fn users_per_day_drawn(scene: &Scene, range: &str) -> Outcome {
    let drawn = scene
        .browser
        .js(
            "const chart = document.getElementById('users-chart');
             if (!chart) return null;
             return [chart.dataset.range,
                     [...chart.querySelectorAll('.exposure-bar[data-day]')]
                       .map((bar) => [bar.dataset.day, Number(bar.dataset.active), Number(bar.dataset.inactive)]),
                     [...chart.querySelectorAll('.axis-title')].map((title) => title.textContent).join(' | ')]",
            vec![],
        )
        .await?;
    if range == "1h" || range == "24h" {
        ensure!(drawn.is_null(), "a users chart for {range}: {drawn}");
        return Ok(());
    }
    let (active, inactive) = users();
    let expected = json!([[active.estimate(), inactive.estimate()]]);
    let shown = drawn[1]
        .as_array()
        .map(|bars| {
            bars.iter()
                .map(|bar| json!([bar[1], bar[2]]))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    ensure!(
        drawn[0] == range && Value::from(shown) == expected,
        "users chart for {range}: {drawn}, expected one day of {expected}"
    );
    let axes = drawn[2].as_str().unwrap_or_default();
    ensure!(
        axes.contains("distinct users per day") && axes.contains("day (UTC)"),
        "the users chart's axes read {axes:?}"
    );
    Ok(())
}

/// At a phone's width the page does not scroll sideways and the chart is redrawn to fit.
async fn phone_fits(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    show_the_section(scene).await?;
    poll("the exposures section to fit 375 px", || async {
        let widths = browser
            .js(
                "const section = document.getElementById('exposures');
                 const chart = document.getElementById('exposure-chart');
                 return [document.documentElement.scrollWidth, innerWidth, section.scrollWidth,
                         section.clientWidth, Math.round(section.getBoundingClientRect().right),
                         chart.viewBox.baseVal.width, Math.round(chart.getBoundingClientRect().width)]",
                vec![],
            )
            .await?;
        let number = |index: usize| widths[index].as_f64().unwrap_or(f64::MAX);
        ensure!(
            number(0) <= number(1)
                && number(2) <= number(3)
                && number(4) <= number(1)
                && (number(5) - number(6)).abs() <= 2.0,
            "[page scroll width, viewport, section scroll width, section width, section right, \
             chart viewBox width, chart width] = {widths}"
        );
        Ok(())
    })
    .await
}

/// Scrolls the exposures section to the top of the window (for the screenshots).
async fn show_the_section(scene: &Scene) -> Outcome {
    scene
        .browser
        .js(
            "document.getElementById('exposures').scrollIntoView(); return true",
            vec![],
        )
        .await
        .map(drop)
}

/// The features list shows the feature's last check and a sparkline with its checks.
pub async fn features_list_shows_last_seen(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let feature = &scene.feature;
    browser.open("#/features").await?;
    let row = format!("#features-table tr[data-feature=\"{feature}\"]");
    let seen = browser
        .text(&format!("{row} .last-seen[data-feature=\"{feature}\"]"))
        .await?;
    ensure!(
        seen.contains("ago") || seen.contains("now"),
        "last seen reads {seen:?}"
    );
    let sparkline = format!("{row} .sparkline[data-feature=\"{feature}\"]");
    browser.find(&sparkline).await?;
    let bars = browser.count(&format!("{sparkline} .spark-bar")).await?;
    ensure!(bars >= 1, "the sparkline has no bar");
    let label = browser.attribute(&sparkline, "aria-label").await?;
    let (active, inactive) = posted();
    ensure!(
        label
            .as_deref()
            .is_some_and(|label| label.contains(&format!("{} checks", active + inactive))),
        "the sparkline is labelled {label:?}"
    );
    // A feature nothing checked says so.
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": "never-checked"}),
        )
        .await;
    ensure!(
        status == 201,
        "creating never-checked answered {status}: {body}"
    );
    browser.open("#/board").await?;
    browser.open("#/features").await?;
    browser
        .wait_text(".last-seen[data-feature=\"never-checked\"]", "never")
        .await?;
    no_null_or_undefined(scene).await?;
    browser.screenshot("features-last-seen").await?;
    Ok(())
}

/// The page shows neither the word "null" nor "undefined" (a missing value written out).
async fn no_null_or_undefined(scene: &Scene) -> Outcome {
    let text = scene
        .browser
        .js("return document.body.innerText", vec![])
        .await?;
    let text = text.as_str().unwrap_or_default();
    let leaks: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| *word == "null" || *word == "undefined")
        .collect();
    ensure!(leaks.is_empty(), "the page reads {leaks:?}: {text:?}");
    Ok(())
}
