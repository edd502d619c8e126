//! `ramp wip`: the stages' WIP limits (the lifecycle settings). `ramp wip` lists them,
//! `ramp wip set STAGE N` and `ramp wip clear STAGE` change one, written at the version read so
//! a concurrent change is refused rather than overwritten; history records each change.

use ramp_core::{Stage, MAX_WIP_LIMIT};

use super::Session;
use crate::cli::WipCommand;

pub async fn run(session: &Session, command: Option<WipCommand>) -> anyhow::Result<()> {
    let store = session.rollout.store();
    let stored = store.lifecycle_settings().await?;
    let mut settings = stored.settings.clone();
    let stage = match command {
        None => {
            let rows: Vec<Vec<String>> = Stage::ALL
                .into_iter()
                .map(|stage| {
                    let limit = settings
                        .wip_limit(stage)
                        .map_or_else(|| "none".to_owned(), |limit| limit.to_string());
                    vec![stage.to_string(), limit]
                })
                .collect();
            if session.output.is_json() {
                return Ok(session.output.json(&stored)?);
            }
            return Ok(session.output.table(&rows)?);
        }
        Some(WipCommand::Set { stage, limit }) => {
            let stage: Stage = stage.parse()?;
            let limit: u32 = limit
                .trim()
                .parse()
                .ok()
                .filter(|limit| *limit <= MAX_WIP_LIMIT)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "invalid WIP limit {limit:?}: a whole number from 0 to {MAX_WIP_LIMIT}"
                    )
                })?;
            settings.wip_limits.insert(stage, limit);
            stage
        }
        Some(WipCommand::Clear { stage }) => {
            let stage: Stage = stage.parse()?;
            settings.wip_limits.remove(&stage);
            stage
        }
    };
    let applied = store
        .put_lifecycle_settings(
            &settings,
            Some(stored.version),
            session.rollout.attribution(),
        )
        .await?;
    let line = match settings.wip_limit(stage) {
        Some(limit) => format!("WIP limit of {stage}: {limit}"),
        None => format!("WIP limit of {stage}: none"),
    };
    Ok(session.output.result(
        &serde_json::json!({
            "wip_limits": settings.wip_limits,
            "version": applied.version,
        }),
        || line,
    )?)
}
