//! A session with a client-side deadline on every round trip.
//!
//! The server bounds each statement (`statement_timeout`), and TCP keepalives and
//! `tcp_user_timeout` bound a dead peer, but neither helps when the server stops
//! answering while the socket stays healthy: a stuck backend, a pooler that queues
//! forever, a proxy that holds the connection. So every call here also gives up on
//! the client's side, a margin after the statement's own timeout, asks the server
//! to cancel what it was running, and reports the server as not answering (exit 3).
//!
//! Only `pg/` talks to a server, and only through this type.

use std::time::Duration;
use tokio_postgres::error::{DbError, SqlState};
use tokio_postgres::types::ToSql;
use tokio_postgres::{CancelToken, Client, Row, SimpleQueryMessage};

/// How long past a statement's own timeout the client still waits for its answer:
/// the server needs a moment to notice its timeout and send the error back.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(15);

/// A statement that failed, or a server that did not answer in time.
#[derive(Debug)]
pub enum PgError {
    Server(tokio_postgres::Error),
    /// No answer within the deadline; the session is cancelled and no longer usable.
    NoAnswer(Duration),
}

impl PgError {
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            PgError::Server(e) => e.code(),
            PgError::NoAnswer(_) => None,
        }
    }

    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            PgError::Server(e) => e.as_db_error(),
            PgError::NoAnswer(_) => None,
        }
    }
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgError::Server(e) => write!(f, "{e}"),
            PgError::NoAnswer(deadline) => write!(
                f,
                "the server did not answer within {} s (the statement's timeout and a margin), so pgadvise cancelled it and gave up",
                deadline.as_secs()
            ),
        }
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PgError::Server(e) => std::error::Error::source(e),
            PgError::NoAnswer(_) => None,
        }
    }
}

impl From<tokio_postgres::Error> for PgError {
    fn from(error: tokio_postgres::Error) -> PgError {
        PgError::Server(error)
    }
}

pub type PgResult<T> = std::result::Result<T, PgError>;

/// The comment every statement pgadvise sends starts with: pg_stat_statements
/// keeps it, so pgadvise's own catalog and planner queries are told apart from
/// the application's in the next run (and a DBA sees whose they are).
pub const TAG: &str = "/* pgadvise */ ";

fn tagged(sql: &str) -> String {
    format!("{TAG}{sql}")
}

pub struct Session {
    client: Client,
    cancel: CancelToken,
    /// The session's TLS, which a cancel request must use too; `None` in plain text.
    cancel_tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// The session's `statement_timeout`: what a call waits for, plus [`DEADLINE_MARGIN`].
    statement_timeout: Duration,
}

impl Session {
    pub fn new(client: Client, statement_timeout: Duration, cancel_tls: Option<tokio_postgres_rustls::MakeRustlsConnect>) -> Session {
        let cancel = client.cancel_token();
        Session { client, cancel, cancel_tls, statement_timeout }
    }

    /// The same session, waiting for answers as if its `statement_timeout` were
    /// `statement_timeout`: for a caller that set a different one on the server.
    pub fn with_statement_timeout(self, statement_timeout: Duration) -> Session {
        Session { statement_timeout, ..self }
    }

    /// One statement with parameters (extended protocol: the server runs exactly one).
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> PgResult<Vec<Row>> {
        self.within(self.statement_timeout, self.client.query(&tagged(sql), params)).await
    }

    /// As [`Session::query`], for a statement run under its own `statement_timeout`
    /// (EXPLAIN ANALYZE with `--timeout`), which may be longer than the session's.
    pub async fn query_under(&self, statement_timeout: Duration, sql: &str) -> PgResult<Vec<Row>> {
        self.within(statement_timeout.max(self.statement_timeout), self.client.query(&tagged(sql), &[])).await
    }

    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> PgResult<Row> {
        self.within(self.statement_timeout, self.client.query_one(&tagged(sql), params)).await
    }

    pub async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> PgResult<Option<Row>> {
        self.within(self.statement_timeout, self.client.query_opt(&tagged(sql), params)).await
    }

    /// pgadvise's own statements without parameters: BEGIN, SET LOCAL, ALTER SYSTEM.
    pub async fn simple_query(&self, sql: &str) -> PgResult<Vec<SimpleQueryMessage>> {
        self.within(self.statement_timeout, self.client.simple_query(&tagged(sql))).await
    }

    pub async fn batch_execute(&self, sql: &str) -> PgResult<()> {
        self.within(self.statement_timeout, self.client.batch_execute(&tagged(sql))).await
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    async fn within<T>(
        &self,
        statement_timeout: Duration,
        call: impl std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> PgResult<T> {
        let deadline = statement_timeout + DEADLINE_MARGIN;
        match tokio::time::timeout(deadline, call).await {
            Ok(result) => result.map_err(PgError::Server),
            Err(_) => {
                // Best effort, and bounded too: the server may be as deaf to a cancel.
                let wait = Duration::from_secs(5);
                let _ = match &self.cancel_tls {
                    Some(tls) => tokio::time::timeout(wait, self.cancel.cancel_query(tls.clone())).await,
                    None => tokio::time::timeout(wait, self.cancel.cancel_query(tokio_postgres::NoTls)).await,
                };
                Err(PgError::NoAnswer(deadline))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_answer_says_what_happened_and_how_long_was_waited() {
        let text = PgError::NoAnswer(Duration::from_secs(75)).to_string();
        assert!(text.contains("did not answer within 75 s"), "{text}");
        assert!(PgError::NoAnswer(Duration::from_secs(1)).code().is_none());
    }
}
