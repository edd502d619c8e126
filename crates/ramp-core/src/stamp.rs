//! `Stamp`: a short, stable record of which version of a feature an application used, to keep
//! on a record it creates ("this order was placed with new-checkout on, at its 7th version").
//!
//! Written `NAME@VERSION-MILLIS-on` (or `-off`): the feature's name, its version, the time of
//! the change that made that version (milliseconds since the Unix epoch, rounded down) and the
//! answer. Names never hold `@`, so the text parses from the last `@`. The time is what lets
//! the server find the feature's state at that version from history
//! (`GET /api/v1/stamps/{stamp}`); the version is for people and for checking.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::{Action, CoreError, Feature, FeatureName, FeatureState, HistoryEvent};

/// Which version of a feature gave which answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// The feature.
    pub feature: FeatureName,
    /// Its version when checked (0: no such feature).
    pub version: u64,
    /// When the change that made that version was made, in milliseconds since the epoch (0:
    /// no such feature).
    pub changed_at_millis: i64,
    /// The answer.
    pub active: bool,
}

impl Stamp {
    /// The stamp of a check of `feature` (as it is now) that answered `active`.
    pub fn of(feature: &Feature, active: bool) -> Self {
        Self {
            feature: feature.name.clone(),
            version: feature.version,
            changed_at_millis: feature.updated_at.timestamp_millis(),
            active,
        }
    }

    /// The stamp of a check of a name that is no feature (always inactive).
    pub fn not_found(feature: FeatureName) -> Self {
        Self {
            feature,
            version: 0,
            changed_at_millis: 0,
            active: false,
        }
    }

    /// The last instant of the stamp's millisecond: the store as of then holds the change that
    /// made the version (the stamp's time was rounded down).
    pub fn as_of(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.changed_at_millis)
            .map(|start| start + Duration::nanoseconds(999_999))
    }

    /// The feature's state at the stamp's version, and the index in `events_newest_first` of
    /// the change that made it, found by counting versions back from `now` (the feature as
    /// stored now; `events_newest_first` are its events from the newest back to at least the
    /// stamp's millisecond). Time alone cannot tell two changes made in the same millisecond
    /// apart; each change adds one to the version, so counting can.
    ///
    /// `None` when counting cannot be trusted: the feature is gone, a deletion or creation
    /// lies in between, too few events are given, or the change counted to was not made in
    /// the stamp's millisecond (a change recorded without history, as the rollout gem's are).
    pub fn state_by_version(
        &self,
        now: Option<&Feature>,
        events_newest_first: &[HistoryEvent],
    ) -> Result<Option<(FeatureState, usize)>, CoreError> {
        let Some(now) = now else { return Ok(None) };
        let Some(steps) = now.version.checked_sub(self.version) else {
            return Ok(None);
        };
        let Ok(steps) = usize::try_from(steps) else {
            return Ok(None);
        };
        let Some(maker) = events_newest_first.get(steps) else {
            return Ok(None);
        };
        let newer = &events_newest_first[..steps];
        let counted = newer.iter().all(|event| event.action == Action::Updated)
            && maker.action != Action::Deleted
            && maker.time.timestamp_millis() == self.changed_at_millis
            && events_newest_first[..=steps]
                .iter()
                .all(|event| event.feature() == Some(&self.feature));
        if !counted {
            return Ok(None);
        }
        let mut state = Some(now.state());
        for event in newer {
            state = event.undo(state)?;
        }
        Ok(state.map(|state| (state, steps)))
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answer = if self.active { "on" } else { "off" };
        write!(
            formatter,
            "{}@{}-{}-{answer}",
            self.feature, self.version, self.changed_at_millis
        )
    }
}

impl FromStr for Stamp {
    type Err = CoreError;

