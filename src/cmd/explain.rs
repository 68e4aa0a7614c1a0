//! `pgadvise explain`: a plan file, or a SQL file run against --db → findings and
//! index suggestions (verified with HypoPG when the server has it) → table, JSON or Markdown.

use super::Progress;
use crate::advise::index::{self, served_by, IndexCandidate};
use crate::advise::select::{leading_key_only, narrow_cost_ratio, narrow_will_do};
use crate::advise::size::corrected_size;
use crate::catalog::Catalog;
use crate::cli::ExplainArgs;
use crate::cmd::migration::{prepare, Action, Target};
use crate::config::Config;
use crate::error::Exit;
use crate::halves::joined;
use crate::migrate::{self, Change};
use crate::pg::explain::{explain, PlanKind, Planning};
use crate::pg::hypopg::{self, HypoStatus, Verification};
use crate::pg::session::Session;
use crate::pg::{catalog, settings};
use crate::plan::conditions::{self, ScanConditions};
use crate::plan::parse::{read, Input};
use crate::plan::report::{DroppedSuggestion, ExplainReport, StatementReport, Suggestion};
use crate::plan::rules::{diagnose, Facts};
use crate::plan::Plan;
use crate::render::{self, ExplainFormat, ExplainRenderer, PlanPart};
use crate::sql::statements::{parse_file, SqlStatement};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::time::Duration;

pub fn run(args: &ExplainArgs, config: &Config, out: &mut dyn Write) -> Result<Exit> {
    if let Some(files) = &args.compare {
        return compare_files(args, files, out);
    }
    let migration = Target::resolve(&args.migration, &config.migrations)?;
    let (name, text) = read_input(args)?;
    let input = read(&text).with_context(|| name.clone())?;
    if args.with_index.is_some() && matches!(input, Input::Plan(_)) {
        bail!("{name} is a plan; --with-index plans a statement twice, so give it the SQL file (or compare two plans with --compare BEFORE AFTER)");
    }
    let renderer = render::ExplainRenderer { format: explain_format(args.format), width: super::table_width() };
    let (report, plan_part) = match input {
        Input::Plan(plan) => match &args.db.db {
            None => offline(&name, *plan, &renderer),
            Some(url) => block_on(live_plan(args, url, &name, *plan, &renderer))?,
        },
        Input::NotAPlan => {
            let statements = parse_file(&text).with_context(|| name.clone())?;
            if statements.is_empty() {
                bail!("{name}: no SQL statement and no plan in it");
            }
            let Some(url) = &args.db.db else {
                bail!(
                    "{name} holds SQL; to explain it pgadvise needs a server: add --db URL (or give an EXPLAIN (FORMAT JSON) plan instead)"
                );
            };
            if let Some(create_index) = &args.with_index {
                let [statement] = statements.as_slice() else {
                    bail!("{name}: --with-index compares one statement, and the file holds {}", statements.len());
                };
                let (before, after) = block_on(plans_with_index(args, url, statement, create_index))?;
                return write_comparison(args, &before, &after, &format!("{name} as it is"), &format!("{name} with {create_index}"), out);
            }
            (block_on(live_sql(args, url, &name, &statements))?, None)
        }
    };

    let migration = migration.map(|target| prepare(&target, "explain", &changes(&report))).transpose()?;
    if let Some(prepared) = migration.as_ref().filter(|p| p.action() == Action::Check) {
        return prepared.finish(out);
    }
    renderer.write(&report, vec![plan_part], out)?;
    if let Some(prepared) = &migration {
        prepared.finish(out)?;
    }
    let failing = args.fail_on.is_some_and(|level| report.findings().any(|f| f.severity >= level));
    Ok(if failing { Exit::Findings } else { Exit::Success })
}

/// Every suggested index once, in the order of the statements and of their suggestions.
fn changes(report: &ExplainReport) -> Vec<Change> {
    let mut seen = std::collections::BTreeSet::new();
    let mut changes = Vec::new();
    for statement in &report.statements {
        for suggestion in &statement.suggestions {
            if seen.insert(suggestion.name.clone()) {
                changes.push(migrate::from_suggestion(suggestion, &statement.label));
            }
        }
    }
    changes
}

