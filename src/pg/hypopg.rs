//! Proving index suggestions with HypoPG: create each index hypothetically, plan
//! the statement again, and see whether the planner uses it and what it saves.
//!
//! Everything happens in one transaction that is rolled back. When the
//! extension is available on the server but not created in this database, it is
//! created inside that transaction, so it is gone afterwards too. Hypothetical
//! indexes live in the session: they are reset before and after every try.

use super::connect::server_message;
use super::explain::{explain_in_transaction, Planning};
use crate::advise::index::IndexCandidate;
use crate::error::database_error;
use crate::pg::session::Session;
use crate::plan::Plan;
use anyhow::{bail, Result};
use serde::Serialize;

/// Whether suggestions could be verified, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "kebab-case")]
pub enum HypoStatus {
    /// The extension is installed in the database.
    Installed,
    /// Created for the duration of a rolled-back transaction.
    Temporary,
    /// Not usable; says why.
    Unavailable(String),
}

/// The planner's verdict on one hypothetical index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub cost_before: f64,
    pub cost_after: f64,
    /// The new plan uses the index.
    pub used: bool,
    /// HypoPG's size estimate.
    pub size_bytes: u64,
}

/// Creates a hypothetical index in the open transaction: its oid and name, or, when
/// PostgreSQL would refuse to build it (a non-IMMUTABLE function in an expression,
/// say), why. A savepoint keeps that refusal from ending the transaction.
pub async fn create(client: &Session, candidate: &IndexCandidate) -> Result<std::result::Result<(i64, String), String>> {
    let create = format!("CREATE INDEX {}", candidate.definition());
    let savepoint = |sql: &'static str| async move {
        client.simple_query(sql).await.map_err(|e| database_error(format!("HypoPG: {}", server_message(&e))))
    };
    savepoint("SAVEPOINT pgadvise_hypopg_create").await?;
    match client.query_one("SELECT indexrelid::int8, indexname::text FROM hypopg_create_index($1)", &[&create]).await {
        Ok(row) => {
            savepoint("RELEASE SAVEPOINT pgadvise_hypopg_create").await?;
            Ok(Ok((row.get(0), row.get(1))))
        }
        Err(e) if e.as_db_error().is_some() => {
            savepoint("ROLLBACK TO SAVEPOINT pgadvise_hypopg_create").await?;
            Ok(Err(server_message(&e)))
        }
        Err(e) => Err(database_error(format!("HypoPG: cannot create {create}: {}", server_message(&e)))),
    }
}

/// Verifies each candidate for the statement `sql`. Returns the status and, when
/// HypoPG was usable, one verdict per candidate (in order): what the planner did
/// with it, or why PostgreSQL cannot build it.
pub async fn verify(
    client: &Session,
    sql: &str,
    planning: &Planning,
    candidates: &[IndexCandidate],
) -> Result<(HypoStatus, Vec<std::result::Result<Verification, String>>)> {
    let failed = |what: &str, e: crate::pg::session::PgError| database_error(format!("HypoPG: cannot {what}: {}", server_message(&e)));
    client.simple_query("BEGIN").await.map_err(|e| failed("begin a transaction", e))?;
    let result = async {
        let status = load(client).await?;
        // Nothing to verify: the status alone is what the caller reports.
        if matches!(status, HypoStatus::Unavailable(_)) || candidates.is_empty() {
            return Ok((status, Vec::new()));
        }
        let planning = Planning { analyze: false, ..planning.clone() };
        client.simple_query("SELECT hypopg_reset()").await.map_err(|e| failed("reset", e))?;
        let before = explain_in_transaction(client, sql, &planning).await?.root.total_cost.unwrap_or(0.0);
        let mut verdicts = Vec::new();
        for candidate in candidates {
            client.simple_query("SELECT hypopg_reset()").await.map_err(|e| failed("reset", e))?;
            let (oid, name) = match create(client, candidate).await? {
                Ok(created) => created,
                Err(why) => {
                    verdicts.push(Err(why));
                    continue;
                }
            };
            let size: i64 = client
                .query_one("SELECT hypopg_relation_size($1::int8::oid)::int8", &[&oid])
                .await
                .map_err(|e| failed("estimate the index size", e))?
                .get(0);
            let after = explain_in_transaction(client, sql, &planning).await?;
            let used = after.nodes().iter().any(|n| n.index_name.as_deref() == Some(name.as_str()));
            verdicts.push(Ok(Verification {
                cost_before: before,
                cost_after: after.root.total_cost.unwrap_or(0.0),
                used,
                size_bytes: size.max(0) as u64,
            }));
        }
        client.simple_query("SELECT hypopg_reset()").await.map_err(|e| failed("reset", e))?;
        Ok::<_, anyhow::Error>((status, verdicts))
    }
    .await;
    // The transaction is always undone: a temporary extension and every hypothetical index with it.
    let rollback = client.simple_query("ROLLBACK").await;
    let result = result?;
    rollback.map_err(|e| failed("roll back", e))?;
    Ok(result)
}

