//! Index candidates from the conditions a plan applies to its base relations.
//!
//! Key order follows how a btree is searched: equality columns first, then one
//! range column, then the ORDER BY columns (when nothing after the equalities
//! breaks the order). A constant condition that narrows the table (`deleted_at
//! IS NULL`, `NOT archived`, `status = 'active'` when statistics show it is
//! selective) becomes a partial index's WHERE; the few other columns the scan
//! returns become INCLUDE columns, so an index-only scan is possible.

use crate::catalog::{Catalog, ColumnStats, Index, Table};
use crate::plan::conditions::ScanConditions;
use crate::plan::rules::thresholds::{
    BIG_SCAN_ROWS, DISCARD_SHARE, INDEX_FILTER_MIN_REMOVED, NESTED_LOOP_MIN_LOOPS, SKIP_SCAN_MIN_SEARCHES,
};
use crate::sql::predicate::{Operand, Operator, Predicate, SortKey, Target};
use crate::sql::quote_ident;
use serde::Serialize;

/// A covering index includes at most this many columns beyond its keys.
pub const COVERING_MAX_EXTRA_COLUMNS: usize = 3;
/// ... and only for scans returning at least this many rows, where heap visits add up.
pub const COVERING_MIN_ROWS: f64 = 100.0;
/// An equality on a constant becomes a partial index's predicate when statistics
/// show the value matches at most this share of the table ...
pub const PARTIAL_MAX_FREQUENCY: f64 = 0.5;
/// ... and the column has at most this many distinct values (a status, not an id).
pub const PARTIAL_MAX_DISTINCT: f64 = 20.0;
/// A Hash Join whose hashed side has at most this many rows could instead look
/// each of them up in an index on the probe side's join columns.
pub const SMALL_HASH_ROWS: f64 = 1_000.0;
/// A NULL test makes an index partial only if it keeps at most this share of the rows.
pub const PARTIAL_MAX_KEPT: f64 = 0.95;
/// An equality column this close to unique (distinct values / rows) finds its rows
/// alone: later key columns would only make the index bigger.
pub const UNIQUE_LIKE_SHARE: f64 = 0.99;
/// Without ANALYZE, a sequential scan is worth an index from this estimated cost.
pub const UNANALYZED_MIN_SCAN_COST: f64 = 1_000.0;

/// How a statement reads one table, whether learned from a plan's scan or from
/// the statement's text: what a candidate index is built from.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub schema: Option<String>,
    pub table: String,
    /// Indexable predicates on the table's own columns.
    pub predicates: Vec<Predicate>,
    /// Columns of conditions that are not indexable predicates: an index-only scan still needs them.
    pub residual_columns: Vec<String>,
    /// Join predicates on this table.
    pub joins: Vec<Predicate>,
    /// Whether the join columns are lookup keys here (the inner side of a nested
    /// loop, the probe side of a small hash, a join in a statement's text).
    pub join_lookup: bool,
    /// ORDER BY columns of a statement with a LIMIT that reads only this table.
    pub sort_keys: Vec<SortKey>,
    /// Columns read; `None` when unknown or a whole row.
    pub output_columns: Option<Vec<String>>,
    /// Rows returned per execution, when known.
    pub rows: Option<f64>,
    /// Equality-on-a-constant predicates (by their SQL) allowed to make the index
    /// partial; `None` allows any that statistics show selective. Across a workload,
    /// only constants that recur in several statements, or the one constant a column
    /// is ever compared with, qualify: one of several values, each once, is a
    /// lookup, not a fixed condition.
    pub partial_constants: Option<Vec<String>>,
    /// The database compares text byte by byte ([`Catalog::byte_order_collation`]):
    /// a prefix match needs no `text_pattern_ops`.
    pub byte_order_collation: bool,
}

/// One key of an index: a column with its sort direction, or an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum IndexKey {
    Column {
        name: String,
        direction: String,
    },
    Expression(String),
    /// A key with `text_pattern_ops`, for `LIKE 'prefix%'`: under any collation but
    /// C, a plain btree's order is not the byte order a prefix match needs.
    Pattern(Box<IndexKey>),
}

