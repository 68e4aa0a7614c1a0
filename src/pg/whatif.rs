//! The planner as an oracle for workload advice: costs of statements with
//! hypothetical indexes (HypoPG), all inside one transaction that the caller
//! rolls back. Each EXPLAIN runs under a savepoint, so a statement that cannot
//! be planned (pg_stat_statements text with an untyped `$1`) costs `None`
//! instead of ending the transaction.

use super::connect::server_message;
use super::explain::{discard_prepared, explain_in_transaction, Planning};
use super::hypopg::{self, HypoStatus};
use crate::advise::index::IndexCandidate;
use crate::advise::select::WhatIf;
use crate::error::database_error;
use anyhow::Result;
use std::time::Duration;
use tokio_postgres::Client;

pub struct ServerWhatIf<'a> {
    client: &'a Client,
    /// Statement texts and their placeholder counts, by position in the analysis.
    statements: Vec<(String, usize)>,
    server_major: u32,
    timeout: Duration,
    /// The indexes currently created in HypoPG, by name, to avoid recreating them.
    created: Vec<String>,
}

impl<'a> ServerWhatIf<'a> {
    /// Opens the transaction and loads HypoPG; `Err`-free `Unavailable` says why it cannot.
    pub async fn open(
        client: &'a Client,
        statements: Vec<(String, usize)>,
        server_major: u32,
        timeout: Duration,
    ) -> Result<(Option<ServerWhatIf<'a>>, HypoStatus)> {
        client.simple_query("BEGIN").await.map_err(|e| database_error(format!("cannot begin a transaction: {}", server_message(&e))))?;
        let status = hypopg::load(client).await?;
        if let HypoStatus::Unavailable(_) = status {
            client.simple_query("ROLLBACK").await.map_err(|e| database_error(server_message(&e)))?;
            return Ok((None, status));
        }
        client.simple_query("SELECT hypopg_reset()").await.map_err(|e| database_error(format!("HypoPG: {}", server_message(&e))))?;
        Ok((Some(ServerWhatIf { client, statements, server_major, timeout, created: Vec::new() }), status))
    }

    /// Resets HypoPG and rolls everything back: nothing is left behind.
    pub async fn close(self) -> Result<()> {
        let _ = self.client.simple_query("SELECT hypopg_reset()").await;
        self.client.simple_query("ROLLBACK").await.map_err(|e| database_error(format!("cannot roll back: {}", server_message(&e))))?;
        Ok(())
    }

    async fn set_indexes(&mut self, indexes: &[&IndexCandidate]) -> Result<()> {
        let wanted: Vec<String> = indexes.iter().map(|i| i.name()).collect();
        if wanted == self.created {
            return Ok(());
        }
        self.client.simple_query("SELECT hypopg_reset()").await.map_err(|e| database_error(format!("HypoPG: {}", server_message(&e))))?;
        for index in indexes {
            // Candidates that cannot be built were left out by size(); a refusal here is a bug.
            if let Err(why) = hypopg::create(self.client, index).await? {
                return Err(database_error(format!("HypoPG cannot create {}: {why}", index.definition())));
            }
        }
        self.created = wanted;
        Ok(())
    }
}

impl WhatIf for ServerWhatIf<'_> {
    async fn costs(&mut self, indexes: &[&IndexCandidate], statements: &[usize]) -> Result<Vec<Option<f64>>> {
        self.set_indexes(indexes).await?;
        let mut costs = Vec::new();
        for &position in statements {
            let (sql, placeholders) = &self.statements[position];
            let planning = Planning {
                analyze: false,
                params: Vec::new(),
                placeholders: *placeholders,
                timeout: self.timeout,
                server_major: self.server_major,
                modifies_data: false,
            };
            self.client.simple_query("SAVEPOINT pgadvise_whatif").await.map_err(|e| database_error(server_message(&e)))?;
            match explain_in_transaction(self.client, sql, &planning).await {
                Ok(plan) => {
                    self.client.simple_query("RELEASE SAVEPOINT pgadvise_whatif").await.map_err(|e| database_error(server_message(&e)))?;
                    costs.push(plan.root.total_cost);
                }
                Err(_) => {
                    self.client
                        .simple_query("ROLLBACK TO SAVEPOINT pgadvise_whatif")
                        .await
                        .map_err(|e| database_error(server_message(&e)))?;
                    discard_prepared(self.client).await?;
                    costs.push(None);
                }
            }
        }
        Ok(costs)
    }

    async fn size(&mut self, index: &IndexCandidate) -> Result<std::result::Result<u64, String>> {
        // The extra index joins the set now; make the next costs() rebuild it.
        self.created.clear();
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
}
