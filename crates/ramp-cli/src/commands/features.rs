//! Commands on a whole feature: `features`, `show`, `activate`, `deactivate`, `delete`,
//! `percentage`, `stage` and `kind`.

use anyhow::anyhow;
use ramp_core::{graduation_refusal, Change, Feature, FeatureKind, FeatureName, Percentage, Stage};
use serde_json::Value;

use super::{Deleted, Session};
use crate::output::{joined, percent, time};

/// How many users `show` prints in text mode; `--json` prints them all.
const USERS_SHOWN: usize = 20;

/// `ramp features`: one row per feature, or a JSON array of features.
pub async fn list(session: &Session) -> anyhow::Result<()> {
    // One snapshot rather than a read per name: every row is from the same moment.
    let features = session.rollout.store().snapshot().await?.features;
    let output = session.output;
    let (now, healths) = super::cleanup::feature_health(session, &features).await?;
    if output.is_json() {
        // Each feature as stored, plus `stage_mismatch` when its state contradicts its stage,
        // since when it is in its stage and its health.
        let rows: Vec<Value> = features
            .iter()
            .zip(&healths)
            .map(|(feature, (since, health))| {
                let mut row = serde_json::to_value(feature)?;
                if let Value::Object(fields) = &mut row {
                    if let Some(mismatch) = feature.stage_mismatch() {
                        fields.insert(
                            "stage_mismatch".into(),
                            serde_json::json!({"kind": mismatch.as_str(), "message": mismatch.message()}),
                        );
                    }
                    fields.insert("stage_since".into(), serde_json::to_value(since)?);
                    fields.insert("health".into(), serde_json::to_value(health)?);
                }
                Ok(row)
            })
            .collect::<Result<_, serde_json::Error>>()?;
        return Ok(output.json(&rows)?);
    }
    if features.is_empty() {
        return Ok(output.text("no features")?);
    }
    let mut rows = vec![[
        "NAME",
        "PERCENTAGE",
        "USERS",
        "GROUPS",
        "STAGE",
        "KIND",
        "IN STAGE",
        "HEALTH",
        "DESCRIPTION",
    ]
    .map(String::from)
    .to_vec()];
    for (feature, (since, health)) in features.iter().zip(&healths) {
        rows.push(vec![
            feature.name.to_string(),
            percent(feature.percentage),
            feature.users.len().to_string(),
            if feature.groups.is_empty() {
                "-".into()
            } else {
                joined(&feature.groups)
            },
            match feature.stage_mismatch() {
                // Marked in the column, explained under the table.
                Some(_) => format!("{} (!)", feature.stage),
                None => feature.stage.to_string(),
            },
            feature.kind.to_string(),
            super::cleanup::days_in_stage(now, *since),
            super::cleanup::states(health),
            feature.description().unwrap_or_default().to_owned(),
        ]);
    }
    output.table(&rows)?;
    let notes: Vec<String> = features
        .iter()
        .filter_map(|feature| {
            let mismatch = feature.stage_mismatch()?;
            Some(format!("(!) {}: {}", feature.name, mismatch.message()))
        })
        .collect();
    if !notes.is_empty() {
        output.text(notes.join("\n"))?;
    }
    Ok(())
}

/// `ramp show NAME`.
pub async fn show(session: &Session, name: &str) -> anyhow::Result<()> {
    let feature = session
        .rollout
        .get(name)
        .await?
        .ok_or_else(|| anyhow!("feature {name:?} not found"))?;
    Ok(session.output.result(&feature, || describe(&feature))?)
}