impl IndexKey {
    fn sql(&self) -> String {
        let mut sql = String::new();
        self.write_sql(&mut sql);
        sql
    }

    /// Appends the key as CREATE INDEX lists it. Into one buffer: a report with a
    /// suggestion for each of thousands of partitions builds this SQL for each.
    fn write_sql(&self, out: &mut String) {
        match self {
            IndexKey::Column { name, direction } => {
                out.push_str(&quote_ident(name));
                if !direction.is_empty() {
                    out.push(' ');
                    out.push_str(direction);
                }
            }
            IndexKey::Expression(sql) => {
                out.push('(');
                out.push_str(sql);
                out.push(')');
            }
            IndexKey::Pattern(key) => {
                key.write_sql(out);
                out.push_str(" text_pattern_ops");
            }
        }
    }

    /// The expression, for an expression key (with or without an operator class).
    pub fn expression(&self) -> Option<&str> {
        match self {
            IndexKey::Column { .. } => None,
            IndexKey::Expression(sql) => Some(sql),
            IndexKey::Pattern(key) => key.expression(),
        }
    }

    pub fn is_expression(&self) -> bool {
        match self {
            IndexKey::Column { .. } => false,
            IndexKey::Expression(_) => true,
            IndexKey::Pattern(key) => key.is_expression(),
        }
    }

    /// Appends the words the index name is made of.
    fn write_name_part(&self, out: &mut String) {
        match self {
            IndexKey::Column { name, .. } => out.push_str(name),
            IndexKey::Expression(sql) => write_name_words(sql, out),
            IndexKey::Pattern(key) => {
                key.write_name_part(out);
                out.push_str("_pattern");
            }
        }
    }

    pub fn column(&self) -> Option<&str> {
        match self {
            IndexKey::Column { name, .. } => Some(name),
            IndexKey::Expression(_) => None,
            IndexKey::Pattern(key) => key.column(),
        }
    }
}

/// A suggested index, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexCandidate {
    pub schema: Option<String>,
    pub table: String,
    pub keys: Vec<IndexKey>,
    pub include: Vec<String>,
    /// A partial index's WHERE clause.
    pub predicate: Option<String>,
    /// The plan node it is for, when it came from a plan.
    pub node: Option<usize>,
    pub reason: String,
}

/// PostgreSQL's identifier limit: longer names are truncated silently, so two long names could collide.
const MAX_NAME_BYTES: usize = 63;

impl IndexCandidate {
    /// `<table>_<keys>[_incl][_where_<columns>]_idx`, shortened with a hash of the
    /// full name when longer than PostgreSQL's 63 bytes.
    pub fn name(&self) -> String {
        let mut name = String::with_capacity(MAX_NAME_BYTES + 1);
        name.push_str(&self.table);
        for key in &self.keys {
            name.push('_');
            key.write_name_part(&mut name);
        }
        if !self.include.is_empty() {
            name.push_str("_incl");
        }
        if let Some(predicate) = &self.predicate {
            name.push_str("_where_");
            write_name_words(predicate, &mut name);
        }
        name.push_str("_idx");
        if name.len() <= MAX_NAME_BYTES {
            name
        } else {
            shorten_name(&name)
        }
    }

    pub fn qualified_table(&self) -> String {
        let mut out = String::new();
        self.write_qualified_table(&mut out);
        out
    }

    fn write_qualified_table(&self, out: &mut String) {
        if let Some(schema) = &self.schema {
            out.push_str(&quote_ident(schema));
            out.push('.');
        }
        out.push_str(&quote_ident(&self.table));
    }

