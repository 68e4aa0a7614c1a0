//! What advice needs to know about a database's tables: row counts, existing
//! indexes and column statistics. Read live by `pg::catalog`; plain data, so a
//! snapshot file can stand in for a server later.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// What `pgadvise snapshot` writes: the catalog and where it came from, so advice
/// can run offline (in CI) against a copy of a server's schema and statistics.
/// `version` changes only when old files can no longer be read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub server_version: String,
    pub server_version_num: u32,
    pub database: String,
    pub catalog: Catalog,
}

pub const SNAPSHOT_FORMAT: &str = "pgadvise-catalog";
pub const SNAPSHOT_VERSION: u32 = 1;

impl Snapshot {
    pub fn new(server_version: String, server_version_num: u32, database: String, catalog: Catalog) -> Snapshot {
        Snapshot { format: SNAPSHOT_FORMAT.into(), version: SNAPSHOT_VERSION, server_version, server_version_num, database, catalog }
    }

    /// Reads a snapshot file, with errors that say what to do.
    pub fn load(path: &std::path::Path) -> Result<Snapshot> {
        let name = path.display();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the catalog snapshot {name}"))?;
        if text.trim().is_empty() {
            bail!("the catalog snapshot {name} is empty: write one with pgadvise snapshot --db URL > {name}");
        }
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("the catalog snapshot {name} is not valid JSON: {e}"))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(SNAPSHOT_FORMAT) {
            bail!("{name} is not a pgadvise catalog snapshot: write one with pgadvise snapshot --db URL > {name}");
        }
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != u64::from(SNAPSHOT_VERSION) {
            bail!(
                "{name} is a version {version} snapshot; this pgadvise reads version {SNAPSHOT_VERSION}: take it again with this pgadvise"
            );
        }
        serde_json::from_value(value).map_err(|e| anyhow::anyhow!("the catalog snapshot {name} is damaged: {e}"))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    pub tables: Vec<Table>,
    /// Seconds the scan counts cover: since the database's statistics were last
    /// reset (or, never reset, at least since the server started). Unused-index
    /// advice needs counts old enough to mean something; `None` when unknown.
    #[serde(default)]
    pub stats_age_seconds: Option<f64>,
    /// The database's collation is C or POSIX: text compares byte by byte, and a
    /// plain btree serves `LIKE 'prefix%'`. Otherwise (or unknown) a prefix match
    /// needs `text_pattern_ops`.
    #[serde(default)]
    pub byte_order_collation: bool,
    /// The planner can skip through a B-tree's leading columns (PostgreSQL 18+), so
    /// an index on (a, b) serves a filter on b when a has few values.
    #[serde(default)]
    pub btree_skip_scan: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// pg_class.reltuples: the planner's row count (−1 when never analyzed, 14+).
    pub rows: f64,
    pub size_bytes: u64,
    #[serde(default)]
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    pub stats: Vec<ColumnStats>,
    /// pg_stat_user_tables since the last stats reset; `None` when unknown.
    #[serde(default)]
    pub activity: Option<TableActivity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// As `format_type` writes it: `character varying(255)`, `timestamp with time zone`.
    pub data_type: String,
    pub not_null: bool,
}

/// How a table is used: write traffic decides what an extra index costs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableActivity {
    pub seq_scans: i64,
    pub index_scans: i64,
    pub inserts: i64,
    pub updates: i64,
    pub deletes: i64,
    /// Updates that stayed HOT (no index entry written); an index on an updated column ends them.
    pub hot_updates: i64,
    pub live_rows: i64,
    pub last_analyze: Option<String>,
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
    /// Scans since the last stats reset (this server only: replicas count their own).
    #[serde(default)]
    pub scans: Option<i64>,
    /// The constraint it backs: `p` primary key, `u` unique, `x` exclusion.
    #[serde(default)]
    pub constraint: Option<String>,
    /// `CREATE INDEX ...` as pg_get_indexdef writes it.
    #[serde(default)]
    pub definition: String,
    /// The table's REPLICA IDENTITY USING INDEX: logical replication needs it.
    #[serde(default)]
    pub replica_identity: bool,
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
    /// Physical order vs this column's order, −1 to 1.
    #[serde(default)]
    pub correlation: Option<f64>,
    /// pg_stats.histogram_bounds as text: values splitting the rows not in the
    /// most common values into equal parts, lowest first.
    #[serde(default)]
    pub histogram_bounds: Vec<String>,
    /// Average bytes of a value as stored (a short text's one-byte header
    /// included): what a new index's size is worked out from.
    #[serde(default)]
    pub avg_width: Option<f64>,
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

/// Bytes per row assumed when a table was never analyzed (reltuples −1 or 0).
const ASSUMED_ROW_BYTES: f64 = 100.0;

impl Table {
    /// A table known by name and row count only: no columns, indexes, statistics or
    /// activity yet. For describing catalogs in tests and benchmarks.
    pub fn new(schema: &str, name: &str, rows: f64) -> Table {
        Table {
            schema: schema.into(),
            name: name.into(),
            rows,
            size_bytes: 0,
            columns: Vec::new(),
            indexes: Vec::new(),
            stats: Vec::new(),
            activity: None,
        }
    }

    /// The planner's row count, or, for a table never analyzed, one guessed from its size.
    pub fn estimated_rows(&self) -> f64 {
        if self.rows > 0.0 {
            self.rows
        } else {
            self.size_bytes as f64 / ASSUMED_ROW_BYTES
        }
    }
}

impl Column {
    pub fn new(name: &str, data_type: &str) -> Column {
        Column { name: name.into(), data_type: data_type.into(), not_null: false }
    }
}

impl Index {
    /// A valid, plain btree index on `keys`, with nothing else known (size, scans,
    /// constraint). For describing catalogs in tests and benchmarks.
    pub fn btree(name: &str, keys: &[&str]) -> Index {
        Index {
            name: name.into(),
            method: "btree".into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            include: Vec::new(),
            predicate: None,
            unique: false,
            primary: false,
            valid: true,
            size_bytes: 0,
            scans: None,
            constraint: None,
            definition: String::new(),
            replica_identity: false,
        }
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
