//! What advice needs to know about a database's tables: row counts, existing
//! indexes and column statistics. Read live by `pg::catalog`; plain data, so a
//! snapshot file can stand in for a server later.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// pg_class.reltuples: the planner's row count (−1 when never analyzed, 14+).
    pub rows: f64,
    pub size_bytes: u64,
    pub indexes: Vec<Index>,
    pub stats: Vec<ColumnStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub method: String,
    /// Key columns as pg_get_indexdef writes them: a column name or an expression.
    pub keys: Vec<String>,
    pub include: Vec<String>,
    pub predicate: Option<String>,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    pub size_bytes: u64,
}

/// A column's row of pg_stats.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnStats {
    pub column: String,
    pub null_frac: f64,
    /// As pg_stats has it: a count when positive, minus a fraction of the rows when negative.
    pub n_distinct: f64,
    pub most_common_vals: Vec<String>,
    pub most_common_freqs: Vec<f64>,
    /// The table's row count, to resolve a negative n_distinct.
    pub table_rows: f64,
}

impl ColumnStats {
    pub fn distinct_values(&self) -> f64 {
        if self.n_distinct >= 0.0 {
            self.n_distinct
        } else {
            -self.n_distinct * self.table_rows.max(0.0)
        }
    }

    /// The share of rows holding `value`, when it is one of the most common values.
    pub fn frequency_of(&self, value: &str) -> Option<f64> {
        let at = self.most_common_vals.iter().position(|v| v == value)?;
        self.most_common_freqs.get(at).copied()
    }
}

impl Catalog {
    /// The table by schema (when known) and name; without a schema, the first of that name.
    pub fn table(&self, schema: Option<&str>, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name && schema.is_none_or(|s| s == t.schema))
    }

    pub fn column_stats(&self, schema: Option<&str>, table: &str, column: &str) -> Option<ColumnStats> {
        self.table(schema, table)?.stats.iter().find(|s| s.column == column).cloned()
    }
}