    /// The index definition after `CREATE INDEX [CONCURRENTLY] name`: `ON t (a, b) INCLUDE (c) WHERE ...`.
    pub fn definition(&self) -> String {
        let mut sql = String::with_capacity(64);
        sql.push_str("ON ");
        self.write_qualified_table(&mut sql);
        sql.push_str(" (");
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            key.write_sql(&mut sql);
        }
        sql.push(')');
        if !self.include.is_empty() {
            sql.push_str(" INCLUDE (");
            for (i, column) in self.include.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&quote_ident(column));
            }
            sql.push(')');
        }
        if let Some(predicate) = &self.predicate {
            sql.push_str(" WHERE ");
            sql.push_str(predicate);
        }
        sql
    }

    pub fn kind(&self) -> &'static str {
        match (self.keys.iter().any(IndexKey::is_expression), self.predicate.is_some(), !self.include.is_empty()) {
            (true, _, _) => "expression",
            (_, true, true) => "partial, covering",
            (_, true, false) => "partial",
            (_, false, true) => "covering",
            _ if self.keys.len() > 1 => "multi-column",
            _ => "plain",
        }
    }
}

/// `name` itself when PostgreSQL keeps it whole, else cut and suffixed with a hash of
/// the whole name, so that two long names never collide.
pub fn shorten_name(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let hash = format!("{:08x}", fnv1a(name) as u32);
    let mut cut = MAX_NAME_BYTES - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", name[..cut].trim_end_matches('_'))
}

/// An expression's words for an index name: its letters and digits, ASCII lowered,
/// each run between other characters a word, `text` (a cast) left out, joined by `_`.
fn write_name_words(sql: &str, out: &mut String) {
    let words = sql.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("text"));
    for (i, word) in words.enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
}

