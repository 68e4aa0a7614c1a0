//! Running EXPLAIN on the server, safely.
//!
//! EXPLAIN ANALYZE executes the statement, so every run happens inside a
//! transaction that is always rolled back, under a statement_timeout: an UPDATE
//! or DELETE changes nothing (sequences still advance; that PostgreSQL cannot undo).
//! Statements with `$n` placeholders are run with `--param` values, or planned as
//! a generic plan without running.
//!
//! The user's text always goes out with the extended query protocol, where the
//! server takes exactly one statement: text that hides a second statement (a
//! `COMMIT; DELETE ...` after a quote the splitter read differently) is refused,
//! never run. A statement that only reads, and every plan-only EXPLAIN, runs in a
//! `READ ONLY` transaction, so a function it calls cannot write either.

use super::connect::{is_database_fault, server_message};
use crate::error::database_error;
use crate::pg::session::Session;
use crate::plan::parse::read_plan;
use crate::plan::Plan;
use crate::sql::quote_literal;
use anyhow::{anyhow, bail, Result};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

/// How a statement is to be planned.
#[derive(Debug, Clone)]
pub struct Planning {
    /// Execute it (EXPLAIN ANALYZE) rather than only plan it.
    pub analyze: bool,
    /// Values for `$1`, `$2`...: literals, cast by PostgreSQL to the parameters' types.
    pub params: Vec<String>,
    /// How many `$n` placeholders the statement has.
    pub placeholders: usize,
    pub timeout: Duration,
    /// server_version_num / 10000.
    pub server_major: u32,
    /// The statement writes (DML, or a data-modifying WITH): EXPLAIN ANALYZE of it
    /// needs a read-write transaction (still rolled back).
    pub modifies_data: bool,
}

/// What kind of plan came back, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanKind {
    /// Executed: actual times and rows.
    Analyzed,
    /// Planned only (--no-analyze).
    Estimated,
    /// Planned for unknown `$n` values (no --param): a generic plan, not executed.
    Generic,
}

impl Planning {
    pub fn kind(&self) -> PlanKind {
        if self.placeholders > 0 && self.params.is_empty() {
            PlanKind::Generic
        } else if self.analyze {
            PlanKind::Analyzed
        } else {
            PlanKind::Estimated
        }
    }
}

const PREPARED_NAME: &str = "pgadvise_explain";

/// Plans (or runs) `sql` inside a transaction that is rolled back, and returns the plan.
pub async fn explain(client: &Session, sql: &str, planning: &Planning) -> Result<Plan> {
    if !planning.params.is_empty() && planning.params.len() != planning.placeholders {
        bail!("the statement has {} parameter(s) ($1...) but {} --param value(s) were given", planning.placeholders, planning.params.len());
    }
    let begin = if planning.analyze && planning.modifies_data { "BEGIN" } else { "BEGIN READ ONLY" };
    run(client, begin).await?;
    let result = explain_in_transaction(client, sql, planning).await;
    // Always undo, whatever happened; a failed ROLLBACK means the connection is gone.
    let rollback = run(client, "ROLLBACK").await;
    if result.is_err() && uses_prepare(planning) {
        // The statement's own error is what to report, not a failed clean-up.
        let _ = discard_prepared(client).await;
    }
    let plan = result?;
    rollback?;
    Ok(plan)
}

/// Plans `sql` in the caller's open transaction (used by HypoPG verification).
pub async fn explain_in_transaction(client: &Session, sql: &str, planning: &Planning) -> Result<Plan> {
    run(client, &format!("SET LOCAL statement_timeout = {}", planning.timeout.as_millis())).await?;
    let options = options(planning);
    let text = if uses_prepare(planning) {
        run_statement(client, &format!("PREPARE {PREPARED_NAME} AS {sql}"), planning).await?;
        let args: Vec<String> = if planning.params.is_empty() {
            run(client, "SET LOCAL plan_cache_mode = force_generic_plan").await?;
            vec!["NULL".to_string(); planning.placeholders]
        } else {
            planning.params.iter().map(|p| quote_literal(p)).collect()
        };
        let explained = run_statement(client, &format!("EXPLAIN ({options}) EXECUTE {PREPARED_NAME}({})", args.join(", ")), planning).await;
        run(client, &format!("DEALLOCATE {PREPARED_NAME}")).await.ok();
        explained?
    } else {
        run_statement(client, &format!("EXPLAIN ({options}) {sql}"), planning).await?
    };
    let mut plan = read_plan(&text).map_err(|e| anyhow!("the server's EXPLAIN output is not a plan: {e}"))?;
    plan.query_text.get_or_insert_with(|| sql.to_string());
    Ok(plan)
}

