//! From a workload and a catalog to index candidates (each with the statements
//! it could help), plus the statements left out and why. Pure: the planner's
//! verdict comes later, from `select`.

use super::index::{self, served_by, Access, IndexCandidate, IndexKey};
use super::statement::{analyze, Aggregation, ParameterRole, Skipped, StatementShape, Write};
use super::values;
use crate::catalog::Catalog;
use crate::sql::predicate::{Comparison, Operand, Operator, Target};
use crate::sql::quote::{quote_ident, quote_literal};
use crate::workload::{Workload, WorkloadStatement};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Tables with fewer rows than this are read whole faster than through an index.
pub const MIN_TABLE_ROWS: f64 = 1_000.0;

/// A statement of the workload and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzedStatement {
    pub statement: WorkloadStatement,
    /// `None` when analyzed; else why not.
    pub skipped: Option<Skipped>,
    #[serde(skip)]
    pub aggregation: Option<Aggregation>,
    #[serde(skip)]
    pub key_lookup: bool,
    /// The highest `$n` placeholder, for planning it as a generic plan.
    #[serde(skip)]
    pub parameters: usize,
    /// The table an INSERT, UPDATE or DELETE writes, and how.
    #[serde(skip)]
    pub written: Option<(Write, (String, String))>,
    /// Values for its `$n` from the columns' statistics, to plan it as a call would
    /// run (advise::values); `None`: planned as a generic plan.
    #[serde(skip)]
    pub assumed: Option<Vec<crate::advise::values::Assumed>>,
}

/// An index candidate and the statements (indexes into the analyzed list) it could help.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadCandidate {
    pub index: IndexCandidate,
    pub statements: Vec<usize>,
}