/// FNV-1a: a stable hash (std's is randomized), for names that must not change between runs.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Candidates for every scan in the plan that reads much more than it keeps, in plan order,
/// without duplicates. `catalog` (when live) supplies column statistics for partial indexes.
pub fn suggest(scans: &[ScanConditions<'_>], catalog: Option<&Catalog>) -> Vec<IndexCandidate> {
    // Each scan's candidate is built alone: thousands of partitions' in two halves side by side.
    let built = crate::halves::map(scans, |scan| {
        let reason = needs_index(scan)?;
        let stats = |column: &str| catalog.and_then(|c| c.column_stats(scan.schema, scan.table, column));
        let access = Access { byte_order_collation: catalog.is_some_and(|c| c.byte_order_collation), ..scan.access() };
        candidate(&access, Some(scan.node.id), reason, &stats)
    });
    // The first candidate of each name, in plan order.
    let mut names = std::collections::HashSet::new();
    built.into_iter().flatten().filter(|candidate| names.insert(candidate.name())).collect()
}

/// Why this scan would gain from an index, or `None` if it would not.
fn needs_index(scan: &ScanConditions<'_>) -> Option<String> {
    let node = scan.node;
    let actual = node.actual;
    if scan.nested_loop_inner && !scan.joins.is_empty() && node.node_type == "Seq Scan" {
        let loops = actual.map_or(0.0, |a| a.loops);
        if loops >= NESTED_LOOP_MIN_LOOPS || (actual.is_none() && node.total_cost.unwrap_or(0.0) >= UNANALYZED_MIN_SCAN_COST) {
            return Some(format!("node {}: inner side of a Nested Loop scanned {} times", node.id, crate::units::format_count(loops)));
        }
    }
    if let Some(hashed) =
        scan.hash_probe_of.filter(|rows| *rows <= SMALL_HASH_ROWS && !scan.joins.is_empty() && node.node_type == "Seq Scan")
    {
        let read = actual.map(|a| (a.rows + node.rows_removed_by_filter.unwrap_or(0.0)) * a.loops);
        let big = read.map_or(node.total_cost.unwrap_or(0.0) >= UNANALYZED_MIN_SCAN_COST, |r| r >= BIG_SCAN_ROWS);
        if big {
            return Some(format!(
                "node {}: {} is scanned whole to probe a hash of {} rows",
                node.id,
                node.label(),
                crate::units::format_count(hashed)
            ));
        }
    }
    if scan.predicates.is_empty() && scan.sort_keys.is_empty() {
        return None;
    }
    // A skip scan (18+): the scan itself, or the bitmap index scans under it.
    let skips = std::iter::once(node)
        .chain(node.children.iter().map(|c| &**c).filter(|c| c.node_type.starts_with("Bitmap")))
        .find_map(|n| n.skip_searches_per_loop().filter(|s| *s >= SKIP_SCAN_MIN_SEARCHES).map(|s| (n, s)));
    if let Some((skipping, searches)) = skips {
        return Some(format!(
            "node {}: {} searches its index {} times per loop, skipping through leading columns",
            skipping.id,
            skipping.label(),
            crate::units::format_count(searches.round())
        ));
    }
    match actual {
        Some(a) if a.loops > 0.0 => {
            let returned = a.rows * a.loops;
            let removed = node.rows_removed_by_filter.unwrap_or(0.0) * a.loops;
            let read = returned + removed;
            let discards = read > 0.0 && removed / read >= DISCARD_SHARE;
            let is_seq = node.node_type == "Seq Scan";
            if is_seq && read >= BIG_SCAN_ROWS && (discards || !scan.sort_keys.is_empty()) {
                return Some(format!(
                    "node {}: {} reads {} rows, keeps {}",
                    node.id,
                    node.label(),
                    crate::units::format_count(read),
                    crate::units::format_count(returned)
                ));
            }
            if !is_seq && removed >= INDEX_FILTER_MIN_REMOVED && discards {
                return Some(format!(
                    "node {}: the filter removes {} of {} rows the index returned",
                    node.id,
                    crate::units::format_count(removed),
                    crate::units::format_count(read)
                ));
            }
            None
        }
        Some(_) => None,
        None => (node.node_type == "Seq Scan" && node.total_cost.unwrap_or(0.0) >= UNANALYZED_MIN_SCAN_COST)
            .then(|| format!("node {}: {} estimated at cost {:.0}", node.id, node.label(), node.total_cost.unwrap_or(0.0))),
    }
}

/// The index that serves `access`, if it has anything an index can use.
pub fn candidate(
    scan: &Access,
    node: Option<usize>,
    reason: String,
    stats: &dyn Fn(&str) -> Option<ColumnStats>,
) -> Option<IndexCandidate> {
    let mut keys: Vec<IndexKey> = Vec::new();
    let mut partial: Vec<String> = Vec::new();
    let push = |keys: &mut Vec<IndexKey>, key: IndexKey| {
        if !keys.contains(&key) && !keys.iter().any(|k| k.column().is_some() && k.column() == key.column()) {
            keys.push(key);
        }
    };

    let allowed =
        |p: &Predicate| p.operator != Operator::Equality || scan.partial_constants.as_ref().is_none_or(|list| list.contains(&p.sql));
    let (constants, lookups): (Vec<&Predicate>, Vec<&Predicate>) =
        scan.predicates.iter().partition(|p| allowed(p) && is_partial_condition(p, stats));
    let join_lookup = scan.join_lookup;
    let has_other_keys = !lookups.is_empty() || !scan.sort_keys.is_empty() || (join_lookup && !scan.joins.is_empty());
    for predicate in &constants {
        if has_other_keys {
            partial.push(partial_sql(predicate));
        } else {
            push(&mut keys, key_of(&predicate.target));
        }
    }
    // Equalities (and IS NULL, which a btree also finds), then joins on the inner side of a loop.
    let equalities: Vec<&&Predicate> = lookups
        .iter()
        .filter(|p| matches!(p.operator, Operator::Equality | Operator::IsNull | Operator::IsTrue | Operator::IsFalse))
        .collect();
    // A unique-like column (an email, an id) needs no company: index it alone, with
    // no other equality, join, range or sort column after it.
    let unique_like = equalities.iter().find(|p| match &p.target {
        Target::Column(c) if p.operator == Operator::Equality => {
            stats(&c.name).is_some_and(|s| s.table_rows > 0.0 && s.distinct_values() >= UNIQUE_LIKE_SHARE * s.table_rows)
        }
        _ => false,
    });
    match unique_like {
        Some(unique) => push(&mut keys, key_of(&unique.target)),
        None => {
            for predicate in equalities {
                push(&mut keys, key_of(&predicate.target));
            }
            if join_lookup {
                for join in &scan.joins {
                    push(&mut keys, key_of(&join.target));
                }
            }
            // A prefix match reads a range in byte order: its own key, with
            // text_pattern_ops, which a sort under the collation cannot use.
            let prefix = lookups.iter().find(|p| p.operator == Operator::Prefix);
            if let Some(prefix) = prefix {
                let key = key_of(&prefix.target);
                push(&mut keys, if scan.byte_order_collation { key } else { IndexKey::Pattern(Box::new(key)) });
            }
            let range = lookups.iter().find(|p| p.operator == Operator::Range).or(prefix.filter(|_| scan.byte_order_collation));
            let prefixed = prefix.is_some() && !scan.byte_order_collation;
            match (range, scan.sort_keys.first()) {
                _ if prefixed => {}
                (Some(range), Some(first)) if matches!(&range.target, Target::Column(c) if c.name == first.column) => {
                    push_sort_keys(&mut keys, &scan.sort_keys)
                }
                (Some(range), _) => push(&mut keys, key_of(&range.target)),
                (None, Some(_)) => push_sort_keys(&mut keys, &scan.sort_keys),
                (None, None) => {}
            }
        }
    }
    if keys.is_empty() {
        return None;
    }

    let include = covering_columns(scan, &keys, &partial);
    partial.sort();
    Some(IndexCandidate {
        schema: scan.schema.clone(),
        table: scan.table.clone(),
        keys,
        include,
        predicate: (!partial.is_empty()).then(|| partial.join(" AND ")),
        node,
        reason,
    })
}

fn push_sort_keys(keys: &mut Vec<IndexKey>, sort_keys: &[SortKey]) {
    for sort in sort_keys {
        if !keys.iter().any(|k| k.column() == Some(&sort.column)) {
            keys.push(IndexKey::Column { name: sort.column.clone(), direction: sort.direction.clone() });
        }
    }
}

fn key_of(target: &Target) -> IndexKey {
    match target {
        Target::Column(c) => IndexKey::Column { name: c.name.clone(), direction: String::new() },
        Target::Expression { sql, .. } => IndexKey::Expression(sql.clone()),
    }
}

/// Whether a condition is a fixed filter rather than a lookup value: a good partial-index predicate.
fn is_partial_condition(predicate: &Predicate, stats: &dyn Fn(&str) -> Option<ColumnStats>) -> bool {
    let Target::Column(column) = &predicate.target else { return false };
    match predicate.operator {
        // NULL tests make a partial index when they leave out a real share of the
        // table (a soft-delete `deleted_at IS NULL` does); unknown statistics: assume so.
        Operator::IsNull => stats(&column.name).is_none_or(|s| s.null_frac <= PARTIAL_MAX_KEPT),
        Operator::IsNotNull => stats(&column.name).is_none_or(|s| 1.0 - s.null_frac <= PARTIAL_MAX_KEPT),
        Operator::IsTrue | Operator::IsFalse => true,
        Operator::Equality => {
            let Operand::Constant(value) = &predicate.operand else { return false };
            let Some(stats) = stats(&column.name) else { return false };
            let value = constant_text(value);
            let frequency = stats.frequency_of(&value);
            stats.distinct_values() <= PARTIAL_MAX_DISTINCT && frequency.is_some_and(|f| f <= PARTIAL_MAX_FREQUENCY)
        }
        Operator::Range | Operator::Prefix => false,
    }
}

/// `'active'::TEXT` → `active`: the value as pg_stats lists it.
fn constant_text(value: &str) -> String {
    let value = value.split("::").next().unwrap_or(value).trim();
    value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).map(|v| v.replace("''", "'")).unwrap_or_else(|| value.to_string())
}

