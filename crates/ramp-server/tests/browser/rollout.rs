//! Scenarios 6–9: a stored group made on the Groups screen and attached on the feature page,
//! the user check (user, excluded, group), moving the feature on the board, and its history
//! in plain words, where "Undo" takes back one change and keeps the later ones. Each also
//! checks the server's state through the API.

use reqwest::Method;
use serde_json::{json, Value};

use super::editing::{open_feature, EXCLUDED};
use super::harness::{ensure, holds, poll, Context, Outcome, Scene};

/// The stored group's rule, as typed on the Groups screen.
const RULE: &str = "plan in [pro]";

/// Scenario 6: the Groups screen saves a group (members and a rule); the feature page attaches
/// it; the API lists it on the feature and the Groups screen shows the feature under "used by".
pub async fn stored_group(scene: &Scene) -> Outcome {
    if let Err(error) = create_group(scene).await {
        // Later scenarios (the `group` reason) need the group: make it through the API.
        let path = format!("/api/v1/groups/{}", scene.group);
        let body = json!({"description": "Pro plan", "members": ["member-1"], "rules": [RULE]});
        let (status, answer) = scene.server.send_json(Method::PUT, &path, body).await;
        return Err(format!(
            "{error} (made the group through the API instead: {status} {answer})"
        ));
    }
    attach_group(scene).await
}

async fn create_group(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/groups").await?;
    browser.fill("#group-name", &scene.group).await?;
    browser
        .fill("#group-description", "Customers on the pro plan")
        .await?;
    browser.fill("#group-members", "member-1\nmember-2").await?;
    browser.fill("#group-rules", RULE).await?;
    browser.click("#save-group").await?;
    let row = format!("#groups-table tr[data-group=\"{}\"]", scene.group);
    browser.find(&row).await?;

    let (status, body) = scene.server.get_json("/api/v1/groups").await;
    ensure!(
        status == 200,
        "GET /api/v1/groups answered {status}: {body}"
    );
    let group = body["groups"]
        .as_array()
        .and_then(|groups| groups.iter().find(|group| group["name"] == *scene.group))
        .context(format!("the API's group {} in {body}", scene.group))?;
    ensure!(
        holds(&group["members"], "member-1") && holds(&group["members"], "member-2"),
        "the API's group has members {}",
        group["members"]
    );
    let rules = group["rule_texts"].to_string();
    ensure!(
        rules.contains("plan") && rules.contains("pro"),
        "the API's group has rule_texts {rules}, not {RULE:?}"
    );
    Ok(())
}

async fn attach_group(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    open_feature(scene).await?;
    browser.select("#group-select", &scene.group).await?;
    browser.click("#add-group").await?;
    browser
        .find(&format!("#groups-list li[data-group=\"{}\"]", scene.group))
        .await?;
    scene
        .wait_api("the API's groups to hold the group", |feature| {
            ensure!(
                holds(&feature["groups"], &scene.group),
                "groups = {}",
                feature["groups"]
            );
            Ok(())
        })
        .await?;

    browser.open("#/groups").await?;
    let row = format!("#groups-table tr[data-group=\"{}\"]", scene.group);
    browser.wait_text(&row, &scene.feature).await?;
    Ok(())
}

/// Scenario 7: the check box gives the reason for a listed user, the excluded one and a user
/// who matches the group's rule; the API agrees.
pub async fn check_users(scene: &Scene) -> Outcome {
    open_feature(scene).await?;
    for (user, attributes, reason) in [
        ("user-001", "", "user"),
        (EXCLUDED, "", "excluded"),
        ("pat", "plan=pro", "group"),
    ] {
        check_one(scene, user, attributes, reason)
            .await
            .map_err(|error| format!("checking {user} ({attributes}): {error}"))?;
    }
    Ok(())
}

async fn check_one(scene: &Scene, user: &str, attributes: &str, reason: &str) -> Outcome {
    let browser = &scene.browser;
    let before = browser.text("#check-result").await.unwrap_or_default();
    browser.fill("#check-user", user).await?;
    browser.fill("#check-attributes", attributes).await?;
    browser.click("#check-submit").await?;
    // The reason must be a word of the new result: the user id (which holds "user") is taken
    // out, and the result shown before the click does not count.
    poll(
        &format!("#check-result to read reason {reason:?}"),
        || async {
            let text = browser.text("#check-result").await?;
            let rest = text.replace(user, " ");
            let has_word = rest
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word.eq_ignore_ascii_case(reason));
            ensure!(text != before && has_word, "{text:?}");
            Ok(())
        },
    )
    .await?;

    let mut attrs = serde_json::Map::new();
    for line in attributes.lines() {
        if let Some((key, value)) = line.split_once('=') {
            attrs.insert(key.to_owned(), json!(value));
        }
    }
    let path = format!("/api/v1/features/{}/check", scene.feature);
    let body = json!({"user_id": user, "attributes": attrs});
    let (status, answer) = scene.server.send_json(Method::POST, &path, body).await;
    ensure!(
        status == 200 && answer["reason"] == reason,
        "the API's check answered {status}: {answer}"
    );
    Ok(())
}

