//! Real-browser tests of the web UI: headless Chromium, driven through chromedriver, on an
//! in-process server. An admin logs in, creates a feature and rolls it out (percentage, users,
//! exclusions, a stored group), checks users, moves it on the board, reads its history and
//! undoes one earlier change while the later ones stay; a viewer sees no edit controls and
//! cannot forge an edit; CSRF and stale versions are refused on a real page; and what product
//! owners tripped over (`browser/owners.rs`) stays fixed. Elements are found by the ids of `ui/README.md`.
//! A second session (`exposures_in_a_real_browser`, `browser/exposures.rs`) checks the exposure
//! charts on a server of its own, and `board_at_scale_in_a_real_browser` (`browser/scale_board.rs`)
//! the board over 10,000 features; the sessions take turns.
//!
//! Starting Chromium costs about a second, so one session runs every scenario in order; each
//! is a named step, a failing step does not stop the later ones, and the test fails at the end
//! listing every failed step. With RAMP_SCREENSHOTS=DIR it also saves PNGs of the screens.

mod common;

mod browser {
    pub mod chromedriver;
    pub mod editing;
    pub mod exposures;
    pub mod group_history;
    pub mod harness;
    pub mod health;
    pub mod kinds;
    pub mod migrations;
    pub mod owners;
    pub mod references;
    pub mod rollout;
    pub mod scale;
    pub mod scale_board;
    pub mod screens;
    pub mod security;
    pub mod sorting;
    pub mod stages;
    pub mod usability;
    pub mod wip_limits;
}

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use browser::harness::{Browser, Outcome, Scene};
use browser::{
    editing, exposures, group_history, health, kinds, migrations, owners, references, rollout,
    scale, scale_board, screens, security, sorting, stages, usability, wip_limits,
};
use std::sync::Arc;

use common::TestServer;
use futures::FutureExt;
use ramp_server::clock::ManualClock;
use ramp_server::ServerConfig;
use reqwest::Method;
use serde_json::json;
use tokio::sync::Mutex;

/// Runs the steps and remembers which failed.
#[derive(Default)]
struct Steps {
    failures: Vec<String>,
}

impl Steps {
    async fn run(&mut self, name: &str, step: impl Future<Output = Outcome>) {
        let started = Instant::now();
        // A panic inside a step (e.g. in the shared API helpers) must still let the session
        // close and the later steps run.
        let result = AssertUnwindSafe(step).catch_unwind().await;
        let seconds = started.elapsed().as_secs_f32();
        let failure = match result {
            Ok(Ok(())) => {
                eprintln!("browser: ok   {name} ({seconds:.1} s)");
                return;
            }
            Ok(Err(message)) => message,
            Err(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "panicked".to_owned()),
        };
        eprintln!("browser: FAIL {name} ({seconds:.1} s): {failure}");
        self.failures.push(format!("{name}: {failure}"));
    }
}

/// One browser session at a time: the tests of this file run in parallel threads, and two
/// Chromiums on the test machine's two cores would make the explicit waits flaky.
/// (An async lock: each test has its own runtime, and its guard is held across awaits.)
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