fn partial_sql(predicate: &Predicate) -> String {
    let Target::Column(column) = &predicate.target else { return predicate.sql.clone() };
    let column = quote_ident(&column.name);
    match (&predicate.operator, &predicate.operand) {
        (Operator::IsNull, _) => format!("{column} IS NULL"),
        (Operator::IsNotNull, _) => format!("{column} IS NOT NULL"),
        (Operator::IsTrue, _) => column.into_owned(),
        (Operator::IsFalse, _) => format!("NOT {column}"),
        (_, Operand::Constant(value)) => format!("{column} = {value}"),
        _ => predicate.sql.clone(),
    }
}

/// The columns to INCLUDE so an index-only scan can answer: what the scan returns
/// and filters on beyond the keys, if few and the scan returns many rows.
fn covering_columns(scan: &Access, keys: &[IndexKey], partial: &[String]) -> Vec<String> {
    let Some(output) = &scan.output_columns else { return Vec::new() };
    // ORDER BY ... LIMIT through the index stops after the limit's rows, whatever the scan read now.
    if !scan.sort_keys.is_empty() {
        return Vec::new();
    }
    let rows = scan.rows.unwrap_or(0.0);
    if rows < COVERING_MIN_ROWS || keys.iter().any(IndexKey::is_expression) {
        return Vec::new();
    }
    let mut needed: Vec<String> = output.iter().chain(&scan.residual_columns).cloned().collect();
    // Columns only tested by the partial predicate need not be stored.
    needed.retain(|c| !keys.iter().any(|k| k.column() == Some(c.as_str())));
    needed.retain(|c| {
        !partial.iter().any(|p| p.split_whitespace().next().map(|w| w.trim_matches('"')) == Some(c.as_str()) && !output.contains(c))
    });
    needed.sort();
    needed.dedup();
    if needed.len() > COVERING_MAX_EXTRA_COLUMNS {
        return Vec::new();
    }
    needed
}

