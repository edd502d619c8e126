//! `StreamEvent`: the change stream's events, as the server writes them and followers read them.
//!
//! The wire format: an SSE event named `changed` or `reload`, whose id is the version it brings
//! the follower to, and whose data is the JSON of the event, tagged by `type`:
//! `{"type":"changed","version":8,"features":[...],"deleted":["old"]}` or
//! `{"type":"reload","version":9}`.

use ramp_core::{Feature, FeatureName, Snapshot, SnapshotDiff};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::SseEvent;

/// At most this many features in one `changed` event; more and followers are told to reload.
pub const MAX_CHANGED_FEATURES: usize = 1000;

/// What followers of the stream receive after every change.
///
/// `F` is how much of each changed feature a reader keeps: the whole [`Feature`] (the server,
/// the SDK), or only its name ([`NamedFeature`]) for a reader that just needs to know which
/// features changed and should not hold their user lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    bound(deserialize = "F: Deserialize<'de>")
)]
pub enum StreamEvent<F = Feature> {
    /// Features changed: their new states, and the names of those deleted.
    Changed {
        /// The snapshot version after the change.
        version: u64,
        /// The features created or changed, as they are now.
        #[serde(default)]
        features: Vec<F>,
        /// The features deleted.
        #[serde(default)]
        deleted: Vec<FeatureName>,
    },
    /// Something else changed (stored groups, or too much at once): fetch the snapshot again.
    /// Also the first event of every subscription, naming the version now.
    Reload {
        /// The snapshot version now.
        version: u64,
    },
}

/// A changed feature read for its name alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedFeature {
    /// The feature's name.
    pub name: FeatureName,
}

impl<F> StreamEvent<F> {
    /// The version the event brings the follower to (the SSE event id).
    pub fn version(&self) -> u64 {
        match self {
            StreamEvent::Changed { version, .. } | StreamEvent::Reload { version } => *version,
        }
    }

    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::Changed { .. } => "changed",
            StreamEvent::Reload { .. } => "reload",
        }
    }
}

impl<F: DeserializeOwned> StreamEvent<F> {
    /// Reads one SSE event. `None` for an event this version does not know (a newer server
    /// may send more kinds); a `changed` or `reload` whose data cannot be read becomes a reload
    /// at the event id's version, because the snapshot says the same and more.
    pub fn decode(event: &SseEvent) -> Option<Self> {
        if !matches!(event.event.as_str(), "changed" | "reload") {
            return None;
        }
        Some(serde_json::from_str(&event.data).unwrap_or_else(|error| {
            tracing::warn!(%error, event = %event.event, "unreadable Ramp stream event; reloading");
            StreamEvent::Reload {
                version: event
                    .id
                    .as_deref()
                    .and_then(|id| id.trim().parse().ok())
                    .unwrap_or(0),
            }
        }))
    }
}

impl StreamEvent<Feature> {
    /// The event that takes a follower from `old` to `new`: the features that changed, or a
    /// reload when stored groups or the bucketing setting changed (they affect many features
    /// at once) or more than [`MAX_CHANGED_FEATURES`] features did.
    pub fn between(old: &Snapshot, new: &Snapshot) -> Self {
        Self::from_diff(&SnapshotDiff::between(old, new))
    }