/// Ends a run: closes the session and the server, and fails listing every failed step.
async fn finish(scene: Scene, steps: Steps, started: Instant) {
    let Scene {
        server, browser, ..
    } = scene;
    browser.close().await;
    server.stop().await;
    eprintln!(
        "browser: {} failed step(s), {:.1} s in all",
        steps.failures.len(),
        started.elapsed().as_secs_f32()
    );
    assert!(
        steps.failures.is_empty(),
        "browser steps failed (a later failure may follow from an earlier one):\n{}",
        steps.failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_in_a_real_browser() {
    let _one = ONE_BROWSER.lock().await;
    let started = Instant::now();
    let server = TestServer::memory().await;
    let Some(browser) = Browser::start(&server.base).await else {
        server.stop().await;
        return;
    };
    let scene = Scene {
        server,
        browser,
        feature: "new-checkout".to_owned(),
        group: "pro-customers".to_owned(),
        viewer: ("vera".to_owned(), "vera-reads-only-9".to_owned()),
    };
    let mut steps = Steps::default();
    let s = &scene;

    if s.browser.screenshots() {
        // Pictures for the README read better with a few more features in several stages.
        steps
            .run("screenshots: other features", screens::seed_showcase(s))
            .await;
    }
    steps
        .run("0 create the viewer account", viewer_account(s))
        .await;
    steps.run("1 log in", editing::log_in(s)).await;
    steps
        .run("2 create a feature", editing::create_feature(s))
        .await;
    steps.run("2b (feature exists)", feature_exists(s)).await;
    steps.run("3 set 12.5 %", editing::set_percentage(s)).await;
    steps.run("4 add 300 users", editing::add_users(s)).await;
    steps
        .run("5 exclude a user", editing::exclude_user(s))
        .await;
    steps.run("6 stored group", rollout::stored_group(s)).await;
    steps.run("7 check users", rollout::check_users(s)).await;
    steps
        .run("8 move on the board", rollout::move_on_board(s))
        .await;
    steps
        .run("9 history and undo", rollout::history_and_revert(s))
        .await;
    // Before the steps below add features of their own, which the pictures need not show.
    steps.run("13 screens", screens::tour(s)).await;
    steps
        .run(
            "undone events are marked",
            owners::undone_events_are_marked(s),
        )
        .await;
    steps
        .run(
            "reach counts lists and groups",
            owners::reach_counts_lists_and_groups(s),
        )
        .await;
    steps
        .run(
            "excluded users are marked",
            owners::excluded_users_are_marked(s),
        )
        .await;
    steps
        .run(
            "group name read-only when editing",
            owners::group_name_is_read_only_when_editing(s),
        )
        .await;
    steps
        .run(
            "group edits read in history and undo",
            group_history::group_edits_read_in_history_and_undo(s),
        )
        .await;
    steps
        .run(
            "stage mismatch is badged",
            owners::stage_mismatch_is_badged(s),
        )
        .await;
    steps
        .run(
            "Everyone and Off look dangerous",
            owners::quick_actions_look_dangerous(s),
        )
        .await;
    steps
        .run(
            "the Everyone button moves the stage",
            stages::everyone_button_moves_the_stage(s),
        )
        .await;
    steps
        .run(
            "moving to Everyone offers 100 %",
            stages::board_move_to_everyone_offers_full(s),
        )
        .await;
    steps
        .run(
            "graduating below 100 % asks for a reason",
            stages::graduation_asks_for_a_reason(s),
        )
        .await;
    steps
        .run(
            "outside the percentage is explained",
            stages::outside_percentage_is_explained(s),
        )
        .await;
    steps
        .run(
            "web addresses are links",
            owners::web_addresses_are_links(s),
        )
        .await;
    steps
        .run(
            "features sort by column",
            sorting::features_sort_by_column(s),
        )
        .await;
    steps
        .run("admin pages show no null", owners::no_null_or_undefined(s))
        .await;
    steps
        .run(
            "labels on every control",
            usability::every_control_is_labelled(s),
        )
        .await;
    steps
        .run("phone width fits", usability::phone_width_fits(s))
        .await;
    steps
        .run(
            "100,000 users stay usable",
            usability::a_hundred_thousand_users(s),
        )
        .await;
    steps
        .run(
            "delete asks for the name",
            usability::delete_asks_for_the_name(s),
        )
        .await;
    steps
        .run("11 no CSRF token", security::csrf_refused(s))
        .await;
    steps
        .run("12 changes elsewhere", security::changed_elsewhere(s))
        .await;
    steps.run("10 viewer", security::viewer(s)).await;
    steps
        .run("viewer pages show no null", owners::no_null_or_undefined(s))
        .await;
    finish(scene, steps, started).await;
}

/// Exposure counts on the feature page and in the features list, in a session of their own
/// (`cargo test --test browser -- exposures` runs only this one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exposures_in_a_real_browser() {
    let _one = ONE_BROWSER.lock().await;
    let started = Instant::now();
    let server = TestServer::memory().await;
    let Some(browser) = Browser::start(&server.base).await else {
        server.stop().await;
        return;
    };
    let scene = Scene {
        server,
        browser,
        feature: "exposure-chart".to_owned(),
        group: String::new(),
        viewer: (String::new(), String::new()),
    };
    let mut steps = Steps::default();
    let s = &scene;
    steps.run("1 log in", editing::log_in(s)).await;
    steps
        .run("exposures: seed a checked feature", exposures::seed(s))
        .await;
    steps
        .run(
            "exposures: the feature page charts the checks",
            exposures::feature_page_charts_the_checks(s),
        )
        .await;
    steps
        .run(
            "exposures: the list shows last seen and a sparkline",
            exposures::features_list_shows_last_seen(s),
        )
        .await;
    finish(scene, steps, started).await;
}

/// The board over a store of 10,000 features: paging per column, filters, and moves that do not
/// read the list again (`cargo test --test browser -- board_at_scale` runs only this one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_at_scale_in_a_real_browser() {
    let _one = ONE_BROWSER.lock().await;
    scale_board::session().await;
}

