//! Reading pg_stat_statements from a live server, for the current database.

use super::connect::server_message;
use crate::advise::writes::StatsPeriods;
use crate::error::database_error;
use crate::pg::session::{Session, TAG};
use crate::sql::lexical::is_plannable;
use crate::workload::WorkloadStatement;
use anyhow::Result;

/// The statements pg_stat_statements recorded for the current database: queries
/// and DML, which an index can speed up; not utility statements (DDL, `SET`,
/// `ALTER SYSTEM`, `VACUUM`), and not pgadvise's own (they start with its
/// [`TAG`]). Column names changed in 13 (`total_time` became `total_exec_time`).
pub async fn read(client: &Session, server_major: u32) -> Result<Vec<WorkloadStatement>> {
    let installed = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'", &[])
        .await
        .map_err(|e| database_error(format!("cannot read pg_extension: {}", server_message(&e))))?;
    if installed.is_none() {
        return Err(database_error(
            "pg_stat_statements is not installed in this database: add it to shared_preload_libraries (restart), then CREATE EXTENSION pg_stat_statements; or pass --stats FILE or --queries",
        ));
    }
    let total = if server_major >= 13 { "total_exec_time" } else { "total_time" };
    let sql = format!(
        "SELECT query, calls::float8, {total}::float8, rows::float8, shared_blks_hit::float8, shared_blks_read::float8
         FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query IS NOT NULL
           AND left(query, {}) <> $1
         ORDER BY {total} DESC, query",
        TAG.len()
    );
    let rows = client.query(&sql, &[&TAG]).await.map_err(|e| {
        let hint = if e.as_db_error().is_some_and(|d| d.message().contains("must be loaded via")) {
            ": add pg_stat_statements to shared_preload_libraries and restart"
        } else {
            ""
        };
        database_error(format!("cannot read pg_stat_statements: {}{hint}", server_message(&e)))
    })?;
    // Without pg_read_all_stats, other roles' statements read "<insufficient privilege>".
    // When those carry most of the time, advice on the rest would mislead.
    let is_hidden = |r: &tokio_postgres::Row| r.get::<_, String>(0) == "<insufficient privilege>";
    let hidden_ms: f64 = rows.iter().filter(|r| is_hidden(r)).map(|r| r.get::<_, f64>(2)).sum();
    let visible_ms: f64 = rows.iter().filter(|r| !is_hidden(r)).map(|r| r.get::<_, f64>(2)).sum();
    if hidden_ms > visible_ms {
        let hidden = rows.iter().filter(|r| is_hidden(r)).count();
        return Err(database_error(format!(
            "this role cannot see the text of {hidden} statements holding most of pg_stat_statements' time: GRANT pg_read_all_stats TO it, or pass --stats with an export"
        )));
    }
    Ok(rows
        .into_iter()
        .filter(|r| !is_hidden(r) && is_plannable(r.get::<_, &str>(0)))
        .map(|r| WorkloadStatement {
            query: r.get(0),
            calls: r.get(1),
            total_ms: r.get(2),
            rows: r.get(3),
            shared_hit: r.get(4),
            shared_read: r.get(5),
            source: "pg_stat_statements".into(),
        })
        .collect())
}

/// How long pg_stat_statements and the database's table statistics have each been
/// counting, so that write counts can be brought to the statements' period.
pub async fn periods(client: &Session) -> Result<StatsPeriods> {
    let failed =
        |e: crate::pg::session::PgError| database_error(format!("cannot read the statistics' reset times: {}", server_message(&e)));
    let row = client
        .query_one(
            "SELECT extract(epoch FROM now() - (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()))::float8,
                    to_regclass('pg_stat_statements_info') IS NOT NULL",
            &[],
        )
        .await
        .map_err(failed)?;
    // pg_stat_statements_info (and its reset time) came with PostgreSQL 14 and the
    // extension's version 1.9: an older server, or an extension never updated, has none.
    let statements_s = if row.get::<_, bool>(1) {
        client
            .query_one("SELECT extract(epoch FROM now() - stats_reset)::float8 FROM pg_stat_statements_info", &[])
            .await
            .map_err(failed)?
            .get::<_, Option<f64>>(0)
    } else {
        None
    };
    Ok(StatsPeriods { statements_s, tables_s: row.get(0) })
}
