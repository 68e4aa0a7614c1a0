//! Advice quality: the application's workload with primary keys only, then with
//! pgadvise's advice applied as its migration, an expert's index set and the
//! naive one, each measured the same way on the same data.

use crate::app::{Template, EXPERT_INDEXES, NAIVE_INDEXES, TEMPLATES};
use crate::server::TestServer;
use crate::stats::median;
use crate::Settings;
use anyhow::{bail, Context, Result};
use pgadvise::plan::parse::from_value;
use pgadvise::plan::PlanNode;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use tokio_postgres::{Client, NoTls};

pub const DATABASE: &str = "app";

/// One index configuration, measured.
pub struct Outcome {
    pub name: String,
    /// Per template (in `TEMPLATES` order): the median over runs of the time its calls took.
    pub template_ms: Vec<f64>,
    /// The median over runs of the whole workload's time.
    pub total_ms: f64,
    /// Per template: the planner's total cost summed over its calls.
    pub template_cost: Vec<f64>,
    /// Per template: the plans of its calls (node types and index names), to tell
    /// a plan the planner switched to from a run that was merely slower.
    pub template_plans: Vec<String>,
    pub indexes: usize,
    pub index_bytes: u64,
    /// Time to build the configuration's indexes (and views).
    pub build_s: f64,
}

impl Outcome {
    pub fn total_cost(&self) -> f64 {
        self.template_cost.iter().sum()
    }
}

/// What pgadvise said, beside what its advice did.
pub struct Advice {
    pub name: String,
    pub indexes: Vec<String>,
    pub materialized_views: usize,
    pub drops: usize,
    pub planner_calls: u64,
    pub advise_s: f64,
}

pub struct Quality {
    pub load_s: f64,
    pub database_bytes: u64,
    pub outcomes: Vec<Outcome>,
    pub advice: Vec<Advice>,
}

/// The variant asked with pg_qualstats in the database.
const QUALSTATS_VARIANT: &str = "pgadvise with pg_qualstats";

