//! The event log for resumption: each change event serialized once for every subscriber, and
//! the last of them kept for subscribers that reconnect with `Last-Event-ID`, bounded in count
//! and in bytes, so a large feature changed often cannot hold the server's memory.

use std::collections::VecDeque;
use std::sync::Arc;

use ramp_stream::StreamEvent;

/// How many recent events are kept for subscribers that resume (fewer when they are large:
/// see [`Recent::new`]'s byte limit).
const RECENT_EVENTS: usize = 1024;

/// An event as subscribers receive it: its JSON, made once however many subscribers send it.
/// Only the JSON is kept (not the features it was made from), so the resume buffer's cost is
/// what it counts.
#[derive(Debug)]
pub struct Published {
    /// The version the event brings the subscriber to (the SSE event id).
    version: u64,
    /// The SSE event name.
    name: &'static str,
    /// The event as JSON.
    pub json: String,
}

impl Published {
    /// Serializes the event.
    pub fn new(event: StreamEvent) -> Self {
        Self {
            version: event.version(),
            name: event.name(),
            // Plain data serializes without error.
            json: serde_json::to_string(&event).unwrap_or_default(),
        }
    }

    /// The version the event brings the subscriber to.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What keeping the event costs, in bytes.
    fn cost(&self) -> usize {
        self.json.len() + std::mem::size_of::<Self>()
    }
}

/// The last events, bounded in count and in bytes, and the version a subscriber must be at
/// for them to be all it missed.
pub(super) struct Recent {
    base: u64,
    events: VecDeque<Arc<Published>>,
    bytes: usize,
    byte_limit: usize,
}

impl Recent {
    /// Nothing kept yet, at `version`; at most `byte_limit` bytes of events will be.
    pub(super) fn new(version: u64, byte_limit: usize) -> Self {
        Self {
            base: version,
            events: VecDeque::new(),
            bytes: 0,
            byte_limit,
        }
    }

    /// The bytes the kept events take.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The events after `version`, if every one of them is still kept; `None` when some were
    /// dropped (the subscriber must reload).
    pub(super) fn after(&self, version: u64) -> Option<Vec<Arc<Published>>> {
        if version < self.base {
            return None;
        }
        Some(
            self.events
                .iter()
                .filter(|event| event.version() > version)
                .cloned()
                .collect(),
        )
    }

    /// Keeps `event`, dropping the oldest events while over a bound (the newest is always
    /// kept, so the bound is the byte limit plus one event).
    pub(super) fn push(&mut self, event: Arc<Published>) {
        self.bytes += event.cost();
        self.events.push_back(event);
        while self.events.len() > RECENT_EVENTS
            || (self.bytes > self.byte_limit && self.events.len() > 1)
        {
            let Some(dropped) = self.events.pop_front() else {
                break;
            };
            self.bytes -= dropped.cost();
            self.base = dropped.version();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(version: u64, bytes: usize) -> Arc<Published> {
        let mut published = Published::new(StreamEvent::Reload { version });
        published.json = "x".repeat(bytes);
        Arc::new(published)
    }

    #[test]
    fn kept_events_are_bounded_in_bytes_and_the_newest_is_always_kept() {
        let mut recent = Recent::new(0, 10_000);
        for version in 1..=100 {
            recent.push(event(version, 1_000));
        }
        assert!(recent.bytes() <= 10_000, "{}", recent.bytes());
        let kept = recent.after(95).unwrap();
        assert_eq!(
            kept.iter().map(|event| event.version()).collect::<Vec<_>>(),
            [96, 97, 98, 99, 100]
        );
        assert!(
            recent.after(50).is_none(),
            "older events were dropped: reload"
        );
        recent.push(event(101, 50_000));
        assert_eq!(
            recent.after(100).unwrap().len(),
            1,
            "one event over the limit is kept"
        );
        assert!(recent.after(99).is_none());
    }

    #[test]
    fn kept_events_are_bounded_in_count() {
        let mut recent = Recent::new(0, usize::MAX);
        for version in 1..=(RECENT_EVENTS as u64 + 10) {
            recent.push(event(version, 1));
        }
        assert!(recent.after(10).unwrap().len() == RECENT_EVENTS);
        assert!(recent.after(9).is_none());
    }
}