/// `explain --with-index`: the statement planned as it is, then with the user's
/// `CREATE INDEX` built as a hypothetical index, in one transaction that is rolled
/// back (and the hypothetical index reset, since HypoPG keeps it in the session).
pub async fn plans_around(client: &Session, sql: &str, planning: &Planning, create_index: &str) -> Result<(Plan, Plan)> {
    let failed = |what: &str, e: crate::pg::session::PgError| database_error(format!("HypoPG: cannot {what}: {}", server_message(&e)));
    client.simple_query("BEGIN").await.map_err(|e| failed("begin a transaction", e))?;
    let result = async {
        if let HypoStatus::Unavailable(why) = load(client).await? {
            return Err(database_error(format!("--with-index needs HypoPG: {why}")));
        }
        let planning = Planning { analyze: false, ..planning.clone() };
        client.simple_query("SELECT hypopg_reset()").await.map_err(|e| failed("reset", e))?;
        let before = explain_in_transaction(client, sql, &planning).await?;
        client.simple_query("SAVEPOINT pgadvise_with_index").await.map_err(|e| failed("set a savepoint", e))?;
        if let Err(e) = client.query_one("SELECT indexrelid::int8 FROM hypopg_create_index($1)", &[&create_index]).await {
            let message = server_message(&e);
            client.simple_query("ROLLBACK TO SAVEPOINT pgadvise_with_index").await.map_err(|e| failed("roll back", e))?;
            bail!("--with-index: PostgreSQL cannot build {create_index:?}: {message}");
        }
        let after = explain_in_transaction(client, sql, &planning).await?;
        client.simple_query("SELECT hypopg_reset()").await.map_err(|e| failed("reset", e))?;
        Ok((before, after))
    }
    .await;
    // Hypothetical indexes live in the session, not the transaction: reset them whatever happened.
    let _ = client.simple_query("SELECT hypopg_reset()").await;
    let rollback = client.simple_query("ROLLBACK").await;
    let result = result?;
    rollback.map_err(|e| failed("roll back", e))?;
    Ok(result)
}

/// Makes HypoPG usable in the caller's open transaction, or says why it cannot be.
pub async fn load(client: &Session) -> Result<HypoStatus> {
    let installed = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])
        .await
        .map_err(|e| database_error(format!("cannot read pg_extension: {}", server_message(&e))))?;
    if installed.is_some() {
        return Ok(HypoStatus::Installed);
    }
    let available = client
        .query_opt("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'", &[])
        .await
        .map_err(|e| database_error(format!("cannot read pg_available_extensions: {}", server_message(&e))))?;
    if available.is_none() {
        return Ok(HypoStatus::Unavailable(
            "HypoPG is not installed on the server (e.g. apt install postgresql-15-hypopg), so suggestions are unverified".into(),
        ));
    }
    client.simple_query("SAVEPOINT pgadvise_hypopg").await.map_err(|e| database_error(server_message(&e)))?;
    match client.simple_query("CREATE EXTENSION hypopg").await {
        Ok(_) => Ok(HypoStatus::Temporary),
        Err(e) => {
            client.simple_query("ROLLBACK TO SAVEPOINT pgadvise_hypopg").await.map_err(|e| database_error(server_message(&e)))?;
            Ok(HypoStatus::Unavailable(format!(
                "HypoPG is available but not created in this database, and this role cannot create it ({}): CREATE EXTENSION hypopg to verify suggestions",
                server_message(&e)
            )))
        }
    }
}