/// The format asked for, else a table for a person at a terminal and JSON for a pipe.
fn explain_format(chosen: Option<ExplainFormat>) -> ExplainFormat {
    use std::io::IsTerminal;
    chosen.unwrap_or(if std::io::stdout().is_terminal() { ExplainFormat::Table } else { ExplainFormat::Json })
}

/// `--compare BEFORE AFTER`: two plan files of one statement, side by side.
fn compare_files(args: &ExplainArgs, files: &[std::path::PathBuf], out: &mut dyn Write) -> Result<Exit> {
    let [before, after] = files else { bail!("--compare takes two plan files: BEFORE AFTER") };
    let read_plan = |path: &std::path::Path| -> Result<(String, Plan)> {
        let (name, text) = read_path(path)?;
        match read(&text).with_context(|| name.clone())? {
            Input::Plan(plan) => Ok((name, *plan)),
            Input::NotAPlan => bail!("{name} holds no EXPLAIN plan: --compare takes two plans (JSON or text format)"),
        }
    };
    let (before_name, before_plan) = read_plan(before)?;
    let (after_name, after_plan) = read_plan(after)?;
    write_comparison(args, &before_plan, &after_plan, &before_name, &after_name, out)
}

/// `--with-index`: the statement planned without and with the hypothetical index.
async fn plans_with_index(args: &ExplainArgs, url: &str, statement: &SqlStatement, create_index: &str) -> Result<(Plan, Plan)> {
    if !create_index.trim_start().to_ascii_uppercase().starts_with("CREATE") {
        bail!("--with-index takes a CREATE INDEX statement, e.g. --with-index 'CREATE INDEX ON orders (customer_id)'");
    }
    let server = open(args, url).await?;
    let planning = Planning { analyze: false, ..planning(args, &server, statement) };
    hypopg::plans_around(&server.client, &statement.text, &planning, create_index).await
}

fn write_comparison(
    args: &ExplainArgs,
    before_plan: &Plan,
    after_plan: &Plan,
    before_name: &str,
    after_name: &str,
    out: &mut dyn Write,
) -> Result<Exit> {
    let (before_name, after_name) = (before_name.to_string(), after_name.to_string());
    let comparison = crate::plan::compare::compare(before_plan, after_plan);
    let text = match explain_format(args.format) {
        ExplainFormat::Table => render::compare_table(&comparison, &before_name, &after_name, super::table_width()),
        ExplainFormat::Json => render::compare_json(&comparison)?,
        ExplainFormat::Markdown => render::compare_markdown(&comparison, &before_name, &after_name),
        ExplainFormat::Html | ExplainFormat::Svg => {
            bail!("--compare writes table, json or markdown; for a picture, run --format html on each plan")
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Exit::Success)
}

fn read_input(args: &ExplainArgs) -> Result<(String, String)> {
    read_path(args.input.as_deref().unwrap_or(std::path::Path::new("-")))
}

/// A plan or SQL file's text; `-` is stdin.
fn read_path(path: &std::path::Path) -> Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
        return Ok(("stdin".into(), text));
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{name} is not UTF-8 text: give a JSON plan or a SQL file"))?;
    Ok((name, text))
}

fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?.block_on(future)
}

/// A plan file with no server: diagnose and suggest, unverified; and the plan's
/// part of the report, rendered meanwhile.
fn offline(name: &str, plan: Plan, renderer: &ExplainRenderer) -> (ExplainReport, Option<PlanPart>) {
    let queries = queries_of(&plan);
    let mut notes = not_read_note(name, &plan).into_iter().collect::<Vec<_>>();
    let (statement, plan_part) = statement_report(name.to_string(), None, None, queries.first(), plan, None, Some(renderer));
    notes.push("no --db: suggestions are unverified and existing indexes unknown".into());
    (ExplainReport { statements: vec![statement], hypopg: None, notes }, plan_part)
}