/// Scenario 8: the card's stage select moves the feature to beta: the card moves to the beta
/// column, the API's stage is beta, and the history records the move.
pub async fn move_on_board(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    browser.open("#/board").await?;
    let card = format!("section[data-stage] [data-feature=\"{}\"]", scene.feature);
    browser
        .select(&format!("{card} select.move-stage"), "beta")
        .await?;
    browser
        .find(&format!(
            "section[data-stage=\"beta\"] [data-feature=\"{}\"]",
            scene.feature
        ))
        .await?;
    scene
        .wait_api("the API's stage to be beta", |feature| {
            ensure!(feature["stage"] == "beta", "stage = {}", feature["stage"]);
            Ok(())
        })
        .await?;
    browser.screenshot("board").await?;

    let events = history(scene).await?;
    let moved = events.iter().any(|event| {
        event["changes"].as_array().is_some_and(|changes| {
            changes
                .iter()
                .any(|change| change["field"] == "stage" && change["after"] == "beta")
        })
    });
    ensure!(
        moved,
        "no history event moves the stage to beta: {events:?}"
    );

    open_feature(scene).await?;
    poll("#history-list to show the stage move", || async {
        let text = browser.text("#history-list").await?;
        ensure!(text.contains("stage") && text.contains("Beta"), "{text:?}");
        Ok(())
    })
    .await
}

/// The feature's history through the API, newest first.
async fn history(scene: &Scene) -> Outcome<Vec<Value>> {
    let path = format!("/api/v1/features/{}/history?limit=100", scene.feature);
    let (status, body) = scene.server.get_json(&path).await;
    ensure!(status == 200, "GET {path} answered {status}: {body}");
    body["events"]
        .as_array()
        .cloned()
        .context(format!("events in {body}"))
}

/// Scenario 9: the feature page's history reads in plain words; "Undo" on the 12.5 % change
/// undoes only that change: the API's percentage is 0 again and the page shows it, while the
/// changes made after it (300 users, the excluded user, the group, the stage beta) all stay.
pub async fn history_and_revert(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    open_feature(scene).await?;
    let entries = "#history-list li[data-event]";
    let (id, text) = poll("a history entry about percentage 12.5", || async {
        for (text, id) in browser.items(entries, "data-event").await? {
            if text.contains("percentage") && text.contains("12.5") {
                return Ok((id.unwrap_or_default(), text));
            }
        }
        Err(browser.text("#history-list").await?)
    })
    .await?;
    ensure!(
        !text.contains('{') && !text.contains("\"percentage\""),
        "the entry reads like JSON, not plain words: {text:?}"
    );
    let events = history(scene).await?;
    let event = events
        .iter()
        .find(|event| event["id"].to_string().trim_matches('"') == id)
        .context(format!("the API's event {id}"))?;
    ensure!(
        event["changes"].to_string().contains("percentage"),
        "entry {id} is not the API's percentage event: {event}"
    );

    let undo = format!("#history-list li[data-event=\"{id}\"] button.revert");
    let label = browser.text(&undo).await?;
    ensure!(
        label.trim() == "Undo",
        "`{undo}` reads {label:?}, not \"Undo\""
    );
    browser.click(&undo).await?;
    // Undoing may ask first: accept the confirmation whenever it shows.
    let feature = poll("the API's percentage to be 0 again", || async {
        browser.accept_confirmation().await?;
        let feature = scene.api_feature().await?;
        ensure!(
            feature["percentage"] == 0.0,
            "percentage {}",
            feature["percentage"]
        );
        Ok(feature)
    })
    .await?;

    // Only that event's own change is undone: every later change is still there.
    let users = feature["users"].as_array().map_or(0, Vec::len);
    let mut lost = Vec::new();
    if users != 300 {
        lost.push(format!("{users} users, not 300"));
    }
    if !holds(&feature["excluded_users"], EXCLUDED) {
        lost.push(format!(
            "excluded_users = {}, without {EXCLUDED}",
            feature["excluded_users"]
        ));
    }
    if !holds(&feature["groups"], &scene.group) {
        lost.push(format!(
            "groups = {}, without {}",
            feature["groups"], scene.group
        ));
    }
    if feature["stage"] != "beta" {
        lost.push(format!("stage = {}, not beta", feature["stage"]));
    }
    ensure!(
        lost.is_empty(),
        "undoing the percentage also undid later changes: {}",
        lost.join("; ")
    );

    poll("#percentage-input to show 0", || async {
        let value = browser.value("#percentage-input").await?;
        ensure!(value.parse::<f64>() == Ok(0.0), "{value:?}");
        Ok(())
    })
    .await?;
    // The undo is itself recorded, and reads as the opposite change.
    browser
        .wait_text("#history-list", "percentage from 12.5 to 0")
        .await
        .map(drop)
}
