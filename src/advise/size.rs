//! How big a new B-tree index will be.
//!
//! HypoPG sizes a hypothetical index from its own guess at a tuple's width,
//! without deduplication (PostgreSQL 13+). On the analytic benchmark it gave
//! 40 MB for `orders (o_custkey, o_orderdate)`, which builds to 14 MiB, 45 MB
//! for `(o_custkey, o_totalprice)` (30 MiB) and 75 MB for `lineitem (l_shipdate)`
//! (19 MiB). The report shows these sizes and `--budget` spends them, so where
//! pg_stats gives every column's width the size is worked out here the way
//! PostgreSQL lays the index out; otherwise HypoPG's stands, corrected for
//! deduplication when it has a single key.

use super::index::{IndexCandidate, IndexKey};
use crate::catalog::{Catalog, ColumnStats};

const PAGE_BYTES: f64 = 8192.0;
/// A page's header (24 bytes) and a B-tree page's special space (16).
const PAGE_OVERHEAD: f64 = 40.0;
/// CREATE INDEX fills leaf pages to the default fillfactor, 90% ...
const LEAF_FILL: f64 = 0.90;
/// ... and inner pages to 70%.
const INNER_FILL: f64 = 0.70;
/// An index tuple's header (its heap pointer and flags), and the line pointer to it.
const TUPLE_HEADER: f64 = 8.0;
const LINE_POINTER: f64 = 4.0;
/// A heap pointer in a deduplicated tuple's posting list.
const POSTING_ENTRY: f64 = 6.0;
/// The largest tuple CREATE INDEX makes when it merges duplicates: a tenth of a
/// page, less its line pointer (nbtsort.c).
const MAX_POSTING_TUPLE: f64 = PAGE_BYTES / 10.0 - LINE_POINTER;

/// The size to show and budget for an index HypoPG sized at `hypopg_bytes`.
pub fn corrected_size(hypopg_bytes: u64, index: &IndexCandidate, catalog: &Catalog, server_major: u32) -> u64 {
    btree_bytes(index, catalog, server_major).unwrap_or_else(|| deduplicated(hypopg_bytes, index, catalog, server_major))
}

/// How one column's values are stored in an index tuple.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    width: f64,
    align: f64,
    /// Whether two equal values are always the same bytes, which deduplication
    /// needs: not for numeric (1.0 and 1.00) or floating point (0 and −0).
    image_equal: bool,
}

/// The layout of a column of type `data_type` (as `format_type` writes it), with
/// pg_stats' average width for the types whose width varies.
fn layout(data_type: &str, stats: &ColumnStats) -> Option<Layout> {
    let fixed = |width: f64, align: f64| Some(Layout { width, align, image_equal: true });
    let base = data_type.split('(').next().unwrap_or(data_type).trim();
    match base {
        "smallint" => fixed(2.0, 2.0),
        "integer" | "date" | "oid" => fixed(4.0, 4.0),
        "bigint" | "money" | "timestamp without time zone" | "timestamp with time zone" | "time without time zone" => fixed(8.0, 8.0),
        "boolean" | "\"char\"" => fixed(1.0, 1.0),
        "uuid" => fixed(16.0, 1.0),
        "real" => Some(Layout { width: 4.0, align: 4.0, image_equal: false }),
        "double precision" => Some(Layout { width: 8.0, align: 8.0, image_equal: false }),
        // Values of variable width: a value under 127 bytes is stored with a
        // one-byte header and no alignment, which pg_stats' width counts.
        "text" | "character varying" | "character" | "bytea" | "citext" | "inet" | "cidr" => {
            Some(Layout { width: varying_width(stats)?, align: 1.0, image_equal: true })
        }
        "numeric" => Some(Layout { width: varying_width(stats)?, align: 1.0, image_equal: false }),
        _ => None,
    }
}

/// pg_stats' average width of a variable-width column: a whole number of
/// bytes, the average cut down to it (prices of 9 bytes and a few of 7 show as
/// 8), so half a byte is added back. An index tuple is padded to 8 bytes, so
/// that half byte decides between 16 and 24 for a single numeric key.
fn varying_width(stats: &ColumnStats) -> Option<f64> {
    stats.avg_width.map(|width| width + 0.5)
}