/// The existing index that already serves `candidate`, if any: valid, btree,
/// its leading keys are the candidate's keys, it has the candidate's predicate or
/// neither has one, and it stores every column the candidate would INCLUDE.
pub fn served_by<'a>(candidate: &IndexCandidate, catalog: &'a Catalog) -> Option<&'a Index> {
    let table = catalog.table(candidate.schema.as_deref(), &candidate.table)?;
    let wanted: Vec<String> = candidate
        .keys
        .iter()
        .map(|k| {
            let plain = match k {
                IndexKey::Pattern(inner) => inner.as_ref(),
                other => other,
            };
            normalized(&plain.column().map_or_else(|| plain.sql(), str::to_string))
        })
        .collect();
    // pg_get_indexdef's key list leaves out operator classes; the definition has them.
    let pattern = candidate.keys.iter().any(|k| matches!(k, IndexKey::Pattern(_)));
    table.indexes.iter().find(|index| {
        let keys: Vec<String> = index.keys.iter().map(|k| normalized(k)).collect();
        let stored: Vec<String> = keys.iter().cloned().chain(index.include.iter().map(|c| normalized(c))).collect();
        // A unique index on the candidate's leading keys already finds at most one
        // row: the candidate's further keys would only add width.
        let unique_prefix = (index.unique || index.primary)
            && index.predicate.is_none()
            && !keys.is_empty()
            && keys.len() < wanted.len()
            && wanted[..keys.len()] == keys[..]
            && candidate.keys[..keys.len()].iter().all(|k| matches!(k, IndexKey::Column { .. }));
        if index.valid && index.method == "btree" && unique_prefix {
            return true;
        }
        let leads = keys.len() >= wanted.len() && keys[..wanted.len()] == wanted[..];
        index.valid
            && index.method == "btree"
            && (!pattern || index.definition.contains("_pattern_ops"))
            && (leads || (catalog.btree_skip_scan && skips_to(table, &keys, &wanted)))
            && match (&index.predicate, &candidate.predicate) {
                (None, None) => true,
                (Some(theirs), Some(ours)) => normalized(theirs) == normalized(ours),
                // A partial candidate's point is often its predicate, not its keys:
                // (c_custkey) WHERE c_mktsegment = 'B' lists a segment's customers,
                // which the primary key on c_custkey does not. The planner decides.
                (None, Some(_)) | (Some(_), None) => false,
            }
            && candidate.include.iter().all(|c| stored.contains(&normalized(c)))
    })
}