/// PREPARE is not undone by ROLLBACK (or ROLLBACK TO SAVEPOINT), so a failed
/// EXPLAIN may leave our prepared statement behind: deallocate it if it is there.
/// DEALLOCATE of a missing statement would end an open transaction, so look first.
pub async fn discard_prepared(client: &Session) -> Result<()> {
    let prepared = client
        .query_opt("SELECT 1 FROM pg_prepared_statements WHERE name = $1", &[&PREPARED_NAME])
        .await
        .map_err(|e| database_error(server_message(&e)))?;
    if prepared.is_some() {
        run(client, &format!("DEALLOCATE {PREPARED_NAME}")).await?;
    }
    Ok(())
}

fn uses_prepare(planning: &Planning) -> bool {
    planning.placeholders > 0 && !(planning.params.is_empty() && planning.server_major >= 16)
}

fn options(planning: &Planning) -> String {
    let mut options = Vec::new();
    match planning.kind() {
        PlanKind::Analyzed => options.extend(["ANALYZE", "BUFFERS"]),
        PlanKind::Generic if planning.server_major >= 16 => options.push("GENERIC_PLAN"),
        _ => {}
    }
    options.push("VERBOSE");
    if planning.server_major >= 12 {
        options.push("SETTINGS");
    }
    // 17+: the time to turn the rows into what the client receives (detoasting
    // included), which ANALYZE alone leaves out, and the planner's memory.
    if planning.server_major >= 17 && planning.kind() == PlanKind::Analyzed {
        options.extend(["SERIALIZE", "MEMORY"]);
    }
    options.push("FORMAT JSON");
    options.join(", ")
}

async fn run(client: &Session, sql: &str) -> Result<()> {
    client.simple_query(sql).await.map_err(|e| database_error(format!("the server failed on {sql}: {}", server_message(&e))))?;
    Ok(())
}

/// Runs the user's statement (or EXPLAIN of it) as exactly one statement (extended
/// protocol) and returns the first column of the first row. The statement's own
/// errors are bad input (2), except privileges and a lost connection, which are
/// the database's (3).
async fn run_statement(client: &Session, sql: &str, planning: &Planning) -> Result<String> {
    let rows = client.query_under(planning.timeout, sql).await.map_err(|e| statement_error(&e, planning))?;
    Ok(rows.first().and_then(|row| row.try_get::<_, Text>(0).ok()).map(|t| t.0).unwrap_or_default())
}

/// A text-like column as sent: EXPLAIN's JSON output is of type `json`, whose
/// binary form is its text, which tokio-postgres's `String` does not accept.
struct Text(String);

impl<'a> tokio_postgres::types::FromSql<'a> for Text {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Text(std::str::from_utf8(raw)?.to_string()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::TEXT | Type::VARCHAR)
    }
}

fn statement_error(error: &crate::pg::session::PgError, planning: &Planning) -> anyhow::Error {
    let message = server_message(error);
    match error.code() {
        None => database_error(format!("lost the server while running the statement: {message}")),
        Some(code) if *code == SqlState::QUERY_CANCELED && !is_database_fault(error) => anyhow!(
            "the statement was cancelled after {} s (statement_timeout): raise --timeout, or use --no-analyze to plan it without running it",
            planning.timeout.as_secs_f64()
        ),
        Some(_) if is_database_fault(error) => database_error(format!("the server refused the statement: {message}")),
        Some(_) => anyhow!("the server rejected the statement: {message}"),
    }
}
