//! `RolloutError`: the one error type of the library handle.

use ramp_core::CoreError;
use ramp_store::StoreError;

/// Why a library call failed. Whatever the variant, nothing stored was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// A name, id, percentage or other value broke the model's rules.
    #[error(transparent)]
    Invalid(#[from] CoreError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `revert` was given an event of another feature or group.
    #[error("history event {event_id} belongs to {actual}, not {requested}")]
    EventOfAnotherSubject {
        /// The event.
        event_id: u64,
        /// The feature or group named in the call (`feature "chat"`).
        requested: String,
        /// The feature or group the event belongs to (`group "beta"`).
        actual: String,
    },
    /// Undoing one event that a later undo already took back (and that undo still stands).
    #[error("history event {event_id} was already undone by event {undone_by}")]
    AlreadyUndone {
        /// The event asked to be undone.
        event_id: u64,
        /// The undo that took it back.
        undone_by: u64,
    },
    /// After a copy, the destination does not answer like the source.
    #[error("the copy does not answer like the source: {reason}")]
    CopyMismatch {
        /// The first difference found.
        reason: String,
    },
    /// A feature, group or history event in the copy's source that the destination cannot
    /// take (data written by another program, such as a NUL in a Redis value). Nothing was
    /// written to the destination.
    #[error("{subject} cannot be copied: {reason}; nothing was written to the destination")]
    CopyRefused {
        /// What: `feature "chat"`, `group "staff"`, `history event 12 of feature "chat"`.
        subject: String,
        /// The rule it breaks.
        reason: CoreError,
    },
    /// Answering as of a time would replay more history than one answer may.
    #[error("more than {limit} history events were recorded after {at}: too many to replay for one answer; ask about a later time")]
    HistoryTooLong {
        /// The time asked about.
        at: chrono::DateTime<chrono::Utc>,
        /// The most events one answer replays.
        limit: usize,
    },
    /// The store changed between reading its snapshot and its history, every time it was
    /// read; a past answer from the two would not be trustworthy.
    #[error("the store kept changing while its history was read ({attempts} attempts); try again")]
    StoreKeptChanging {
        /// How many times the reads were made.
        attempts: usize,
    },
    /// An export file that cannot be imported; nothing was imported.
    #[error("invalid import file: {reason}")]
    InvalidImport {
        /// What is wrong, naming the feature or line where possible.
        reason: String,
    },
}

impl RolloutError {
    /// Whether the error comes from bad input (as opposed to the store failing).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            RolloutError::Invalid(_)
                | RolloutError::EventOfAnotherSubject { .. }
                | RolloutError::AlreadyUndone { .. }
                | RolloutError::InvalidImport { .. }
                | RolloutError::CopyRefused { .. }
                | RolloutError::HistoryTooLong { .. }
                | RolloutError::Store(
                    StoreError::Invalid(_)
                        | StoreError::InvalidUrl { .. }
                        | StoreError::NotFound { .. }
                        | StoreError::Conflict { .. }
                )
        )
    }
}