/// The index's size from pg_stats, for a full index on plain columns whose types
/// and widths are known; `None` otherwise.
fn btree_bytes(index: &IndexCandidate, catalog: &Catalog, server_major: u32) -> Option<u64> {
    if index.predicate.is_some() {
        return None;
    }
    let table = catalog.table(index.schema.as_deref(), &index.table)?;
    let key_columns: Vec<&str> = index
        .keys
        .iter()
        .map(|key| match key {
            IndexKey::Column { name, .. } => Some(name.as_str()),
            IndexKey::Pattern(inner) => inner.column(),
            IndexKey::Expression(_) => None,
        })
        .collect::<Option<_>>()?;
    let mut layouts = Vec::new();
    let mut combinations = 1.0f64;
    for (i, name) in key_columns.iter().copied().chain(index.include.iter().map(String::as_str)).enumerate() {
        let column = table.columns.iter().find(|c| c.name == name)?;
        let stats = table.stats.iter().find(|s| s.column == name)?;
        layouts.push(layout(&column.data_type, stats)?);
        if i < key_columns.len() {
            combinations *= stats.distinct_values().max(1.0);
        }
    }
    let rows = table.estimated_rows();
    // Columns independent of each other, as the planner assumes: at most one
    // distinct key a row.
    let duplicates = (rows / combinations.min(rows)).max(1.0);
    let deduplicates = server_major >= 13 && index.include.is_empty() && layouts.iter().all(|l| l.image_equal);
    Some(btree_bytes_of(rows, &layouts, if deduplicates { duplicates } else { 1.0 }))
}

/// The bytes of a B-tree over `rows` rows of these columns, built by CREATE
/// INDEX, each key held by `duplicates` rows on average (1: no deduplication).
fn btree_bytes_of(rows: f64, columns: &[Layout], duplicates: f64) -> u64 {
    let align = |offset: f64, to: f64| (offset / to).ceil() * to;
    let data = columns.iter().fold(0.0, |offset, column| align(offset, column.align) + column.width);
    let plain_tuple = align(TUPLE_HEADER + data, 8.0) + LINE_POINTER;
    // Equal keys share one tuple, their heap pointers listed after the key, as
    // many as fit in the largest tuple CREATE INDEX makes.
    let per_row = if duplicates >= 2.0 {
        let room = ((MAX_POSTING_TUPLE - TUPLE_HEADER - align(data, 2.0)) / POSTING_ENTRY).floor().max(1.0);
        let shared = duplicates.min(room);
        let posting_tuple = align(TUPLE_HEADER + align(data, 2.0) + POSTING_ENTRY * shared, 8.0) + LINE_POINTER;
        (posting_tuple / shared).min(plain_tuple)
    } else {
        plain_tuple
    };
    let usable = PAGE_BYTES * LEAF_FILL - PAGE_OVERHEAD;
    let leaves = (rows * per_row / usable).ceil().max(1.0);
    // Inner pages hold a key and a pointer per page below them.
    let fanout = ((PAGE_BYTES * INNER_FILL - PAGE_OVERHEAD) / plain_tuple).max(2.0);
    let (mut pages, mut level) = (leaves, leaves);
    while level > 1.0 {
        level = (level / fanout).ceil();
        pages += level;
    }
    // And the metapage.
    ((pages + 1.0) * PAGE_BYTES) as u64
}

