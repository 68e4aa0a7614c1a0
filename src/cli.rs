//! Every command-line flag, defined once. Help text comes from these doc comments.

use crate::finding::Severity;
use crate::host::StorageKind;
use crate::migrate::MigrationFormat;
use crate::render::{ExplainFormat, ReportFormat, TuneFormat};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "pgadvise", version, about = "PostgreSQL tuning and query advice", max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recommend PostgreSQL settings for this host and workload; with --db, diff or apply them.
    Tune(TuneArgs),
    /// Diagnose an EXPLAIN plan, or run one for a SQL file with --db, and suggest indexes.
    Explain(ExplainArgs),
    /// Write the catalog (tables, columns, indexes, statistics) to a JSON file, for advice without a server.
    Snapshot(SnapshotArgs),
    /// Advise on a whole workload: the few indexes that save the most time, indexes to drop, and more.
    Advise(AdviseArgs),
}

/// Where the database is. `--db` alone takes the PG* environment variables
/// (PGHOST, PGPORT, PGUSER, PGSSLMODE...), a service and ~/.pgpass, as libpq does;
/// nothing connects unless asked.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Connect to this server: a postgresql:// URL or key=value string (sslmode, service, ... as in libpq); alone, use the PG* variables.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub db: Option<String>,
    /// Seconds to wait for the server to answer; wins over connect_timeout in --db and PGCONNECT_TIMEOUT [default: 5].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    /// Workload profile: web, oltp, dw, mixed, desktop, or the path to your own .toml [default: mixed].
    #[arg(long)]
    pub profile: Option<String>,
    /// Memory for PostgreSQL (e.g. 16GiB); default: RAM, or the container's limit.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// CPUs for PostgreSQL; default: logical CPUs, or the container's quota.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub cpus: Option<u32>,
    /// Storage kind; default: detected from --data-dir's device, else ssd.
    #[arg(long, value_enum)]
    pub storage: Option<StorageKind>,
    /// max_connections; default: the profile's.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=262_143))]
    pub connections: Option<u32>,
    /// Target PostgreSQL major version; a live server's own version wins.
    #[arg(long, value_name = "VERSION", value_parser = clap::value_parser!(u32).range(12..=19))]
    pub pg_version: Option<u32>,
    /// Size of the databases (e.g. 200GiB); a live server's own size is used otherwise.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub data_size: Option<u64>,
    /// PostgreSQL's data directory, to detect the storage kind; default: $PGDATA, then /var/lib/postgresql.
    #[arg(long, value_name = "PATH")]
    pub data_dir: Option<PathBuf>,
    /// Output format; default: table on a terminal, sql when piped.
    #[arg(long, value_enum)]
    pub format: Option<TuneFormat>,
    #[command(flatten)]
    pub db: DbArgs,
    /// With --db: print a unified diff of the conf lines before and after, setting by setting (as comments in sql and conf output).
    #[arg(long, requires = "db")]
    pub diff: bool,
    /// With --db: apply the changes (ALTER SYSTEM, reload) after writing a rollback script.
    #[arg(long, requires = "db")]
    pub apply: bool,
    /// Where --apply writes the rollback script; default: ./pgadvise-rollback-<UTC time>.sql.
    #[arg(long, value_name = "PATH", requires = "apply")]
    pub rollback_file: Option<PathBuf>,
    #[command(flatten)]
    pub migration: MigrationArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// An EXPLAIN plan in JSON or text format (as EXPLAIN, auto_explain or psql wrote it), or a SQL file to run with --db; - reads stdin.
    #[arg(value_name = "FILE", required_unless_present = "compare")]
    pub input: Option<PathBuf>,
    /// Two plans of one statement, before and after a change (any format each): nodes
    /// matched side by side, what changed in the plan's shape, and one summary line.
    #[arg(long, num_args = 2, value_names = ["BEFORE", "AFTER"], conflicts_with_all = ["input", "db", "fail_on"])]
    pub compare: Option<Vec<PathBuf>>,
    /// With --db and a SQL file of one statement: plan it as it is and with this
    /// CREATE INDEX built as a HypoPG index (nothing is created), and compare the plans.
    #[arg(long, value_name = "SQL", requires = "db", conflicts_with = "compare")]
    pub with_index: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Plan without executing (plain EXPLAIN instead of EXPLAIN ANALYZE).
    #[arg(long)]
    pub no_analyze: bool,
    /// Seconds a statement may run under EXPLAIN ANALYZE (statement_timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// A value for $1, $2, ... in order (repeat the flag); without, such statements get a generic plan.
    #[arg(long = "param", value_name = "VALUE")]
    pub params: Vec<String>,
    /// Output format; default: table on a terminal, json when piped.
    #[arg(long, value_enum)]
    pub format: Option<ExplainFormat>,
    /// Exit with code 1 if any finding is at least this severe (for CI) [default: pgadvise.toml's fail_on].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    #[command(flatten)]
    pub migration: MigrationArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Write to this file (replaced whole, never left half-written) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct AdviseArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// A catalog snapshot (pgadvise snapshot) to use instead of the server's catalog.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// pg_stat_statements exported as CSV or JSON, instead of the server's (with --queries and --log, together).
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// SQL files as the workload, instead of the server's pg_stat_statements (one call a statement, or a `-- calls: N` comment).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub queries: Vec<PathBuf>,
    /// Server logs (stderr, csvlog or jsonlog) with log_min_duration_statement or auto_explain
    /// entries, and statements cancelled by statement_timeout; instead of the server's pg_stat_statements.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub log: Vec<PathBuf>,
    /// At most this many new indexes [default: no limit: each index is judged by what it saves].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_indexes: Option<u32>,
    /// At most this much storage for new indexes (e.g. 2GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub budget: Option<u64>,
    /// An index must save at least this percentage of the workload's time [default: it
    /// saves twice its write cost, and 0.5% of the workload's time with the indexes chosen
    /// before it or half of a statement's cost].
    #[arg(long, value_name = "PERCENT")]
    pub min_saving: Option<f64>,
    /// Seconds each EXPLAIN may take (statement_timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Advise dropping an unused index only when the scan counts are at least this old (e.g. 7d, 12h).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub min_stats_age: u64,
    /// Output format; default: table on a terminal, json when piped.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    #[command(flatten)]
    pub migration: MigrationArgs,
}

/// Migration files for the advice, shared by every command that advises changes.
/// pgadvise.toml's `[migrations]` supplies what is not given here.
#[derive(Debug, Clone, Default, Args)]
pub struct MigrationArgs {
    /// Write the advice as migration files into DIR [default: pgadvise.toml's migrations.dir].
    #[arg(long, value_name = "DIR")]
    pub emit_migration: Option<Option<PathBuf>>,
    /// Compare DIR with the files the advice would write now; print a diff and exit 1 if they differ.
    #[arg(long, value_name = "DIR", conflicts_with = "emit_migration")]
    pub check: Option<Option<PathBuf>>,
    /// The migration tool's file format [default: plain].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub migration_format: Option<MigrationFormat>,
    /// The first file's version [default: one more than the highest of DIR's other migrations, else 1].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub migration_version: Option<u64>,
}

fn parse_duration(text: &str) -> Result<u64, String> {
    crate::units::parse_seconds(text).map_err(|e| e.to_string())
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::units::parse_bytes(text).map_err(|e| e.to_string())
}
