//! Reading the catalog: tables with their columns, row estimates and sizes,
//! existing indexes (keys, INCLUDE, predicate, validity, scans, the constraint
//! they back), pg_stats and pg_stat_user_tables. Four queries for the whole
//! database, joined here, so a schema with thousands of tables costs the same
//! round trips as one with ten.

use super::connect::server_message;
use crate::catalog::{Catalog, Column, ColumnStats, Index, Table, TableActivity};
use crate::error::database_error;
use crate::pg::session::Session;
use anyhow::Result;
use std::collections::BTreeMap;

/// `$1` is NULL for every table, or the table names to read.
const TABLES: &str = "
    SELECT n.nspname::text, c.relname::text, c.reltuples::float8, pg_total_relation_size(c.oid)::int8,
           s.seq_scan::int8, s.idx_scan::int8, s.n_tup_ins::int8, s.n_tup_upd::int8, s.n_tup_del::int8,
           s.n_tup_hot_upd::int8, s.n_live_tup::int8,
           greatest(s.last_analyze, s.last_autoanalyze)::text
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      AND ($1::text[] IS NULL OR c.relname = ANY($1::text[]))
    ORDER BY 1, 2";

const COLUMNS: &str = "
    SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      AND ($1::text[] IS NULL OR c.relname = ANY($1::text[]))
    ORDER BY 1, 2, a.attnum";

const INDEXES: &str = "
    SELECT n.nspname::text, c.relname::text, ci.relname::text, am.amname::text,
           i.indisunique, i.indisprimary, i.indisvalid, i.indnkeyatts::int4,
           array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts) k ORDER BY k),
           pg_get_expr(i.indpred, i.indrelid, true),
           pg_relation_size(i.indexrelid)::int8,
           s.idx_scan::int8,
           (SELECT con.contype::text FROM pg_constraint con WHERE con.conindid = i.indexrelid LIMIT 1),
           pg_get_indexdef(i.indexrelid),
           i.indisreplident
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class ci ON ci.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ci.relam
    LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      AND ($1::text[] IS NULL OR c.relname = ANY($1::text[]))
    ORDER BY 1, 2, 3";

const STATS: &str = "
    SELECT schemaname::text, tablename::text, attname::text, null_frac::float8, n_distinct::float8,
           coalesce(most_common_vals::text::text[], '{}'),
           coalesce(most_common_freqs::float8[], '{}'),
           correlation::float8,
           coalesce(histogram_bounds::text::text[], '{}'),
           avg_width::float8
    FROM pg_stats
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
      AND ($1::text[] IS NULL OR tablename = ANY($1::text[]))
    ORDER BY 1, 2, 3";

/// Seconds since this database's statistics were last reset; never reset, since the
/// server started, which is a lower bound (counts survive a clean restart from 15).
const STATS_AGE: &str = "
    SELECT extract(epoch FROM now() - coalesce(
               (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
               pg_postmaster_start_time()))::float8";

/// Whether the database compares text byte by byte (libc's C or POSIX).
/// The database's collation, and whether the planner can skip-scan a B-tree (18+).
const DATABASE_TRAITS: &str = "SELECT datcollate IN ('C', 'POSIX'), current_setting('server_version_num')::int >= 180000
     FROM pg_database WHERE datname = current_database()";

/// The whole database's user tables.
pub async fn read_all(client: &Session) -> Result<Catalog> {
    read(client, None).await
}

/// The named tables (in any schema but the system ones).
pub async fn read_tables(client: &Session, names: &[String]) -> Result<Catalog> {
    read(client, Some(names)).await
}

type Key = (String, String);

async fn read(client: &Session, names: Option<&[String]>) -> Result<Catalog> {
    let failed = |what: &str, e: crate::pg::session::PgError| database_error(format!("cannot read {what}: {}", server_message(&e)));
    let names: Option<Vec<String>> = names.map(<[String]>::to_vec);

    let mut columns: BTreeMap<Key, Vec<Column>> = BTreeMap::new();
    for r in client.query(COLUMNS, &[&names]).await.map_err(|e| failed("the catalog's columns", e))? {
        columns.entry((r.get(0), r.get(1))).or_default().push(Column { name: r.get(2), data_type: r.get(3), not_null: r.get(4) });
    }
    let mut indexes: BTreeMap<Key, Vec<Index>> = BTreeMap::new();
    for r in client.query(INDEXES, &[&names]).await.map_err(|e| failed("the catalog's indexes", e))? {
        let all: Vec<String> = r.get(8);
        let key_count = r.get::<_, i32>(7).max(0) as usize;
        indexes.entry((r.get(0), r.get(1))).or_default().push(Index {
            name: r.get(2),
            method: r.get(3),
            unique: r.get(4),
            primary: r.get(5),
            valid: r.get(6),
            keys: all.iter().take(key_count).cloned().collect(),
            include: all.iter().skip(key_count).cloned().collect(),
            predicate: r.get(9),
            size_bytes: r.get::<_, i64>(10).max(0) as u64,
            scans: r.get(11),
            constraint: r.get(12),
            definition: r.get(13),
            replica_identity: r.get(14),
        });
    }
    let mut stats: BTreeMap<Key, Vec<ColumnStats>> = BTreeMap::new();
    for r in client.query(STATS, &[&names]).await.map_err(|e| failed("pg_stats", e))? {
        stats.entry((r.get(0), r.get(1))).or_default().push(ColumnStats {
            column: r.get(2),
            null_frac: r.get(3),
            n_distinct: r.get(4),
            most_common_vals: r.get(5),
            most_common_freqs: r.get(6),
            correlation: r.get(7),
            histogram_bounds: r.get(8),
            avg_width: r.get(9),
            // Filled in with the table below.
            table_rows: 0.0,
        });
    }

    let mut tables = Vec::new();
    for r in client.query(TABLES, &[&names]).await.map_err(|e| failed("the catalog's tables", e))? {
        let key: Key = (r.get(0), r.get(1));
        let rows: f64 = r.get(2);
        let activity = r.get::<_, Option<i64>>(4).map(|seq_scans| TableActivity {
            seq_scans,
            index_scans: r.get::<_, Option<i64>>(5).unwrap_or(0),
            inserts: r.get::<_, Option<i64>>(6).unwrap_or(0),
            updates: r.get::<_, Option<i64>>(7).unwrap_or(0),
            deletes: r.get::<_, Option<i64>>(8).unwrap_or(0),
            hot_updates: r.get::<_, Option<i64>>(9).unwrap_or(0),
            live_rows: r.get::<_, Option<i64>>(10).unwrap_or(0),
            last_analyze: r.get(11),
        });
        let table_stats = stats.remove(&key).unwrap_or_default().into_iter().map(|s| ColumnStats { table_rows: rows, ..s }).collect();
        tables.push(Table {
            columns: columns.remove(&key).unwrap_or_default(),
            indexes: indexes.remove(&key).unwrap_or_default(),
            stats: table_stats,
            schema: key.0,
            name: key.1,
            rows,
            size_bytes: r.get::<_, i64>(3).max(0) as u64,
            activity,
        });
    }
    let stats_age_seconds = client.query_one(STATS_AGE, &[]).await.map_err(|e| failed("the statistics' age", e))?.get::<_, Option<f64>>(0);
    let traits = client.query_one(DATABASE_TRAITS, &[]).await.map_err(|e| failed("the database's collation", e))?;
    Ok(Catalog { tables, stats_age_seconds, byte_order_collation: traits.get(0), btree_skip_scan: traits.get(1) })
}
