//! Scenarios 10–12, the ones about who may change what: a post without the CSRF token is
//! refused (from script and from a real HTML form), a change made elsewhere reaches an open
//! page and makes its stale save fail with "changed by NAME", and a viewer's pages have no
//! edit controls while a forged edit from them gets 403. The API proves nothing changed.

use reqwest::Method;
use serde_json::{json, Value};

use super::editing::open_feature;
use super::harness::{ensure, poll, Context, Outcome, Scene};

/// Scenario 11: with the admin's session cookie but no X-CSRF-Token, both a script's fetch
/// and a plain form post to activate the feature get 403, and the feature is unchanged.
pub async fn csrf_refused(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    open_feature(scene).await?;
    let before = scene.api_feature().await?;
    let action = format!("/api/v1/features/{}/activate", scene.feature);

    let answer = browser
        .js(
            "return fetch(arguments[0], {method: 'POST', credentials: 'include'})
               .then(async r => ({status: r.status, body: await r.text()}))",
            vec![json!(action)],
        )
        .await?;
    ensure!(
        answer["status"] == 403 && answer["body"].to_string().contains("csrf_token"),
        "a fetch without X-CSRF-Token answered {answer}"
    );

    // A real form: the browser sends the cookie (same site) and nothing else.
    browser
        .js(
            "const form = document.createElement('form');
             form.method = 'post';
             form.action = arguments[0];
             document.body.appendChild(form);
             form.submit();",
            vec![json!(action)],
        )
        .await?;
    let landed = poll("the form's answer page to load", || async {
        let page = browser
            .js(
                "return {path: location.pathname, ready: document.readyState,
                   status: performance.getEntriesByType('navigation')[0]?.responseStatus,
                   text: document.body ? document.body.innerText : ''}",
                vec![],
            )
            .await?;
        ensure!(
            page["path"] == *action && page["ready"] == "complete",
            "{page}"
        );
        Ok(page)
    })
    .await?;
    ensure!(
        landed["status"] == 403 && landed["text"].to_string().contains("csrf_token"),
        "the form post answered {landed}"
    );

    let after = scene.api_feature().await?;
    ensure!(
        after["version"] == before["version"] && after["percentage"] == before["percentage"],
        "the feature changed: before {before}, after {after}"
    );
    // Back to the app, still logged in.
    browser.open("").await?;
    browser.wait_text("#current-user", "admin").await?;
    Ok(())
}

/// Scenario 12: another actor's change shows on the open page without a reload, and a save
/// made from the page's older version is refused with "changed by alice".
pub async fn changed_elsewhere(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let alice = scene.server.token("alice", "admin").await;
    open_feature(scene).await?;
    let path = format!("/api/v1/features/{}/percentage", scene.feature);
    let current = scene.api_feature().await?["percentage"].clone();
    poll(
        "#percentage-input to show the current percentage",
        || async {
            let value = browser.value("#percentage-input").await?;
            ensure!(value.parse::<f64>().ok() == current.as_f64(), "{value:?}");
            Ok(())
        },
    )
    .await?;

    // Live updates: alice's change reaches the untouched page by itself.
    let response = scene
        .server
        .request_as(&alice, Method::PUT, &path)
        .json(&json!({"percentage": 30}))
        .send()
        .await
        .context("alice's PUT")?;
    ensure!(
        response.status() == 200,
        "alice's PUT answered {}",
        response.status()
    );
    poll(
        "#percentage-input to show alice's 30 without a reload",
        || async {
            let value = browser.value("#percentage-input").await?;
            ensure!(value == "30", "{value:?}");
            Ok(())
        },
    )
    .await?;
    browser
        .wait_text("#changed-elsewhere", "changed by someone else")
        .await?;

    // A stale save: the admin types 40, alice then sets 35, the admin clicks save. This is
    // deterministic whichever comes first, alice's live event or the click: before the event
    // the page still holds the older version; after it, the UI keeps the typed (dirty) value
    // and deliberately does not move the section's If-Match version (feature-settings.js,
    // `syncedControls`). Either way the save carries the version before alice's change, and
    // the server must answer 412 naming her.
    browser.fill("#percentage-input", "40").await?;
    let response = scene
        .server
        .request_as(&alice, Method::PUT, &path)
        .json(&json!({"percentage": 35}))
        .send()
        .await
        .context("alice's second PUT")?;
    ensure!(
        response.status() == 200,
        "alice's second PUT answered {}",
        response.status()
    );
    browser.click("#save-percentage").await?;
    browser
        .wait_text("#percentage-error", "changed by alice")
        .await?;
    let feature = scene.api_feature().await?;
    ensure!(
        feature["percentage"] == 35.0,
        "the stale save changed the percentage: {}",
        feature["percentage"]
    );
    Ok(())
}

