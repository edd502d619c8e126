//! `revert` for stored groups: putting a group back as it was just before one of its events,
//! or undoing just that event, exactly as `revert.rs` does for features. The result is written
//! as one new group write at the version the revert started from, so it is recorded (and can be
//! reverted) and a change made meanwhile is never overwritten: the revert is a conflict instead.

use ramp_core::{group_before, GroupName, Subject};
use ramp_store::StoreError;

use crate::undone::undone_by;
use crate::{RevertScope, Reverted, Rollout, RolloutError};

impl Rollout {
    /// Reverts event `event_id` of stored group `group` as `scope` says. With
    /// `expected_version`, refused (a conflict) unless the group is still at that version (0:
    /// it does not exist).
    pub async fn revert_group_with(
        &self,
        group: &str,
        event_id: u64,
        scope: RevertScope,
        expected_version: Option<u64>,
    ) -> Result<Reverted, RolloutError> {
        let name = GroupName::new(group)?;
        let subject = Subject::Group(name.clone());
        let event = self.subjects_event(&subject, event_id).await?;
        let stored = self
            .store
            .groups()
            .await?
            .into_iter()
            .find(|stored| stored.group.name == name);
        let version = stored.as_ref().map_or(0, |stored| stored.version);
        if let Some(expected) = expected_version.filter(|expected| *expected != version) {
            return Err(StoreError::group_conflict(name.as_str(), expected, version).into());
        }
        let current = stored.map(|stored| stored.group);
        let since = self.events_since(&subject, event_id).await?;
        let target = match scope {
            RevertScope::ToBefore => group_before(current, &since)?,
            RevertScope::OnlyThisEvent => {
                if let Some(by) = undone_by(&since).get(&event_id) {
                    return Err(RolloutError::AlreadyUndone {
                        event_id,
                        undone_by: *by,
                    });
                }
                event.undo_group(current)?
            }
        };
        let attribution = self.revert_attribution(scope, event_id);
        match target {
            Some(group) => {
                let applied = self
                    .store
                    .put_group(&group, Some(version), &attribution)
                    .await?;
                Ok(Reverted::Restored(applied.event))
            }
            None if version == 0 => Ok(Reverted::Restored(None)),
            None => Ok(Reverted::Deleted(
                self.store
                    .delete_group(&name, Some(version), &attribution)
                    .await?,
            )),
        }
    }
}
