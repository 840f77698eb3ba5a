//! The order table and the sync queue on SQLite, for running everything on one machine: durable across
//! restarts (one file, WAL), with the DynamoDB/SQS adapters' semantics — conditional writes, newer-wins,
//! expiry by the injected clock, and a queue with visibility timeouts, receive counts and a dead-letter
//! queue after N receives.
//!
//! Each call runs on tokio's blocking pool; every conditional write is one `IMMEDIATE` transaction, so
//! two processes sharing the file cannot interleave a check and its write.
//!
//! `table.rs` holds the orders, `records.rs` the table's other records, `queue.rs` the queues; this file
//! the database they share.

mod queue;
mod records;
mod table;

pub use queue::{DeadLetter, EmbeddedQueue, MAX_MESSAGE_BYTES};
pub use table::EmbeddedStore;

use super::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    pk TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    order_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    source_version TEXT NOT NULL,
    doc TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    genstore_id TEXT,
    customer_key TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_genstore ON orders(genstore_id);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders(status, updated_at, pk);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders(customer_key);
CREATE TABLE IF NOT EXISTS audit (pk TEXT NOT NULL, sk TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (pk, sk));
CREATE TABLE IF NOT EXISTS dedupe (key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    result TEXT,
    in_progress_until_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS budgets (name TEXT PRIMARY KEY, level REAL NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    visible_at_ms INTEGER NOT NULL,
    receipt TEXT,
    sent_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, visible_at_ms, seq);
";

/// One SQLite database holding the table and the queues.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

fn sql(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            StoreError::Unavailable(format!("sqlite busy: {f}"))
        }
        other => StoreError::Refused(format!("sqlite: {other}")),
    }
}

impl Db {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Db, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Refused(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = Connection::open(path).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        Self::init(conn)
    }

    /// A database in memory (gone when the last handle drops).
    pub fn in_memory() -> Result<Db, StoreError> {
        Self::init(Connection::open_in_memory().map_err(sql)?)
    }

    fn init(conn: Connection) -> Result<Db, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        // A database made before claims had owners gets the column (its old claims have none, and
        // lapse as before).
        let has_owner: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('idempotency') WHERE name = 'owner'")
            .and_then(|mut st| st.exists([]))
            .map_err(sql)?;
        if !has_owner {
            conn.execute_batch("ALTER TABLE idempotency ADD COLUMN owner TEXT")
                .map_err(sql)?;
        }
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the blocking pool with the connection.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("storage task failed: {e}")))?
    }

    /// Runs one statement with `values` bound in order; how many rows it changed.
    async fn execute(
        &self,
        statement: &'static str,
        values: Vec<rusqlite::types::Value>,
    ) -> Result<usize, StoreError> {
        self.run(move |c| {
            c.execute(statement, rusqlite::params_from_iter(values))
                .map_err(sql)
        })
        .await
    }
}

/// A time as the tables store it.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}
