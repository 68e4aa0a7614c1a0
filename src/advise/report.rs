//! What `pgadvise advise` reports, and the two workload rules that need no
//! planner: materialized views for heavy repeated aggregations, and N+1 lookups.

use super::hygiene::{DropAdvice, KeptIndex};
use super::select::Selection;
use super::workload::{Analysis, AnalyzedStatement};
use crate::action::{Action, MaterializedView};
use crate::catalog::Catalog;
use crate::pg::hypopg::HypoStatus;
use serde::Serialize;

/// An aggregation is worth a materialized view from this share of the workload's time ...
pub const MATVIEW_MIN_SHARE: f64 = 0.05;
/// ... over a table of at least this many rows.
pub const MATVIEW_MIN_ROWS: f64 = 100_000.0;
/// A key lookup called at least this many times ...
pub const N_PLUS_ONE_MIN_CALLS: f64 = 10_000.0;
/// ... returning at most this many rows a call is probably an N+1 loop in the application.
pub const N_PLUS_ONE_MAX_ROWS_PER_CALL: f64 = 1.5;

#[derive(Debug, Clone, Serialize)]
pub struct AdviseReport {
    /// Where the statements and the catalog came from.
    pub statements_from: String,
    pub catalog_from: String,
    /// HypoPG's status; `None` offline, where nothing is verified.
    pub hypopg: Option<HypoStatus>,
    pub workload_ms: f64,
    /// Time of the statements the chosen indexes help.
    pub covered_ms: f64,
    pub indexes: Vec<IndexAdvice>,
    pub rejected: Vec<(String, String)>,
    pub already_served: Vec<(String, String)>,
    pub drops: Vec<DropAdvice>,
    /// Indexes that look droppable but whose evidence cannot bear a DROP.
    pub kept_indexes: Vec<KeptIndex>,
    pub materialized_views: Vec<MatviewAdvice>,
    pub n_plus_one: Vec<NPlusOne>,
    pub not_analyzed: Vec<NotAnalyzed>,
    /// Statements planned with values assumed from the columns' statistics, and the values.
    pub assumed_values: Vec<AssumedValues>,
    pub planner_calls: usize,
    /// What the reader must know to judge the advice: a flag that could not apply
    /// here, costs that were left out and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexAdvice {
    pub name: String,
    pub kind: &'static str,
    /// `Action::CreateIndex`: its SQL and undo.
    #[serde(flatten)]
    pub action: Action,
    pub statements: Vec<String>,
    pub saved_ms: f64,
    /// Saved per call of the statements it helps.
    pub saved_per_call_ms: f64,
    pub write_ms: f64,
    /// HypoPG's estimate (corrected) when verified; offline, a rough one from the row count.
    pub size_bytes: Option<u64>,
    pub verified: bool,
}

/// Offline size estimate: per row, a tuple header and TID (16 bytes) and 8 bytes a column.
fn estimated_size(index: &crate::advise::index::IndexCandidate, catalog: &Catalog) -> Option<u64> {
    let table = catalog.table(index.schema.as_deref(), &index.table)?;
    let columns = (index.keys.len() + index.include.len()) as f64;
    // A partial index on IS [NOT] NULL holds only those rows.
    let share = index
        .predicate
        .as_deref()
        .and_then(|p| {
            let column = p.split_whitespace().next()?.trim_matches('"');
            let stats = catalog.column_stats(index.schema.as_deref(), &index.table, column)?;
            if p.ends_with(" IS NULL") {
                Some(stats.null_frac)
            } else if p.ends_with(" IS NOT NULL") {
                Some(1.0 - stats.null_frac)
            } else {
                None
            }
        })
        .unwrap_or(1.0);
    Some((table.estimated_rows() * share * (16.0 + 8.0 * columns)) as u64)
}

