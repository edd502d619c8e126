//! The UI at 10,000 features: the Features list shows a first page of them (not 10,000 rows),
//! loads more as the table's end scrolls into view and narrows as a search is typed; the user
//! lookup shows a bounded number of rows; the history of a feature created with 100,000 users
//! arrives summarised and "Show all" fetches every id. Timings are measured in the page with
//! `performance.now()` and printed (`scale: ...` lines), never asserted: the test machine's
//! speed is not the UI's.

use std::sync::Arc;

use ramp_core::Attribution;
use ramp_store::{ImportedFeature, Store};
use serde_json::{json, Value};

use super::harness::{ensure, poll, Browser, Outcome, Scene};
use crate::common::TestServer;

/// Numbered features (`scale-00000` ...) plus the one big feature.
pub const NUMBERED: usize = 9_999;
pub const BIG: &str = "scale-big";
pub const BIG_USERS: usize = 100_000;
/// The bound a summarised history page of the big feature must stay under.
const SUMMARY_BYTES: usize = 64 * 1024;
/// The most rows a first page may hold (the UI asks for 100).
const FIRST_PAGE: u64 = 100;

fn numbered(number: usize) -> String {
    format!("scale-{number:05}")
}

/// Fills the store in one import (one creation event per feature) before the server starts.
/// Descriptions hold no digits, so a search for digits matches names only.
pub async fn seed(store: &Arc<dyn Store>) {
    let stages = [
        "development",
        "beta",
        "rolling_out",
        "everyone",
        "graduated",
    ];
    let mut features: Vec<Value> = (0..NUMBERED)
        .map(|number| {
            json!({
                "name": numbered(number),
                "stage": stages[number % stages.len()],
                "percentage": (number % 101) as f64,
                "users": [format!("user-{}", number % 50)],
                "data": {"description": "A feature of the scale test", "owner": "scale"},
            })
        })
        .collect();
    let users: Vec<String> = (0..BIG_USERS).map(|number| format!("u{number}")).collect();
    features.push(json!({"name": BIG, "stage": "beta", "users": users}));
    let features: Vec<ImportedFeature> =
        serde_json::from_value(Value::Array(features)).expect("features");
    store
        .import(&features, &[], &Attribution::new("seed"))
        .await
        .expect("import");
}

/// A server over a seeded memory store, and a browser on it (None: no browser here).
pub async fn scene() -> Option<Scene> {
    let store = ramp_rollout::open_store("memory://")
        .await
        .expect("memory store");
    seed(&store).await;
    let server = TestServer::over(store).await;
    let Some(browser) = Browser::start(&server.base).await else {
        server.stop().await;
        return None;
    };
    Some(Scene {
        server,
        browser,
        feature: BIG.to_owned(),
        group: String::new(),
        viewer: (String::new(), String::new()),
    })
}

/// Sets the hash to `route` and resolves with the milliseconds until `selector` matches.
const TIME_NAVIGATION: &str = r#"
const [route, selector] = arguments;
const started = performance.now();
location.hash = route;
return new Promise((resolve, reject) => {
  const deadline = started + 20000;
  const check = () => {
    if (document.querySelector(selector)) resolve(performance.now() - started);
    else if (performance.now() > deadline) reject(new Error(`no ${selector} after 20 s`));
    else setTimeout(check, 2);
  };
  check();
});"#;

