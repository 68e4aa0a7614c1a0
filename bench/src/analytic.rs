//! Advice quality on a second workload, given as SQL files only (no
//! pg_stat_statements, so no measured times): TPC-H-like reports and lookups
//! (`sql/analytic.sql`, `sql/analytic_queries.sql`) whose planner costs span
//! seven orders of magnitude, two of which run for minutes without an index.
//! Each configuration is planned (the stable figure) and each query run under a
//! statement_timeout: five times, the fastest counting, when it takes under two
//! seconds (the first run after an index is built reads it from disk, and on a
//! shared 2-core machine the same plan's runs spread by a third); once otherwise.

use crate::server::TestServer;
use crate::Settings;
use anyhow::{bail, Context, Result};
use pgadvise::plan::parse::from_value;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

pub const DATABASE: &str = "analytic";
/// Runs of a query whose fastest is its time (the same plan, run in three
/// configurations, had medians of 489 to 657 ms: noise, which only slows a run) ...
const MEASURED_RUNS: usize = 5;
/// ... when each run takes less than this (ms); a slower query runs once.
const REPEAT_BELOW_MS: f64 = 2000.0;

/// Every configuration is planned on the statistics the load took: ANALYZE samples
/// at random, and re-sampling between configurations moved their planner-cost
/// totals by up to 2%, more than some differences between them. Only an
/// expression index needs one (for its expression's statistics).
async fn analyze_if_needed(client: &Client, indexes: &[String]) -> Result<()> {
    if indexes.iter().any(|sql| sql.contains("((")) {
        client.batch_execute("ANALYZE").await?;
    }
    Ok(())
}
/// A query still running after this long is stopped and shown as over it.
pub const TIMEOUT_S: u64 = 20;

/// What an expert would create for `sql/analytic_queries.sql`, written down before
/// pgadvise's advice for it was run.
pub const EXPERT_INDEXES: &[&str] = &[
    // q02, q04 (the correlated max), q12: a customer's orders, newest first or in a year.
    "CREATE INDEX expert_orders_cust_date ON orders (o_custkey, o_orderdate)",
    // q03: a supplier's parts (the primary key leads with the part).
    "CREATE INDEX expert_partsupp_supp ON partsupp (ps_suppkey)",
    // q04: 4% of customers are in a nation.
    "CREATE INDEX expert_customer_nation ON customer (c_nationkey)",
    // q05, q09, q14: a week, a month, a day of orders.
    "CREATE INDEX expert_orders_date ON orders (o_orderdate)",
    // q06: a week of shipments.
    "CREATE INDEX expert_lineitem_shipdate ON lineitem (l_shipdate)",
    // q07: the correlated average over a part's line items, and the join to them.
    "CREATE INDEX expert_lineitem_part ON lineitem (l_partkey)",
    // q07: 1 part in 1,000 has the brand and container.
    "CREATE INDEX expert_part_brand_container ON part (p_brand, p_container)",
    // q08: 2% of orders are pending; a small partial index, already in date order.
    "CREATE INDEX expert_orders_pending ON orders (o_orderdate) WHERE o_orderstatus = 'P'",
];

/// "Index every filtered column": each column a query compares with a value or
/// joins on, but for those a primary key already leads with.
pub const NAIVE_INDEXES: &[&str] = &[
    "CREATE INDEX naive_lineitem_shipdate ON lineitem (l_shipdate)",
    "CREATE INDEX naive_lineitem_discount ON lineitem (l_discount)",
    "CREATE INDEX naive_lineitem_quantity ON lineitem (l_quantity)",
    "CREATE INDEX naive_lineitem_partkey ON lineitem (l_partkey)",
    "CREATE INDEX naive_orders_custkey ON orders (o_custkey)",
    "CREATE INDEX naive_orders_orderdate ON orders (o_orderdate)",
    "CREATE INDEX naive_orders_orderstatus ON orders (o_orderstatus)",
    "CREATE INDEX naive_partsupp_suppkey ON partsupp (ps_suppkey)",
    "CREATE INDEX naive_customer_nationkey ON customer (c_nationkey)",
    "CREATE INDEX naive_customer_mktsegment ON customer (c_mktsegment)",
    "CREATE INDEX naive_part_brand ON part (p_brand)",
    "CREATE INDEX naive_part_container ON part (p_container)",
    "CREATE INDEX naive_part_size ON part (p_size)",
    "CREATE INDEX naive_part_type ON part (p_type)",
    "CREATE INDEX naive_supplier_nationkey ON supplier (s_nationkey)",
];