/// On PostgreSQL 18+, whether a skip scan of an index with `keys` finds `wanted`:
/// the wanted keys follow leading columns that have at most
/// [`SKIP_SCAN_MAX_PREFIXES`] combinations of values between them, so the scan
/// descends the index a few times instead of once.
fn skips_to(table: &Table, keys: &[String], wanted: &[String]) -> bool {
    (1..keys.len()).any(|skipped| {
        keys.len() - skipped >= wanted.len()
            && keys[skipped..skipped + wanted.len()] == wanted[..]
            && keys[..skipped]
                .iter()
                .map(|key| table.stats.iter().find(|s| normalized(&s.column) == *key).map(ColumnStats::distinct_values))
                .try_fold(1.0, |product, distinct| distinct.map(|d| product * d.max(1.0)))
                .is_some_and(|prefixes| prefixes <= SKIP_SCAN_MAX_PREFIXES)
    })
}

/// The most combinations of values in the leading columns an index's skip scan
/// may step through and still count as serving a filter on the columns after
/// them: each one costs a descent of the index (about two, with the search for
/// the next value), so four stay below the plan rule's SKIP_SCAN_MIN_SEARCHES.
pub const SKIP_SCAN_MAX_PREFIXES: f64 = 4.0;

/// Text of a key or predicate with case, spaces, parentheses and quotes removed,
/// so `lower((email)::TEXT)` matches pg_get_indexdef's `lower(email::text)`.
fn normalized(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"')).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::conditions::scans;
    use crate::plan::parse::read_plan;
    use crate::plan::Plan;

    fn plan(text: &str) -> Plan {
        read_plan(text).unwrap()
    }

    fn seq_scan(filter: &str, extra: &str) -> String {
        format!(
            r#"[{{"Plan": {{"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public", "Alias": "orders",
            "Plan Rows": 10, "Actual Startup Time": 0, "Actual Total Time": 50, "Actual Rows": 500, "Actual Loops": 1,
            "Filter": "{filter}", "Rows Removed by Filter": 99500 {extra}}}}}]"#
        )
    }

    fn suggestions(text: &str) -> Vec<String> {
        let plan = plan(text);
        suggest(&scans(&plan), None).into_iter().map(|c| crate::action::Action::CreateIndex(c).sql()).collect()
    }

    #[test]
    fn equality_then_range() {
        let found = suggestions(&seq_scan("((created_at > '2024-01-01'::date) AND (customer_id = 42))", ""));
        assert_eq!(
            found,
            vec!["CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_created_at_idx ON public.orders (customer_id, created_at);"]
        );
    }

    #[test]
    fn a_constant_condition_makes_the_index_partial() {
        let found = suggestions(&seq_scan("((deleted_at IS NULL) AND (customer_id = 42))", ""));
        assert_eq!(found, vec!["CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_where_deleted_at_is_null_idx ON public.orders (customer_id) WHERE deleted_at IS NULL;"]);
    }

    #[test]
    fn few_returned_columns_make_it_covering() {
        let found = suggestions(&seq_scan("(customer_id = 42)", r#", "Output": ["id", "total"]"#));
        assert_eq!(
            found,
            vec!["CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_incl_idx ON public.orders (customer_id) INCLUDE (id, total);"]
        );
        let many = suggestions(&seq_scan("(customer_id = 42)", r#", "Output": ["id", "total", "a", "b", "c"]"#));
        assert!(!many[0].contains("INCLUDE"));
    }

    #[test]
    fn a_function_on_a_column_makes_an_expression_index() {
        let found = suggestions(&seq_scan("(lower((email)::text) = 'a@b.c'::text)", ""));
        assert_eq!(
            found,
            vec!["CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_lower_email_idx ON public.orders ((lower((email)::TEXT)));"]
        );
    }

    #[test]
    fn a_scan_that_keeps_most_rows_needs_no_index() {
        let text = seq_scan("(customer_id > 1)", "").replace("\"Rows Removed by Filter\": 99500", "\"Rows Removed by Filter\": 5");
        assert!(suggestions(&text).is_empty());
    }

    #[test]
    fn names_are_stable_and_fit_postgresql() {
        let long = "a".repeat(40);
        let one = shorten_name(&format!("{long}_{long}_x_idx"));
        let two = shorten_name(&format!("{long}_{long}_y_idx"));
        assert!(one.len() <= 63 && two.len() <= 63);
        assert_ne!(one, two);
        assert_eq!(one, shorten_name(&format!("{long}_{long}_x_idx")));
    }

    #[test]
    fn an_existing_index_with_the_same_leading_keys_serves_a_candidate() {
        let plan = plan(&seq_scan("(lower((email)::text) = 'a@b.c'::text)", ""));
        let candidate = suggest(&scans(&plan), None).remove(0);
        let index =
            |keys: &[&str], predicate: Option<&str>| Index { predicate: predicate.map(str::to_string), ..Index::btree("existing", keys) };
        let catalog = |indexes| Catalog {
            tables: vec![crate::catalog::Table { indexes, ..crate::catalog::Table::new("public", "orders", 1e5) }],
            ..Catalog::default()
        };
        assert!(served_by(&candidate, &catalog(vec![index(&["lower(email::text)", "id"], None)])).is_some());
        assert!(served_by(&candidate, &catalog(vec![index(&["email"], None)])).is_none());
        assert!(served_by(&candidate, &catalog(vec![index(&["lower(email::text)"], Some("id > 5"))])).is_none());
    }

    #[test]
    fn a_unique_index_on_the_leading_keys_serves_a_wider_candidate() {
        let plan = plan(&seq_scan("((id = 42) AND (status = 'open'::text))", ""));
        let candidate = suggest(&scans(&plan), None).remove(0);
        assert_eq!(candidate.keys.iter().filter_map(IndexKey::column).collect::<Vec<_>>(), ["id", "status"], "{}", candidate.definition());
        let catalog = |index: Index| Catalog {
            tables: vec![crate::catalog::Table { indexes: vec![index], ..crate::catalog::Table::new("public", "orders", 1e5) }],
            ..Catalog::default()
        };
        let primary = Index { primary: true, unique: true, ..Index::btree("orders_pkey", &["id"]) };
        assert_eq!(served_by(&candidate, &catalog(primary)).map(|i| i.name.as_str()), Some("orders_pkey"));
        assert!(served_by(&candidate, &catalog(Index::btree("orders_id_idx", &["id"]))).is_none(), "not unique: more keys narrow it");
    }

    #[test]
    fn on_18_a_skip_scan_through_few_leading_values_serves_a_candidate() {
        let plan = plan(&seq_scan("(customer_id = 42)", ""));
        let candidate = suggest(&scans(&plan), None).remove(0);
        let stats = |column: &str, distinct: f64| ColumnStats {
            column: column.into(),
            null_frac: 0.0,
            n_distinct: distinct,
            most_common_vals: Vec::new(),
            most_common_freqs: Vec::new(),
            correlation: None,
            histogram_bounds: Vec::new(),
            avg_width: None,
            table_rows: 1e5,
        };
        let catalog = |skip_scan: bool, leading_values: f64| Catalog {
            tables: vec![crate::catalog::Table {
                indexes: vec![Index::btree("orders_region_customer_id_idx", &["region", "customer_id"])],
                stats: vec![stats("region", leading_values), stats("customer_id", 5000.0)],
                ..crate::catalog::Table::new("public", "orders", 1e5)
            }],
            btree_skip_scan: skip_scan,
            ..Catalog::default()
        };
        assert!(served_by(&candidate, &catalog(true, 3.0)).is_some(), "18: three regions, three descents");
        assert!(served_by(&candidate, &catalog(false, 3.0)).is_none(), "before 18 the leading column must be fixed");
        assert!(served_by(&candidate, &catalog(true, 50.0)).is_none(), "fifty regions are fifty descents: the candidate is needed");
    }
}
