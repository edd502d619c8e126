//! `MemoryLedger`: a ledger in memory, over callbacks whose effect is anywhere.
//!
//! For effects a database transaction cannot hold (a message sent, another service called):
//! the mark is set after `forward` returns, so a crash between the two runs `forward` again
//! on the next start. That makes it at-least-once, and the callbacks must be idempotent. Its
//! state lives as long as it does; seed it with [`MemoryLedger::with_migrated`] from what the
//! application knows at start.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use futures::FutureExt;

use super::ledger::{Direction, Ledger, Outcome, StepError};
use crate::ClientError;

type MemoryStep = Arc<dyn Fn(String) -> BoxFuture<'static, Result<(), StepError>> + Send + Sync>;

/// A ledger in memory whose `forward` and `back` are the application's async callbacks.
pub struct MemoryLedger {
    migrated: Mutex<HashSet<(String, String)>>,
    forward: MemoryStep,
    back: MemoryStep,
}

impl MemoryLedger {
    /// A ledger where nothing is migrated yet; `forward(id)` and `back(id)` move a record.
    pub fn new<Forward, ForwardFuture, Back, BackFuture>(forward: Forward, back: Back) -> Self
    where
        Forward: Fn(String) -> ForwardFuture + Send + Sync + 'static,
        ForwardFuture: Future<Output = Result<(), StepError>> + Send + 'static,
        Back: Fn(String) -> BackFuture + Send + Sync + 'static,
        BackFuture: Future<Output = Result<(), StepError>> + Send + 'static,
    {
        Self {
            migrated: Mutex::new(HashSet::new()),
            forward: Arc::new(move |id| forward(id).boxed()),
            back: Arc::new(move |id| back(id).boxed()),
        }
    }

    /// Starts with these records of `migration` marked migrated.
    pub fn with_migrated<I, S>(self, migration: &str, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.lock()
            .extend(ids.into_iter().map(|id| (migration.to_owned(), id.into())));
        self
    }

    /// The records of `migration` marked migrated now.
    pub fn migrated_ids(&self, migration: &str) -> HashSet<String> {
        self.lock()
            .iter()
            .filter(|(name, _)| name == migration)
            .map(|(_, id)| id.clone())
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        self.migrated
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Ledger for MemoryLedger {
    async fn migrated(
        &self,
        migration: &str,
        ids: &[String],
    ) -> Result<HashSet<String>, ClientError> {
        let migrated = self.lock();
        Ok(ids
            .iter()
            .filter(|id| migrated.contains(&(migration.to_owned(), (*id).clone())))
            .cloned()
            .collect())
    }

    async fn apply(
        &self,
        migration: &str,
        id: &str,
        direction: Direction,
    ) -> Result<Outcome, ClientError> {
        let step = match direction {
            Direction::Forward => self.forward.clone(),
            Direction::Back => self.back.clone(),
        };
        if let Err(error) = step(id.to_owned()).await {
            return Ok(Outcome::Failed(error));
        }
        let key = (migration.to_owned(), id.to_owned());
        let mut migrated = self.lock();
        match direction {
            Direction::Forward => migrated.insert(key),
            Direction::Back => migrated.remove(&key),
        };
        Ok(Outcome::Moved)
    }
}