/// What the plan file held that the model left out (a text plan's per-worker
/// lines, properties the reader does not know), so that nobody takes the
/// report for the whole of it.
fn not_read_note(name: &str, plan: &Plan) -> Option<String> {
    (!plan.not_read.is_empty()).then(|| format!("{name}: left out of the text plan: {}", plan.not_read.join("; ")))
}

/// The statements a plan file carries (auto_explain's Query Text), if it has one that parses.
fn queries_of(plan: &Plan) -> Vec<SqlStatement> {
    plan.query_text.as_deref().and_then(|text| parse_file(text).ok()).unwrap_or_default()
}

/// Findings and suggestions for one plan; `parsed` is its statement when known
/// (OFFSET, columns read), `sql` the text pgadvise ran; `catalog` drops what
/// existing indexes serve. With a `renderer`, also the plan's part of the report
/// (the first statement's).
fn statement_report(
    label: String,
    kind: Option<PlanKind>,
    sql: Option<String>,
    parsed: Option<&SqlStatement>,
    plan: Plan,
    catalog: Option<&Catalog>,
    renderer: Option<&ExplainRenderer>,
) -> (StatementReport, Option<PlanPart>) {
    let facts = Facts { offset: parsed.and_then(SqlStatement::offset) };
    // The plan's rendering needs nothing else; the rules and the index suggestions
    // both need the scans' conditions, read once. On a plan of thousands of nodes
    // each takes tens of milliseconds, so they run side by side.
    let (findings, (suggestions, dropped), plan_part) = std::thread::scope(|scope| {
        let rendering = renderer.map(|renderer| scope.spawn(|| renderer.plan_part(&plan, 0)));
        let scans = scans_of(&plan, parsed);
        let (findings, suggested) = std::thread::scope(|scope| {
            let rules = scope.spawn(|| diagnose(&plan, facts, &scans));
            let suggested = index_suggestions(&label, sql.as_deref(), parsed, &plan, &scans, catalog);
            (joined(rules), suggested)
        });
        (findings, suggested, rendering.and_then(joined))
    });
    (StatementReport { label, kind, sql, plan, findings, suggestions, dropped }, plan_part)
}

/// The conditions of the plan's scans; `parsed`, the statement, says which
/// columns a scan returns where the plan does not.
fn scans_of<'a>(plan: &'a Plan, parsed: Option<&SqlStatement>) -> Vec<ScanConditions<'a>> {
    let mut scans = conditions::scans(plan);
    // Without VERBOSE the plan does not say which columns a scan returns; a
    // single-table statement does, so covering indexes are still possible.
    if let Some((table, columns)) = parsed.and_then(SqlStatement::single_table_columns) {
        for scan in scans.iter_mut().filter(|s| s.output_columns.is_none() && s.table == table) {
            scan.output_columns = Some(columns.clone());
        }
    }
    scans
}