/// Code references on the feature page, graduation's checklist and the delete question, then
/// a migration's progress panel, in a session of their own (`cargo test --test browser -- code_references` runs only this one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_references_in_a_real_browser() {
    let _one = ONE_BROWSER.lock().await;
    let started = Instant::now();
    let server = TestServer::memory().await;
    let Some(browser) = Browser::start(&server.base).await else {
        server.stop().await;
        return;
    };
    let scene = Scene {
        server,
        browser,
        feature: "retiring-cart".to_owned(),
        group: String::new(),
        viewer: (String::new(), String::new()),
    };
    let mut steps = Steps::default();
    let s = &scene;
    steps.run("1 log in", editing::log_in(s)).await;
    steps
        .run("references: seed a scanned feature", references::seed(s))
        .await;
    steps
        .run(
            "references: the feature page lists them",
            references::feature_page_lists_references(s),
        )
        .await;
    steps
        .run(
            "references: Graduate shows the checklist, routes first",
            references::graduate_shows_the_checklist(s),
        )
        .await;
    steps
        .run(
            "references: delete says why it asks",
            references::delete_says_why_it_asks(s),
        )
        .await;
    steps
        .run("migrations: seed a report", migrations::seed(s))
        .await;
    steps
        .run(
            "migrations: the feature page shows the progress",
            migrations::feature_page_shows_the_progress(s),
        )
        .await;
    finish(scene, steps, started).await;
}

/// 10,000 features, one with 100,000 users (`browser/scale.rs`), on a server of its own; it
/// prints its timings (`cargo test --test browser -- at_scale --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_features_at_scale() {
    let _one = ONE_BROWSER.lock().await;
    let started = Instant::now();
    let Some(scene) = scale::scene().await else {
        return;
    };
    let mut steps = Steps::default();
    let s = &scene;
    steps.run("1 log in", editing::log_in(s)).await;
    let list = scale::features_list_pages(s);
    steps
        .run("scale: the list pages, scrolls, searches", list)
        .await;
    steps
        .run("scale: the lookup is bounded", scale::lookup_is_bounded(s))
        .await;
    let history = scale::history_is_summarised(s);
    steps.run("scale: the history is summarised", history).await;
    finish(scene, steps, started).await;
}

/// WIP limits and time in stage, on a server of its own whose clock is 12 days (and an hour)
/// ahead of the times the store records, so every feature has been in its stage 12 days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wip_limits_in_a_real_browser() {
    let _one = ONE_BROWSER.lock().await;
    let started = Instant::now();
    let ahead = chrono::Duration::days(12) + chrono::Duration::hours(1);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now() + ahead));
    let store = ramp_rollout::open_store("memory://")
        .await
        .expect("memory store");
    let server = TestServer::with_clock(store, ServerConfig::default(), None, clock).await;
    let Some(browser) = Browser::start(&server.base).await else {
        server.stop().await;
        return;
    };
    let scene = Scene {
        server,
        browser,
        feature: "wip-oldest".to_owned(),
        group: String::new(),
        viewer: (String::new(), String::new()),
    };
    let mut steps = Steps::default();
    let s = &scene;
    steps.run("1 log in", editing::log_in(s)).await;
    steps.run("wip: seed", wip_limits::seed(s)).await;
    steps
        .run(
            "wip: a full column refuses, then an override moves",
            wip_limits::full_column_refuses_then_overrides(s),
        )
        .await;
    steps
        .run(
            "wip: time in stage shows and sorts",
            wip_limits::time_in_stage_shows_and_sorts(s),
        )
        .await;
    steps
        .run(
            "kinds: the feature page changes the kind",
            kinds::kind_changes_on_the_feature_page(s),
        )
        .await;
    steps
        .run(
            "kinds: expected lives are edited in the settings",
            kinds::expected_life_is_edited_in_the_settings(s),
        )
        .await;
    steps.run("health: seed", health::seed(s)).await;
    steps
        .run(
            "health: Cleanup lists a stale feature with its evidence",
            health::cleanup_shows_the_stale_feature(s),
        )
        .await;
    steps
        .run(
            "health: the Features list shows the badge and time in stage",
            health::features_list_shows_health_and_time_in_stage(s),
        )
        .await;
    finish(scene, steps, started).await;
}

/// The viewer logs in with a password account (the API's accounts endpoint).
async fn viewer_account(scene: &Scene) -> Outcome {
    let (name, password) = &scene.viewer;
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/accounts",
            json!({"name": name, "password": password, "role": "viewer"}),
        )
        .await;
    browser::harness::ensure!(
        status == 201 || status == 200,
        "POST /api/v1/accounts answered {status}: {body}"
    );
    Ok(())
}

/// When the UI could not create the feature, the API does, so that the later steps still
/// test their own screens (the failure of step 2 is reported all the same).
async fn feature_exists(scene: &Scene) -> Outcome {
    if scene.api_feature().await.is_ok() {
        return Ok(());
    }
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": scene.feature, "data": {"description": "Made by the API"}}),
        )
        .await;
    Err(format!(
        "the UI did not create it; created through the API instead ({status}: {body})"
    ))
}
