//! What product owners tripped over: no page leaks "null" or "undefined"; a stored group's name
//! is read-only while editing it; undone history events are marked and an undo reads as
//! "undid NAME's change of TIME", a restore as "restored the feature", stages by their labels;
//! the reach under the percentage counts listed users, group members and excluded users;
//! excluded users are marked in the users list; Everyone and Off look dangerous; data values
//! that are web addresses are links (a `javascript:` one is not); a stage the state
//! contradicts is badged on the list, the board and the feature page. Each checks what the page
//! shows against the API. (Sorting the features list is in `sorting.rs`.)

use reqwest::Method;
use serde_json::{json, Value};

use super::editing::{open_feature, EXCLUDED};
use super::harness::{ensure, poll, Context, Outcome, Scene};

/// A feature at Everyone but 25 % shows a "stage mismatch" badge on the list and the board,
/// and says why on its page; at 100 % the badge goes.
pub async fn stage_mismatch_is_badged(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let name = "half-everyone";
    let (status, body) = scene
        .server
        .send_json(
            Method::POST,
            "/api/v1/features",
            json!({"name": name, "percentage": 25, "stage": "everyone"}),
        )
        .await;
    ensure!(status == 201, "creating {name} answered {status}: {body}");
    let badge = ".badge-mismatch[data-mismatch=\"everyone_below_full\"]";
    browser.open("#/features").await?;
    poll("the list's badge", || async {
        let count = browser
            .count(&format!("tr[data-feature=\"{name}\"] {badge}"))
            .await?;
        ensure!(count == 1, "{count} badges");
        Ok(())
    })
    .await?;
    browser.open("#/board").await?;
    poll("the board card's badge", || async {
        let count = browser
            .count(&format!("li.board-card[data-feature=\"{name}\"] {badge}"))
            .await?;
        ensure!(count == 1, "{count} badges");
        Ok(())
    })
    .await?;
    browser.open(&format!("#/features/{name}")).await?;
    browser.wait_text("#stage-mismatch", "below 100 %").await?;
    let path = format!("/api/v1/features/{name}/percentage");
    let (status, _) = scene
        .server
        .send_json(Method::PUT, &path, json!({"percentage": 100}))
        .await;
    ensure!(status == 200, "PUT {path} answered {status}");
    browser.open("#/features").await?;
    poll("the badge to go at 100 %", || async {
        let rows = browser
            .count(&format!("tr[data-feature=\"{name}\"]"))
            .await?;
        let badges = browser.count(badge).await?;
        ensure!(rows == 1 && badges == 0, "{rows} rows, {badges} badges");
        Ok(())
    })
    .await
}

/// Every page's visible text holds neither "null" nor "undefined" as a word.
pub async fn no_null_or_undefined(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let feature = &scene.feature;
    let pages = [
        ("#/features".to_owned(), "#features-table tr[data-feature]"),
        ("#/board".to_owned(), "section[data-stage] [data-feature]"),
        (
            format!("#/features/{feature}"),
            "#history-list li[data-event]",
        ),
        ("#/groups".to_owned(), "#groups-table tr[data-group]"),
        ("#/lookup".to_owned(), "#lookup-user"),
        ("#/history".to_owned(), "#global-history li[data-event]"),
    ];
    let mut leaks = Vec::new();
    for (route, ready) in &pages {
        browser.open(route).await?;
        browser.find(ready).await?;
        // The feature page fills its sections one by one: wait for the last ones.
        if route.starts_with("#/features/") {
            browser.find("#users-list li[data-user]").await?;
            poll("#percentage-coverage to show the reach", || async {
                let text = browser.text("#percentage-coverage").await?;
                ensure!(!text.trim().is_empty(), "nothing yet");
                Ok(())
            })
            .await?;
        }
        let text = browser.js("return document.body.innerText", vec![]).await?;
        let text = text.as_str().unwrap_or_default();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word == "null" || word == "undefined" {
                let at = text.find(word).unwrap_or(0);
                let around: String = text[at.saturating_sub(60)..].chars().take(120).collect();
                leaks.push(format!("{word:?} on {route}: …{around}…"));
                break;
            }
        }
    }
    ensure!(leaks.is_empty(), "pages show null/undefined: {leaks:?}");
    Ok(())
}

