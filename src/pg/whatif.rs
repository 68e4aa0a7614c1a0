//! The planner as an oracle for workload advice: costs of statements with
//! hypothetical indexes (HypoPG).
//!
//! Built to run against a busy primary: every statement is planned in its own
//! short transaction, rolled back at once, so the AccessShareLock planning takes
//! on a table lasts one EXPLAIN, never the whole selection (an `ALTER TABLE`
//! queued behind a long advise run would block every query behind it). Where
//! HypoPG is installed, hypothetical indexes live in the session and are built
//! once per set; where it is only available, each transaction creates the
//! extension, builds the set and rolls both back, so nothing is ever left behind
//! and two concurrent runs wait on each other for one EXPLAIN at most.
//! A statement that cannot be planned comes back with the server's reason.

use super::connect::server_message;
use super::explain::{discard_prepared, explain_in_transaction, Planning};
use super::hypopg::{self, HypoStatus};
use crate::advise::index::IndexCandidate;
use crate::advise::select::{Planned, WhatIf};
use crate::error::{database_error, one_line};
use crate::pg::session::Session;
use crate::plan::Plan;
use anyhow::Result;
use std::time::Duration;

pub struct ServerWhatIf<'a> {
    client: &'a Session,
    /// Statement texts, their placeholder counts and the values assumed for them
    /// (empty: a generic plan), by position in the analysis.
    statements: Vec<(String, usize, Vec<String>)>,
    server_major: u32,
    timeout: Duration,
    /// HypoPG is not installed: each transaction creates it, and the indexes, anew.
    temporary: bool,
    /// Installed HypoPG: the indexes the session holds now, by name.
    created: Vec<String>,
}

impl<'a> ServerWhatIf<'a> {
    /// Checks that HypoPG can be used (in a transaction rolled back at once); `None`
    /// with the status when it cannot.
    pub async fn open(
        client: &'a Session,
        statements: Vec<(String, usize, Vec<String>)>,
        server_major: u32,
        timeout: Duration,
    ) -> Result<(Option<ServerWhatIf<'a>>, HypoStatus)> {
        run(client, "BEGIN").await?;
        let status = hypopg::load(client).await;
        run(client, "ROLLBACK").await?;
        let status = status?;
        if let HypoStatus::Unavailable(_) = status {
            return Ok((None, status));
        }
        let oracle =
            ServerWhatIf { client, statements, server_major, timeout, temporary: status == HypoStatus::Temporary, created: Vec::new() };
        if !oracle.temporary {
            run(client, "SELECT hypopg_reset()").await?;
        }
        Ok((Some(oracle), status))
    }

    /// Removes the session's hypothetical indexes: nothing is left behind.
    pub async fn close(self) -> Result<()> {
        if !self.temporary {
            run(self.client, "SELECT hypopg_reset()").await?;
        }
        Ok(())
    }

    /// Opens a short transaction in which exactly `indexes` exist hypothetically.
    async fn begin_with(&mut self, indexes: &[&IndexCandidate]) -> Result<()> {
        if self.temporary {
            run(self.client, "BEGIN").await?;
            let ready = async {
                run(self.client, "CREATE EXTENSION hypopg").await?;
                run(self.client, "SELECT hypopg_reset()").await?;
                create_all(self.client, indexes).await
            }
            .await;
            if ready.is_err() {
                let _ = self.end().await;
            }
            return ready;
        }
        let wanted: Vec<String> = indexes.iter().map(|i| i.name()).collect();
        if wanted != self.created {
            // hypopg::create guards each index with a savepoint, which needs a transaction;
            // the indexes outlive it (they are the session's, not the transaction's).
            run(self.client, "BEGIN").await?;
            run(self.client, "SELECT hypopg_reset()").await?;
            let created = create_all(self.client, indexes).await;
            run(self.client, "ROLLBACK").await?;
            created?;
            self.created = wanted;
        }
        run(self.client, "BEGIN READ ONLY").await
    }

    async fn end(&self) -> Result<()> {
        run(self.client, "ROLLBACK").await
    }

    /// Plans `sql` in one short transaction with exactly `indexes`: the plan, or the
    /// server's reason it could not be planned; `Err` only when the server is gone.
    async fn plan(&mut self, indexes: &[&IndexCandidate], sql: &str, planning: &Planning) -> Result<std::result::Result<Plan, String>> {
        self.begin_with(indexes).await?;
        let planned = explain_in_transaction(self.client, sql, planning).await;
        self.end().await?;
        match planned {
            Ok(plan) => Ok(Ok(plan)),
            Err(error) if self.client.is_closed() => Err(error),
            Err(error) => {
                discard_prepared(self.client).await?;
                Ok(Err(one_line(&error)))
            }
        }
    }
}

impl WhatIf for ServerWhatIf<'_> {
    async fn costs(&mut self, indexes: &[&IndexCandidate], statements: &[usize]) -> Result<Vec<Planned>> {
        let mut costs = Vec::new();
        for &position in statements {
            let (sql, placeholders, params) = self.statements[position].clone();
            let planning = Planning {
                analyze: false,
                params,
                placeholders,
                timeout: self.timeout,
                server_major: self.server_major,
                modifies_data: false,
            };
            let mut planned = self.plan(indexes, &sql, &planning).await?;
            if planned.is_err() && !planning.params.is_empty() {
                // A value from the statistics the parameter's type refuses: plan it generically.
                planned = self.plan(indexes, &sql, &Planning { params: Vec::new(), ..planning }).await?;
            }
            costs.push(planned.and_then(|plan| plan.root.total_cost.ok_or_else(|| "the plan has no total cost".to_string())));
        }
        Ok(costs)
    }

    async fn size(&mut self, index: &IndexCandidate) -> Result<std::result::Result<u64, String>> {
        // Measured alone; the session's set is rebuilt by the next costs().
        self.created.clear();
        self.begin_with(&[]).await?;
        let size = async {
            let (oid, _) = match hypopg::create(self.client, index).await? {
                Ok(created) => created,
                Err(why) => return Ok(Err(why)),
            };
            let row = self
                .client
                .query_one("SELECT hypopg_relation_size($1::int8::oid)::int8", &[&oid])
                .await
                .map_err(|e| database_error(format!("HypoPG cannot size {}: {}", index.definition(), server_message(&e))))?;
            Ok(Ok(row.get::<_, i64>(0).max(0) as u64))
        }
        .await;
        self.end().await?;
        if !self.temporary {
            run(self.client, "SELECT hypopg_reset()").await?;
        }
        size
    }
}

/// Creates each index hypothetically in the open transaction. A candidate that
/// cannot be built was left out by size(); a refusal here is a bug.
async fn create_all(client: &Session, indexes: &[&IndexCandidate]) -> Result<()> {
    for index in indexes {
        if let Err(why) = hypopg::create(client, index).await? {
            return Err(database_error(format!("HypoPG cannot create {}: {why}", index.definition())));
        }
    }
    Ok(())
}

/// Our own statements (transaction control, HypoPG calls): a failure is the database's.
async fn run(client: &Session, sql: &str) -> Result<()> {
    client.simple_query(sql).await.map_err(|e| database_error(format!("{sql} failed: {}", server_message(&e))))?;
    Ok(())
}