/// Every field, one per line; long user lists are cut to the first few with a count.
fn describe(feature: &Feature) -> String {
    let mut lines = vec![
        format!("name:        {}", feature.name),
        format!("percentage:  {}", percent(feature.percentage)),
        format!("users:       {}", users(&feature.users)),
        format!("excluded:    {}", users(&feature.excluded_users)),
        format!("groups:      {}", joined(&feature.groups)),
        match feature.stage_mismatch() {
            Some(mismatch) => format!("stage:       {} (!) {}", feature.stage, mismatch.message()),
            None => format!("stage:       {}", feature.stage),
        },
        format!("kind:        {}", feature.kind),
    ];
    if feature.data.is_empty() {
        lines.push("data:        none".into());
    } else {
        lines.push("data:".into());
        for (key, value) in &feature.data {
            let shown = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            lines.push(format!("  {key}: {shown}"));
        }
    }
    lines.push(format!("created:     {}", time(feature.created_at)));
    lines.push(format!("updated:     {}", time(feature.updated_at)));
    lines.push(format!("version:     {}", feature.version));
    lines.join("\n")
}

/// `3 (1, 2, 3)`, or `25 (first 20: 1, 2, …)` for long lists.
fn users<T: AsRef<str>>(ids: &[T]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    let shown = joined(&ids[..ids.len().min(USERS_SHOWN)]);
    if ids.len() > USERS_SHOWN {
        format!("{} (first {USERS_SHOWN}: {shown}, …)", ids.len())
    } else {
        format!("{} ({shown})", ids.len())
    }
}

/// `ramp activate NAME`.
pub async fn activate(session: &Session, name: &str) -> anyhow::Result<()> {
    // The command line's Everyone action: 100 % and the stage `everyone` in one change, as the
    // UI's button and the API's `activate` do (the library's `activate` keeps the stage).
    let feature = session
        .rollout
        .change(name, Change::OpenToEveryone)
        .await?
        .feature;
    let line = format!("active for everyone (100 %), stage {}", feature.stage);
    Ok(session.output.feature(&feature, line)?)
}

/// `ramp deactivate NAME`.
pub async fn deactivate(session: &Session, name: &str) -> anyhow::Result<()> {
    let feature = session.rollout.deactivate(name).await?;
    Ok(session
        .output
        .feature(&feature, "inactive (percentage 0 %, no users or groups)")?)
}

/// `ramp delete NAME`.
pub async fn delete(session: &Session, name: &str, force: bool) -> anyhow::Result<()> {
    if !force {
        if let Some(reasons) = super::delete_check::reasons(session, name).await? {
            anyhow::bail!(
                "{name}: {reasons}; deleting it makes every check answer off. \
                 Run again with --force to delete it anyway"
            );
        }
    }
    session.rollout.delete(name).await?;
    let deleted = Deleted {
        feature: name,
        deleted: true,
    };
    Ok(session
        .output
        .result(&deleted, || format!("{name}: deleted"))?)
}

/// `ramp percentage NAME PCT`.
pub async fn percentage(session: &Session, name: &str, text: &str) -> anyhow::Result<()> {
    // The name first: with two bad arguments, the message is about the feature.
    FeatureName::new(name)?;
    let percentage = Percentage::parse(text)?;
    let feature = session
        .rollout
        .activate_percentage(name, percentage.value())
        .await?;
    let line = format!("percentage {}", percent(feature.percentage));
    Ok(session.output.feature(&feature, line)?)
}

/// The reasons a stage move may carry.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageReasons<'a> {
    /// Why (history's comment); needed to graduate a feature that is not ready.
    pub reason: Option<&'a str>,
    /// Why move into a stage at its WIP limit anyway.
    pub override_reason: Option<&'a str>,
}

/// `ramp stage NAME STAGE`.
pub async fn stage(
    session: &Session,
    name: &str,
    text: &str,
    reasons: StageReasons<'_>,
) -> anyhow::Result<()> {
    let stage: Stage = text.parse()?;
    let feature = apply_stage(session, name, stage, reasons).await?;
    let line = format!("stage {}", feature.stage);
    Ok(session.output.feature(&feature, line)?)
}

/// `ramp kind NAME KIND`: one change, through the store or the server alike.
pub async fn kind(session: &Session, name: &str, text: &str) -> anyhow::Result<()> {
    let kind: FeatureKind = text.trim().parse()?;
    let feature = session
        .rollout
        .change(name, Change::SetKind { kind })
        .await?
        .feature;
    let line = format!("kind {}", feature.kind);
    Ok(session.output.feature(&feature, line)?)
}

