//! The board at 10,000 features, in the browser: each column draws only its first page of cards
//! with the stage's true count, "Show more" adds the next page, the search and owner filters
//! narrow every column (the counts stay the stages' true totals), a stage move updates the card
//! and both counts from the move's answer without reading the list again, and another user's
//! change arrives as a fetch of that one feature. The page's own timings (navigation to the
//! first cards, one stage move) and its element count are printed for the report, not asserted.

use std::time::Instant;

use ramp_core::Attribution;
use ramp_store::{ImportedFeature, Store};
use reqwest::Method;
use serde_json::{json, Value};

use super::editing;
use super::harness::{ensure, poll, Browser, Outcome, Scene};
use crate::common::TestServer;
use crate::{finish, Steps};

/// The whole session, on a server of its own (the caller holds the one-browser lock).
pub async fn session() {
    let started = Instant::now();
    let store = ramp_rollout::open_store("memory://")
        .await
        .expect("memory store");
    seed(store.as_ref()).await.expect("10,000 features seeded");
    let server = TestServer::over(store).await;
    let Some(browser) = Browser::start(&server.base).await else {
        server.stop().await;
        return;
    };
    let scene = Scene {
        server,
        browser,
        feature: name(0),
        group: String::new(),
        viewer: (String::new(), String::new()),
    };
    let mut steps = Steps::default();
    let s = &scene;
    steps.run("1 log in", editing::log_in(s)).await;
    steps
        .run(
            "scale: first pages with the true totals",
            first_pages_and_totals(s),
        )
        .await;
    steps
        .run("scale: show more adds a page", show_more_adds_a_page(s))
        .await;
    steps
        .run(
            "scale: search and owner narrow the columns",
            filters_narrow_columns(s),
        )
        .await;
    steps
        .run(
            "scale: moves update in place without the list",
            moves_without_the_list(s),
        )
        .await;
    steps
        .run(
            "scale: a new feature arrives without the pages",
            a_new_feature_arrives(s),
        )
        .await;
    finish(scene, steps, started).await;
}

/// Features in the generated store.
pub const FEATURES: usize = 10_000;
/// Cards a column draws before "Show more" (the board's `PAGE_SIZE`).
const PAGE: usize = 25;
const STAGES: [&str; 5] = [
    "development",
    "beta",
    "rolling_out",
    "everyone",
    "graduated",
];

/// `scale-00000` ...: the stage is the number modulo 5, the owner `team-N` with N the number
/// modulo 20, so each stage holds 2,000 features.
pub fn name(number: usize) -> String {
    format!("scale-{number:05}")
}

/// Writes the features straight into the store in one import (seconds, not minutes of HTTP).
pub async fn seed(store: &dyn Store) -> Result<(), String> {
    let features: Vec<ImportedFeature> = (0..FEATURES)
        .map(|number| {
            let percentage = [0, 10, 50, 100, 100][number % 5];
            serde_json::from_value(json!({
                "name": name(number),
                "percentage": percentage,
                "stage": STAGES[number % 5],
                "data": {"description": format!("Generated feature {number}"), "owner": format!("team-{}", number % 20)},
            }))
            .map_err(|error| format!("feature {number}: {error}"))
        })
        .collect::<Result<_, _>>()?;
    store
        .import(&features, &[], &Attribution::new("seed"))
        .await
        .map_err(|error| format!("import: {error}"))?;
    Ok(())
}

/// Cards drawn in the column of `stage`.
async fn cards(scene: &Scene, stage: &str) -> Outcome<usize> {
    scene
        .browser
        .count(&format!("section[data-stage={stage}] [data-feature]"))
        .await
}

/// The column's count as a number (the digits of "2,000" or "2,000 / 10").
async fn count(scene: &Scene, stage: &str) -> Outcome<usize> {
    let text = scene
        .browser
        .text(&format!("section[data-stage={stage}] .count"))
        .await?;
    let total = text.split('/').next().unwrap_or_default();
    let digits: String = total.chars().filter(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| format!("count {text:?}"))
}

/// Waits until every column draws `shown[i]` cards and counts `totals[i]`.
async fn wait_columns(scene: &Scene, what: &str, shown: [usize; 5], totals: [usize; 5]) -> Outcome {
    poll(what, || async {
        for (index, stage) in STAGES.iter().enumerate() {
            let (drawn, counted) = (cards(scene, stage).await?, count(scene, stage).await?);
            ensure!(
                drawn == shown[index] && counted == totals[index],
                "{stage}: {drawn} cards, count {counted}; expected {} and {}",
                shown[index],
                totals[index]
            );
        }
        Ok(())
    })
    .await
}