/// Editing a stored group keeps its name read-only, so saving cannot make a second group.
pub async fn group_name_is_read_only_when_editing(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let (_, before) = scene.server.get_json("/api/v1/groups").await;
    let count_before = before["groups"].as_array().map_or(0, Vec::len);
    browser.open("#/groups").await?;
    let row = format!("#groups-table tr[data-group=\"{}\"]", scene.group);
    ensure!(
        browser
            .js(
                "return document.getElementById('group-name').readOnly",
                vec![]
            )
            .await?
            == false,
        "#group-name is read-only for a new group"
    );
    browser.click(&format!("{row} button.edit-group")).await?;
    poll("#group-name to be read-only while editing", || async {
        let name = browser.value("#group-name").await?;
        let read_only = browser
            .js(
                "return document.getElementById('group-name').readOnly",
                vec![],
            )
            .await?;
        ensure!(
            name == scene.group && read_only == true,
            "value {name:?}, readOnly {read_only}"
        );
        Ok(())
    })
    .await?;
    // Typing into it changes nothing; saving keeps one group of that name.
    let field = browser.find("#group-name").await?;
    let _ = field.send_keys("-renamed").await;
    browser
        .fill("#group-description", "Pro plan customers")
        .await?;
    browser.click("#save-group").await?;
    let groups = poll("the API's group to have the new description", || async {
        let (status, body) = scene.server.get_json("/api/v1/groups").await;
        ensure!(status == 200, "GET /api/v1/groups answered {status}");
        let groups = body["groups"].as_array().cloned().unwrap_or_default();
        let edited = groups.iter().find(|group| group["name"] == *scene.group);
        ensure!(
            edited.is_some_and(|group| group["description"] == "Pro plan customers"),
            "{body}"
        );
        Ok(groups)
    })
    .await?;
    let names: Vec<&Value> = groups.iter().map(|group| &group["name"]).collect();
    ensure!(
        groups.len() == count_before,
        "saving the edit made another group: {names:?}"
    );
    poll("#group-name to be editable again after saving", || async {
        let read_only = browser
            .js(
                "return document.getElementById('group-name').readOnly",
                vec![],
            )
            .await?;
        ensure!(read_only == false, "readOnly {read_only}");
        Ok(())
    })
    .await
}

/// After scenario 9's undo: the percentage event is marked undone and has no Undo button, the
/// undo reads "undid ... change of", no event number shows, and stages read as labels. A
/// feature deleted and brought back reads "restored the feature".
pub async fn undone_events_are_marked(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    open_feature(scene).await?;
    let events = feature_events(scene, &scene.feature).await?;
    let undo = events
        .iter()
        .find(|event| event["undoes"].is_object())
        .context(format!("an undo event in {events:?}"))?;
    let undone_id = &undo["undoes"]["id"];
    let undone = format!("#history-list li[data-event=\"{undone_id}\"]");
    browser.wait_text(&undone, "undone by").await?;
    ensure!(
        browser.count(&format!("{undone}[data-undone]")).await? == 1
            && browser.count(&format!("{undone} button.revert")).await? == 0,
        "the undone event {undone_id} is not marked, or still offers Undo"
    );
    let text = browser
        .text(&format!("#history-list li[data-event=\"{}\"]", undo["id"]))
        .await?;
    ensure!(
        text.contains("undid their own change of") && !text.contains("event "),
        "the undo reads {text:?}"
    );
    let history = browser.text("#history-list").await?;
    ensure!(
        history.contains("from Development to Beta") && !history.contains("development"),
        "the stage move does not read in stage labels: {history:?}"
    );

    // The server refuses a second undo of the same event, naming who undid it.
    let path = format!("/api/v1/features/{}/revert", scene.feature);
    let body = json!({"event_id": undone_id, "scope": "only_this_event"});
    let (status, answer) = scene.server.send_json(Method::POST, &path, body).await;
    ensure!(
        status == 409 && answer["error"] == "already_undone",
        "undoing it again answered {status}: {answer}"
    );

    let name = "brought-back";
    let server = &scene.server;
    let (status, _) = server
        .send_json(Method::POST, "/api/v1/features", json!({"name": name}))
        .await;
    ensure!(status == 201, "creating {name} answered {status}");
    let (status, _) = server
        .send_json(
            Method::DELETE,
            &format!("/api/v1/features/{name}"),
            json!({}),
        )
        .await;
    ensure!(
        status == 200 || status == 204,
        "deleting {name} answered {status}"
    );
    let deleted = feature_events(scene, name).await?[0]["id"].clone();
    let path = format!("/api/v1/features/{name}/revert");
    let body = json!({"event_id": deleted, "scope": "only_this_event"});
    let (status, answer) = server.send_json(Method::POST, &path, body).await;
    ensure!(
        status == 200,
        "undoing the deletion answered {status}: {answer}"
    );
    browser.open(&format!("#/history?feature={name}")).await?;
    browser
        .wait_text("#global-history", "restored the feature")
        .await?;
    Ok(())
}

