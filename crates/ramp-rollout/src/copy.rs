//! Copying every feature, stored group and (optionally) the history from one store to another,
//! then checking that the destination answers every feature as the source does. This is how a
//! team moves off Redis (to PostgreSQL, say) without a flag changing for anyone.
//!
//! Safe to run twice: features already equal are left unchanged, and history events already
//! copied are skipped. Everything is checked against the core's rules before anything is
//! written, so data another program put in the source (a NUL in a Redis value, which
//! PostgreSQL cannot store) stops the copy with the name of what holds it, not with an
//! anonymous failure of the whole write.

use std::collections::BTreeMap;

use ramp_core::{
    Attribution, CodeGroups, CompiledSnapshot, Context, Decision, HistoryEvent, Snapshot,
};
use ramp_store::{HistoryQuery, ImportSummary, ImportedFeature, Store};
use serde::Serialize;

use crate::RolloutError;

/// How many listed users per feature, and how many plain ids, the check evaluates on both sides.
const CHECKED_LISTED_USERS: usize = 1_000;
const CHECKED_IDS: u32 = 1_000;

/// What a copy is doing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyStep {
    /// Reading the source's history (events read so far).
    ReadingHistory(usize),
    /// Writing the features and groups (how many).
    WritingFeatures(usize),
    /// Comparing answers (features checked so far, out of all).
    Checking(usize, usize),
}

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Features and groups written.
    pub features: ImportSummary,
    /// Features skipped because the source could not read them (damaged payloads).
    pub skipped_damaged: Vec<String>,
    /// History events read from the source (when asked for).
    pub history_read: usize,
    /// History events written (the rest were already there).
    pub history_copied: usize,
    /// Evaluations compared between the two stores, all equal.
    pub answers_checked: usize,
}

/// Copies `source` into `destination` and checks the result; see the module documentation.
pub async fn copy_store(
    source: &dyn Store,
    destination: &dyn Store,
    with_history: bool,
    attribution: &Attribution,
    progress: &mut (dyn FnMut(CopyStep) + Send),
) -> Result<CopyReport, RolloutError> {
    let mut report = CopyReport::default();
    // Read and check everything first: a refusal must come before the first write.
    let events = if with_history {
        read_all_history(source, progress).await?
    } else {
        Vec::new()
    };
    let snapshot = source.snapshot().await?;
    check_copyable(&snapshot, &events)?;
    if with_history {
        // Oldest first, and before the features: the import's own events then come last.
        report.history_read = events.len();
        report.history_copied = destination.import_history(&events).await?;
    }
    let (damaged, usable): (Vec<_>, Vec<_>) = snapshot
        .features
        .iter()
        .partition(|feature| feature.damaged.is_some());
    report.skipped_damaged = damaged
        .iter()
        .map(|feature| feature.name.to_string())
        .collect();
    let features: Vec<ImportedFeature> = usable
        .iter()
        .map(|feature| ImportedFeature {
            name: feature.name.clone(),
            state: feature.state(),
        })
        .collect();
    progress(CopyStep::WritingFeatures(features.len()));
    report.features = destination
        .import(&features, &snapshot.groups, attribution)
        .await?;
    report.answers_checked =
        check_same_answers(&snapshot, &destination.snapshot().await?, progress)?;
    Ok(report)
}

/// Checks every (undamaged) feature, stored group and history event against the rules every
/// store applies to writes, naming the first that breaks one.
fn check_copyable(snapshot: &Snapshot, events: &[HistoryEvent]) -> Result<(), RolloutError> {
    let refused = |subject: String| move |reason| RolloutError::CopyRefused { subject, reason };
    for feature in snapshot
        .features
        .iter()
        .filter(|feature| feature.damaged.is_none())
    {
        feature
            .state()
            .validate()
            .map_err(refused(format!("feature {:?}", feature.name.as_str())))?;
    }
    for group in &snapshot.groups {
        group
            .validate()
            .map_err(refused(format!("group {:?}", group.name.as_str())))?;
    }
    for event in events {
        event.validate().map_err(refused(format!(
            "history event {} of {} {:?}",
            event.id,
            event.subject.kind(),
            event.subject.name()
        )))?;
    }
    Ok(())
}

async fn read_all_history(
    source: &dyn Store,
    progress: &mut (dyn FnMut(CopyStep) + Send),
) -> Result<Vec<HistoryEvent>, RolloutError> {
    const PAGE: usize = 1_000;
    let mut events = Vec::new();
    let mut before_id = None;
    loop {
        let page = source
            .history(&HistoryQuery {
                feature: None,
                before_id,
                limit: PAGE,
                ..HistoryQuery::default()
            })
            .await?;
        let full = page.len() == PAGE;
        before_id = page.last().map(|event| event.id);
        events.extend(page);
        progress(CopyStep::ReadingHistory(events.len()));
        if !full {
            break;
        }
    }
    events.reverse();
    Ok(events)
}

/// Compares both stores' answers for every (undamaged) source feature: anonymous, the users it
/// lists and excludes, and a run of plain ids that exercises the percentage.
fn check_same_answers(
    source: &Snapshot,
    destination: &Snapshot,
    progress: &mut (dyn FnMut(CopyStep) + Send),
) -> Result<usize, RolloutError> {
    let mismatch = |reason: String| RolloutError::CopyMismatch { reason };
    if source.randomize_percentage != destination.randomize_percentage {
        return Err(mismatch(format!(
            "the source buckets with randomize_percentage={} but the destination with {}: percentages would reach other users",
            source.randomize_percentage, destination.randomize_percentage
        )));
    }
    let compiled_source = CompiledSnapshot::compile(source);
    let compiled_destination = CompiledSnapshot::compile(destination);
    let destination_features: BTreeMap<&str, _> = destination
        .features
        .iter()
        .map(|feature| (feature.name.as_str(), feature))
        .collect();
    // Code groups live in applications; both sides see none, which is what matters here.
    let no_code_groups = CodeGroups::new();
    let usable: Vec<_> = source
        .features
        .iter()
        .filter(|feature| feature.damaged.is_none())
        .collect();
    let mut checked = 0;
    for (position, feature) in usable.iter().enumerate() {
        let name = feature.name.as_str();
        let copied = destination_features
            .get(name)
            .ok_or_else(|| mismatch(format!("feature {name:?} is missing from the destination")))?;
        if copied.state() != feature.state() {
            return Err(mismatch(format!(
                "feature {name:?} differs in the destination"
            )));
        }
        let listed = feature
            .users
            .iter()
            .chain(&feature.excluded_users)
            .take(CHECKED_LISTED_USERS)
            .map(|user| Context::user(user.as_str()));
        let plain = (1..=CHECKED_IDS).map(|id| Context::user(id.to_string()));
        for context in std::iter::once(Context::anonymous())
            .chain(listed)
            .chain(plain)
        {
            let expected: Decision = compiled_source.evaluate(name, &context, &no_code_groups);
            let actual = compiled_destination.evaluate(name, &context, &no_code_groups);
            if expected != actual {
                return Err(mismatch(format!(
                    "feature {name:?} answers {actual:?} instead of {expected:?} for {context:?}"
                )));
            }
            checked += 1;
        }
        progress(CopyStep::Checking(position + 1, usable.len()));
    }
    if source.groups
        != destination
            .groups
            .iter()
            .filter(|group| source.groups.iter().any(|kept| kept.name == group.name))
            .cloned()
            .collect::<Vec<_>>()
    {
        return Err(mismatch("stored groups differ in the destination".into()));
    }
    Ok(checked)
}