impl Analysis {
    /// The workload's time, without what is left out by rule (utility statements,
    /// system catalogs, and DO blocks whose statements are counted on their own).
    pub fn workload_ms(&self) -> f64 {
        self.statements
            .iter()
            .filter(|s| !matches!(s.skipped, Some(Skipped::Utility | Skipped::SystemCatalog)))
            .map(|s| s.statement.total_ms)
            .sum()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub statements: Vec<AnalyzedStatement>,
    pub candidates: Vec<WorkloadCandidate>,
    /// Candidates an existing index already serves, with its name.
    pub already_served: Vec<(String, String)>,
    /// Calls of the workload's UPDATEs per (schema, table) and column they set.
    pub updated: UpdatedColumns,
}

/// (schema, table) → column → calls of UPDATEs that set it.
pub type UpdatedColumns = BTreeMap<(String, String), BTreeMap<String, f64>>;

/// Analyzes every statement and collects candidates, merged across statements.
/// Takes the workload: each statement moves into its analyzed entry, so a big
/// export's texts are held once.
pub fn analyze_workload(mut workload: Workload, catalog: &Catalog) -> Analysis {
    let mut analysis = Analysis::default();
    let mut found = Found { observed: std::mem::take(&mut workload.observed), ..Found::default() };
    let mut slots: Vec<Option<AnalyzedStatement>> = Vec::with_capacity(workload.statements.len());
    // Statements with equalities on constants wait until it is known which constants
    // recur; the others are done at once, so a big workload's parsed shapes are not
    // all held in memory together.
    let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    // Per (schema, table, column), the constants it is compared with.
    let mut values: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    let mut deferred: Vec<(usize, WorkloadStatement, StatementShape)> = Vec::new();
    for (position, statement) in workload.statements.into_iter().enumerate() {
        slots.push(None);
        match analyze(&statement.query, catalog) {
            Err(skipped) => {
                slots[position] = Some(AnalyzedStatement {
                    statement,
                    skipped: Some(skipped),
                    aggregation: None,
                    key_lookup: false,
                    parameters: 0,
                    written: None,
                    assumed: None,
                });
            }
            Ok(mut shape) => {
                fix_observed_constants(&mut shape, found.observed.for_query(&statement.query), catalog);
                let constants = constant_equalities(&shape);
                for (schema, table, column, sql) in &constants {
                    *counts.entry((schema.clone(), table.clone(), sql.clone())).or_default() += 1;
                    values.entry((schema.clone(), table.clone(), column.clone())).or_default().insert(sql.clone());
                }
                if constants.is_empty() {
                    slots[position] = Some(found.add(position, statement, shape, catalog, &Recurring::new()));
                } else {
                    deferred.push((position, statement, shape));
                }
            }
        }
    }
    let mut recurring = Recurring::new();
    let only_constants: BTreeSet<(String, String, String)> = values
        .into_iter()
        .filter(|((schema, table, column), constants)| constants.len() == 1 && is_label(catalog, schema, table, column))
        .map(|((schema, table, _), constants)| (schema, table, constants.into_iter().next().expect("one")))
        .collect();
    for ((schema, table, sql), count) in counts {
        if count >= 2 || only_constants.contains(&(schema.clone(), table.clone(), sql.clone())) {
            recurring.entry((schema, table)).or_default().push(sql);
        }
    }
    for (position, statement, shape) in deferred {
        slots[position] = Some(found.add(position, statement, shape, catalog, &recurring));
    }
    analysis.statements = slots.into_iter().map(|s| s.expect("every statement analyzed")).collect();

    let mut candidates: Vec<WorkloadCandidate> = found.by_name.into_values().collect();
    merge_prefixes(&mut candidates);
    share_pattern_keys(&mut candidates);
    for candidate in &mut candidates {
        candidate.statements.sort_unstable();
        candidate.statements.dedup();
        candidate.index.reason = format!("{} statement(s) on {}", candidate.statements.len(), candidate.index.table);
    }
    analysis.already_served = found.served.into_iter().collect();
    analysis.updated = found.updated;
    analysis.candidates = candidates;
    analysis
}

/// (schema, table) → equalities on constants (by their SQL) that are fixed
/// conditions, fit for a partial index: those in at least two statements on that
/// table, and those on a column the workload compares with no other constant
/// (`o_orderstatus = 'P'` in one report of a SQL file). A column compared with
/// several constants, each once (a log's lookups), is a lookup, not a condition.
type Recurring = BTreeMap<(String, String), Vec<String>>;

/// What the statements have contributed so far.
#[derive(Default)]
struct Found {
    /// Constants pg_qualstats saw, for the values the statements are planned with.
    observed: crate::workload::ObservedValues,
    by_name: BTreeMap<String, WorkloadCandidate>,
    served: BTreeSet<(String, String)>,
    updated: UpdatedColumns,
}

impl Found {
    /// Adds a statement's candidates and updated columns; returns its analyzed entry.
    fn add(
        &mut self,
        position: usize,
        statement: WorkloadStatement,
        shape: StatementShape,
        catalog: &Catalog,
        recurring: &Recurring,
    ) -> AnalyzedStatement {
        let single = shape.reads.len() == 1;
        for read in &shape.reads {
            let Some(table) = catalog.table(read.schema.as_deref(), &read.table) else { continue };
            if table.estimated_rows() < MIN_TABLE_ROWS {
                continue;
            }
            let mut access: Access = read.clone();
            if single && statement.calls > 0.0 {
                access.rows = Some(statement.rows / statement.calls);
            }
            access.byte_order_collation = catalog.byte_order_collation;
            access.partial_constants = Some(recurring.get(&(table.schema.clone(), table.name.clone())).cloned().unwrap_or_default());
            let stats = |column: &str| catalog.column_stats(Some(&table.schema), &table.name, column);
            // The reason is filled in once the candidate's statements are known.
            let Some(candidate) = index::candidate(&access, None, String::new(), &stats) else { continue };
            if let Some(existing) = served_by(&candidate, catalog) {
                self.served.insert((candidate.name(), existing.name.clone()));
                continue;
            }
            self.by_name
                .entry(candidate.name())
                .or_insert_with(|| WorkloadCandidate { index: candidate, statements: Vec::new() })
                .statements
                .push(position);
        }
        if let Some((Write::Update(columns), table)) = &shape.written {
            for column in columns {
                *self.updated.entry(table.clone()).or_default().entry(column.clone()).or_default() += statement.calls;
            }
        }
        AnalyzedStatement {
            assumed: crate::advise::values::assume(
                &shape.parameter_roles,
                shape.parameters,
                catalog,
                self.observed.for_query(&statement.query),
            ),
            statement,
            skipped: None,
            aggregation: shape.aggregation,
            key_lookup: shape.key_lookup,
            parameters: shape.parameters,
            written: shape.written,
        }
    }
}

/// The equalities on constants (`status = 'active'`) a statement has, each once.
/// Whether a column holds labels (a status, a kind, a flag: text, a character, an
/// enum, a boolean) rather than numbers: `user_id = 1` in a lone statement is an
/// example of a lookup, `status = 'P'` a condition the application always asks.
fn is_label(catalog: &Catalog, schema: &str, table: &str, column: &str) -> bool {
    let schema = (!schema.is_empty()).then_some(schema);
    let Some(column) = catalog.table(schema, table).and_then(|t| t.columns.iter().find(|c| c.name == column)) else { return false };
    let numeric = ["smallint", "integer", "bigint", "numeric", "real", "double precision", "money", "oid"];
    !numeric.iter().any(|n| column.data_type.starts_with(n))
        && !column.data_type.starts_with("timestamp")
        && !column.data_type.starts_with("date")
}

/// `status = $1` whose calls pg_qualstats saw always compare with `'pending'` is
/// the application's fixed condition, as `status = 'pending'` in a SQL file would
/// be: its predicate becomes that constant, so it can make a partial index (the
/// statement is still planned with `$1`, given the same value). Label columns only,
/// as for constants in the text.
fn fix_observed_constants(shape: &mut StatementShape, observed: &[crate::workload::Observed], catalog: &Catalog) {
    if observed.is_empty() {
        return;
    }
    let fixed: Vec<(usize, String, String, String, &str)> = shape
        .parameter_roles
        .iter()
        .filter_map(|(number, role)| match role {
            ParameterRole::Column { schema, table, column, comparison: Comparison::Equal } => {
                let value = values::fixed_observed_value(observed, schema, table, column)?;
                is_label(catalog, schema, table, column).then(|| (*number, schema.clone(), table.clone(), column.clone(), value))
            }
            _ => None,
        })
        .collect();
    for (number, schema, table, column, value) in fixed {
        let placeholder = format!("${number}");
        for read in &mut shape.reads {
            let resolved = catalog.table(read.schema.as_deref(), &read.table).map(|t| (t.schema.as_str(), t.name.as_str()));
            if resolved != Some((schema.as_str(), table.as_str())) {
                continue;
            }
            for predicate in &mut read.predicates {
                let is_this = matches!(&predicate.target, Target::Column(c) if c.name == column)
                    && predicate.operator == Operator::Equality
                    && predicate.operand == Operand::Parameter
                    && mentions_placeholder(&predicate.sql, &placeholder);
                if is_this {
                    let literal = quote_literal(value);
                    predicate.sql = format!("{} = {literal}", quote_ident(&column));
                    predicate.operand = Operand::Constant(literal);
                }
            }
        }
    }
}

/// Whether `sql` has `$1` as a whole placeholder (not the start of `$12`).
fn mentions_placeholder(sql: &str, placeholder: &str) -> bool {
    sql.match_indices(placeholder).any(|(at, _)| !sql[at + placeholder.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// (schema, table, column, predicate SQL) of each equality on a constant.
fn constant_equalities(shape: &StatementShape) -> BTreeSet<(String, String, String, String)> {
    let mut seen = BTreeSet::new();
    for read in &shape.reads {
        for predicate in &read.predicates {
            let Target::Column(column) = &predicate.target else { continue };
            if predicate.operator == Operator::Equality && matches!(predicate.operand, Operand::Constant(_)) {
                seen.insert((read.schema.clone().unwrap_or_default(), read.table.clone(), column.name.clone(), predicate.sql.clone()));
            }
        }
    }
    seen
}

/// A column searched by prefix with `text_pattern_ops` and looked up by equality
/// elsewhere needs one index, not two: the pattern index serves `=` as well, and
/// beside a plain one the planner may walk the plain one in ORDER BY order,
/// filtering the prefix, through most of the table. So each candidate that leads
/// with the plain column gets a twin leading with the pattern key, which also
/// serves the prefix searches; the selection then weighs them.
fn share_pattern_keys(candidates: &mut Vec<WorkloadCandidate>) {
    let searches: Vec<(Option<String>, String, IndexKey, Vec<usize>)> = candidates
        .iter()
        .filter_map(|c| match c.index.keys.as_slice() {
            [pattern @ IndexKey::Pattern(_)] if c.index.predicate.is_none() => {
                Some((c.index.schema.clone(), c.index.table.clone(), pattern.clone(), c.statements.clone()))
            }
            _ => None,
        })
        .collect();
    for (schema, table, pattern, searching) in searches {
        let IndexKey::Pattern(plain) = &pattern else { continue };
        let twins: Vec<WorkloadCandidate> = candidates
            .iter()
            .filter(|c| c.index.schema == schema && c.index.table == table && c.index.keys.first() == Some(plain.as_ref()))
            .map(|c| {
                let mut twin = c.clone();
                twin.index.keys[0] = pattern.clone();
                twin.statements.extend(&searching);
                twin
            })
            .collect();
        for twin in twins {
            match candidates.iter_mut().find(|c| c.index.name() == twin.index.name()) {
                Some(existing) => existing.statements.extend(twin.statements),
                None => candidates.push(twin),
            }
        }
    }
}

/// A candidate whose keys are a leading prefix of another's on the same table,
/// with the same predicate (or the other has none), is served by the other: its
/// statements move there, and one index does the work of two.
fn merge_prefixes(candidates: &mut Vec<WorkloadCandidate>) {
    // Only candidates on the same table can absorb one another: compare within each
    // table, not every pair of the workload (which was quadratic in the candidates).
    let mut by_table: BTreeMap<(Option<&str>, &str), Vec<usize>> = BTreeMap::new();
    for (i, candidate) in candidates.iter().enumerate() {
        by_table.entry((candidate.index.schema.as_deref(), candidate.index.table.as_str())).or_default().push(i);
    }
    let groups: Vec<Vec<usize>> = by_table.into_values().collect();
    let mut absorbed = vec![false; candidates.len()];
    for group in &groups {
        for &i in group {
            for &j in group {
                if i == j || absorbed[j] {
                    continue;
                }
                let (short, long) = (&candidates[i].index, &candidates[j].index);
                // A full index serves a partial one's statements too (with the same keys or more).
                let predicate_served = short.predicate == long.predicate || (long.predicate.is_none() && short.predicate.is_some());
                let longer = short.keys.len() < long.keys.len()
                    || (short.keys.len() == long.keys.len() && short.predicate.is_some() && long.predicate.is_none());
                let prefix = predicate_served
                    && longer
                    && long.keys[..short.keys.len()] == short.keys[..]
                    && short.include.iter().all(|c| long.keys.iter().any(|k| k.column() == Some(c)) || long.include.contains(c));
                if prefix {
                    let statements = candidates[i].statements.clone();
                    candidates[j].statements.extend(statements);
                    absorbed[i] = true;
                    break;
                }
            }
        }
    }
    let mut index = 0;
    candidates.retain(|_| {
        let keep = !absorbed[index];
        index += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Column, Index, Table};

    fn table(name: &str, rows: f64, columns: &[&str], indexes: Vec<Index>) -> Table {
        Table { columns: columns.iter().map(|c| Column::new(c, "integer")).collect(), indexes, ..Table::new("public", name, rows) }
    }

    fn primary_key(name: &str) -> Index {
        Index {
            unique: true,
            primary: true,
            size_bytes: 8192,
            scans: Some(10),
            constraint: Some("p".into()),
            ..Index::btree(&format!("{name}_pkey"), &["id"])
        }
    }

    fn workload(queries: &[(&str, f64, f64)]) -> Workload {
        Workload::new(
            queries
                .iter()
                .map(|(q, calls, ms)| WorkloadStatement {
                    query: q.to_string(),
                    calls: *calls,
                    total_ms: *ms,
                    rows: *calls,
                    shared_hit: 0.0,
                    shared_read: 0.0,
                    source: "test".into(),
                })
                .collect(),
        )
    }

    fn catalog() -> Catalog {
        Catalog {
            tables: vec![
                table("orders", 1e6, &["id", "account_id", "status", "created_at"], vec![primary_key("orders")]),
                table("countries", 200.0, &["id", "code"], vec![]),
            ],
            ..Catalog::default()
        }
    }

    #[test]
    fn merges_candidates_across_statements_and_prefixes() {
        let analysis = analyze_workload(
            workload(&[
                ("SELECT id FROM orders WHERE account_id = $1", 1000.0, 500.0),
                ("SELECT id FROM orders WHERE account_id = $1 AND created_at > $2", 100.0, 300.0),
                ("SELECT * FROM orders WHERE account_id = $1", 10.0, 30.0),
            ]),
            &catalog(),
        );
        let names: Vec<String> = analysis.candidates.iter().map(|c| c.index.name()).collect();
        assert_eq!(names, vec!["orders_account_id_created_at_idx"], "(account_id) is a prefix of (account_id, created_at)");
        assert_eq!(analysis.candidates[0].statements, vec![0, 1, 2]);
    }

    #[test]
    fn a_constant_is_a_fixed_condition_when_it_recurs_or_is_the_columns_only_one() {
        let mut catalog = catalog();
        catalog.tables[0].stats = vec![crate::catalog::ColumnStats {
            column: "status".into(),
            null_frac: 0.0,
            n_distinct: 3.0,
            most_common_vals: vec!["F".into(), "O".into(), "P".into()],
            most_common_freqs: vec![0.49, 0.49, 0.02],
            correlation: None,
            histogram_bounds: vec![],
            avg_width: None,
            table_rows: 1e6,
        }];
        catalog.tables[0].columns[2].data_type = "character(1)".into();
        let names = |queries: &[(&str, f64, f64)]| {
            analyze_workload(workload(queries), &catalog).candidates.iter().map(|c| c.index.name()).collect::<Vec<_>>()
        };
        // One report of a SQL file: 'P' is the only status the workload asks for.
        let backlog = ("SELECT id FROM orders WHERE status = 'P' ORDER BY created_at LIMIT 100", 1.0, 1.0);
        assert_eq!(names(&[backlog]), ["orders_created_at_where_status_p_idx"]);
        // A log's lookups: each status once, none of them a fixed condition.
        let other = ("SELECT id FROM orders WHERE status = 'F' ORDER BY created_at LIMIT 100", 1.0, 1.0);
        assert_eq!(names(&[backlog, other]), ["orders_status_created_at_idx"]);
        // A number is an example of a lookup, even alone.
        catalog.tables[0].columns[2].data_type = "integer".into();
        let names = analyze_workload(workload(&[backlog]), &catalog).candidates.iter().map(|c| c.index.name()).collect::<Vec<_>>();
        assert_eq!(names, ["orders_status_created_at_idx"]);
    }

    #[test]
    fn a_prefix_search_gets_a_pattern_ops_key() {
        let analysis = analyze_workload(
            workload(&[
                ("SELECT id FROM orders WHERE status LIKE 'sh%'", 10.0, 50.0),
                ("SELECT id FROM orders WHERE lower(status) LIKE $1", 10.0, 50.0),
            ]),
            &catalog(),
        );
        let sql: Vec<String> = analysis.candidates.iter().map(|c| crate::action::Action::CreateIndex(c.index.clone()).sql()).collect();
        assert_eq!(
            sql,
            [
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_lower_status_pattern_idx ON public.orders ((lower(status)) text_pattern_ops);",
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_pattern_idx ON public.orders (status text_pattern_ops);",
            ]
        );
        // Looked up by equality too: the pattern index serves both, so it gets the lookup's statement as well.
        let analysis = analyze_workload(
            workload(&[
                ("SELECT id FROM orders WHERE status LIKE 'sh%'", 10.0, 50.0),
                ("SELECT id FROM orders WHERE status = $1", 10.0, 50.0),
            ]),
            &catalog(),
        );
        let candidates: Vec<(String, Vec<usize>)> = analysis.candidates.iter().map(|c| (c.index.name(), c.statements.clone())).collect();
        let lookup = analysis.statements.iter().position(|s| s.statement.query.contains("= $1")).unwrap();
        assert_eq!(candidates, [("orders_status_idx".to_string(), vec![lookup]), ("orders_status_pattern_idx".to_string(), vec![0, 1])]);
        // Where text compares byte by byte (a C collation), the plain key serves the prefix, and ORDER BY too.
        let c = Catalog { byte_order_collation: true, ..catalog() };
        let analysis =
            analyze_workload(workload(&[("SELECT id FROM orders WHERE status LIKE 'sh%' ORDER BY status LIMIT 5", 10.0, 50.0)]), &c);
        assert_eq!(analysis.candidates.iter().map(|c| c.index.name()).collect::<Vec<_>>(), ["orders_status_idx"]);
    }

    #[test]
    fn a_full_index_absorbs_a_partial_one_with_the_same_keys() {
        let analysis = analyze_workload(
            workload(&[
                ("SELECT id FROM orders WHERE account_id = $1 AND status IS NULL", 1000.0, 500.0),
                ("SELECT id FROM orders WHERE account_id = $1", 100.0, 300.0),
            ]),
            &catalog(),
        );
        let names: Vec<String> = analysis.candidates.iter().map(|c| c.index.name()).collect();
        assert_eq!(names, vec!["orders_account_id_idx"]);
        assert_eq!(analysis.candidates[0].statements, vec![0, 1]);
    }

    #[test]
    fn ignores_tiny_tables_and_what_exists() {
        let analysis = analyze_workload(
            workload(&[("SELECT id FROM countries WHERE code = $1", 1e6, 900.0), ("SELECT status FROM orders WHERE id = $1", 1e6, 800.0)]),
            &catalog(),
        );
        assert!(analysis.candidates.is_empty(), "{:?}", analysis.candidates);
        assert_eq!(analysis.already_served, vec![("orders_id_idx".to_string(), "orders_pkey".to_string())]);
    }

    #[test]
    fn lists_statements_it_could_not_read() {
        let analysis = analyze_workload(workload(&[("SELECT * FROM missing WHERE a = 1", 1.0, 1.0), ("VACUUM", 1.0, 1.0)]), &catalog());
        let skipped: Vec<_> = analysis.statements.iter().map(|s| s.skipped.clone()).collect();
        assert!(skipped.contains(&Some(Skipped::Utility)));
        assert!(skipped.iter().any(|s| matches!(s, Some(Skipped::Unreadable(r)) if r.contains("missing"))));
    }
}