/// Index suggestions for one plan from its scans, and those an existing index already serves.
fn index_suggestions(
    label: &str,
    sql: Option<&str>,
    parsed: Option<&SqlStatement>,
    plan: &Plan,
    scans: &[ScanConditions],
    catalog: Option<&Catalog>,
) -> (Vec<Suggestion>, Vec<DroppedSuggestion>) {
    let mut candidates = index::suggest(scans, catalog);
    // One statement, one answer: with its text and the catalog, the candidates are
    // advise's for that statement, from the same analysis; the plan's stay for the
    // tables the text does not give one for (a loop's inner side, say).
    if let (Some(text), Some(catalog)) = (sql.or(parsed.map(|p| p.text.as_str())), catalog) {
        let rows = plan.root.total_actual_rows().or(plan.root.plan_rows).unwrap_or(1.0);
        let statement = crate::workload::WorkloadStatement {
            query: text.to_string(),
            calls: 1.0,
            total_ms: 0.0,
            rows,
            shared_hit: 0.0,
            shared_read: 0.0,
            source: label.to_string(),
        };
        let analysis = crate::advise::workload::analyze_workload(crate::workload::Workload::new(vec![statement]), catalog);
        for from_text in analysis.candidates {
            let mut index = from_text.index;
            let same_table =
                |c: &IndexCandidate| c.table == index.table && (c.schema.is_none() || index.schema.is_none() || c.schema == index.schema);
            // The first of the plan's candidates on the table gives its place, node and
            // reason; the others on it go.
            let same: Vec<usize> = (0..candidates.len()).filter(|&i| same_table(&candidates[i])).collect();
            match same.split_first() {
                Some((&at, others)) => {
                    index.node = candidates[at].node;
                    index.reason = candidates[at].reason.clone();
                    candidates[at] = index;
                    for &other in others.iter().rev() {
                        candidates.remove(other);
                    }
                }
                None => candidates.push(index),
            }
        }
    }
    let mut suggestions = Vec::with_capacity(candidates.len());
    let mut dropped = Vec::new();
    for candidate in candidates {
        match catalog.and_then(|c| served_by(&candidate, c)) {
            Some(existing) => dropped.push(DroppedSuggestion {
                name: candidate.name(),
                sql: crate::action::Action::CreateIndex(candidate.clone()).sql(),
                why: format!("already served by the existing index {}", existing.name),
            }),
            None => suggestions.push(Suggestion::new(candidate)),
        }
    }
    (suggestions, dropped)
}

struct Server {
    client: Session,
    major: u32,
}

async fn open(args: &ExplainArgs, url: &str) -> Result<Server> {
    let connection = super::connect(&args.db, url, false).await?;
    let state = settings::read_state(&connection.client).await?;
    Ok(Server { client: connection.client, major: state.major() })
}

fn planning(args: &ExplainArgs, server: &Server, statement: &SqlStatement) -> Planning {
    Planning {
        analyze: !args.no_analyze,
        params: args.params.clone(),
        placeholders: statement.parameters,
        modifies_data: statement.modifies_data(),
        timeout: Duration::from_secs(args.timeout),
        server_major: server.major,
    }
}

/// A plan file with a server: the catalog filters suggestions; the plan's query
/// text (auto_explain writes it) lets HypoPG verify them.
async fn live_plan(
    args: &ExplainArgs,
    url: &str,
    name: &str,
    plan: Plan,
    renderer: &ExplainRenderer,
) -> Result<(ExplainReport, Option<PlanPart>)> {
    let server = open(args, url).await?;
    let catalog = read_catalog(&server.client, &plan).await?;
    let queries = queries_of(&plan);
    let mut notes: Vec<String> = not_read_note(name, &plan).into_iter().collect();
    let (mut statement, plan_part) = statement_report(name.to_string(), None, None, queries.first(), plan, Some(&catalog), Some(renderer));
    // Verification plans the statement again: only possible for exactly one.
    let hypopg = match queries.as_slice() {
        [query] => {
            let planning = Planning { analyze: false, ..planning(args, &server, query) };
            Some(verify(&server.client, &query.text, &planning, &catalog, &mut statement).await?)
        }
        _ => {
            notes.push(
                "the plan carries no query text, so suggestions cannot be verified: run pgadvise explain on the SQL file with --db".into(),
            );
            None
        }
    };
    Ok((ExplainReport { statements: vec![statement], hypopg, notes }, plan_part))
}

