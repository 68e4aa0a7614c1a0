//! The workload: the statements a database runs, with how often and how long.
//! From pg_stat_statements (live via `pg::statements`, or exported as CSV or
//! JSON), from SQL files, or from the server log.

pub mod export;
pub mod log;
pub mod queries;

use serde::Serialize;
use std::collections::HashMap;

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
}

impl Workload {
    /// Merges statements with the same text (pg_stat_statements keeps one row per
    /// user and database), heaviest first, then by text, so output is stable.
    /// Typed literals that pg_stat_statements normalized into a form PostgreSQL
    /// cannot plan (`interval $3`) are written as casts (`$3::interval`) first.
    pub fn new(statements: Vec<WorkloadStatement>) -> Workload {
        // Hashed, not ordered: texts share long prefixes, and the sort below fixes the order.
        let mut merged: HashMap<String, WorkloadStatement> = HashMap::with_capacity(statements.len());
        for mut statement in statements {
            if let std::borrow::Cow::Owned(repaired) = crate::sql::normalized::plannable(&statement.query) {
                statement.query = repaired;
            }
            let key = statement.query.trim();
            match merged.get_mut(key) {
                Some(existing) => {
                    existing.calls += statement.calls;
                    existing.total_ms += statement.total_ms;
                    existing.rows += statement.rows;
                    existing.shared_hit += statement.shared_hit;
                    existing.shared_read += statement.shared_read;
                }
                None => {
                    merged.insert(key.to_string(), statement);
                }
            }
        }
        let mut statements: Vec<WorkloadStatement> = merged.into_values().collect();
        statements.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then_with(|| a.query.cmp(&b.query)));
        Workload { statements }
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
