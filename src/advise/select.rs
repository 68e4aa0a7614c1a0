//! Choosing the few indexes that save the most time across the whole workload,
//! with the planner as the judge.
//!
//! Lazy greedy: every candidate is costed once with the indexes chosen so far;
//! the best by time saved (per byte under a --budget) is re-costed against the current choice and
//! taken if it still beats the next one's earlier score. Savings shrink as
//! indexes are added (two indexes rarely help one statement twice), so an old
//! score is an upper bound, and most candidates are costed only once or twice.

use super::index::IndexCandidate;
use super::size::corrected_size;
use super::workload::{AnalyzedStatement, UpdatedColumns, WorkloadCandidate};
use crate::catalog::Catalog;
use anyhow::Result;
use serde::Serialize;

/// Planner costs with hypothetical indexes: HypoPG on a live server.
#[allow(async_fn_in_trait)]
pub trait WhatIf {
    /// The planner's total cost of each statement (by position) with exactly these
    /// hypothetical indexes, or the server's reason it could not be planned (never
    /// silently left out: the report lists each). `Err` of the whole call when the
    /// server itself cannot be used.
    async fn costs(&mut self, indexes: &[&IndexCandidate], statements: &[usize]) -> Result<Vec<Planned>>;
    /// HypoPG's size estimate of the index, or why PostgreSQL cannot build it.
    async fn size(&mut self, index: &IndexCandidate) -> Result<std::result::Result<u64, String>>;
}

/// One statement's planner cost, or why it could not be planned.
pub type Planned = std::result::Result<f64, String>;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many new indexes (`usize::MAX`: no cap, the default).
    pub max_indexes: usize,
    /// Total bytes of new indexes.
    pub budget_bytes: Option<u64>,
    /// `--min-saving`: an index must save at least this share of the workload's
    /// time. `None`: the default rule, [`worth_it`].
    pub min_saved_share: Option<f64>,
    /// Charge write costs: only when the statements' times cover the same period as
    /// pg_stat_user_tables' write counts (pg_stat_statements), not for SQL files or logs.
    pub count_writes: bool,
}

/// What one call of a statement with no measured time (from SQL files) weighs: a
/// nominal millisecond, so that each statement's own relative saving counts. Its
/// planner cost would not do: one correlated subquery planned as a nested loop
/// over a seq scan costs more units than every other statement together, and
/// would make every real saving look like too little.
pub const UNMEASURED_CALL_MS: f64 = 1.0;
/// Without `--min-saving`, an index is worth it when it saves clearly more than its
/// writes cost (this many times) ...
pub const CLEAR_WIN_OVER_WRITES: f64 = 2.0;
/// ... and either saves this share of the workload's time as it stands with the
/// indexes chosen so far (once the big wins are in, what is left is smaller, and
/// a two-hundredth of it is still worth a small index) ...
pub const DEFAULT_MIN_SAVED_SHARE: f64 = 0.005;
/// ... or saves at least this share of one statement's cost without new indexes (a
/// lookup on a small table is a small share of the workload, and still worth an
/// index). Of its cost *without* new indexes: an index that takes a statement from
/// 45 to 20 after another took it from 16,000 to 45 halves nothing that matters.
pub const MIN_STATEMENT_SHARE: f64 = 0.5;
/// A candidate that makes another statement costlier is taken only when what it
/// saves is this many times what that statement loses.
pub const REGRESSION_MARGIN: f64 = 10.0;
/// A chosen multi-column index gives way to its leading key alone when that is at
/// most this share of its size (three quarters: with sizes worked out from
/// pg_stats, a leading key of 24 duplicates each is about half the size of the
/// pair with a second key of 7 values; HypoPG's sizes, which left the pair's
/// deduplication out, made it look a third) ...
pub const NARROW_MAX_SIZE_SHARE: f64 = 0.75;
/// ... and saves at least this share of what the wider one saves ...
pub const NARROW_MIN_SAVED_SHARE: f64 = 0.97;
/// ... and leaves no statement more than this many times costlier than the wider one does ...
pub const NARROW_MAX_COST_GROWTH: f64 = 1.25;
/// ... counting a statement only when the narrower index costs it at least this many
/// more planner units a call (about 25 random page reads).
pub const NARROW_MIN_EXTRA_COST: f64 = 100.0;
/// Time to maintain one btree entry on a write (insert, delete, non-HOT update):
/// about a microsecond when the page is cached. pg_stat_user_tables counts writes
/// since its own reset, which may be longer ago than pg_stat_statements'.
pub const INDEX_WRITE_MS: f64 = 0.001;