/// Moves a feature to `stage`; graduating checks the graduation rule first, and a stage at its
/// WIP limit needs an override reason (also for `ramp graduate`).
pub async fn apply_stage(
    session: &Session,
    name: &str,
    stage: Stage,
    reasons: StageReasons<'_>,
) -> anyhow::Result<Feature> {
    let feature_name = FeatureName::new(name)?;
    let reason = reasons
        .reason
        .map(str::trim)
        .filter(|reason| !reason.is_empty());
    let override_reason = reasons
        .override_reason
        .map(str::trim)
        .filter(|reason| !reason.is_empty());
    if let Some(login) = &session.server {
        // The server checks both rules itself and records the reasons as the web UI's moves.
        let reason = reason.or(session.rollout.attribution().comment.as_deref());
        return ramp_store_http::HttpStore::new(&login.url, &login.token)?
            .move_stage(&feature_name, stage, reason, override_reason)
            .await
            .map_err(|error| {
                anyhow!(error
                    .to_string()
                    .replace("an override reason", "--override-reason"))
            });
    }
    let mut rollout = session.rollout.clone();
    if let Some(reason) = reason {
        rollout = rollout.with_comment(reason);
    }
    let change = Change::SetStage { stage };
    // Graduating needs 100 % and no exclusions, or a reason (`GraduationProblem`). Checked
    // here for every store, and written only if the feature is still the version checked; a
    // server checks again on its side.
    let mut expected = None;
    if stage == Stage::Graduated && reason.is_none() {
        let current = rollout.store().feature(&feature_name).await?;
        let problems = match &current {
            Some(feature) if feature.stage == Stage::Graduated => Vec::new(),
            Some(feature) => feature.graduation_problems(),
            None => Feature::new(feature_name.clone(), chrono::DateTime::UNIX_EPOCH)
                .graduation_problems(),
        };
        if !problems.is_empty() {
            anyhow::bail!(
                "{}; give one with --reason",
                graduation_refusal(name, &problems)
            );
        }
        expected = Some(current.map_or(0, |feature| feature.version));
    }
    // A stage at its WIP limit refuses the move without --override-reason, as the server does
    // (`wip_guard.rs`); the override is noted in the history comment.
    if let Some(full) = wip_refusal(&rollout, &feature_name, stage).await? {
        let Some(override_reason) = override_reason else {
            anyhow::bail!(
                "cannot move {name}: {}",
                full.message()
                    .replace("an override reason", "--override-reason")
            );
        };
        let note = format!(
            "WIP limit override ({} had {} of {}): {override_reason}",
            full.stage, full.count, full.limit
        );
        let comment = match reason {
            Some(reason) => format!("{reason}; {note}"),
            None => note,
        };
        rollout = rollout.with_comment(&comment);
    }
    let feature = rollout
        .store()
        .apply(&feature_name, &change, expected, rollout.attribution())
        .await?
        .feature;
    Ok(feature)
}

/// Whether moving `name` into `stage` breaks the stage's WIP limit (it is not there yet and
/// the stage already holds its limit).
async fn wip_refusal(
    rollout: &ramp_rollout::Rollout,
    name: &FeatureName,
    stage: Stage,
) -> anyhow::Result<Option<ramp_core::WipLimitReached>> {
    let settings = rollout.store().lifecycle_settings().await?.settings;
    if settings.wip_limit(stage).is_none() {
        return Ok(None);
    }
    let snapshot = rollout.store().snapshot().await?;
    let features = &snapshot.features;
    if features
        .iter()
        .any(|feature| &feature.name == name && feature.stage == stage)
    {
        return Ok(None);
    }
    let count = features
        .iter()
        .filter(|feature| feature.stage == stage)
        .count();
    Ok(settings.wip_refusal(stage, count))
}