#[derive(Debug, Clone, Serialize)]
pub struct MatviewAdvice {
    pub schema: String,
    pub name: String,
    /// The aggregation, shortened to one line for tables.
    pub statement: String,
    pub total_ms: f64,
    /// `Action::CreateMaterializedView`: its SQL and undo.
    #[serde(flatten)]
    pub action: Action,
    /// The refresh to schedule, which does not block readers.
    pub refresh: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssumedValues {
    pub statement: String,
    /// `$1 = '2026-11-30' (the newest or highest 1% of orders.created_at)`.
    pub values: Vec<String>,
}

/// Which values were assumed for which statement, so a reader can judge the plans.
pub fn assumed_values(analysis: &Analysis) -> Vec<AssumedValues> {
    analysis
        .statements
        .iter()
        .filter_map(|a| {
            let assumed = a.assumed.as_ref()?;
            Some(AssumedValues {
                statement: shorten(&a.statement.query, 70),
                values: assumed.iter().map(|v| format!("${} = {} ({})", v.parameter, crate::sql::quote_literal(&v.value), v.why)).collect(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct NPlusOne {
    pub statement: String,
    pub calls: f64,
    pub rows_per_call: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotAnalyzed {
    pub statement: String,
    pub source: String,
    pub reason: String,
}

/// One line of a statement, for tables: whitespace folded, cut at `width` characters.
pub fn shorten(query: &str, width: usize) -> String {
    // Comment lines (a file's header, a `-- calls:` hint) say nothing about the statement.
    let code: Vec<&str> = query.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
    let folded = code.join(" ").split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= width {
        return folded;
    }
    let cut: String = folded.chars().take(width - 1).collect();
    format!("{cut}…")
}

/// Chosen indexes, verified by the planner.
pub fn verified_indexes(selection: &Selection, statements: &[AnalyzedStatement]) -> Vec<IndexAdvice> {
    selection
        .chosen
        .iter()
        .map(|chosen| {
            let helped: Vec<usize> = chosen.costs.iter().filter(|(_, before, after)| after < before).map(|(s, _, _)| *s).collect();
            let calls: f64 = helped.iter().map(|s| statements[*s].statement.calls).sum();
            IndexAdvice {
                name: chosen.index.name(),
                kind: chosen.index.kind(),
                action: Action::CreateIndex(chosen.index.clone()),
                // Only the statements the planner made cheaper with it.
                statements: helped.iter().map(|s| shorten(&statements[*s].statement.query, 70)).collect(),
                saved_ms: chosen.saved_ms,
                saved_per_call_ms: if calls > 0.0 { chosen.saved_ms / calls } else { 0.0 },
                write_ms: chosen.write_ms,
                size_bytes: Some(chosen.size_bytes),
                verified: true,
            }
        })
        .collect()
}

/// Without a planner: candidates ranked by the time of the statements they could
/// help. That time is not a saving, so `saved_ms` stays 0 and the report says unverified.
pub fn unverified_indexes(analysis: &Analysis, catalog: &Catalog, max: usize) -> Vec<IndexAdvice> {
    let helped_ms = |statements: &[usize]| statements.iter().map(|s| analysis.statements[*s].statement.total_ms).sum::<f64>();
    let mut ranked: Vec<&super::workload::WorkloadCandidate> = analysis.candidates.iter().collect();
    ranked.sort_by(|a, b| helped_ms(&b.statements).total_cmp(&helped_ms(&a.statements)).then_with(|| a.index.name().cmp(&b.index.name())));
    ranked
        .into_iter()
        .take(max)
        .map(|candidate| IndexAdvice {
            name: candidate.index.name(),
            kind: candidate.index.kind(),
            action: Action::CreateIndex(candidate.index.clone()),
            statements: candidate.statements.iter().map(|s| shorten(&analysis.statements[*s].statement.query, 70)).collect(),
            saved_ms: 0.0,
            saved_per_call_ms: 0.0,
            write_ms: 0.0,
            size_bytes: estimated_size(&candidate.index, catalog),
            verified: false,
        })
        .collect()
}

/// Heavy repeated aggregations over big tables, without parameters (a view cannot take them).
pub fn materialized_views(analysis: &Analysis, catalog: &Catalog, workload_ms: f64) -> Vec<MatviewAdvice> {
    let mut advice = Vec::new();
    for analyzed in &analysis.statements {
        let Some(aggregation) = &analyzed.aggregation else { continue };
        let statement = &analyzed.statement;
        let big = catalog.table(Some(&aggregation.schema), &aggregation.table).is_some_and(|t| t.estimated_rows() >= MATVIEW_MIN_ROWS);
        let heavy = workload_ms > 0.0 && statement.total_ms / workload_ms >= MATVIEW_MIN_SHARE;
        let Some(keys) = aggregation.key_columns.clone() else { continue };
        if !big || !heavy || statement.query.contains('$') {
            continue;
        }
        let name = crate::advise::index::shorten_name(&format!("{}_by_{}_mv", aggregation.table, keys.join("_")));
        let view = MaterializedView {
            schema: aggregation.schema.clone(),
            name: name.clone(),
            query: statement.query.trim().trim_end_matches(';').to_string(),
            keys,
        };
        advice.push(MatviewAdvice {
            schema: aggregation.schema.clone(),
            name,
            statement: shorten(&statement.query, 70),
            total_ms: statement.total_ms,
            refresh: view.refresh_statement(),
            action: Action::CreateMaterializedView(view),
        });
    }
    advice
}

/// Key lookups called very often for about one row each: an application loop to batch.
pub fn n_plus_one(analysis: &Analysis) -> Vec<NPlusOne> {
    analysis
        .statements
        .iter()
        .filter(|a| {
            a.key_lookup
                && a.statement.calls >= N_PLUS_ONE_MIN_CALLS
                && a.statement.rows / a.statement.calls <= N_PLUS_ONE_MAX_ROWS_PER_CALL
        })
        .map(|a| NPlusOne {
            statement: shorten(&a.statement.query, 70),
            calls: a.statement.calls,
            rows_per_call: a.statement.rows / a.statement.calls,
        })
        .collect()
}

/// Statements the planner could not plan, each with the server's reason.
pub fn unplanned(analysis: &Analysis, unplanned: &[(usize, String)]) -> Vec<NotAnalyzed> {
    unplanned
        .iter()
        .map(|(position, why)| {
            let statement = &analysis.statements[*position].statement;
            NotAnalyzed {
                statement: shorten(&statement.query, 70),
                source: statement.source.clone(),
                reason: format!("the planner could not plan it: {why}"),
            }
        })
        .collect()
}

pub fn not_analyzed(analysis: &Analysis) -> Vec<NotAnalyzed> {
    analysis
        .statements
        .iter()
        .filter_map(|a| match &a.skipped {
            Some(super::statement::Skipped::Unreadable(reason)) => {
                Some(NotAnalyzed { statement: shorten(&a.statement.query, 70), source: a.statement.source.clone(), reason: reason.clone() })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_statements_for_tables() {
        assert_eq!(shorten("SELECT  *\n FROM t", 70), "SELECT * FROM t");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
        assert_eq!(shorten("-- calls: 5\nSELECT 1", 70), "SELECT 1");
    }
}