/// The board opens with 25 cards per column and the true totals; prints how long it took.
pub async fn first_pages_and_totals(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    // From a light screen (not the features list, whose own requests would compete) to the
    // board's first cards, inside the page (no reload).
    browser.open("#/groups").await?;
    browser.find("#groups-table").await?;
    let navigation = browser
        .js(
            "performance.clearMarks('board-first-cards');
             const started = performance.now();
             location.hash = '#/board';
             const deadline = started + 20000;
             return new Promise((resolve, reject) => {
               const check = () => {
                 const mark = performance.getEntriesByName('board-first-cards')[0];
                 if (mark) resolve(mark.startTime - started);
                 else if (performance.now() > deadline) reject(new Error('no first cards'));
                 else requestAnimationFrame(check);
               };
               check();
             });",
            vec![],
        )
        .await?;
    wait_columns(scene, "the first pages", [PAGE; 5], [2000; 5]).await?;
    let nodes = browser
        .js("return document.getElementsByTagName('*').length", vec![])
        .await?;
    let lists = browser
        .js(
            "return performance.getEntriesByType('resource')
               .filter((entry) => entry.name.includes('/api/v1/features?'))
               .map((entry) => Math.round(entry.duration))",
            vec![],
        )
        .await?;
    eprintln!(
        "scale board: navigation to the first cards {navigation} ms (list requests {lists} ms); {nodes} elements on the page"
    );
    // And a full page load, from navigation start (session check and scripts included).
    browser.js("location.reload()", vec![]).await?;
    let loaded = poll("the board after a reload", || async {
        let mark = browser
            .js(
                "const mark = performance.getEntriesByName('board-first-cards')[0]; return mark ? mark.startTime : null",
                vec![],
            )
            .await?;
        mark.as_f64().ok_or_else(|| "not yet".to_owned())
    })
    .await?;
    eprintln!("scale board: full page load to the first cards {loaded:.0} ms");
    let more = browser
        .text("section[data-stage=beta] button.show-more")
        .await?;
    ensure!(more.contains("1,975"), "beta's show more says {more:?}");
    Ok(())
}

/// "Show more" appends the next page of that column only.
pub async fn show_more_adds_a_page(scene: &Scene) -> Outcome {
    scene
        .browser
        .click("section[data-stage=beta] button.show-more")
        .await?;
    let mut shown = [PAGE; 5];
    shown[1] = 2 * PAGE;
    wait_columns(scene, "beta's second page", shown, [2000; 5]).await?;
    let names = scene
        .browser
        .js(
            "return [...document.querySelectorAll('section[data-stage=beta] [data-feature]')].map((card) => card.dataset.feature)",
            vec![],
        )
        .await?;
    let expected: Vec<String> = (0..2 * PAGE).map(|index| name(index * 5 + 1)).collect();
    ensure!(names == json!(expected), "beta shows {names}");
    Ok(())
}

/// Search and owner narrow every column; the counts stay the stages' true totals.
pub async fn filters_narrow_columns(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    // scale-00100 ... scale-00199: 20 per stage.
    browser.paste("#board-search", "scale-001").await?;
    wait_columns(scene, "the search", [20; 5], [2000; 5]).await?;
    browser
        .wait_text("section[data-stage=graduated] .matching", "20 match")
        .await?;
    // Of those, team-3 owns 103, 123, ..., 183: all at Everyone.
    browser.paste("#board-owner", "Team-3").await?;
    wait_columns(scene, "search and owner", [0, 0, 0, 5, 0], [2000; 5]).await?;
    browser.paste("#board-search", "").await?;
    browser.paste("#board-owner", "").await?;
    wait_columns(scene, "the filters cleared", [PAGE; 5], [2000; 5]).await?;
    Ok(())
}

/// Every request the page makes from now on is recorded in `window.rampRequests`.
async fn record_requests(scene: &Scene) -> Outcome {
    scene
        .browser
        .js(
            "window.rampRequests = [];
             if (!window.rampFetch) {
               window.rampFetch = window.fetch;
               window.fetch = (resource, options) => {
                 window.rampRequests.push(`${options?.method || 'GET'} ${resource}`);
                 return window.rampFetch(resource, options);
               };
             }",
            vec![],
        )
        .await?;
    Ok(())
}