/// Controls only an editor may have; a viewer's pages must not contain any of them.
const EDIT_CONTROLS: &[&str] = &[
    "#create-feature",
    "#new-feature-name",
    "button[data-action]",
    "select.move-stage",
    "[draggable=\"true\"]",
    "#save-percentage",
    "#save-details",
    "#users-paste",
    "#add-users",
    "button.remove-user",
    "#exclude-users",
    "button.include-user",
    "#add-group",
    "button.remove-group",
    "#set-data",
    "button.revert",
    "#delete-feature",
    "#save-group",
    "button.edit-group",
    "button.delete-group",
];

/// Scenario 10: after logging out, the viewer logs in; no page shows an edit control, and an
/// edit forged from the page with the viewer's own CSRF token gets 403 and changes nothing.
pub async fn viewer(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let (name, password) = &scene.viewer;
    browser.click("#logout").await?;
    browser.find("#login-username").await?;
    let session = page_session(scene).await?;
    ensure!(
        session["status"] == 401,
        "GET /api/v1/session after #logout answered {session}"
    );

    browser.fill("#login-username", name).await?;
    browser.fill("#login-password", password).await?;
    browser.click("#login-submit").await?;
    browser.wait_text("#current-user", name).await?;
    let session = page_session(scene).await?;
    ensure!(
        session["body"]["role"] == "viewer",
        "the viewer's session is {session}; the contract says role `viewer`"
    );

    let feature = &scene.feature;
    let pages = [
        (
            "#/features".to_owned(),
            format!("#features-table tr[data-feature=\"{feature}\"]"),
        ),
        (
            "#/board".to_owned(),
            format!("section[data-stage] [data-feature=\"{feature}\"]"),
        ),
        (
            format!("#/features/{feature}"),
            "#history-list li[data-event]".to_owned(),
        ),
        (
            format!("#/features/{feature}"),
            "#users-list li[data-user]".to_owned(),
        ),
        (
            "#/groups".to_owned(),
            format!("#groups-table tr[data-group=\"{}\"]", scene.group),
        ),
        (
            "#/history".to_owned(),
            "#global-history li[data-event]".to_owned(),
        ),
    ];
    let mut shown = Vec::new();
    for (route, ready) in &pages {
        browser.open(route).await?;
        browser.find(ready).await?;
        for control in EDIT_CONTROLS {
            if browser.count(control).await? > 0 {
                shown.push(format!("{control} on {route}"));
            }
        }
    }
    ensure!(
        shown.is_empty(),
        "the viewer's pages contain edit controls: {shown:?}"
    );

    let before = scene.api_feature().await?;
    let forged = browser
        .js(
            "return fetch('/api/v1/session').then(r => r.json()).then(s =>
               fetch(arguments[0], {method: 'PUT', credentials: 'include',
                 headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token},
                 body: JSON.stringify({percentage: 77})}))
               .then(async r => ({status: r.status, body: await r.text()}))",
            vec![json!(format!("/api/v1/features/{feature}/percentage"))],
        )
        .await?;
    ensure!(
        forged["status"] == 403 && forged["body"].to_string().contains("forbidden"),
        "the viewer's forged edit answered {forged}"
    );
    let after = scene.api_feature().await?;
    ensure!(
        after["version"] == before["version"] && after["percentage"] == before["percentage"],
        "the forged edit changed the feature: before {before}, after {after}"
    );
    Ok(())
}

/// The page's own view of its session: `{status, body}`.
async fn page_session(scene: &Scene) -> Outcome<Value> {
    scene
        .browser
        .js(
            "return fetch('/api/v1/session')
               .then(async r => ({status: r.status, body: await r.json().catch(() => null)}))",
            vec![],
        )
        .await
}