/// The reach under the percentage counts the listed users (less the excluded one), the stored
/// group's members and its rule, as the API's coverage does.
pub async fn reach_counts_lists_and_groups(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    open_feature(scene).await?;
    let percentage = scene.api_feature().await?["percentage"].clone();
    let path = format!(
        "/api/v1/features/{}/coverage?percentage={percentage}",
        scene.feature
    );
    let (status, coverage) = scene.server.get_json(&path).await;
    ensure!(status == 200, "GET {path} answered {status}: {coverage}");
    ensure!(
        coverage["listed"] == 299 && coverage["group_members"] == 2 && coverage["excluded"] == 1,
        "the API's coverage is {coverage}"
    );
    let text = browser
        .wait_text("#percentage-coverage", "299 listed")
        .await?;
    for needle in [
        "2 in its groups".to_owned(),
        "1 excluded user never gets it".to_owned(),
        scene.group.clone(),
        format!("Gets it: {}", coverage["reached"]),
    ] {
        ensure!(text.contains(&needle), "{text:?} lacks {needle:?}");
    }
    Ok(())
}

/// The excluded user is marked in the users list; other users are not.
pub async fn excluded_users_are_marked(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    open_feature(scene).await?;
    let excluded = format!("#users-list li[data-user=\"{EXCLUDED}\"]");
    poll("user-007's row to say it is excluded", || async {
        let text = browser.text(&excluded).await?;
        ensure!(text.to_lowercase().contains("excluded"), "{text:?}");
        Ok(())
    })
    .await?;
    ensure!(
        browser.count(&format!("{excluded}[data-excluded]")).await? == 1,
        "{EXCLUDED} has no data-excluded"
    );
    ensure!(
        browser.count("#users-list li[data-excluded]").await? == 1,
        "other users are marked excluded too"
    );
    Ok(())
}

/// Everyone and Off are styled as dangerous actions, unlike the primary Create button.
pub async fn quick_actions_look_dangerous(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/features").await?;
    let row = format!("#features-table tr[data-feature=\"{}\"]", scene.feature);
    browser.find(&row).await?;
    let styles = browser
        .js(
            "const look = (css) => { const s = getComputedStyle(document.querySelector(css));
               return {color: s.color, background: s.backgroundColor}; };
             return {everyone: look(arguments[0] + ' button[data-action=everyone]'),
                     off: look(arguments[0] + ' button[data-action=off]'),
                     primary: look('#create-feature'),
                     danger: look('#create-feature') && (() => {
                       const probe = document.createElement('span');
                       probe.style.color = 'var(--danger)';
                       document.body.append(probe);
                       const color = getComputedStyle(probe).color;
                       probe.remove();
                       return color; })()}",
            vec![json!(row)],
        )
        .await?;
    for action in ["everyone", "off"] {
        ensure!(
            styles[action]["color"] == styles["danger"]
                && styles[action]["background"] != styles["primary"]["background"],
            "{action} is not styled as a danger action: {styles}"
        );
    }
    Ok(())
}

/// An http(s) data value is a link opening safely; a `javascript:` value is plain text.
pub async fn web_addresses_are_links(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let address = "https://example.com/specs/checkout?draft=2";
    let path = format!("/api/v1/features/{}/data", scene.feature);
    let body = json!({"spec": address, "trap": "javascript:alert(1)"});
    let (status, answer) = scene.server.send_json(Method::PATCH, &path, body).await;
    ensure!(status == 200, "PATCH {path} answered {status}: {answer}");
    open_feature(scene).await?;
    let link = "#data-list [data-key=\"spec\"] a";
    browser.find(link).await?;
    let href = browser.attribute(link, "href").await?;
    let rel = browser.attribute(link, "rel").await?;
    ensure!(
        href.as_deref() == Some(address) && rel.as_deref() == Some("noopener noreferrer"),
        "the spec link has href {href:?} and rel {rel:?}"
    );
    browser
        .wait_text("#data-list [data-key=\"trap\"]", "javascript:alert(1)")
        .await?;
    ensure!(
        browser.count("#data-list [data-key=\"trap\"] a").await? == 0,
        "a javascript: value became a link"
    );
    let body = json!({"spec": null, "trap": null});
    scene.server.send_json(Method::PATCH, &path, body).await;
    Ok(())
}

/// The feature's history through the API, newest first.
async fn feature_events(scene: &Scene, name: &str) -> Outcome<Vec<Value>> {
    let path = format!("/api/v1/features/{name}/history?limit=100");
    let (status, body) = scene.server.get_json(&path).await;
    ensure!(status == 200, "GET {path} answered {status}: {body}");
    body["events"]
        .as_array()
        .cloned()
        .context(format!("events in {body}"))
}