#[derive(Debug, Clone, Serialize)]
pub struct Chosen {
    pub index: IndexCandidate,
    pub statements: Vec<usize>,
    /// Workload time saved over the statistics period, before write costs.
    pub saved_ms: f64,
    /// Extra time writes spend maintaining it over the same period.
    pub write_ms: f64,
    pub size_bytes: u64,
    /// Per statement: cost before → after.
    pub costs: Vec<(usize, f64, f64)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Selection {
    pub chosen: Vec<Chosen>,
    /// Candidates the planner did not use enough to be worth it.
    pub rejected: Vec<(String, String)>,
    /// Statements (by position) the planner could not plan, with the server's reason.
    pub unplanned: Vec<(usize, String)>,
    pub planner_calls: usize,
}

/// The statement's time weight: measured, or a nominal one per call (see [`UNMEASURED_CALL_MS`]).
fn weight_ms(statement: &AnalyzedStatement) -> f64 {
    if statement.statement.total_ms > 0.0 {
        statement.statement.total_ms
    } else {
        statement.statement.calls.max(1.0) * UNMEASURED_CALL_MS
    }
}

/// Whether an evaluated candidate is worth creating, or why not.
/// `overlaps`: an index already chosen on the table leads with the same column, so
/// this one mostly repeats it; it must then halve a statement's cost on its own
/// (a share of the workload alone does not do: a wider twin always saves a little
/// more planner cost, at the price of its size).
/// `workload_ms` is the workload's time without new indexes (for `--min-saving`),
/// `remaining_ms` its estimated time with the indexes chosen so far.
fn worth_it(
    evaluation: &Evaluation,
    workload_ms: f64,
    remaining_ms: f64,
    limits: Limits,
    overlaps: Option<&str>,
) -> std::result::Result<(), String> {
    let net = evaluation.saved - evaluation.write_ms - evaluation.lost;
    if let Some(share) = limits.min_saved_share {
        return if net > 0.0 && net >= workload_ms * share {
            Ok(())
        } else {
            Err(format!(
                "saves too little for --min-saving ({:.1} ms net, {:.1}% of the workload)",
                net,
                net / workload_ms.max(f64::MIN_POSITIVE) * 100.0
            ))
        };
    }
    if evaluation.saved <= CLEAR_WIN_OVER_WRITES * evaluation.write_ms {
        return Err(format!(
            "saves too little for what writes would cost ({:.1} ms saved, {:.1} ms of writes)",
            evaluation.saved, evaluation.write_ms
        ));
    }
    let halves_a_statement = evaluation.best_statement_share >= MIN_STATEMENT_SHARE;
    if let Some(twin) = overlaps.filter(|_| !halves_a_statement) {
        return Err(format!(
            "{twin}, already chosen, leads with the same column, and beside it this one saves no statement half its cost ({:.1} ms more)",
            net
        ));
    }
    if net < remaining_ms * DEFAULT_MIN_SAVED_SHARE && !halves_a_statement {
        return Err(format!(
            "saves too little ({:.1} ms, {:.2}% of the workload's time with the indexes chosen before it, and no statement half its cost)",
            net,
            net / remaining_ms.max(f64::MIN_POSITIVE) * 100.0
        ));
    }
    Ok(())
}

/// Time writes would spend on this index over the statistics period.
pub fn write_cost_ms(index: &IndexCandidate, catalog: &Catalog) -> f64 {
    let Some(activity) = catalog.table(index.schema.as_deref(), &index.table).and_then(|t| t.activity.as_ref()) else { return 0.0 };
    let non_hot_updates = (activity.updates - activity.hot_updates).max(0);
    (activity.inserts + activity.deletes + non_hot_updates) as f64 * INDEX_WRITE_MS
}

/// Time the workload's own UPDATEs would lose if the index ends their HOT updates:
/// an index on a column an UPDATE sets makes every such update write an entry in
/// every index of the table, not just the new one.
pub fn hot_cost_ms(index: &IndexCandidate, catalog: &Catalog, updated: &UpdatedColumns) -> f64 {
    let Some(table) = catalog.table(index.schema.as_deref(), &index.table) else { return 0.0 };
    let Some(columns) = updated.get(&(table.schema.clone(), table.name.clone())) else { return 0.0 };
    let mut indexed: Vec<String> =
        index.keys.iter().filter_map(|k| k.column().map(str::to_string)).chain(index.include.iter().cloned()).collect();
    for key in &index.keys {
        if let Some(sql) = key.expression() {
            indexed.extend(columns.keys().filter(|c| sql.contains(c.as_str())).cloned());
        }
    }
    let calls: f64 = columns.iter().filter(|(column, _)| indexed.contains(column)).map(|(_, calls)| calls).sum();
    calls * (table.indexes.len() + 1) as f64 * INDEX_WRITE_MS
}

/// How candidates are ranked. With a --budget, bytes are what runs out: time
/// saved per byte. Without one, the count is what runs out, and a big index that
/// saves seconds must beat a small one that saves milliseconds: time saved.
/// (The benchmark harness showed per-byte ranking under a count limit trading the
/// workload's second-slowest query for a small one.) Both only shrink as indexes
/// are chosen, which the lazy greedy search relies on.
fn rank(net_ms: f64, size_bytes: u64, limits: Limits) -> f64 {
    match limits.budget_bytes {
        Some(_) => net_ms / size_bytes as f64,
        None => net_ms,
    }
}

/// Picks indexes greedily by time saved (per byte under a budget), within the limits.
pub async fn select<W: WhatIf>(
    oracle: &mut W,
    statements: &[AnalyzedStatement],
    candidates: &[WorkloadCandidate],
    catalog: &Catalog,
    updated: &UpdatedColumns,
    server_major: u32,
    limits: Limits,
) -> Result<Selection> {
    let mut selection = Selection::default();
    let involved: Vec<usize> = {
        let mut all: Vec<usize> = candidates.iter().flat_map(|c| c.statements.iter().copied()).collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let base = planned(oracle.costs(&[], &involved).await?, &involved, &mut selection.unplanned);
    selection.planner_calls += involved.len();
    // `involved` is sorted: a statement's costs are found by binary search, not a scan per lookup.
    let cost_of = |costs: &[Option<f64>], statement: usize| involved.binary_search(&statement).ok().and_then(|i| costs[i]);
    let base_of = |statement: usize| cost_of(&base, statement);
    let mut current: Vec<Option<f64>> = base.clone();
    let workload_ms: f64 = statements.iter().map(weight_ms).sum();

    let mut sizes = Vec::new();
    let mut open: Vec<bool> = vec![true; candidates.len()];
    for (i, candidate) in candidates.iter().enumerate() {
        match oracle.size(&candidate.index).await? {
            Ok(size) => sizes.push(corrected_size(size, &candidate.index, catalog, server_major).max(8192)),
            Err(why) => {
                sizes.push(0);
                open[i] = false;
                selection.rejected.push((candidate.index.name(), format!("PostgreSQL cannot build it: {why}")));
            }
        }
    }

    // Each candidate's last evaluation, and how many indexes were chosen when it was made.
    let mut evaluations: Vec<Option<Evaluation>> = vec![None; candidates.len()];
    // How many indexes were chosen when each statement's current cost was taken: a
    // chosen index may help a statement it was not generated for, so a statement's
    // cost is re-taken with the chosen indexes before a candidate is judged against it.
    let mut costed_at: Vec<usize> = vec![0; involved.len()];
    let mut used_bytes = 0u64;
    while selection.chosen.len() < limits.max_indexes {
        let score = |i: usize| evaluations[i].as_ref().map_or(f64::INFINITY, |e| e.score);
        let Some(top) = (0..candidates.len()).filter(|i| open[*i]).max_by(|a, b| score(*a).total_cmp(&score(*b)).then(b.cmp(a))) else {
            break;
        };
        let fresh = evaluations[top].as_ref().is_some_and(|e| e.generation == selection.chosen.len());
        if !fresh {
            let chosen: Vec<&IndexCandidate> = selection.chosen.iter().map(|c| &c.index).collect();
            let mut with = chosen.clone();
            with.push(&candidates[top].index);
            let statements_of = &candidates[top].statements;
            let stale: Vec<usize> = statements_of
                .iter()
                .copied()
                .filter(|s| involved.binary_search(s).is_ok_and(|i| costed_at[i] != selection.chosen.len() && current[i].is_some()))
                .collect();
            if !stale.is_empty() {
                let now = planned(oracle.costs(&chosen, &stale).await?, &stale, &mut selection.unplanned);
                selection.planner_calls += stale.len();
                for (statement, cost) in stale.iter().zip(now) {
                    let i = involved.binary_search(statement).expect("involved");
                    costed_at[i] = selection.chosen.len();
                    if let Some(cost) = cost {
                        current[i] = Some(cost.min(current[i].unwrap_or(cost)));
                    }
                }
            }
            let after = planned(oracle.costs(&with, statements_of).await?, statements_of, &mut selection.unplanned);
            selection.planner_calls += statements_of.len();
            let Judgement { saved, lost, best_statement_share, per_statement } =
                judge(statements_of, &after, statements, |s| cost_of(&current, s), base_of);
            let table_writes = if limits.count_writes { write_cost_ms(&candidates[top].index, catalog) } else { 0.0 };
            let write_ms = table_writes + hot_cost_ms(&candidates[top].index, catalog, updated);
            let score = rank(saved - write_ms - lost, sizes[top], limits);
            evaluations[top] =
                Some(Evaluation { score, generation: selection.chosen.len(), saved, lost, best_statement_share, write_ms, per_statement });
            // Savings only shrink as indexes are chosen: if it is still the best, it is
            // the best; and one that saves nothing now never will.
            if saved > 0.0 {
                continue;
            }
        }
        open[top] = false;
        let evaluation = evaluations[top].clone().expect("evaluated");
        // The workload's time now: each planned statement's weight scaled by its current cost.
        let remaining_ms: f64 = statements
            .iter()
            .enumerate()
            .map(|(s, statement)| {
                let scale = involved.binary_search(&s).ok().and_then(|i| Some((base[i]?, current[i]?)));
                match scale {
                    Some((base, now)) if base > 0.0 => weight_ms(statement) * (now / base).min(1.0),
                    _ => weight_ms(statement),
                }
            })
            .sum();
        let name = candidates[top].index.name();
        let verdict = if evaluation.saved <= 0.0 {
            Err(String::new())
        } else if evaluation.lost > 0.0 && evaluation.saved < REGRESSION_MARGIN * evaluation.lost {
            let (statement, before, new) = evaluation.per_statement.iter().find(|(_, before, new)| new > before).expect("a costlier plan");
            Err(format!(
                "makes statement {} costlier ({before:.0} → {new:.0}) for too small a saving elsewhere",
                super::report::shorten(&statements[*statement].statement.query, 60)
            ))
        } else {
            let leading = |index: &IndexCandidate| index.keys.first().and_then(|k| k.column().map(str::to_string));
            let twin = selection.chosen.iter().find(|c| {
                c.index.schema == candidates[top].index.schema
                    && c.index.table == candidates[top].index.table
                    && leading(&c.index).is_some()
                    && leading(&c.index) == leading(&candidates[top].index)
            });
            worth_it(&evaluation, workload_ms, remaining_ms, limits, twin.map(|c| c.index.name()).as_deref())
        };
        if let Err(too_little) = verdict {
            let unplanned = candidates[top].statements.iter().filter(|s| base_of(**s).is_none()).count();
            let why = if evaluation.saved <= 0.0 && unplanned == candidates[top].statements.len() {
                "none of its statements could be planned (see the statements not analyzed)".to_string()
            } else if evaluation.saved <= 0.0 && unplanned > 0 {
                format!(
                    "the planner does not use it for the statements it could plan ({unplanned} of {} could not be, see the statements not analyzed)",
                    candidates[top].statements.len()
                )
            } else if evaluation.saved <= 0.0 {
                "the planner does not use it for any statement".to_string()
            } else {
                too_little
            };
            selection.rejected.push((name, why));
            continue;
        }
        if let Some(budget) = limits.budget_bytes {
            if used_bytes + sizes[top] > budget {
                selection.rejected.push((name, "does not fit in the --budget".into()));
                continue;
            }
        }
        // The leading key alone, if it does (nearly) the same work and is clearly smaller.
        let mut index = candidates[top].index.clone();
        let mut evaluation = evaluation;
        let narrower = leading_key_only(&index).filter(|narrow| {
            // Never one that is there already, chosen or in the catalog.
            !selection.chosen.iter().any(|c| c.index.name() == narrow.name()) && super::index::served_by(narrow, catalog).is_none()
        });
        if let Some(narrow) = narrower {
            if let Ok(size) = oracle.size(&narrow).await? {
                let size = corrected_size(size, &narrow, catalog, server_major).max(8192);
                if narrow_is_smaller(size, sizes[top]) {
                    let statements_of = &candidates[top].statements;
                    let mut with: Vec<&IndexCandidate> = selection.chosen.iter().map(|c| &c.index).collect();
                    with.push(&narrow);
                    let after = planned(oracle.costs(&with, statements_of).await?, statements_of, &mut selection.unplanned);
                    selection.planner_calls += statements_of.len();
                    let judged = judge(statements_of, &after, statements, |s| cost_of(&current, s), base_of);
                    let costlier = costlier_with_narrow(&judged.per_statement, &evaluation.per_statement);
                    let does_the_work = narrow_will_do(judged.saved, size, evaluation.saved, sizes[top], costlier);
                    // The bar a new index must pass: the user's --min-saving of the
                    // workload's time, or by default a share of what is left with the narrower one.
                    let bar = match limits.min_saved_share {
                        Some(share) => WidthBar { min_extra_ms: share * workload_ms, halving_counts: false },
                        None => WidthBar { min_extra_ms: DEFAULT_MIN_SAVED_SHARE * (remaining_ms - judged.saved), halving_counts: true },
                    };
                    let width_pays = width_pays_for_itself(&judged.per_statement, &evaluation.per_statement, statements, base_of, bar);
                    if (does_the_work || !width_pays) && judged.lost <= evaluation.lost {
                        evaluation.saved = judged.saved;
                        evaluation.per_statement = judged.per_statement;
                        sizes[top] = size;
                        index = narrow;
                    }
                }
            }
        }
        used_bytes += sizes[top];
        for (statement, _, new) in &evaluation.per_statement {
            if let Ok(i) = involved.binary_search(statement) {
                current[i] = Some(*new);
                costed_at[i] = selection.chosen.len() + 1;
            }
        }
        selection.chosen.push(Chosen {
            index,
            statements: candidates[top].statements.clone(),
            saved_ms: evaluation.saved,
            write_ms: evaluation.write_ms,
            size_bytes: sizes[top],
            costs: evaluation.per_statement,
        });
    }
    for (i, still_open) in open.iter().enumerate() {
        if *still_open {
            selection.rejected.push((candidates[i].index.name(), format!("over --max-indexes {}", limits.max_indexes)));
        }
    }
    selection.rejected.sort();
    selection.unplanned.sort();
    selection.unplanned.dedup_by_key(|(statement, _)| *statement);
    Ok(selection)
}

/// What a candidate's costs mean for its statements, against their current costs.
struct Judgement {
    saved: f64,
    lost: f64,
    best_statement_share: f64,
    per_statement: Vec<(usize, f64, f64)>,
}

/// Time saved (and lost) by the statements `statements_of` at the costs `after`:
/// each statement's weight times the change of its cost, as a share of its cost
/// without new indexes.
fn judge(
    statements_of: &[usize],
    after: &[Option<f64>],
    statements: &[AnalyzedStatement],
    current: impl Fn(usize) -> Option<f64>,
    base: impl Fn(usize) -> Option<f64>,
) -> Judgement {
    let mut judgement = Judgement { saved: 0.0, lost: 0.0, best_statement_share: 0.0, per_statement: Vec::new() };
    for (statement, new) in statements_of.iter().zip(after) {
        let (Some(before), Some(new), Some(base)) = (current(*statement), *new, base(*statement)) else { continue };
        if base > 0.0 {
            // A plan that costs more with the index (the planner's own misjudgement,
            // or a worse plan shape elsewhere) counts against it.
            let change = weight_ms(&statements[*statement]) * (before - new) / base;
            if change > 0.0 {
                judgement.saved += change;
                judgement.best_statement_share = judgement.best_statement_share.max((before - new) / base);
            } else {
                judgement.lost -= change;
            }
        }
        judgement.per_statement.push((*statement, before, new));
    }
    judgement
}

/// The index on the leading key alone, when a wider one was chosen: with
/// deduplication it is often a fraction of the size, and a join or a sort the
/// later keys were for may not need them after all.
pub fn leading_key_only(index: &IndexCandidate) -> Option<IndexCandidate> {
    (index.keys.len() > 1 && index.include.is_empty()).then(|| IndexCandidate { keys: index.keys[..1].to_vec(), ..index.clone() })
}

/// Whether the narrower index is small enough to be worth trying: at most
/// [`NARROW_MAX_SIZE_SHARE`] of the wider one's size.
pub fn narrow_is_smaller(narrow_bytes: u64, wide_bytes: u64) -> bool {
    (narrow_bytes as f64) <= NARROW_MAX_SIZE_SHARE * wide_bytes as f64
}

/// Whether the narrower index does the wider one's work: smaller (see
/// [`narrow_is_smaller`]), at least [`NARROW_MIN_SAVED_SHARE`] of its saving, and
/// no statement left more than [`NARROW_MAX_COST_GROWTH`] times costlier than with
/// the wider one (`costlier`: the largest such ratio). The saving alone cannot
/// tell: once an index takes a statement from 80M to 180k, a wider one that goes
/// on to 30k adds a fraction of a percent to the saving, and the statement still
/// runs six times faster with it.
pub fn narrow_will_do(narrow_saved: f64, narrow_bytes: u64, wide_saved: f64, wide_bytes: u64, costlier: f64) -> bool {
    narrow_is_smaller(narrow_bytes, wide_bytes) && narrow_saved >= NARROW_MIN_SAVED_SHARE * wide_saved && costlier <= NARROW_MAX_COST_GROWTH
}

/// What a wider index's extra keys must save beyond its leading key alone: the
/// bar [`worth_it`] sets a new index.
#[derive(Debug, Clone, Copy)]
pub struct WidthBar {
    /// By default [`DEFAULT_MIN_SAVED_SHARE`] of the workload's time left with the
    /// narrower index; with `--min-saving`, that share of the workload's time.
    pub min_extra_ms: f64,
    /// By default halving some statement's cost without new indexes also pays.
    pub halving_counts: bool,
}

/// Whether the wider index's extra keys are worth having on top of its leading key
/// alone, judged as [`worth_it`] judges a new index (see [`WidthBar`]).
///
/// [`narrow_will_do`] asks whether the narrower index does each statement's work;
/// this asks whether the rest of the work matters to the workload. They differ when
/// the narrower index already takes a statement from 80M to 160k and the wider one
/// goes on to 18k: ten times cheaper for that statement, a few hundredths of a
/// percent of a workload of other statements, and twice the storage (the analytic
/// benchmark's `(o_custkey, o_totalprice)` beside `(o_custkey)`, 31 MB against 7).
/// Alone, the statement is all of its workload, and the extra keys pay.
pub fn width_pays_for_itself(
    narrow: &[(usize, f64, f64)],
    wide: &[(usize, f64, f64)],
    statements: &[AnalyzedStatement],
    base: impl Fn(usize) -> Option<f64>,
    bar: WidthBar,
) -> bool {
    let mut extra_saved = 0.0;
    let mut halves_a_statement = false;
    for (statement, _, narrow_after) in narrow {
        let Some((_, _, wide_after)) = wide.iter().find(|(s, _, _)| s == statement) else { continue };
        let Some(base) = base(*statement).filter(|b| *b > 0.0) else { continue };
        extra_saved += weight_ms(&statements[*statement]) * (narrow_after - wide_after) / base;
        halves_a_statement |= (narrow_after - wide_after) / base >= MIN_STATEMENT_SHARE;
    }
    (bar.halving_counts && halves_a_statement) || (extra_saved > 0.0 && extra_saved >= bar.min_extra_ms)
}

/// The most a statement's cost with the narrower index exceeds its cost with the
/// wider one, as a ratio (1.0: none costs more), counting only statements where the
/// difference is at least [`NARROW_MIN_EXTRA_COST`]: a lookup that costs 12 instead
/// of 8 is a few heap pages, not worth twice the index. Per statement: (statement, before, after).
pub fn costlier_with_narrow(narrow: &[(usize, f64, f64)], wide: &[(usize, f64, f64)]) -> f64 {
    narrow
        .iter()
        .filter_map(|(statement, _, narrow_after)| {
            let (_, _, wide_after) = wide.iter().find(|(s, _, _)| s == statement)?;
            Some(narrow_cost_ratio(*narrow_after, *wide_after))
        })
        .fold(1.0, f64::max)
}

/// One statement's cost with the narrower index over its cost with the wider one,
/// 1.0 when the difference is under [`NARROW_MIN_EXTRA_COST`].
pub fn narrow_cost_ratio(narrow_after: f64, wide_after: f64) -> f64 {
    if narrow_after - wide_after < NARROW_MIN_EXTRA_COST || wide_after <= 0.0 {
        1.0
    } else {
        narrow_after / wide_after
    }
}

/// The costs that came back, with each failure's reason kept for the report.
fn planned(results: Vec<Planned>, statements: &[usize], unplanned: &mut Vec<(usize, String)>) -> Vec<Option<f64>> {
    results.into_iter().zip(statements).map(|(result, statement)| result.map_err(|why| unplanned.push((*statement, why))).ok()).collect()
}

#[derive(Debug, Clone)]
struct Evaluation {
    /// Net time saved (per byte under a budget): see rank().
    score: f64,
    /// How many indexes were chosen when it was costed.
    generation: usize,
    saved: f64,
    /// Time the statements it makes costlier would lose.
    lost: f64,
    /// The largest share of one statement's cost without new indexes that it saves.
    best_statement_share: f64,
    write_ms: f64,
    per_statement: Vec<(usize, f64, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::index::IndexKey;
    use crate::workload::WorkloadStatement;

    /// A planner that knows which index helps which statement, and by how much.
    struct Table {
        /// (index name, statement, cost with that index)
        effects: Vec<(&'static str, usize, f64)>,
        base: f64,
        /// Statements the server cannot plan.
        unplannable: Vec<usize>,
        /// Sizes by index name; 1 MiB for the others.
        sizes: Vec<(&'static str, u64)>,
    }

    impl WhatIf for Table {
        async fn costs(&mut self, indexes: &[&IndexCandidate], statements: &[usize]) -> Result<Vec<Planned>> {
            Ok(statements
                .iter()
                .map(|s| {
                    let best = indexes
                        .iter()
                        .filter_map(|i| self.effects.iter().find(|(name, st, _)| *name == i.name() && st == s).map(|e| e.2))
                        .fold(None, |best: Option<f64>, cost| Some(best.map_or(cost, |b| b.min(cost))))
                        .unwrap_or(self.base);
                    if self.unplannable.contains(s) {
                        Err(format!("syntax error in statement {s}"))
                    } else {
                        Ok(best)
                    }
                })
                .collect())
        }
        async fn size(&mut self, index: &IndexCandidate) -> Result<std::result::Result<u64, String>> {
            Ok(if index.name() == "t_broken_idx" {
                Err("functions in index expression must be marked IMMUTABLE".into())
            } else {
                Ok(self.sizes.iter().find(|(name, _)| *name == index.name()).map_or(1 << 20, |(_, size)| *size))
            })
        }
    }

    fn candidate(column: &str, statements: Vec<usize>) -> WorkloadCandidate {
        WorkloadCandidate {
            index: IndexCandidate {
                schema: None,
                table: "t".into(),
                keys: vec![IndexKey::Column { name: column.into(), direction: String::new() }],
                include: vec![],
                predicate: None,
                node: None,
                reason: String::new(),
            },
            statements,
        }
    }

    fn statement(total_ms: f64) -> AnalyzedStatement {
        AnalyzedStatement {
            statement: WorkloadStatement {
                query: String::new(),
                calls: 1.0,
                total_ms,
                rows: 1.0,
                shared_hit: 0.0,
                shared_read: 0.0,
                source: String::new(),
            },
            skipped: None,
            aggregation: None,
            key_lookup: false,
            parameters: 0,
            written: None,
            assumed: None,
        }
    }

    fn run(oracle: &mut Table, candidates: &[WorkloadCandidate], limits: Limits) -> Selection {
        run_on(oracle, &[statement(1000.0), statement(500.0), statement(10.0)], candidates, limits)
    }

    #[test]
    fn picks_by_time_saved_and_skips_what_adds_nothing() {
        // a helps statement 0 a lot; b helps 1; c helps 0 too, but after a, nothing more.
        let mut oracle = Table {
            effects: vec![("t_a_idx", 0, 10.0), ("t_b_idx", 1, 50.0), ("t_c_idx", 0, 20.0), ("t_d_idx", 2, 100.0)],
            base: 100.0,
            unplannable: vec![],
            sizes: vec![],
        };
        let candidates = vec![
            candidate("a", vec![0]),
            candidate("b", vec![1]),
            candidate("c", vec![0]),
            candidate("d", vec![2]),
            candidate("broken", vec![0]),
        ];
        let selection =
            run(&mut oracle, &candidates, Limits { max_indexes: 10, budget_bytes: None, min_saved_share: Some(0.01), count_writes: true });
        let names: Vec<String> = selection.chosen.iter().map(|c| c.index.name()).collect();
        assert_eq!(names, vec!["t_a_idx", "t_b_idx"]);
        assert!((selection.chosen[0].saved_ms - 900.0).abs() < 1e-9);
        let rejected: Vec<&str> = selection.rejected.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(rejected, vec!["t_broken_idx", "t_c_idx", "t_d_idx"], "one PostgreSQL cannot build is left out, not fatal");
        assert!(selection.planner_calls <= 3 + 4 + 3, "lazy greedy re-costs little: {}", selection.planner_calls);
    }

    #[test]
    fn a_statement_that_cannot_be_planned_is_listed_and_never_blamed_on_the_index() {
        // Statement 1 cannot be planned: b helps only it, so b is not "unused", it is unproven.
        let mut oracle =
            Table { effects: vec![("t_a_idx", 0, 10.0), ("t_b_idx", 1, 50.0)], base: 100.0, unplannable: vec![1], sizes: vec![] };
        let candidates = vec![candidate("a", vec![0]), candidate("b", vec![1])];
        let selection =
            run(&mut oracle, &candidates, Limits { max_indexes: 10, budget_bytes: None, min_saved_share: Some(0.0), count_writes: true });
        assert_eq!(selection.unplanned, vec![(1, "syntax error in statement 1".to_string())]);
        let (name, why) = &selection.rejected[0];
        assert_eq!(name, "t_b_idx");
        assert!(why.starts_with("none of its statements could be planned"), "{why}");
        assert!(!why.contains("does not use it"), "{why}");
    }

    fn run_on(oracle: &mut Table, statements: &[AnalyzedStatement], candidates: &[WorkloadCandidate], limits: Limits) -> Selection {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(select(oracle, statements, candidates, &Catalog::default(), &UpdatedColumns::new(), 15, limits)).unwrap()
    }

    const DEFAULTS: Limits = Limits { max_indexes: usize::MAX, budget_bytes: None, min_saved_share: None, count_writes: true };

    #[test]
    fn by_default_a_lookup_that_becomes_ten_times_faster_is_worth_its_index() {
        // Statement 1 is 0.2% of the workload, and the index makes it 10x cheaper.
        let candidates = vec![candidate("a", vec![0]), candidate("b", vec![1])];
        let statements = vec![statement(10_000.0), statement(20.0)];
        let oracle =
            || Table { effects: vec![("t_a_idx", 0, 10.0), ("t_b_idx", 1, 10.0)], base: 100.0, unplannable: vec![], sizes: vec![] };
        let chosen =
            |limits| run_on(&mut oracle(), &statements, &candidates, limits).chosen.iter().map(|c| c.index.name()).collect::<Vec<_>>();
        assert_eq!(chosen(DEFAULTS), ["t_a_idx", "t_b_idx"]);
        assert_eq!(chosen(Limits { min_saved_share: Some(0.01), ..DEFAULTS }), ["t_a_idx"], "--min-saving 1 is the user's rule");
        // A small saving that no statement feels stays out.
        let mut marginal = Table { effects: vec![("t_b_idx", 1, 95.0)], base: 100.0, unplannable: vec![], sizes: vec![] };
        let selection = run_on(&mut marginal, &statements, &candidates[1..], DEFAULTS);
        assert!(selection.chosen.is_empty());
        assert!(selection.rejected[0].1.starts_with("saves too little"), "{:?}", selection.rejected);
    }

    #[test]
    fn a_wider_twin_of_a_chosen_index_must_save_half_a_statement_on_its_own() {
        // t_a_idx is chosen first (statement 0 weighs most) and takes statement 1
        // from 100 to 90. Beside it, (a, b) takes statement 1 on to 50: 40% of its
        // cost without new indexes, a large share of the workload, but not half a
        // statement's cost.
        let mut wide = candidate("a", vec![0, 1]);
        wide.index.keys.push(IndexKey::Column { name: "b".into(), direction: String::new() });
        let candidates = vec![candidate("a", vec![0, 1]), wide];
        let statements = vec![statement(10_000.0), statement(1000.0)];
        let effects =
            |wide_on_1: f64| vec![("t_a_idx", 0, 10.0), ("t_a_idx", 1, 90.0), ("t_a_b_idx", 0, 20.0), ("t_a_b_idx", 1, wide_on_1)];
        let mut oracle = Table { effects: effects(50.0), base: 100.0, unplannable: vec![], sizes: vec![] };
        let selection = run_on(&mut oracle, &statements, &candidates, DEFAULTS);
        assert_eq!(selection.chosen.iter().map(|c| c.index.name()).collect::<Vec<_>>(), ["t_a_idx"]);
        assert!(selection.rejected[0].1.starts_with("t_a_idx, already chosen, leads with the same column"), "{:?}", selection.rejected);
        // Taking statement 1 on to 20 saves 70% of its cost: worth its width.
        let mut oracle = Table { effects: effects(20.0), base: 100.0, unplannable: vec![], sizes: vec![] };
        assert_eq!(run_on(&mut oracle, &statements, &candidates, DEFAULTS).chosen.len(), 2);
    }

    #[test]
    fn a_chosen_index_that_helps_other_statements_is_counted_before_the_next_candidate() {
        // (a) was generated for statement 0 but helps statement 1 too (100 -> 10).
        // (b), for statement 1 alone, takes it to 9.8: judged against 10, not 100,
        // it saves 2 ms of the 600 the workload takes with (a): under 0.5%.
        let candidates = vec![candidate("a", vec![0]), candidate("b", vec![1])];
        let statements = vec![statement(10_000.0), statement(1000.0)];
        let mut oracle = Table {
            effects: vec![("t_a_idx", 0, 5.0), ("t_a_idx", 1, 10.0), ("t_b_idx", 1, 9.8)],
            base: 100.0,
            unplannable: vec![],
            sizes: vec![],
        };
        let selection = run_on(&mut oracle, &statements, &candidates, DEFAULTS);
        assert_eq!(selection.chosen.iter().map(|c| c.index.name()).collect::<Vec<_>>(), ["t_a_idx"], "{:?}", selection.rejected);
        // Taking it to 8 saves 20 ms of those 600: worth an index, though a sliver of
        // the 11,000 ms the workload took before.
        let mut oracle = Table {
            effects: vec![("t_a_idx", 0, 5.0), ("t_a_idx", 1, 10.0), ("t_b_idx", 1, 8.0)],
            base: 100.0,
            unplannable: vec![],
            sizes: vec![],
        };
        assert_eq!(run_on(&mut oracle, &statements, &candidates, DEFAULTS).chosen.len(), 2);
    }

    #[test]
    fn the_leading_key_alone_replaces_a_wider_index_that_does_no_more() {
        // (a, b) takes statement 0 from 100 to 10; (a) alone, a third of the size, to 10.2.
        let mut wide = candidate("a", vec![0]);
        wide.index.keys.push(IndexKey::Column { name: "b".into(), direction: String::new() });
        let statements = vec![statement(1000.0)];
        let oracle = |narrow_cost: f64| Table {
            effects: vec![("t_a_b_idx", 0, 10.0), ("t_a_idx", 0, narrow_cost)],
            base: 100.0,
            unplannable: vec![],
            sizes: vec![("t_a_b_idx", 3 << 20), ("t_a_idx", 1 << 20)],
        };
        let chosen = |narrow_cost| {
            let selection = run_on(&mut oracle(narrow_cost), &statements, std::slice::from_ref(&wide), DEFAULTS);
            selection.chosen.iter().map(|c| (c.index.name(), c.size_bytes)).collect::<Vec<_>>()
        };
        assert_eq!(chosen(10.2), [("t_a_idx".to_string(), 1 << 20)]);
        // When the second key does real work, it stays.
        assert_eq!(chosen(40.0), [("t_a_b_idx".to_string(), 3 << 20)]);
    }

    #[test]
    fn extra_keys_that_matter_to_one_statement_but_not_to_the_workload_give_way() {
        // The analytic benchmark's q04: (a) takes it from 80M to 160k, (a, b) on to
        // 18k at four times the size. Statements without times weigh alike.
        let mut wide = candidate("a", vec![0]);
        wide.index.keys.push(IndexKey::Column { name: "b".into(), direction: String::new() });
        let oracle = || Table {
            effects: vec![("t_a_b_idx", 0, 18e3), ("t_a_idx", 0, 160e3)],
            base: 80e6,
            unplannable: vec![],
            sizes: vec![("t_a_b_idx", 31 << 20), ("t_a_idx", 8 << 20)],
        };
        let chosen = |statements: &[AnalyzedStatement]| {
            let selection = run_on(&mut oracle(), statements, std::slice::from_ref(&wide), DEFAULTS);
            selection.chosen.iter().map(|c| c.index.name()).collect::<Vec<_>>()
        };
        // Beside 13 other statements still at their cost, the extra 0.2% of one
        // statement is 0.01% of the workload: the leading key alone.
        assert_eq!(chosen(&vec![statement(0.0); 14]), ["t_a_idx"]);
        // Alone, the statement is the whole workload, and ten times cheaper is worth the width.
        assert_eq!(chosen(&[statement(0.0)]), ["t_a_b_idx"]);
    }

    #[test]
    fn width_pays_when_its_extra_saving_would_be_worth_an_index() {
        let statements = vec![statement(0.0), statement(0.0)];
        let base = |_| Some(1000.0);
        let wide = [(0, 1000.0, 10.0), (1, 1000.0, 500.0)];
        let default = |left_ms: f64| WidthBar { min_extra_ms: DEFAULT_MIN_SAVED_SHARE * left_ms, halving_counts: true };
        // 400 units of 1000 saved on statement 1 beyond the narrower index: 0.4 ms of a nominal 1.
        assert!(width_pays_for_itself(&[(0, 1000.0, 10.0), (1, 1000.0, 900.0)], &wide, &statements, base, default(0.91)));
        // 1 unit of 1000 beyond it, when the workload has 100 ms left: 0.001 ms does not pay.
        assert!(!width_pays_for_itself(&[(0, 1000.0, 10.0), (1, 1000.0, 501.0)], &wide, &statements, base, default(100.0)));
        // Halving a statement pays whatever the workload ...
        assert!(width_pays_for_itself(&[(0, 1000.0, 10.0), (1, 1000.0, 1000.0)], &wide, &statements, base, default(1e9)));
        // ... but not under --min-saving, whose share of the workload is the only bar,
        let min_saving = |ms: f64| WidthBar { min_extra_ms: ms, halving_counts: false };
        assert!(!width_pays_for_itself(&[(0, 1000.0, 10.0), (1, 1000.0, 1000.0)], &wide, &statements, base, min_saving(1e9)));
        // and --min-saving 0 takes any saving at all.
        assert!(width_pays_for_itself(&[(0, 1000.0, 10.0), (1, 1000.0, 501.0)], &wide, &statements, base, min_saving(0.0)));
        assert!(!width_pays_for_itself(&wide, &wide, &statements, base, min_saving(0.0)), "nothing saved pays nothing");
    }

    #[test]
    fn halving_counts_against_the_cost_without_new_indexes() {
        // (a) is chosen first: it takes the heavy statement 1 from 100 to 50 and the
        // light statement 0 from 100 to 4. (b) then takes statement 0 on from 4 to 1:
        // four times cheaper than just before, but 3% of what it cost without
        // indexes, and a sliver of the workload.
        let candidates = vec![candidate("a", vec![0, 1]), candidate("b", vec![0])];
        let statements = vec![statement(10.0), statement(100_000.0)];
        let mut oracle = Table {
            effects: vec![("t_a_idx", 0, 4.0), ("t_a_idx", 1, 50.0), ("t_b_idx", 0, 1.0)],
            base: 100.0,
            unplannable: vec![],
            sizes: vec![],
        };
        let selection = run_on(&mut oracle, &statements, &candidates, DEFAULTS);
        assert_eq!(selection.chosen.iter().map(|c| c.index.name()).collect::<Vec<_>>(), ["t_a_idx"]);
        assert!(selection.rejected[0].1.contains("no statement half its cost"), "{:?}", selection.rejected);
    }

    #[test]
    fn an_index_that_makes_another_statement_costlier_needs_a_large_saving() {
        let candidates = vec![candidate("r", vec![0, 1])];
        let mut statements = vec![statement(1000.0), statement(1000.0)];
        statements[1].statement.query = "SELECT * FROM t WHERE r > $1".into();
        let mut oracle =
            Table { effects: vec![("t_r_idx", 0, 80.0), ("t_r_idx", 1, 150.0)], base: 100.0, unplannable: vec![], sizes: vec![] };
        let selection = run_on(&mut oracle, &statements, &candidates, DEFAULTS);
        assert!(selection.chosen.is_empty());
        assert!(
            selection.rejected[0].1.contains("makes statement SELECT * FROM t WHERE r > $1 costlier (100 → 150)"),
            "{:?}",
            selection.rejected
        );
        // Saving far more than the loss, it is taken.
        let mut oracle =
            Table { effects: vec![("t_r_idx", 0, 1.0), ("t_r_idx", 1, 101.0)], base: 100.0, unplannable: vec![], sizes: vec![] };
        assert_eq!(run_on(&mut oracle, &statements, &candidates, DEFAULTS).chosen.len(), 1);
    }

    #[test]
    fn statements_without_times_weigh_the_same_whatever_their_planner_cost() {
        // From SQL files: no times. Statement 0's plan costs a million times more;
        // an index that halves statement 1 still counts (it was "saves too little" when
        // weights came from raw cost).
        let candidates = vec![candidate("b", vec![1])];
        let statements = vec![statement(0.0), statement(0.0)];
        struct Skewed(Table);
        impl WhatIf for Skewed {
            async fn costs(&mut self, indexes: &[&IndexCandidate], statements: &[usize]) -> Result<Vec<Planned>> {
                let costs = self.0.costs(indexes, statements).await?;
                Ok(costs.into_iter().zip(statements).map(|(c, s)| if *s == 0 { Ok(1e8) } else { c }).collect())
            }
            async fn size(&mut self, index: &IndexCandidate) -> Result<std::result::Result<u64, String>> {
                self.0.size(index).await
            }
        }
        let mut oracle = Skewed(Table { effects: vec![("t_b_idx", 1, 40.0)], base: 100.0, unplannable: vec![], sizes: vec![] });
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let selection = runtime
            .block_on(select(&mut oracle, &statements, &candidates, &Catalog::default(), &UpdatedColumns::new(), 15, DEFAULTS))
            .unwrap();
        assert_eq!(selection.chosen.len(), 1, "{:?}", selection.rejected);
        assert!((selection.chosen[0].saved_ms - 0.6 * UNMEASURED_CALL_MS).abs() < 1e-9);
    }

    #[test]
    fn stops_at_the_limits() {
        let mut oracle =
            Table { effects: vec![("t_a_idx", 0, 10.0), ("t_b_idx", 1, 50.0)], base: 100.0, unplannable: vec![], sizes: vec![] };
        let candidates = vec![candidate("a", vec![0]), candidate("b", vec![1])];
        let one =
            run(&mut oracle, &candidates, Limits { max_indexes: 1, budget_bytes: None, min_saved_share: Some(0.0), count_writes: true });
        assert_eq!(one.chosen.len(), 1);
        assert_eq!(one.rejected, vec![("t_b_idx".to_string(), "over --max-indexes 1".to_string())]);
        let small = run(
            &mut oracle,
            &candidates,
            Limits { max_indexes: 5, budget_bytes: Some(1 << 20), min_saved_share: Some(0.0), count_writes: true },
        );
        assert_eq!(small.chosen.len(), 1);
    }

    #[test]
    fn ranks_by_time_saved_under_a_count_and_per_byte_under_a_budget() {
        // a saves 900 ms with a 4 MiB index; b saves 500 ms with a 1 MiB one.
        struct Sized(Table);
        impl WhatIf for Sized {
            async fn costs(&mut self, indexes: &[&IndexCandidate], statements: &[usize]) -> Result<Vec<Planned>> {
                self.0.costs(indexes, statements).await
            }
            async fn size(&mut self, index: &IndexCandidate) -> Result<std::result::Result<u64, String>> {
                Ok(Ok(if index.name() == "t_a_idx" { 4 << 20 } else { 1 << 20 }))
            }
        }
        let candidates = vec![candidate("a", vec![0]), candidate("b", vec![1])];
        let statements = vec![statement(1000.0), statement(1000.0)];
        let choose = |budget_bytes: Option<u64>| {
            let mut oracle =
                Sized(Table { effects: vec![("t_a_idx", 0, 10.0), ("t_b_idx", 1, 50.0)], base: 100.0, unplannable: vec![], sizes: vec![] });
            let limits = Limits { max_indexes: 1, budget_bytes, min_saved_share: Some(0.0), count_writes: true };
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let selection = runtime
                .block_on(select(&mut oracle, &statements, &candidates, &Catalog::default(), &UpdatedColumns::new(), 15, limits))
                .unwrap();
            selection.chosen[0].index.name()
        };
        assert_eq!(choose(None), "t_a_idx");
        assert_eq!(choose(Some(100 << 20)), "t_b_idx");
    }

    #[test]
    fn an_index_on_an_updated_column_pays_for_the_hot_updates_it_ends() {
        use crate::catalog::Table;
        let table = Table::new("public", "t", 1e6);
        let catalog = Catalog { tables: vec![table], ..Catalog::default() };
        let mut updated = UpdatedColumns::new();
        updated.entry(("public".into(), "t".into())).or_default().insert("b".into(), 10_000.0);
        let on = |column: &str| IndexCandidate { schema: Some("public".into()), ..candidate(column, vec![]).index };
        assert_eq!(hot_cost_ms(&on("a"), &catalog, &updated), 0.0);
        assert!((hot_cost_ms(&on("b"), &catalog, &updated) - 10_000.0 * INDEX_WRITE_MS).abs() < 1e-9);
    }

    #[test]
    fn a_narrower_index_will_not_do_when_it_leaves_a_statement_much_costlier() {
        // 80M → 180k with the leading key, → 30k with both: 99.8% of the saving, six times the cost.
        let narrow = [(0, 80e6, 180e3), (1, 100.0, 10.0)];
        let wide = [(0, 80e6, 30e3), (1, 100.0, 10.0)];
        let costlier = costlier_with_narrow(&narrow, &wide);
        assert!((costlier - 6.0).abs() < 1e-9, "{costlier}");
        assert!(!narrow_will_do(80e6 - 180e3, 10 << 20, 80e6 - 30e3, 30 << 20, costlier));
        // The same plans, nearly: the smaller one does.
        let close = [(0, 80e6, 31e3), (1, 100.0, 10.0)];
        let costlier = costlier_with_narrow(&close, &wide);
        assert!(narrow_will_do(80e6 - 31e3, 10 << 20, 80e6 - 30e3, 30 << 20, costlier), "{costlier}");
        // A few pages more for a lookup: not counted.
        assert_eq!(costlier_with_narrow(&[(0, 1000.0, 12.0)], &[(0, 1000.0, 8.0)]), 1.0);
        // Not much smaller: the wider one stays whatever the costs.
        assert!(!narrow_will_do(80e6 - 30e3, 25 << 20, 80e6 - 30e3, 30 << 20, 1.0));
        assert!(narrow_will_do(80e6 - 30e3, 22 << 20, 80e6 - 30e3, 30 << 20, 1.0), "three quarters of the size or less");
    }
}
