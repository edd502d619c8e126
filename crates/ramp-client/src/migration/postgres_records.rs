//! `PostgresRecords`: the ids of a table in the application's PostgreSQL, read in batches
//! with keyset paging (`WHERE id > last ORDER BY id LIMIT n`), so each batch costs the same
//! however far the pass has gone, and rows added during a pass are seen if their id is ahead.

use deadpool_postgres::Pool;

use super::ledger::storage;
use super::source::RecordSource;
use crate::ClientError;

/// Where the last batch ended.
enum Cursor {
    Start,
    Integer(i64),
    Text(String),
    End,
}

/// The ids of one table's column: integer (`smallint`, `integer`, `bigint`) or text.
pub struct PostgresRecords {
    pool: Pool,
    integer: bool,
    query: String,
    cursor: Cursor,
}

impl PostgresRecords {
    /// An integer id column; ids become their decimal text, as the gem sees integer ids.
    /// `table` may be qualified (`schema.table`); names are letters, digits and `_`.
    pub fn integer_ids(pool: Pool, table: &str, column: &str) -> Result<Self, ClientError> {
        let query = format!(
            "SELECT {column}::bigint FROM {table} WHERE {column} > $1 ORDER BY {column} LIMIT $2"
        );
        Self::new(pool, table, column, true, query)
    }

    /// A text (or `uuid`, `varchar`) id column, walked in the column's own order.
    pub fn text_ids(pool: Pool, table: &str, column: &str) -> Result<Self, ClientError> {
        let query = format!(
            "SELECT {column}::text FROM {table} WHERE ($1::text IS NULL OR {column}::text > $1) \
             ORDER BY {column}::text LIMIT $2"
        );
        Self::new(pool, table, column, false, query)
    }

    fn new(
        pool: Pool,
        table: &str,
        column: &str,
        integer: bool,
        query: String,
    ) -> Result<Self, ClientError> {
        for (what, name) in [("table", table), ("column", column)] {
            if !is_identifier(name, what == "table") {
                return Err(ClientError::MigrationSetting {
                    migration: String::new(),
                    reason: format!(
                        "{what} {name:?} must be letters, digits and `_` (a table may be schema.table)"
                    ),
                });
            }
        }
        Ok(Self {
            pool,
            integer,
            query,
            cursor: Cursor::Start,
        })
    }
}

/// A plain SQL name (or `schema.name` when `qualified`): nothing to quote, nothing to inject.
fn is_identifier(name: &str, qualified: bool) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    let plain = |part: &&str| {
        part.len() <= 63
            && part
                .chars()
                .next()
                .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (parts.len() == 1 || (qualified && parts.len() == 2)) && parts.iter().all(plain)
}

impl RecordSource for PostgresRecords {
    fn rewind(&mut self) {
        self.cursor = Cursor::Start;
    }

    async fn next_batch(&mut self, limit: usize) -> Result<Option<Vec<String>>, ClientError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let connection = self
            .pool
            .get()
            .await
            .map_err(|error| storage("connecting to the records", error))?;
        let rows = match (&self.cursor, self.integer) {
            (Cursor::End, _) => return Ok(None),
            (Cursor::Start, true) => connection.query(&self.query, &[&i64::MIN, &limit]).await,
            (Cursor::Integer(last), _) => connection.query(&self.query, &[last, &limit]).await,
            (Cursor::Start, false) => {
                connection
                    .query(&self.query, &[&None::<String>, &limit])
                    .await
            }
            (Cursor::Text(last), _) => connection.query(&self.query, &[&Some(last), &limit]).await,
        }
        .map_err(|error| storage("reading records", error))?;
        if rows.is_empty() {
            self.cursor = Cursor::End;
            return Ok(None);
        }
        let ids: Vec<String> = if self.integer {
            let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
            self.cursor = ids
                .last()
                .map_or(Cursor::End, |last| Cursor::Integer(*last));
            ids.iter().map(i64::to_string).collect()
        } else {
            let ids: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
            self.cursor = ids
                .last()
                .map_or(Cursor::End, |last| Cursor::Text(last.clone()));
            ids
        };
        Ok(Some(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn only_plain_names_are_identifiers() {
        assert!(is_identifier("orders", false));
        assert!(is_identifier("shop.orders", true));
        assert!(!is_identifier("shop.orders", false));
        assert!(!is_identifier("orders; DROP TABLE x", true));
        assert!(!is_identifier("1orders", false));
        assert!(!is_identifier("", false));
        assert!(!is_identifier("a.b.c", true));
    }
}
