//! `pgadvise advise`: a workload (pg_stat_statements, exports, SQL files) and a
//! catalog (live or a snapshot) → the indexes that save the most time (chosen
//! with HypoPG when a server has it), indexes to drop, materialized views, N+1.

use super::{report_format, Progress};
use crate::advise::report::{self, AdviseReport};
use crate::advise::select::{select, Limits};
use crate::advise::workload::analyze_workload;
use crate::advise::{hygiene, workload::Analysis, writes};
use crate::catalog::{Catalog, Snapshot};
use crate::cli::AdviseArgs;
use crate::cmd::migration::{prepare, Action, Target};
use crate::config::Config;
use crate::error::Exit;
use crate::migrate::{self, Change};
use crate::pg::whatif::ServerWhatIf;
use crate::pg::{catalog as pg_catalog, settings, statements as pg_statements};
use crate::render::{self, ReportFormat};
use crate::workload::{export, log, queries, Workload, WorkloadStatement};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::time::Duration;

pub fn run(args: &AdviseArgs, config: &Config, out: &mut dyn Write) -> Result<Exit> {
    let migration = Target::resolve(&args.migration, &config.migrations)?;
    if args.db.db.is_none() && (args.catalog.is_none() || statements_are_live(args)) {
        bail!("advise needs a workload and a catalog: --db URL, or offline --catalog snapshot.json with --stats statements.csv (or --queries / --log FILE...)");
    }
    if let Some(percent) = args.min_saving.filter(|p| !(0.0..=100.0).contains(p)) {
        bail!("--min-saving is a percentage between 0 and 100, not {percent}");
    }
    let mut statements: Vec<WorkloadStatement> = Vec::new();
    let mut from = Vec::new();
    if let Some(path) = &args.stats {
        statements.extend(export::read(path)?);
        from.push(path.display().to_string());
    }
    if !args.queries.is_empty() {
        statements.extend(queries::read(&args.queries)?);
        from.push(args.queries.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    if !args.log.is_empty() {
        statements.extend(log::read(&args.log)?);
        from.push(args.log.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let snapshot = args.catalog.as_deref().map(Snapshot::load).transpose()?;

    let report = match &args.db.db {
        None => {
            let snapshot = snapshot.expect("checked above");
            offline(
                args,
                Workload::new(statements),
                &snapshot.catalog,
                from.join(", "),
                format!("snapshot of {} ({})", snapshot.database, snapshot.server_version),
            )
        }
        Some(url) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
            runtime.block_on(live(args, url, statements, from, snapshot))?
        }
    };
    let migration = migration.map(|target| prepare(&target, "advise", &changes(&report))).transpose()?;
    if let Some(prepared) = migration.as_ref().filter(|p| p.action() == Action::Check) {
        return prepared.finish(out);
    }
    let format = report_format(args.format);
    let text = match format {
        ReportFormat::Table => render::advise_table(&report, super::table_width()),
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        ReportFormat::Markdown => render::advise_markdown(&report),
    };
    out.write_all(text.as_bytes())?;
    match &migration {
        Some(prepared) => prepared.finish(out),
        None => Ok(Exit::Success),
    }
}

/// The report's actions in the order to run them: new indexes first (the order the
/// selection chose them), then materialized views, then drops, so that no table is
/// ever left without an index it uses.
fn changes(report: &AdviseReport) -> Vec<Change> {
    let mut changes: Vec<Change> = report.indexes.iter().map(|i| migrate::from_index_advice(i, report.workload_ms)).collect();
    changes.extend(report.materialized_views.iter().map(migrate::from_matview_advice));
    changes.extend(report.drops.iter().map(migrate::from_drop_advice));
    changes
}

/// No cap unless the user sets one: each index is judged by what it saves.
fn max_indexes(args: &AdviseArgs) -> usize {
    args.max_indexes.map_or(usize::MAX, |n| n as usize)
}

/// Whether the statements are the server's pg_stat_statements (no export, SQL file
/// or log given), whose period the table statistics' write counts can be brought
/// to (writes::align). An export, SQL files or a log may come from another server
/// or another period.
fn statements_are_live(args: &AdviseArgs) -> bool {
    args.stats.is_none() && args.queries.is_empty() && args.log.is_empty()
}

fn limits(args: &AdviseArgs) -> Limits {
    Limits {
        max_indexes: max_indexes(args),
        budget_bytes: args.budget,
        min_saved_share: args.min_saving.map(|percent| percent / 100.0),
        count_writes: statements_are_live(args),
    }
}

/// Flags that need the planner's savings, which this run does not have.
fn unverified_notes(args: &AdviseArgs) -> Vec<String> {
    let mut unused: Vec<&str> = Vec::new();
    if args.budget.is_some() {
        unused.push("--budget");
    }
    if args.min_saving.is_some() {
        unused.push("--min-saving");
    }
    if unused.is_empty() {
        return Vec::new();
    }
    let (verb, pronoun) = if unused.len() == 1 { ("is", "it needs") } else { ("are", "they need") };
    vec![format!(
        "{} {verb} not applied: {pronoun} the time each index saves, which only the planner gives (a live server with HypoPG)",
        unused.join(" and ")
    )]
}

/// The parts of the report that need no planner.
fn base_report(
    args: &AdviseArgs,
    analysis: &Analysis,
    catalog: &Catalog,
    workload_ms: f64,
    statements_from: String,
    catalog_from: String,
) -> AdviseReport {
    let hygiene = hygiene::check(catalog, args.min_stats_age);
    AdviseReport {
        statements_from,
        catalog_from,
        hypopg: None,
        workload_ms,
        covered_ms: 0.0,
        indexes: Vec::new(),
        rejected: Vec::new(),
        already_served: analysis.already_served.clone(),
        drops: hygiene.drops,
        kept_indexes: hygiene.kept,
        materialized_views: report::materialized_views(analysis, catalog, workload_ms),
        n_plus_one: report::n_plus_one(analysis),
        not_analyzed: report::not_analyzed(analysis),
        // Filled in only when the planner is asked (live, with HypoPG).
        assumed_values: Vec::new(),
        planner_calls: 0,
        notes: Vec::new(),
    }
}

fn offline(args: &AdviseArgs, workload: Workload, catalog: &Catalog, statements_from: String, catalog_from: String) -> AdviseReport {
    let analysis = analyze_workload(workload, catalog);
    let mut report = base_report(args, &analysis, catalog, analysis.workload_ms(), statements_from, catalog_from);
    report.indexes = report::unverified_indexes(&analysis, catalog, max_indexes(args));
    report.notes.extend(unverified_notes(args));
    report
}

async fn live(
    args: &AdviseArgs,
    url: &str,
    mut statements: Vec<WorkloadStatement>,
    mut from: Vec<String>,
    snapshot: Option<Snapshot>,
) -> Result<AdviseReport> {
    let connection = super::connect(&args.db, url, false).await?;
    let client = &connection.client;
    let state = settings::read_state(client).await?;
    let progress = Progress::new();
    let say = |text: &str| progress.say(text);
    let live_statements = statements_are_live(args);
    let mut observed = None;
    let mut observed_note = None;
    if live_statements {
        say("reading pg_stat_statements");
        statements = pg_statements::read(client, state.major()).await?;
        from.push(format!("pg_stat_statements on {}", connection.target));
        // Constants the calls used, where pg_qualstats saw them; without it (or the
        // right to read it), values come from pg_stats as before.
        match crate::pg::qualstats::read(client).await {
            Ok(Some(values)) => {
                let count = values.statements();
                let (noun, their) = if count == 1 { ("statement", "its") } else { ("statements", "their") };
                observed_note = Some(format!("pg_qualstats: {count} {noun} planned with the constants {their} calls used"));
                observed = Some(values);
            }
            Ok(None) => {}
            Err(e) => observed_note = Some(format!("{e:#}; values were taken from pg_stats instead")),
        }
    }
    let (mut catalog, catalog_from) = match snapshot {
        Some(snapshot) => (snapshot.catalog, format!("snapshot of {} ({})", snapshot.database, snapshot.server_version)),
        None => {
            say("reading the catalog");
            (pg_catalog::read_all(client).await?, format!("{} (PostgreSQL {})", connection.target, state.version))
        }
    };
    let mut workload = Workload::new(statements);
    if let Some(values) = observed {
        workload.observed = values;
    }
    say(&format!("analyzing {} statements", workload.statements.len()));
    let analysis = analyze_workload(workload, &catalog);
    if live_statements {
        // Write costs must cover the statements' period, not the table statistics' longer one.
        writes::align(&mut catalog, &analysis.statements, pg_statements::periods(client).await?);
    }
    let mut report = base_report(args, &analysis, &catalog, analysis.workload_ms(), from.join(", "), catalog_from);
    report.notes.extend(observed_note);

    let texts: Vec<(String, usize, Vec<String>)> = analysis
        .statements
        .iter()
        .map(|a| {
            let values = a.assumed.iter().flatten().map(|v| v.value.clone()).collect();
            (a.statement.query.clone(), a.parameters, values)
        })
        .collect();
    let (oracle, status) = ServerWhatIf::open(client, texts, state.major(), Duration::from_secs(args.timeout)).await?;
    match oracle {
        Some(mut oracle) => {
            say(&format!("asking the planner about {} candidate indexes", analysis.candidates.len()));
            let selection =
                select(&mut oracle, &analysis.statements, &analysis.candidates, &catalog, &analysis.updated, state.major(), limits(args))
                    .await;
            oracle.close().await?;
            let selection = selection?;
            report.indexes = report::verified_indexes(&selection, &analysis.statements);
            let mut helped: Vec<usize> = selection.chosen.iter().flat_map(|c| c.statements.iter().copied()).collect();
            helped.sort_unstable();
            helped.dedup();
            report.covered_ms = helped.iter().map(|s| analysis.statements[*s].statement.total_ms).sum();
            report.rejected = selection.rejected;
            report.not_analyzed.extend(report::unplanned(&analysis, &selection.unplanned));
            report.assumed_values = report::assumed_values(&analysis);
            report.planner_calls = selection.planner_calls;
        }
        None => {
            report.indexes = report::unverified_indexes(&analysis, &catalog, max_indexes(args));
            report.notes.extend(unverified_notes(args));
        }
    }
    if !live_statements && catalog.tables.iter().any(|t| t.activity.as_ref().is_some_and(|a| a.inserts + a.updates + a.deletes > 0)) {
        report.notes.push(
            "write costs of new indexes are not counted: the statements' times come from files, not from this server's pg_stat_statements, so they cover another period than its table statistics' write counts".into(),
        );
    }
    report.hypopg = Some(status);
    progress.done();
    Ok(report)
}
