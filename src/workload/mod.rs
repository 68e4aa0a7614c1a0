//! The workload: the statements a database runs, with how often and how long.
//! From pg_stat_statements (live via `pg::statements`, or exported as CSV or
//! JSON), from SQL files, or from the server log.

pub mod export;
pub mod log;
pub mod queries;

use serde::Serialize;

fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// One normalized statement and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadStatement {
    /// As pg_stat_statements normalizes it (`$1` for constants), or as written in a file.
    pub query: String,
    pub calls: f64,
    pub total_ms: f64,
    pub rows: f64,
    pub shared_hit: f64,
    pub shared_read: f64,
    /// Where it came from: `pg_stat_statements`, `stats.csv`, `q.sql:12`.
    pub source: String,
}

impl WorkloadStatement {
    pub fn mean_ms(&self) -> f64 {
        if self.calls > 0.0 {
            self.total_ms / self.calls
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Workload {
    pub statements: Vec<WorkloadStatement>,
    /// Real constants the statements were run with, where pg_qualstats saw them.
    #[serde(skip)]
    pub observed: ObservedValues,
}

/// A constant pg_qualstats saw a statement compare a column with, and how often:
/// the value pg_stat_statements replaced with `$n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub schema: String,
    pub table: String,
    pub column: String,
    /// The operator's name: `=`, `<`, `>=`, `~~` (LIKE).
    pub operator: String,
    /// The constant as a value (`pending`, `42`), not as SQL.
    pub value: String,
    pub count: f64,
}

/// Observed constants by statement text, so that a statement with `$n` can be
/// planned with the values it runs with rather than ones guessed from pg_stats.
#[derive(Debug, Clone, Default)]
pub struct ObservedValues {
    by_query: std::collections::HashMap<String, Vec<Observed>>,
}

impl ObservedValues {
    /// From (statement text as pg_stat_statements has it, constant) pairs. The text
    /// is repaired as [`Workload::new`] repairs statements, so the two match.
    pub fn new(rows: Vec<(String, Observed)>) -> ObservedValues {
        let mut by_query: std::collections::HashMap<String, Vec<Observed>> = std::collections::HashMap::new();
        for (query, observed) in rows {
            let query = crate::sql::normalized::plannable(&query).trim().to_string();
            by_query.entry(query).or_default().push(observed);
        }
        ObservedValues { by_query }
    }

    /// The constants seen for the statement with this text.
    pub fn for_query(&self, query: &str) -> &[Observed] {
        self.by_query.get(query.trim()).map_or(&[], Vec::as_slice)
    }

    /// How many statements have observed constants.
    pub fn statements(&self) -> usize {
        self.by_query.len()
    }
}

impl Workload {
    /// Merges statements with the same text (pg_stat_statements keeps one row per
    /// user and database), heaviest first, then by text, so output is stable.
    /// Typed literals that pg_stat_statements normalized into a form PostgreSQL
    /// cannot plan (`interval $3`) are written as casts (`$3::interval`) first.
    pub fn new(statements: Vec<WorkloadStatement>) -> Workload {
        let mut statements: Vec<Option<WorkloadStatement>> = statements
            .into_iter()
            .map(|mut statement| {
                if let std::borrow::Cow::Owned(repaired) = crate::sql::normalized::plannable(&statement.query) {
                    statement.query = repaired;
                }
                Some(statement)
            })
            .collect();
        // Same texts side by side: an order by each text's hash, then the text. No
        // copy of the texts (a map keyed by them held each twice), and comparisons
        // rarely reach the texts, whose long shared prefixes make them slow.
        fn key(statement: &Option<WorkloadStatement>) -> &str {
            statement.as_ref().map_or("", |s| s.query.trim())
        }
        let hashes: Vec<u64> = statements.iter().map(|s| text_hash(key(s))).collect();
        let mut order: Vec<usize> = (0..statements.len()).collect();
        order.sort_unstable_by(|&a, &b| hashes[a].cmp(&hashes[b]).then_with(|| key(&statements[a]).cmp(key(&statements[b]))));
        let mut merged: Vec<WorkloadStatement> = Vec::with_capacity(statements.len());
        let mut last_hash = None;
        for position in order {
            let statement = statements[position].take().expect("each position once");
            match merged.last_mut() {
                Some(existing) if last_hash == Some(hashes[position]) && existing.query.trim() == statement.query.trim() => {
                    existing.calls += statement.calls;
                    existing.total_ms += statement.total_ms;
                    existing.rows += statement.rows;
                    existing.shared_hit += statement.shared_hit;
                    existing.shared_read += statement.shared_read;
                }
                _ => merged.push(statement),
            }
            last_hash = Some(hashes[position]);
        }
        drop(statements);
        merged.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then_with(|| a.query.cmp(&b.query)));
        merged.shrink_to_fit();
        Workload { statements: merged, observed: ObservedValues::default() }
    }

    pub fn total_ms(&self) -> f64 {
        self.statements.iter().map(|s| s.total_ms).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(query: &str, calls: f64, total_ms: f64) -> WorkloadStatement {
        WorkloadStatement { query: query.into(), calls, total_ms, rows: calls, shared_hit: 0.0, shared_read: 0.0, source: "test".into() }
    }

    #[test]
    fn merges_the_same_text_and_orders_by_total_time() {
        let workload =
            Workload::new(vec![statement("select 1", 10.0, 5.0), statement("select 2", 1.0, 50.0), statement("select 1", 10.0, 5.0)]);
        assert_eq!(workload.statements.len(), 2);
        assert_eq!(workload.statements[0].query, "select 2");
        assert_eq!(workload.statements[1].calls, 20.0);
        assert_eq!(workload.statements[1].mean_ms(), 0.5);
        assert_eq!(workload.total_ms(), 60.0);
    }

    #[test]
    fn typed_literals_are_made_plannable() {
        let workload = Workload::new(vec![statement("select * from t where c > now() - interval $1", 1.0, 1.0)]);
        assert_eq!(workload.statements[0].query, "select * from t where c > now() - $1::interval");
    }
}