/// One configuration, planned and run.
pub struct Config {
    pub name: String,
    /// Per query: the planner's total cost.
    pub cost: Vec<f64>,
    /// Per query: its run time, `None` when stopped at [`TIMEOUT_S`].
    pub ms: Vec<Option<f64>>,
    pub indexes: usize,
    pub index_bytes: u64,
}

pub struct Analytic {
    pub load_s: f64,
    pub database_bytes: u64,
    /// Each query's label (`q07 small-quantity-order revenue ...`).
    pub labels: Vec<String>,
    pub configs: Vec<Config>,
    /// pgadvise's indexes, its planner calls and how long it took.
    pub advice: (Vec<String>, u64, f64),
}

impl Config {
    /// The geometric mean of this configuration's per-query cost ratios against `base` (after / before).
    pub fn geometric_mean_ratio(&self, base: &Config) -> f64 {
        let logs: Vec<f64> = self.cost.iter().zip(&base.cost).map(|(after, before)| (after / before).ln()).collect();
        (logs.iter().sum::<f64>() / logs.len() as f64).exp()
    }
}

pub async fn run(server: &TestServer, options: &Settings<'_>, progress: &dyn Fn(&str)) -> Result<Analytic> {
    let url = server.url_to("postgres", DATABASE);
    progress("loading the analytic database");
    let sql_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    let load_s = crate::quality::load(server, DATABASE, &sql_dir.join("analytic.sql"), &[], None)?;
    let queries_file = sql_dir.join("analytic_queries.sql");
    let queries = queries(&std::fs::read_to_string(&queries_file)?);
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.context("cannot connect to the benchmark server")?;
    tokio::spawn(connection);
    client.batch_execute("CREATE EXTENSION IF NOT EXISTS hypopg").await?;
    let database_bytes = client.query_one("SELECT pg_database_size(current_database())", &[]).await?.get::<_, i64>(0) as u64;

    progress("planning and running the queries with primary keys only");
    let mut configs = vec![measure(&client, "primary keys only", &queries).await?];

    progress("asking pgadvise (HypoPG what-if over the SQL file)");
    let migrations = options.work_dir.join("migrations-analytic");
    let started = Instant::now();
    let output = Command::new(options.pgadvise)
        .args(["advise", "--db", &url, "--format", "json", "--migration-format", "plain", "--queries"])
        .arg(&queries_file)
        .arg("--emit-migration")
        .arg(&migrations)
        .output()
        .context("cannot run pgadvise")?;
    let advise_s = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!("pgadvise advise failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).context("pgadvise advise --format json")?;
    let chosen: Vec<String> =
        report["indexes"].as_array().into_iter().flatten().filter_map(|i| i["sql"].as_str().map(str::to_string)).collect();
    let advice = (chosen.clone(), report["planner_calls"].as_u64().unwrap_or(0), advise_s);
    if chosen.is_empty() {
        configs.push(measure(&client, "pgadvise", &queries).await?);
    } else {
        let (up, down) = crate::quality::migration_files(&migrations)?;
        progress("applying pgadvise's migration");
        crate::quality::psql_file(server, &url, &up)?;
        analyze_if_needed(&client, &chosen).await?;
        progress("planning and running the queries with pgadvise's advice");
        configs.push(measure(&client, "pgadvise", &queries).await?);
        crate::quality::psql_file(server, &url, &down)?;
    }

    for (name, indexes) in [("expert", EXPERT_INDEXES), ("every filtered column", NAIVE_INDEXES)] {
        progress(&format!("building the {name} indexes"));
        for sql in indexes {
            client.batch_execute(sql).await.with_context(|| sql.to_string())?;
        }
        analyze_if_needed(&client, &indexes.iter().map(|s| s.to_string()).collect::<Vec<_>>()).await?;
        progress(&format!("planning and running the queries with the {name} indexes"));
        configs.push(measure(&client, name, &queries).await?);
        for sql in indexes {
            let index = sql.split_whitespace().nth(2).expect("CREATE INDEX name ON ...");
            client.batch_execute(&format!("DROP INDEX {index}")).await?;
        }
    }
    drop(client);
    server.psql(&format!("DROP DATABASE {DATABASE} WITH (FORCE)"));
    let labels = queries.iter().map(|(label, _)| label.clone()).collect();
    Ok(Analytic { load_s, database_bytes, labels, configs, advice })
}

/// The file's statements with their labels: the `-- qNN ...` comment before each.
fn queries(text: &str) -> Vec<(String, String)> {
    pgadvise::sql::statements::split(text)
        .into_iter()
        .map(|(_, piece)| {
            let label = piece.lines().find_map(|l| l.trim().strip_prefix("-- q").map(|rest| format!("q{rest}"))).unwrap_or_default();
            let sql: Vec<&str> = piece.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
            (label, sql.join("\n").trim().to_string())
        })
        .filter(|(_, sql)| !sql.is_empty())
        .collect()
}

async fn measure(client: &Client, name: &str, queries: &[(String, String)]) -> Result<Config> {
    let mut cost = Vec::new();
    let mut ms = Vec::new();
    for (label, sql) in queries {
        let row = client.query_one(&format!("EXPLAIN (FORMAT JSON) {sql}"), &[]).await.with_context(|| label.clone())?;
        let plan = from_value(&row.get::<_, serde_json::Value>(0))?;
        cost.push(plan.root.total_cost.context("EXPLAIN without a Total Cost")?);
        client.batch_execute(&format!("SET statement_timeout = '{TIMEOUT_S}s'")).await?;
        let mut runs = Vec::new();
        let mut stopped = false;
        // The first run after the indexes were built reads them from disk: a query
        // that is quick enough runs again, and the fastest run counts.
        while runs.len() < MEASURED_RUNS && !stopped && runs.iter().all(|ms| *ms < REPEAT_BELOW_MS) {
            let started = Instant::now();
            match client.simple_query(sql).await {
                Ok(_) => runs.push(started.elapsed().as_secs_f64() * 1000.0),
                Err(e) if e.code() == Some(&SqlState::QUERY_CANCELED) => stopped = true,
                Err(e) => return Err(e).with_context(|| label.clone()),
            }
        }
        client.batch_execute("RESET statement_timeout").await?;
        ms.push(if stopped { None } else { runs.into_iter().reduce(f64::min) });
    }
    let (indexes, index_bytes) = crate::quality::added_indexes(client).await?;
    Ok(Config { name: name.to_string(), cost, ms, indexes, index_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_file_reads_as_labelled_statements() {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/analytic_queries.sql")).unwrap();
        let queries = queries(&text);
        assert_eq!(queries.len(), 14);
        assert!(
            queries[0].0.starts_with("q01 ") && queries[13].0.starts_with("q14 "),
            "{:?}",
            queries.iter().map(|q| &q.0).collect::<Vec<_>>()
        );
        assert!(queries.iter().all(|(_, sql)| sql.starts_with("SELECT")), "{queries:?}");
    }

    #[test]
    fn the_geometric_mean_is_of_per_query_ratios() {
        let config = |cost: Vec<f64>| Config { name: String::new(), cost, ms: Vec::new(), indexes: 0, index_bytes: 0 };
        let ratio = config(vec![10.0, 1000.0]).geometric_mean_ratio(&config(vec![100.0, 1000.0]));
        assert!((ratio - 0.1f64.sqrt()).abs() < 1e-12, "{ratio}");
    }
}