/// A SQL file with a server: explain each statement in order, inside rolled-back transactions.
async fn live_sql(args: &ExplainArgs, url: &str, name: &str, statements: &[SqlStatement]) -> Result<ExplainReport> {
    let server = open(args, url).await?;
    let mut reports = Vec::new();
    let mut notes = Vec::new();
    let mut hypopg_status = None;
    let progress = Progress::new();
    for (i, statement) in statements.iter().enumerate() {
        let label = format!("{name}:{}", statement.line);
        if !statement.is_explainable() {
            notes.push(format!("{label}: skipped, EXPLAIN takes only SELECT, INSERT, UPDATE, DELETE and MERGE"));
            continue;
        }
        progress.say(&format!("explaining statement {} of {} ({label})", i + 1, statements.len()));
        let planning = planning(args, &server, statement);
        let plan = explain(&server.client, &statement.text, &planning).await.with_context(|| label.clone())?;
        if planning.kind() == PlanKind::Generic {
            notes.push(format!("{label}: has $1… and no --param values, so this is a generic plan (estimates only, not executed)"));
        }
        let catalog = read_catalog(&server.client, &plan).await?;
        let (mut report, _) =
            statement_report(label, Some(planning.kind()), Some(statement.text.clone()), Some(statement), plan, Some(&catalog), None);
        let status = verify(&server.client, &statement.text, &Planning { analyze: false, ..planning }, &catalog, &mut report).await?;
        hypopg_status = Some(status);
        reports.push(report);
    }
    progress.done();
    Ok(ExplainReport { statements: reports, hypopg: hypopg_status, notes })
}

async fn read_catalog(client: &Session, plan: &Plan) -> Result<Catalog> {
    let mut tables: Vec<String> = plan.nodes().iter().filter_map(|n| n.relation.clone()).collect();
    tables.sort();
    tables.dedup();
    catalog::read_tables(client, &tables).await
}

/// Asks the planner about each suggestion; keeps those it uses. A multi-column
/// suggestion gives way to its leading key alone by advise's rule
/// (`select::narrow_will_do`), so both commands give one statement one answer.
async fn verify(
    client: &Session,
    sql: &str,
    planning: &Planning,
    catalog: &Catalog,
    statement: &mut StatementReport,
) -> Result<HypoStatus> {
    let mut candidates: Vec<_> = statement.suggestions.iter().map(|s| s.index.clone()).collect();
    let narrow: Vec<Option<IndexCandidate>> = candidates.iter().map(leading_key_only).collect();
    candidates.extend(narrow.iter().flatten().cloned());
    let (status, mut verdicts) = hypopg::verify(client, sql, planning, &candidates).await?;
    if verdicts.is_empty() {
        return Ok(status);
    }
    let mut narrow_verdicts = verdicts.split_off(statement.suggestions.len()).into_iter();
    let corrected = |index: &IndexCandidate, bytes: u64| corrected_size(bytes, index, catalog, planning.server_major);
    for ((suggestion, verdict), narrow) in statement.suggestions.iter_mut().zip(verdicts.iter_mut()).zip(narrow) {
        let Some(narrow) = narrow else { continue };
        let Some(Ok(narrow_verdict)) = narrow_verdicts.next() else { continue };
        let Ok(wide) = verdict else { continue };
        let saved = |v: &Verification| v.cost_before - v.cost_after;
        if narrow_verdict.used
            && narrow_will_do(
                saved(&narrow_verdict),
                corrected(&narrow, narrow_verdict.size_bytes),
                saved(wide),
                corrected(&suggestion.index, wide.size_bytes),
                narrow_cost_ratio(narrow_verdict.cost_after, wide.cost_after),
            )
        {
            *suggestion = Suggestion::new(IndexCandidate { reason: suggestion.reason.clone(), ..narrow });
            *verdict = Ok(narrow_verdict);
        }
    }
    let mut kept = Vec::new();
    for (mut suggestion, verdict) in statement.suggestions.drain(..).zip(verdicts) {
        match verdict {
            Ok(verdict) if verdict.used => {
                suggestion.verification = Some(verdict);
                kept.push(suggestion);
            }
            Ok(verdict) => statement.dropped.push(DroppedSuggestion {
                name: suggestion.name,
                sql: suggestion.action.sql(),
                why: format!("the planner did not use it (cost {:.0} either way)", verdict.cost_before),
            }),
            Err(why) => statement.dropped.push(DroppedSuggestion {
                name: suggestion.name,
                sql: suggestion.action.sql(),
                why: format!("PostgreSQL cannot build it: {why}"),
            }),
        }
    }
    statement.suggestions = kept;
    Ok(status)
}
