//! The server's half of WIP limits: a stage-change request (`PUT .../stage`, or `set_stage`
//! through `.../changes`) into a stage that already holds as many features as its limit is
//! refused with 409 `wip_limit_reached`, naming the stage, the count and the limit, unless it
//! carries an override reason (`{"override_reason"}` in the stage body); the reason then goes
//! into the history event's comment, so history records who overrode the limit and why.
//!
//! Only stage-change requests are checked. Creating or importing features, and the Everyone
//! action (which moves the stage as a side effect of opening a feature to everyone), are not:
//! the limit is a prompt for the people moving cards, not a rule about what the store may hold.
//! A move into a stage with a limit holds the server's `stage_moves` lock from the count to
//! the write (the caller keeps the returned [`WipPass`] until its write is done), so two moves
//! at the same moment into the last free place cannot both pass through one server. Servers
//! sharing a store do not share the lock: a WIP limit is a team's agreement, not an invariant
//! worth a store-wide lock across machines. The count is taken from the live snapshot once it
//! holds every write this server made (`fresh_snapshot.rs`), so it sees the previous move
//! without copying 10,000 features; another server's moves count once this one hears of them.

use axum::http::StatusCode;
use ramp_core::{Attribution, Change, FeatureName, Stage};
use tokio::sync::MutexGuard;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The code of the refusal; the UI offers an override when it sees it.
pub const WIP_LIMIT_REACHED: &str = "wip_limit_reached";

/// A change the WIP limit lets through: the attribution to write it with, and while the
/// target stage has a limit, the turn that keeps other moves from counting until the write is
/// done (dropped with the pass).
pub struct WipPass<'a> {
    /// `attribution` as given, or with the override noted in its comment.
    pub attribution: Attribution,
    _turn: Option<MutexGuard<'a, ()>>,
}

impl WipPass<'_> {
    fn free(attribution: Attribution) -> Self {
        Self {
            attribution,
            _turn: None,
        }
    }
}

/// Checks a change against the target stage's WIP limit. The pass's attribution is the one
/// given, or with the override noted in its comment when the stage was full and
/// `override_reason` was given; an error when the stage is full and there is none.
pub async fn check<'a>(
    state: &'a AppState,
    name: &FeatureName,
    change: &Change,
    override_reason: Option<&str>,
    attribution: Attribution,
) -> ApiResult<WipPass<'a>> {
    let Change::SetStage { stage } = change else {
        return Ok(WipPass::free(attribution));
    };
    let turn = state.stage_moves.lock().await;
    let settings = state.store.lifecycle_settings().await?.settings;
    if settings.wip_limit(*stage).is_none() {
        return Ok(WipPass::free(attribution));
    }
    // Holds every move this server made (each one's write answered before the next took the
    // turn), without copying every feature out of the store.
    let snapshot = crate::fresh_snapshot::fresh_snapshot(state).await?;
    if snapshot
        .features
        .iter()
        .any(|feature| &feature.name == name && feature.stage == *stage)
    {
        // Already there: not a move, nothing to refuse.
        return Ok(WipPass::free(attribution));
    }
    let count = snapshot
        .features
        .iter()
        .filter(|feature| feature.stage == *stage)
        .count();
    let pass = |attribution| WipPass {
        attribution,
        _turn: Some(turn),
    };
    let Some(full) = settings.wip_refusal(*stage, count) else {
        return Ok(pass(attribution));
    };
    match override_reason {
        Some(reason) => Ok(pass(with_override(
            attribution,
            *stage,
            count,
            full.limit,
            reason,
        ))),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            WIP_LIMIT_REACHED,
            format!("cannot move {}: {}", name.as_str(), full.message()),
        )
        .with_field("override_reason")
        .with_wip_limit(full)),
    }
}

/// The comment history records for an override: the limit broken and the reason, after any
/// comment the request already had (a graduation reason).
fn with_override(
    mut attribution: Attribution,
    stage: Stage,
    count: usize,
    limit: u32,
    reason: &str,
) -> Attribution {
    let note = format!("WIP limit override ({stage} had {count} of {limit}): {reason}");
    attribution.comment = Some(match attribution.comment.take() {
        Some(comment) => format!("{comment}; {note}"),
        None => note,
    });
    attribution
}
