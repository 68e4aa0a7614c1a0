//! Reading the catalog for the tables a plan touches: row estimates, sizes,
//! existing indexes (keys, INCLUDE, predicate, validity) and pg_stats.

use super::connect::server_message;
use crate::catalog::{Catalog, ColumnStats, Index, Table};
use crate::error::database_error;
use anyhow::Result;
use tokio_postgres::Client;

const TABLES: &str = "
    SELECT c.oid, n.nspname::text, c.relname::text, c.reltuples::float8, pg_total_relation_size(c.oid)::int8
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm') AND c.relname = ANY($1::text[])
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY n.nspname, c.relname";

const INDEXES: &str = "
    SELECT ci.relname::text, am.amname::text, i.indisunique, i.indisprimary, i.indisvalid,
           i.indnkeyatts::int4,
           array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts) k ORDER BY k),
           pg_get_expr(i.indpred, i.indrelid, true),
           pg_relation_size(i.indexrelid)::int8
    FROM pg_index i
    JOIN pg_class ci ON ci.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ci.relam
    WHERE i.indrelid = $1
    ORDER BY ci.relname";

const STATS: &str = "
    SELECT attname::text, null_frac::float8, n_distinct::float8,
           coalesce(most_common_vals::text::text[], '{}'),
           coalesce(most_common_freqs::float8[], '{}')
    FROM pg_stats WHERE schemaname = $1 AND tablename = $2
    ORDER BY attname";

/// The catalog entries of the named tables (in any schema but the system ones).
pub async fn read_tables(client: &Client, names: &[String]) -> Result<Catalog> {
    let failed = |what: &str, e: tokio_postgres::Error| database_error(format!("cannot read {what}: {}", server_message(&e)));
    let rows = client.query(TABLES, &[&names]).await.map_err(|e| failed("the catalog's tables", e))?;
    let mut tables = Vec::new();
    for row in rows {
        let oid: u32 = row.get(0);
        let schema: String = row.get(1);
        let name: String = row.get(2);
        let rows: f64 = row.get(3);
        let indexes = client
            .query(INDEXES, &[&oid])
            .await
            .map_err(|e| failed("the catalog's indexes", e))?
            .into_iter()
            .map(|r| {
                let columns: Vec<String> = r.get(6);
                let key_count = r.get::<_, i32>(5).max(0) as usize;
                Index {
                    name: r.get(0),
                    method: r.get(1),
                    unique: r.get(2),
                    primary: r.get(3),
                    valid: r.get(4),
                    keys: columns.iter().take(key_count).cloned().collect(),
                    include: columns.iter().skip(key_count).cloned().collect(),
                    predicate: r.get(7),
                    size_bytes: r.get::<_, i64>(8).max(0) as u64,
                }
            })
            .collect();
        let stats = client
            .query(STATS, &[&schema, &name])
            .await
            .map_err(|e| failed("pg_stats", e))?
            .into_iter()
            .map(|r| ColumnStats {
                column: r.get(0),
                null_frac: r.get(1),
                n_distinct: r.get(2),
                most_common_vals: r.get(3),
                most_common_freqs: r.get(4),
                table_rows: rows,
            })
            .collect();
        tables.push(Table { schema, name, rows, size_bytes: row.get::<_, i64>(4).max(0) as u64, indexes, stats });
    }
    Ok(Catalog { tables })
}