/// Puts each of `texts` in turn into the search (as typing one character at a time does),
/// each time waiting for the list to answer that search with its expected total; resolves
/// with the milliseconds per step (to the list answering, and to the frame after it painted),
/// the rows in the table then, and the longest main-thread task seen meanwhile.
const TIME_TYPING: &str = r#"
const [texts, totals] = arguments;
const input = document.querySelector('#feature-search');
const count = document.querySelector('#features-count');
let longest = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longest = Math.max(longest, entry.duration);
});
try { observer.observe({ type: 'longtask' }); } catch { /* no long-task timing here */ }
const until = (done) => new Promise((resolve, reject) => {
  const deadline = performance.now() + 20000;
  const check = () => {
    if (done()) resolve();
    else if (performance.now() > deadline) reject(new Error(`search stuck at ${count.dataset.search}: ${count.dataset.total}`));
    else setTimeout(check, 2);
  };
  check();
});
const times = [];
const painted = [];
const drawn = [];
const requests = [];
const marks = [];
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
for (let index = 0; index < texts.length; index += 1) {
  const typed = texts[index];
  const started = performance.now();
  input.value = typed;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await until(() => count.dataset.search === typed && count.dataset.total === String(totals[index]));
  times.push(performance.now() - started);
  drawn.push(document.querySelectorAll('#features-table tr[data-feature]').length);
  await nextFrame();
  painted.push(performance.now() - started);
  // The search request's own share: from sending it to the last byte of its answer.
  const fetched = performance.getEntriesByType('resource')
    .filter((entry) => entry.name.includes('/api/v1/features?') && entry.startTime >= started);
  requests.push(fetched.length ? fetched[0].responseEnd - fetched[0].startTime : null);
  // The page's own measures (features.js): its request, the first rows, later batches.
  marks.push(performance.getEntriesByType('measure').filter((entry) => entry.startTime >= started)
    .map((entry) => `${entry.name.replace('features-', '')} ${Math.round(entry.duration)} at ${Math.round(entry.startTime - started)}`).join(', '));
}
observer.disconnect();
return { times, painted, drawn, requests, marks, longest };"#;

const DOM_NODES: &str = "return document.getElementsByTagName('*').length";

fn millis(value: &Value) -> String {
    format!("{:.0} ms", value.as_f64().unwrap_or(f64::NAN))
}

async fn rows(scene: &Scene, css: &str) -> Outcome<usize> {
    scene.browser.count(css).await
}