    /// The event for a diff (see [`StreamEvent::between`]).
    pub fn from_diff(diff: &SnapshotDiff<'_>) -> Self {
        if diff.groups_changed || diff.changed.len() + diff.deleted.len() > MAX_CHANGED_FEATURES {
            return StreamEvent::Reload {
                version: diff.version,
            };
        }
        StreamEvent::Changed {
            version: diff.version,
            features: diff
                .changed
                .iter()
                .map(|feature| (*feature).clone())
                .collect(),
            deleted: diff.deleted.iter().map(|name| (*name).clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use ramp_core::Percentage;

    use super::*;

    fn sse(name: &str, data: &str) -> SseEvent {
        SseEvent {
            id: Some("8".into()),
            event: name.into(),
            data: data.into(),
        }
    }

    fn feature(name: &str, percentage: f64) -> Feature {
        let mut feature = Feature::new(FeatureName::new(name).unwrap(), DateTime::UNIX_EPOCH);
        feature.percentage = Percentage::new(percentage).unwrap();
        feature
    }

    #[test]
    fn the_wire_format_is_tagged_json() {
        let event: StreamEvent = StreamEvent::Changed {
            version: 5,
            features: Vec::new(),
            deleted: vec![FeatureName::new("old").unwrap()],
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"type":"changed","version":5,"features":[],"deleted":["old"]}"#
        );
        assert_eq!((event.name(), event.version()), ("changed", 5));
        let reload: StreamEvent = StreamEvent::Reload { version: 9 };
        assert_eq!(
            serde_json::to_string(&reload).unwrap(),
            r#"{"type":"reload","version":9}"#
        );
    }

    #[test]
    fn events_decode_in_full_or_by_name() {
        let data = r#"{"type":"changed","version":8,"features":[{"name":"a","percentage":5}],"deleted":["b"]}"#;
        let named = StreamEvent::<NamedFeature>::decode(&sse("changed", data)).unwrap();
        assert_eq!(
            named,
            StreamEvent::Changed {
                version: 8,
                features: vec![NamedFeature {
                    name: FeatureName::new("a").unwrap()
                }],
                deleted: vec![FeatureName::new("b").unwrap()],
            }
        );
        // Missing lists are empty.
        let full =
            StreamEvent::<Feature>::decode(&sse("changed", r#"{"type":"changed","version":8}"#));
        assert!(
            matches!(full, Some(StreamEvent::Changed { version: 8, features, deleted }) if features.is_empty() && deleted.is_empty())
        );
        let reload =
            StreamEvent::<Feature>::decode(&sse("reload", r#"{"type":"reload","version":9}"#));
        assert_eq!(reload, Some(StreamEvent::Reload { version: 9 }));
    }

    #[test]
    fn unreadable_events_reload_and_unknown_ones_are_skipped() {
        // A whole feature cannot be read from just a name and a percentage.
        let data = r#"{"type":"changed","version":8,"features":[{"name":"a","percentage":5}]}"#;
        assert_eq!(
            StreamEvent::<Feature>::decode(&sse("changed", data)),
            Some(StreamEvent::Reload { version: 8 })
        );
        assert_eq!(
            StreamEvent::<Feature>::decode(&sse("changed", "garbage")),
            Some(StreamEvent::Reload { version: 8 })
        );
        let mut no_id = sse("reload", "garbage");
        no_id.id = None;
        assert_eq!(
            StreamEvent::<Feature>::decode(&no_id),
            Some(StreamEvent::Reload { version: 0 })
        );
        assert_eq!(StreamEvent::<Feature>::decode(&sse("message", "{}")), None);
    }

    #[test]
    fn a_change_of_features_is_one_event_and_a_change_of_groups_a_reload() {
        let old = Snapshot {
            version: 1,
            features: vec![feature("a", 1.0), feature("b", 2.0)],
            ..Snapshot::default()
        };
        let mut new = old.patched(2, [feature("c", 3.0)], &[FeatureName::new("a").unwrap()]);
        assert_eq!(
            StreamEvent::between(&old, &new),
            StreamEvent::Changed {
                version: 2,
                features: vec![feature("c", 3.0)],
                deleted: vec![FeatureName::new("a").unwrap()],
            }
        );
        new.randomize_percentage = true;
        assert_eq!(
            StreamEvent::between(&old, &new),
            StreamEvent::Reload { version: 2 }
        );
    }

    #[test]
    fn too_many_changes_at_once_are_a_reload() {
        let old = Snapshot::default();
        let new = Snapshot {
            version: 3,
            features: (0..=MAX_CHANGED_FEATURES)
                .map(|number| feature(&format!("f{number:05}"), 1.0))
                .collect(),
            ..Snapshot::default()
        };
        assert_eq!(
            StreamEvent::between(&old, &new),
            StreamEvent::Reload { version: 3 }
        );
    }
}