    fn from_str(text: &str) -> Result<Self, CoreError> {
        let invalid = || CoreError::InvalidStamp {
            text: text.chars().take(300).collect(),
        };
        let (name, rest) = text.rsplit_once('@').ok_or_else(invalid)?;
        let mut parts = rest.split('-');
        let (Some(version), Some(millis), Some(answer), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let digits =
            |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
        if !digits(version) || !digits(millis) {
            return Err(invalid());
        }
        let active = match answer {
            "on" => true,
            "off" => false,
            _ => return Err(invalid()),
        };
        Ok(Self {
            feature: FeatureName::new(name).map_err(|_| invalid())?,
            version: version.parse().map_err(|_| invalid())?,
            changed_at_millis: millis.parse().map_err(|_| invalid())?,
            active,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_what_it_wrote_for_any_name() {
        for name in ["chat", "new-event-form", "a.b:c_d-e", "x-1-2-on"] {
            let stamp = Stamp {
                feature: FeatureName::new(name).unwrap(),
                version: 7,
                changed_at_millis: 1_796_547_600_123,
                active: name.len() % 2 == 0,
            };
            let text = stamp.to_string();
            assert_eq!(text.parse::<Stamp>().unwrap(), stamp, "{text}");
        }
        assert_eq!(
            "chat@7-1796547600123-on"
                .parse::<Stamp>()
                .unwrap()
                .to_string(),
            "chat@7-1796547600123-on"
        );
    }

    #[test]
    fn malformed_stamps_are_refused() {
        for text in [
            "",
            "chat",
            "chat@7-1-yes",
            "chat@7-1",
            "chat@-1-on",
            "chat@7-1-on-x",
            "chat@7--1-on",
            "@7-1-on",
            "bad name@7-1-on",
            "chat@99999999999999999999999-1-on",
        ] {
            assert!(text.parse::<Stamp>().is_err(), "{text:?}");
        }
    }

    /// Two changes in one millisecond, then one later: each version's stamp resolves to
    /// its own state by counting, where the time alone would give the later of the two.
    #[test]
    fn versions_made_in_the_same_millisecond_are_told_apart() {
        use crate::{Change, Percentage};
        use chrono::TimeDelta;
        let start = DateTime::from_timestamp_millis(1_796_547_600_123).unwrap();
        let name = FeatureName::new("new-form").unwrap();
        let mut feature = Feature::new(name.clone(), start);
        let mut events = Vec::new();
        let mut stamps = Vec::new();
        for (step, (percentage, offset)) in [(100.0, 100), (0.0, 700), (30.0, 5_000_000)]
            .into_iter()
            .enumerate()
        {
            let time = start + TimeDelta::microseconds(offset);
            let change = Change::SetPercentage {
                percentage: Percentage::new(percentage).unwrap(),
            };
            let changes = change.apply(&mut feature, time).unwrap();
            events.push(HistoryEvent {
                id: step as u64 + 1,
                subject: crate::Subject::Feature(name.clone()),
                action: if step == 0 {
                    Action::Created
                } else {
                    Action::Updated
                },
                actor: "ana".into(),
                time,
                comment: None,
                changes,
            });
            stamps.push((Stamp::of(&feature, true), feature.state()));
        }
        events.reverse();
        assert_eq!(stamps[0].0.changed_at_millis, stamps[1].0.changed_at_millis);
        for (stamp, state) in &stamps {
            let (found, index) = stamp
                .state_by_version(Some(&feature), &events)
                .unwrap()
                .unwrap();
            assert_eq!(&found, state, "{stamp}");
            assert_eq!(events[index].time, feature_time(&events, stamp.version));
        }
        // Counting that does not land in the stamp's millisecond is not trusted.
        let mut skewed = stamps[0].0.clone();
        skewed.changed_at_millis += 1;
        assert_eq!(
            skewed.state_by_version(Some(&feature), &events).unwrap(),
            None
        );
        assert_eq!(stamps[0].0.state_by_version(None, &events).unwrap(), None);
        assert_eq!(
            stamps[0]
                .0
                .state_by_version(Some(&feature), &events[..2])
                .unwrap(),
            None
        );
    }

    /// The time of the event that made `version` in `events` (oldest is version 1).
    fn feature_time(events_newest_first: &[HistoryEvent], version: u64) -> DateTime<Utc> {
        events_newest_first[events_newest_first.len() - version as usize].time
    }

    #[test]
    fn as_of_is_the_end_of_the_stamped_millisecond() {
        let stamp: Stamp = "chat@7-1796547600123-on".parse().unwrap();
        let as_of = stamp.as_of().unwrap();
        assert_eq!(as_of.timestamp_millis(), 1_796_547_600_123);
        assert_eq!(as_of.timestamp_subsec_nanos(), 123_999_999);
    }
}