/// HypoPG's estimate for a single plain key, shrunk by deduplication: it
/// leaves deduplication out, which shrinks indexes on columns with repeated
/// values two to three times.
fn deduplicated(hypopg_bytes: u64, index: &IndexCandidate, catalog: &Catalog, server_major: u32) -> u64 {
    const KEY_BYTES: f64 = 8.0;
    if server_major < 13 || index.keys.len() != 1 || !index.include.is_empty() {
        return hypopg_bytes;
    }
    let Some(column) = index.keys[0].column() else { return hypopg_bytes };
    let Some(stats) = catalog.column_stats(index.schema.as_deref(), &index.table, column) else { return hypopg_bytes };
    let distinct = stats.distinct_values();
    if distinct <= 0.0 {
        return hypopg_bytes;
    }
    let duplicates = (stats.table_rows * (1.0 - stats.null_frac)) / distinct;
    if duplicates < 2.0 {
        return hypopg_bytes;
    }
    // Per row: key + tuple header + TID without deduplication; with it, a TID plus a share of one key.
    let ratio = (6.0 + (KEY_BYTES + 8.0) / duplicates) / (KEY_BYTES + 14.0);
    (hypopg_bytes as f64 * ratio.min(1.0)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const INT4: Layout = Layout { width: 4.0, align: 4.0, image_equal: true };
    const DATE: Layout = INT4;
    const NUMERIC_8: Layout = Layout { width: 8.0, align: 1.0, image_equal: false };
    const MIB: f64 = 1024.0 * 1024.0;

    fn mib(bytes: u64) -> f64 {
        bytes as f64 / MIB
    }

    /// Sizes of real indexes on the analytic benchmark's database (PostgreSQL 15),
    /// built by CREATE INDEX and read with pg_relation_size.
    #[test]
    fn sizes_come_within_a_tenth_of_what_postgresql_built() {
        let within = |estimate: u64, real_mib: f64| {
            let ratio = mib(estimate) / real_mib;
            assert!((0.9..=1.1).contains(&ratio), "{:.1} MiB estimated, {real_mib} MiB built", mib(estimate));
        };
        // orders (o_custkey, o_totalprice): 1M rows, numeric: no deduplication.
        within(btree_bytes_of(1e6, &[INT4, NUMERIC_8], 1.0), 30.1);
        // orders (o_custkey): 99,077 customers, about ten orders each.
        within(btree_bytes_of(1e6, &[INT4], 1e6 / 99_077.0), 9.04);
        // orders (o_orderdate): 2,400 days.
        within(btree_bytes_of(1e6, &[DATE], 1e6 / 2_400.0), 6.30);
        // lineitem (l_shipdate): 3M rows, about 2,500 days.
        within(btree_bytes_of(3e6, &[DATE], 3e6 / 2_500.0), 18.9);
        // partsupp (ps_partkey, ps_supplycost): 160k rows, numeric of 5 bytes.
        within(btree_bytes_of(160_000.0, &[INT4, Layout { width: 5.0, ..NUMERIC_8 }], 1.0), 4.84);
    }

    #[test]
    fn alignment_pads_a_key_before_a_wider_one() {
        let int8 = Layout { width: 8.0, align: 8.0, image_equal: true };
        let bool1 = Layout { width: 1.0, align: 1.0, image_equal: true };
        // (bool, bigint): 1 + 7 padding + 8 = 16 bytes of data; (bigint, bool): 9, padded to 16 with the header.
        assert_eq!(btree_bytes_of(1e6, &[bool1, int8], 1.0), btree_bytes_of(1e6, &[int8, bool1], 1.0));
        assert!(btree_bytes_of(1e6, &[bool1, int8], 1.0) > btree_bytes_of(1e6, &[INT4, INT4], 1.0));
    }

    #[test]
    fn duplicates_shrink_an_index_until_the_posting_lists_are_full() {
        let plain = btree_bytes_of(1e6, &[INT4], 1.0);
        let ten = btree_bytes_of(1e6, &[INT4], 10.0);
        let thousand = btree_bytes_of(1e6, &[INT4], 1000.0);
        let million = btree_bytes_of(1e6, &[INT4], 1e6);
        assert!(ten < plain / 2 && thousand < ten, "{plain} {ten} {thousand}");
        assert_eq!(thousand, million, "a posting list holds at most a tenth of a page");
    }

    #[test]
    fn types_without_a_known_layout_or_width_fall_back() {
        let stats = ColumnStats {
            column: "c".into(),
            null_frac: 0.0,
            n_distinct: -1.0,
            most_common_vals: vec![],
            most_common_freqs: vec![],
            correlation: None,
            histogram_bounds: vec![],
            avg_width: None,
            table_rows: 1e6,
        };
        assert_eq!(layout("integer", &stats), Some(INT4));
        assert_eq!(layout("text", &stats), None, "a text column's width comes from pg_stats");
        assert_eq!(layout("numeric(12,2)", &ColumnStats { avg_width: Some(7.0), ..stats.clone() }).unwrap().width, 7.5);
        assert_eq!(layout("jsonb", &stats), None);
        assert_eq!(layout("integer[]", &stats), None);
    }
}