pub async fn run(server: &TestServer, options: &Settings<'_>, progress: &dyn Fn(&str)) -> Result<Quality> {
    let url = server.url_to("postgres", DATABASE);
    progress("loading the application database (about a minute)");
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/app.sql");
    // A language collation, as production databases have (en_US.UTF-8 and the
    // like; this machine has only C.utf8, which PostgreSQL 15 treats alike): a
    // plain btree then cannot serve LIKE 'prefix%'.
    let load_s = load(server, DATABASE, &sql, &[("scale", options.scale.to_string())], Some("C.utf8"))?;
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.context("cannot connect to the benchmark server")?;
    tokio::spawn(connection);
    client.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE EXTENSION IF NOT EXISTS hypopg").await?;
    let database_bytes = client.query_one("SELECT pg_database_size(current_database())", &[]).await?.get::<_, i64>(0) as u64;
    let workload = Workload::new(options.scale);

    // pg_qualstats (preloaded by the harness's server) sees the same runs, for the
    // variant that reads the constants the calls used.
    client.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_qualstats").await.context("CREATE EXTENSION pg_qualstats")?;
    progress("running the workload with primary keys only");
    client.execute("SELECT pg_stat_statements_reset()", &[]).await?;
    client.execute("SELECT pg_qualstats_reset()", &[]).await?;
    let mut outcomes = vec![workload.measure(&client, "primary keys only", 0.0, options.runs).await?];

    // pgadvise as a user runs it, and allowed as many indexes as the expert chose.
    let expert_count = EXPERT_INDEXES.len().to_string();
    // The first is asked while pg_qualstats is in the database, the others after it
    // is dropped: pgadvise reads it whenever it is there.
    let variants = [
        (QUALSTATS_VARIANT.to_string(), vec![]),
        ("pgadvise".to_string(), vec![]),
        (format!("pgadvise --max-indexes {expert_count}"), vec!["--max-indexes", &expert_count]),
    ];
    // Every variant is asked before any advice is applied: each sees the same
    // pg_stat_statements, that of the primary-keys-only runs. (Asked after the first
    // variant's runs, the second saw their fast times too, and answered another question.)
    let mut advice = Vec::new();
    let mut migration_dirs = Vec::new();
    for (name, extra) in &variants {
        progress(&format!("asking {name} (HypoPG what-if over pg_stat_statements)"));
        let migrations = options.work_dir.join(format!("migrations-{}", advice.len()));
        let started = Instant::now();
        let output = Command::new(options.pgadvise)
            .args(["advise", "--db", &url, "--format", "json", "--migration-format", "plain"])
            .args(extra)
            .arg("--emit-migration")
            .arg(&migrations)
            .output()
            .context("cannot run pgadvise")?;
        let advise_s = started.elapsed().as_secs_f64();
        if !output.status.success() {
            bail!("pgadvise advise failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).context("pgadvise advise --format json")?;
        let read_qualstats = report["notes"].to_string().contains("planned with the constants");
        if read_qualstats != (name == QUALSTATS_VARIANT) {
            bail!("{name}: pg_qualstats was {}read: {}", if read_qualstats { "" } else { "not " }, report["notes"]);
        }
        if name == QUALSTATS_VARIANT {
            client.batch_execute("DROP EXTENSION pg_qualstats").await?;
        }
        advice.push(Advice {
            name: name.to_string(),
            indexes: report["indexes"].as_array().into_iter().flatten().filter_map(|i| i["sql"].as_str().map(str::to_string)).collect(),
            materialized_views: report["materialized_views"].as_array().map_or(0, Vec::len),
            drops: report["drops"].as_array().map_or(0, Vec::len),
            planner_calls: report["planner_calls"].as_u64().unwrap_or(0),
            advise_s,
        });
        migration_dirs.push(migrations);
    }
    for ((name, _), migrations) in variants.iter().zip(&migration_dirs) {
        progress(&format!("applying {name}'s migration"));
        let (up, down) = migration_files(migrations)?;
        let started = Instant::now();
        psql_file(server, &url, &up)?;
        let build_s = started.elapsed().as_secs_f64();
        progress(&format!("running the workload with {name}'s advice"));
        outcomes.push(workload.measure(&client, name, build_s, options.runs).await?);
        // The down migration puts the database back as it was: it is tested here too.
        psql_file(server, &url, &down)?;
    }

    for (name, indexes) in [("expert", EXPERT_INDEXES), ("every filtered column", NAIVE_INDEXES)] {
        progress(&format!("building the {name} indexes"));
        let started = Instant::now();
        for sql in indexes {
            client.batch_execute(sql).await.with_context(|| sql.to_string())?;
        }
        let build_s = started.elapsed().as_secs_f64();
        progress(&format!("running the workload with the {name} indexes"));
        outcomes.push(workload.measure(&client, name, build_s, options.runs).await?);
        for sql in indexes {
            let name = sql.split_whitespace().nth(2).expect("CREATE INDEX name ON ...");
            client.batch_execute(&format!("DROP INDEX {name}")).await?;
        }
    }
    drop(client);
    // The tuning part must see only its own data: pgadvise tune reads database sizes.
    server.psql(&format!("DROP DATABASE {DATABASE} WITH (FORCE)"));
    Ok(Quality { load_s, database_bytes, outcomes, advice })
}

/// How many indexes beside the primary keys the database has, and their bytes.
pub(crate) async fn added_indexes(client: &Client) -> Result<(usize, u64)> {
    let row = client
        .query_one(
            "SELECT count(*), coalesce(sum(pg_relation_size(c.oid)), 0)::int8 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT i.indisprimary",
            &[],
        )
        .await?;
    Ok((row.get::<_, i64>(0) as usize, row.get::<_, i64>(1) as u64))
}

/// Creates `database` and runs the SQL file that fills it; returns the seconds it took.
/// `locale`: the database's own (`CREATE DATABASE ... LOCALE`); else the server's C.
pub(crate) fn load(server: &TestServer, database: &str, sql: &Path, variables: &[(&str, String)], locale: Option<&str>) -> Result<f64> {
    match locale {
        Some(locale) => server.psql(&format!("CREATE DATABASE {database} LOCALE '{locale}' TEMPLATE template0")),
        None => server.psql(&format!("CREATE DATABASE {database}")),
    };
    let started = Instant::now();
    let mut command = server.psql_command(&server.url_to("postgres", database));
    for (name, value) in variables {
        command.arg("-v").arg(format!("{name}={value}"));
    }
    let output = command.arg("-f").arg(sql).output()?;
    if !output.status.success() {
        bail!("loading {} failed: {}", sql.display(), String::from_utf8_lossy(&output.stderr));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// The plain format's up and down files (`<v>_pgadvise_advise.sql`, `.down.sql`).
pub(crate) fn migration_files(dir: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    names.sort();
    let down = names.iter().find(|p| p.to_string_lossy().ends_with(".down.sql")).context("no down migration written")?.clone();
    let up = names.iter().find(|p| *p != &down).context("no up migration written")?.clone();
    Ok((up, down))
}

pub(crate) fn psql_file(server: &TestServer, url: &str, path: &Path) -> Result<()> {
    let output = server.psql_command(url).arg("-f").arg(path).output()?;
    if !output.status.success() {
        bail!("psql -f {} failed: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// The templates with their parameter sets, drawn once.
struct Workload {
    calls: Vec<(&'static Template, Vec<Vec<crate::app::Param>>)>,
}

impl Workload {
    fn new(scale: u64) -> Workload {
        Workload { calls: TEMPLATES.iter().enumerate().map(|(i, t)| (t, t.parameter_sets(i, scale))).collect() }
    }

    /// Runs the workload `runs` times and the planner once over every call.
    async fn measure(&self, client: &Client, name: &str, build_s: f64, runs: usize) -> Result<Outcome> {
        let mut per_run: Vec<Vec<f64>> = Vec::new();
        for _ in 0..runs {
            let mut times = Vec::new();
            for (template, sets) in &self.calls {
                let started = Instant::now();
                for params in sets {
                    let values: Vec<_> = params.iter().map(|p| p.as_sql()).collect();
                    client.query(template.sql, &values).await.with_context(|| template.name)?;
                }
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            per_run.push(times);
        }
        let template_ms = (0..self.calls.len()).map(|t| median(per_run.iter().map(|run| run[t]).collect())).collect();
        let total_ms = median(per_run.iter().map(|run| run.iter().sum()).collect());
        let mut template_cost = Vec::new();
        let mut template_plans = Vec::new();
        for (template, sets) in &self.calls {
            let mut cost = 0.0;
            let mut plans = Vec::new();
            for params in sets {
                let values: Vec<_> = params.iter().map(|p| p.as_sql()).collect();
                let row = client.query_one(&format!("EXPLAIN (FORMAT JSON) {}", template.sql), &values).await?;
                let plan = from_value(&row.get::<_, serde_json::Value>(0))?;
                cost += plan.root.total_cost.context("EXPLAIN without a Total Cost")?;
                plans.push(plan_shape(&plan.root));
            }
            template_cost.push(cost);
            template_plans.push(plans.join("; "));
        }
        let (indexes, index_bytes) = added_indexes(client).await?;
        Ok(Outcome { name: name.to_string(), template_ms, total_ms, template_cost, template_plans, indexes, index_bytes, build_s })
    }
}

/// A plan's node types and index names, depth first: equal when the planner chose the same plan.
fn plan_shape(node: &PlanNode) -> String {
    let mut shape = node.node_type.clone();
    if let Some(index) = &node.index_name {
        shape.push_str(&format!(" using {index}"));
    }
    let children: Vec<String> = node.children.iter().map(|child| plan_shape(child)).collect();
    if !children.is_empty() {
        shape.push_str(&format!("({})", children.join(", ")));
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::plan_shape;
    use pgadvise::plan::parse::from_value;
    use serde_json::json;

    #[test]
    fn plan_shapes_tell_plans_apart_by_nodes_and_indexes() {
        let scan = |index: &str| {
            let plan = json!([{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Index Scan", "Index Name": index}]}}]);
            from_value(&plan).unwrap().root
        };
        assert_eq!(plan_shape(&scan("a_idx")), "Limit(Index Scan using a_idx)");
        assert_ne!(plan_shape(&scan("a_idx")), plan_shape(&scan("b_idx")));
    }
}
