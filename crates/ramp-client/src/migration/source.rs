//! `RecordSource`: the ids a migration walks, in batches, from the start on every pass.

use std::future::Future;

use crate::ClientError;

/// The ids of the records a migration walks. Each pass calls [`rewind`](Self::rewind), then
/// [`next_batch`](Self::next_batch) until it returns `None`.
///
/// Ids are strings because coverage is a user id's: an integer id is its decimal form, as in
/// the gem.
pub trait RecordSource: Send {
    /// Starts again from the first record.
    fn rewind(&mut self);

    /// The next at most `limit` ids, or `None` after the last.
    fn next_batch(
        &mut self,
        limit: usize,
    ) -> impl Future<Output = Result<Option<Vec<String>>, ClientError>> + Send;
}

/// Ids from a list the application already holds (or any function that makes one): each pass
/// walks the list again.
pub struct IterRecords {
    ids: Vec<String>,
    position: usize,
}

impl IterRecords {
    /// Walks these ids, in this order.
    pub fn new<I, S>(ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            ids: ids.into_iter().map(Into::into).collect(),
            position: 0,
        }
    }
}

impl RecordSource for IterRecords {
    fn rewind(&mut self) {
        self.position = 0;
    }

    async fn next_batch(&mut self, limit: usize) -> Result<Option<Vec<String>>, ClientError> {
        if self.position >= self.ids.len() {
            return Ok(None);
        }
        let end = (self.position + limit.max(1)).min(self.ids.len());
        let batch = self.ids[self.position..end].to_vec();
        self.position = end;
        Ok(Some(batch))
    }
}