/// The list's first page, TOTAL 10,000, more on scroll, and a search that narrows it.
pub async fn features_list_pages(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    for query in ["limit=100", "search=04&limit=100"] {
        let path = format!("/api/v1/features?{query}&with=last_change,stage_since,health");
        let asked = std::time::Instant::now();
        let (status, body) = scene.server.get_json(&path).await;
        ensure!(status == 200, "{path}: {status} {body}");
        let served = asked.elapsed().as_secs_f64() * 1000.0;
        eprintln!("scale: GET {path} answered in {served:.0} ms");
    }
    browser.open("#/settings").await?;
    browser.find("#settings-wip-limits").await?;
    let first_rows = browser
        .js(
            TIME_NAVIGATION,
            vec![
                json!("#/features"),
                json!("#features-table tr[data-feature]"),
            ],
        )
        .await?;
    let total = browser.attribute("#features-count", "data-total").await?;
    ensure!(
        total.as_deref() == Some("10000"),
        "#features-count data-total {total:?}"
    );
    let shown = rows(scene, "#features-table tr[data-feature]").await? as u64;
    ensure!(
        (1..=FIRST_PAGE).contains(&shown),
        "{shown} rows on the first page"
    );
    let count = browser.text("#features-count").await?;
    ensure!(count.contains("of 10,000"), "the count reads {count:?}");
    let nodes = browser.js(DOM_NODES, vec![]).await?;
    eprintln!(
        "scale: features list: first rows {} after navigation, {shown} rows, {nodes} DOM nodes",
        millis(&first_rows)
    );

    browser
        .js(
            "document.querySelector('.list-sentinel').scrollIntoView()",
            vec![],
        )
        .await?;
    let more = poll("more rows after scrolling to the end", || async {
        let now = rows(scene, "#features-table tr[data-feature]").await? as u64;
        ensure!(now > shown, "{now} rows");
        Ok(now)
    })
    .await?;
    ensure!(more < 10_000, "{more} rows after one scroll");
    let nodes = browser.js(DOM_NODES, vec![]).await?;
    eprintln!("scale: features list: {more} rows after one scroll, {nodes} DOM nodes");

    let typed = "0423";
    let steps: Vec<&str> = (1..=typed.len()).map(|length| &typed[..length]).collect();
    let totals: Vec<usize> = steps
        .iter()
        .map(|part| {
            (0..NUMBERED)
                .filter(|number| numbered(*number).contains(part))
                .count()
        })
        .collect();
    let timing = browser
        .js(TIME_TYPING, vec![json!(steps), json!(totals)])
        .await?;
    let last = *totals.last().unwrap_or(&0);
    let names = browser
        .items("#features-table tr[data-feature]", "data-feature")
        .await?;
    ensure!(
        names.len() == last
            && names
                .iter()
                .all(|(_, name)| name.as_deref().unwrap_or_default().contains(typed)),
        "searching {typed:?} shows {names:?}"
    );
    let all_millis = |key: &str| -> String {
        timing[key]
            .as_array()
            .map(|times| times.iter().map(millis).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let nodes = browser.js(DOM_NODES, vec![]).await?;
    eprintln!(
        "scale: search {typed:?} (totals {totals:?}): per keystroke to the list shown {}, to its frame painted {} (rows drawn then {}; of which the request {}; page measures {}), longest main-thread task {}, {nodes} DOM nodes after",
        all_millis("times"),
        all_millis("painted"),
        timing["drawn"],
        all_millis("requests"),
        timing["marks"],
        millis(&timing["longest"])
    );
    // Clearing the search brings back the first page, not 10,000 rows.
    let cleared = browser
        .js(TIME_TYPING, vec![json!([""]), json!([NUMBERED + 1])])
        .await?;
    eprintln!(
        "scale: clearing the search: {}",
        millis(&cleared["times"][0])
    );
    let after = rows(scene, "#features-table tr[data-feature]").await? as u64;
    ensure!(after <= FIRST_PAGE, "{after} rows after clearing");
    Ok(())
}

/// The lookup shows at most a page of rows, and "Show more" adds the next.
pub async fn lookup_is_bounded(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/lookup").await?;
    browser.fill("#lookup-user", "user-7").await?;
    let answered = browser
        .js(
            &TIME_NAVIGATION.replace(
                "location.hash = route;",
                "document.querySelector(route).click();",
            ),
            vec![
                json!("#lookup-submit"),
                json!("#lookup-results tr[data-feature]"),
            ],
        )
        .await?;
    let shown = rows(scene, "#lookup-results tr[data-feature]").await? as u64;
    ensure!(
        (1..=FIRST_PAGE).contains(&shown),
        "{shown} lookup rows at first"
    );
    let nodes = browser.js(DOM_NODES, vec![]).await?;
    eprintln!(
        "scale: lookup: rows {} after the click, {shown} rows, {nodes} DOM nodes",
        millis(&answered)
    );
    browser.wait_text("#lookup-more", "of 10,000").await?;
    browser.click("#lookup-more").await?;
    poll("a second page of lookup rows", || async {
        let now = rows(scene, "#lookup-results tr[data-feature]").await? as u64;
        ensure!(now == 2 * FIRST_PAGE, "{now} rows");
        Ok(())
    })
    .await
}

/// The big feature's history page is small; "Show all" fetches every id; the feature filter
/// suggests a few names from the server.
pub async fn history_is_summarised(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let server = &scene.server;
    let mut sizes = Vec::new();
    for query in ["?lists=summary", ""] {
        let path = format!(
            "/api/v1/history?feature={BIG}&limit=50{}",
            query.replace('?', "&")
        );
        let response = server
            .request(reqwest::Method::GET, &path)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let bytes = response.bytes().await.map_err(|error| error.to_string())?;
        sizes.push((path, bytes.len()));
    }
    eprintln!("scale: history answers (bytes, uncompressed): {sizes:?}");
    ensure!(
        sizes[0].1 < SUMMARY_BYTES,
        "the summarised page is {} bytes",
        sizes[0].1
    );
    ensure!(
        sizes[1].1 > BIG_USERS,
        "the full page is {} bytes",
        sizes[1].1
    );

    browser.open(&format!("#/history?feature={BIG}")).await?;
    let event = "#global-history li[data-event]";
    browser.find(event).await?;
    browser
        .click(&format!("{event} details.event-ids summary"))
        .await?;
    browser
        .wait_text(&format!("{event} details.event-ids"), "more")
        .await?;
    browser
        .click(&format!("{event} button.show-all-ids"))
        .await?;
    let all = format!("{event} textarea.event-ids-all");
    browser.find(&all).await?;
    let count = browser.attribute(&all, "data-count").await?;
    ensure!(
        count.as_deref() == Some("100000"),
        "show all holds {count:?} ids"
    );
    browser
        .wait_text(&format!("{event} .event-ids-count"), "100,000 ids")
        .await?;

    browser.fill("#history-feature", "scale-0001").await?;
    poll("a few suggestions", || async {
        let options = rows(scene, "#history-feature-names option").await?;
        ensure!((1..=20).contains(&options), "{options} suggestions");
        Ok(())
    })
    .await
}
