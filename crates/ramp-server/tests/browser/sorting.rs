//! The features list sorts by its name, stage, percentage and last-change columns, each both
//! ways, checked against the API's values for the rows in the order shown.

use reqwest::Method;
use serde_json::{json, Value};

use super::harness::{ensure, poll, Outcome, Scene};

/// The features list sorts by name, stage, percentage and last change, each both ways.
pub async fn features_sort_by_column(scene: &Scene) -> Outcome {
    let browser = &scene.browser;
    let server = &scene.server;
    for (name, stage, percentage) in [
        ("sort-zeta", "development", 5.0),
        ("sort-alpha", "rolling_out", 80.0),
    ] {
        let body = json!({"name": name, "stage": stage, "percentage": percentage});
        let (status, answer) = server
            .send_json(Method::POST, "/api/v1/features", body)
            .await;
        ensure!(status == 201, "creating {name} answered {status}: {answer}");
    }
    let (_, list) = server.get_json("/api/v1/features?with=last_change").await;
    let features = list["features"].as_array().cloned().unwrap_or_default();
    let stages = [
        "development",
        "beta",
        "rolling_out",
        "everyone",
        "graduated",
    ];
    let key = |column: &str, name: &str| -> Value {
        let feature = features.iter().find(|feature| feature["name"] == name);
        let feature = feature.cloned().unwrap_or(Value::Null);
        match column {
            "stage" => json!(stages.iter().position(|stage| feature["stage"] == *stage)),
            "percentage" => feature["percentage"].clone(),
            // The page compares times to the millisecond, as JavaScript dates hold them.
            "last_change" => json!(feature["last_change"]["time"]
                .as_str()
                .and_then(|time| chrono::DateTime::parse_from_rfc3339(time).ok())
                .map(|time| time.timestamp_millis())),
            _ => json!(name),
        }
    };
    browser.open("#/features").await?;
    browser
        .find("#features-table tr[data-feature=\"sort-alpha\"]")
        .await?;
    for column in ["percentage", "stage", "last_change", "name"] {
        for order in ["ascending", "descending"] {
            let heading = format!("#features-table th[data-sort=\"{column}\"]");
            browser.click(&format!("{heading} button")).await?;
            poll(&format!("the list sorted by {column}, {order}"), || async {
                let sorted = browser.attribute(&heading, "aria-sort").await?;
                ensure!(sorted.as_deref() == Some(order), "aria-sort {sorted:?}");
                let rows = browser
                    .items("#features-table tr[data-feature]", "data-feature")
                    .await?;
                let keys: Vec<Value> = rows
                    .iter()
                    .map(|(_, name)| key(column, name.as_deref().unwrap_or_default()))
                    .collect();
                let in_order = keys.windows(2).all(|pair| {
                    let ordering = compare(&pair[0], &pair[1]);
                    if order == "ascending" {
                        ordering.is_le()
                    } else {
                        ordering.is_ge()
                    }
                });
                ensure!(in_order && keys.len() >= 3, "{keys:?}");
                Ok(())
            })
            .await?;
        }
    }
    // Leave the list sorted by name, as the other scenarios expect it.
    browser
        .click("#features-table th[data-sort=\"name\"] button")
        .await
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        _ => a
            .as_str()
            .unwrap_or_default()
            .cmp(b.as_str().unwrap_or_default()),
    }
}
