//! `ramp copy --from URL --to URL [--with-history]`: moves every feature, stored group and
//! (optionally) the history between stores, with a progress bar on a terminal, then proves the
//! destination answers like the source. The work itself is `ramp_rollout::copy_store`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use ramp_core::Attribution;
use ramp_rollout::{copy_store, CopyStep};
use ramp_store::redact_url;

use super::open;
use crate::output::Output;

/// Runs `ramp copy`.
pub async fn copy(
    output: Output,
    actor: String,
    from: &str,
    to: &str,
    with_history: bool,
) -> anyhow::Result<()> {
    if from == to {
        anyhow::bail!("--from and --to name the same store ({})", redact_url(from));
    }
    let source = open(from).await?;
    let destination = open(to).await?;
    let bar = progress_bar();
    let mut show = |step: CopyStep| match step {
        CopyStep::ReadingHistory(read) => {
            bar.set_message(format!("reading history: {read} events"))
        }
        CopyStep::WritingFeatures(count) => bar.set_message(format!("writing {count} features")),
        CopyStep::Checking(done, all) => {
            bar.set_length(all as u64);
            bar.set_position(done as u64);
            bar.set_message("checking answers");
        }
    };
    let attribution = Attribution {
        actor,
        comment: Some(format!("copied from {}", redact_url(from))),
    };
    let report = copy_store(
        source.as_ref(),
        destination.as_ref(),
        with_history,
        &attribution,
        &mut show,
    )
    .await;
    bar.finish_and_clear();
    let report = report?;
    for name in &report.skipped_damaged {
        eprintln!("warning: feature {name:?} was not copied: the source cannot read it (see `ramp show {name}`)");
    }
    Ok(output.result(&report, || {
        let features = &report.features;
        let mut line = format!(
            "copied {} features ({} created, {} updated, {} unchanged) and {} groups",
            features.created + features.updated + features.unchanged,
            features.created,
            features.updated,
            features.unchanged,
            features.groups
        );
        if with_history {
            line.push_str(&format!(
                "; history: {} of {} events copied (the rest were already there)",
                report.history_copied, report.history_read
            ));
        }
        line.push_str(&format!(
            "; the destination gave the same answer in all {} checks",
            report.answers_checked
        ));
        line
    })?)
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner} {msg} {pos}/{len}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bar = ProgressBar::new(0).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