async fn requests(scene: &Scene) -> Outcome<Vec<String>> {
    let list = scene
        .browser
        .js("return window.rampRequests", vec![])
        .await?;
    serde_json::from_value(list).map_err(|error| error.to_string())
}

/// A move updates the card and both counts from its answer; another user's move arrives as
/// one feature's fetch. Neither reads the list.
pub async fn moves_without_the_list(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    record_requests(scene).await?;
    let moved = name(0);
    browser
        .select(
            &format!("[data-feature=\"{moved}\"] select.move-stage"),
            "beta",
        )
        .await?;
    browser
        .find(&format!(
            "section[data-stage=beta] [data-feature=\"{moved}\"]"
        ))
        .await?;
    let mut shown = [PAGE; 5];
    shown[0] = PAGE - 1;
    shown[1] = PAGE + 1;
    wait_columns(
        scene,
        "the moved card and counts",
        shown,
        [1999, 2001, 2000, 2000, 2000],
    )
    .await?;
    let timings = browser
        .js(
            "return ['board-move-drawn', 'board-move']
               .map((name) => performance.getEntriesByName(name).pop()?.duration)",
            vec![],
        )
        .await?;
    eprintln!(
        "scale board: stage move, menu change to the card drawn in its new column and to the answer applied: {timings} ms"
    );
    let stored = stage_of(scene, &moved).await?;
    ensure!(stored == "beta", "the store has {moved} in {stored}");

    // Another user moves a card this page shows.
    let other = name(1);
    let (status, body) = scene
        .server
        .send_json(
            Method::PUT,
            &format!("/api/v1/features/{other}/stage"),
            json!({"stage": "rolling_out"}),
        )
        .await;
    ensure!(status == 200, "moving {other} answered {status}: {body}");
    shown[1] = PAGE;
    shown[2] = PAGE + 1;
    wait_columns(
        scene,
        "the other user's move",
        shown,
        [1999, 2000, 2001, 2000, 2000],
    )
    .await?;
    browser
        .find(&format!(
            "section[data-stage=rolling_out] [data-feature=\"{other}\"]"
        ))
        .await?;
    // Live events arrive in order, so the echo of this page's own move came before.
    let made = requests(scene).await?;
    let lists: Vec<&String> = made
        .iter()
        .filter(|line| line.contains("/api/v1/features?"))
        .collect();
    ensure!(
        lists.is_empty(),
        "list requests after the moves: {lists:?} (all: {made:?})"
    );
    let reads: Vec<&String> = made
        .iter()
        .filter(|line| line.starts_with("GET "))
        .collect();
    ensure!(
        reads == [&format!("GET /api/v1/features/{other}")],
        "expected one read of {other}, the page made {made:?}"
    );
    ensure!(
        made.contains(&format!("PUT /api/v1/features/{moved}/stage")),
        "the move's request is missing from {made:?}"
    );
    Ok(())
}

/// A feature another user creates, named within the drawn development cards, appears there
/// and the counts are read again (the page cannot know where a feature it had not drawn was).
pub async fn a_new_feature_arrives(scene: &Scene) -> Outcome {
    record_requests(scene).await?;
    let created = "scale-00000-new";
    let (status, body) = scene
        .server
        .send_json(Method::POST, "/api/v1/features", json!({"name": created}))
        .await;
    ensure!(
        status == 201,
        "creating {created} answered {status}: {body}"
    );
    scene
        .browser
        .find(&format!(
            "section[data-stage=development] [data-feature=\"{created}\"]"
        ))
        .await?;
    let shown = [PAGE, PAGE, PAGE + 1, PAGE, PAGE];
    // The count requests ask for no additions (`with`); a page of cards does.
    wait_columns(
        scene,
        "the new feature and counts",
        shown,
        [2000, 2000, 2001, 2000, 2000],
    )
    .await?;
    let made = requests(scene).await?;
    let full_pages: Vec<&String> = made
        .iter()
        .filter(|line| line.contains("/api/v1/features?") && line.contains("with="))
        .collect();
    ensure!(full_pages.is_empty(), "pages read again: {full_pages:?}");
    Ok(())
}

/// The stage the API reports for a feature.
async fn stage_of(scene: &Scene, feature: &str) -> Outcome<String> {
    let (status, body): (u16, Value) = scene
        .server
        .get_json(&format!("/api/v1/features/{feature}"))
        .await;
    ensure!(status == 200, "GET {feature} answered {status}");
    Ok(body["stage"].as_str().unwrap_or_default().to_owned())
}
