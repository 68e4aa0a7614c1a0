//! Indexes to drop: invalid, duplicate, redundant and unused ones, each with
//! its evidence and size. From the catalog alone; `select` can confirm a drop
//! by hiding the index from the planner.

use crate::catalog::{Catalog, Index, Table};
use crate::sql::quote_ident;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "of", rename_all = "kebab-case")]
pub enum Problem {
    /// Left over from a failed CREATE INDEX CONCURRENTLY: maintained on every write, never used.
    Invalid,
    /// The same definition as the named index.
    Duplicate(String),
    /// Its keys are a leading prefix of the named index's, with the same predicate.
    Redundant(String),
    /// No scans since the statistics were last reset.
    Unused,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Invalid => f.write_str("invalid"),
            Problem::Duplicate(of) => write!(f, "duplicate of {of}"),
            Problem::Redundant(by) => write!(f, "redundant with {by}"),
            Problem::Unused => f.write_str("unused"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DropAdvice {
    pub schema: String,
    pub table: String,
    pub index: String,
    pub problem: Problem,
    pub size_bytes: u64,
    pub evidence: String,
    pub sql: String,
    /// `CREATE INDEX ...` as pg_get_indexdef wrote it: what a down migration rebuilds.
    pub definition: String,
}

/// Every index worth dropping, ordered by table, then index name.
pub fn check(catalog: &Catalog) -> Vec<DropAdvice> {
    let mut advice = Vec::new();
    for table in &catalog.tables {
        for index in &table.indexes {
            if let Some((problem, evidence)) = problem(table, index) {
                advice.push(DropAdvice {
                    schema: table.schema.clone(),
                    table: table.name.clone(),
                    index: index.name.clone(),
                    problem,
                    size_bytes: index.size_bytes,
                    evidence,
                    sql: format!("DROP INDEX CONCURRENTLY IF EXISTS {}.{};", quote_ident(&table.schema), quote_ident(&index.name)),
                    definition: index.definition.clone(),
                });
            }
        }
    }
    advice.sort_by(|a, b| (&a.schema, &a.table, &a.index).cmp(&(&b.schema, &b.table, &b.index)));
    advice
}

/// Whether dropping the index could break something: it enforces a constraint.
fn enforces_something(index: &Index) -> bool {
    index.primary || index.unique || index.constraint.is_some()
}

fn same_definition(a: &Index, b: &Index) -> bool {
    a.method == b.method && a.keys == b.keys && a.include == b.include && a.predicate == b.predicate
}

fn problem(table: &Table, index: &Index) -> Option<(Problem, String)> {
    if !index.valid {
        return Some((
            Problem::Invalid,
            "marked invalid: a CREATE INDEX CONCURRENTLY failed; it is still maintained on every write".into(),
        ));
    }
    // Of two identical indexes, keep the one that enforces a constraint, else the first by name.
    let duplicate_of = table.indexes.iter().find(|other| {
        other.name != index.name
            && other.valid
            && same_definition(index, other)
            && !enforces_something(index)
            && (enforces_something(other) || other.name < index.name)
    });
    if let Some(other) = duplicate_of {
        return Some((Problem::Duplicate(other.name.clone()), format!("same definition as {}", other.name)));
    }
    let covered_by = table.indexes.iter().find(|other| {
        other.name != index.name
            && other.valid
            && other.method == index.method
            && index.method == "btree"
            && other.predicate == index.predicate
            && index.keys.len() < other.keys.len()
            && other.keys[..index.keys.len()] == index.keys[..]
            && index.include.iter().all(|c| other.keys.contains(c) || other.include.contains(c))
            && !enforces_something(index)
    });
    if let Some(other) = covered_by {
        return Some((
            Problem::Redundant(other.name.clone()),
            format!("({}) is a leading prefix of {} ({})", index.keys.join(", "), other.name, other.keys.join(", ")),
        ));
    }
    if index.scans == Some(0) && !enforces_something(index) {
        return Some((
            Problem::Unused,
            "no scans since the statistics were last reset on this server (scans on replicas are not counted here)".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, keys: &[&str], scans: i64) -> Index {
        Index { size_bytes: 8192, scans: Some(scans), ..Index::btree(name, keys) }
    }

    fn check_indexes(indexes: Vec<Index>) -> Vec<(String, Problem)> {
        let table = Table { indexes, ..Table::new("public", "t", 1e5) };
        check(&Catalog { tables: vec![table] }).into_iter().map(|a| (a.index, a.problem)).collect()
    }

    #[test]
    fn finds_each_kind_and_keeps_what_enforces_a_constraint() {
        let mut primary = index("t_pkey", &["id"], 50);
        primary.primary = true;
        primary.unique = true;
        primary.constraint = Some("p".into());
        let mut invalid = index("t_c_idx", &["c"], 0);
        invalid.valid = false;
        let found = check_indexes(vec![
            primary,
            index("t_id_copy", &["id"], 3),
            index("t_a_idx", &["a"], 9),
            index("t_a_b_idx", &["a", "b"], 9),
            index("t_d_idx", &["d"], 0),
            invalid,
        ]);
        assert_eq!(
            found,
            vec![
                ("t_a_idx".to_string(), Problem::Redundant("t_a_b_idx".into())),
                ("t_c_idx".to_string(), Problem::Invalid),
                ("t_d_idx".to_string(), Problem::Unused),
                ("t_id_copy".to_string(), Problem::Duplicate("t_pkey".into())),
            ]
        );
    }

    #[test]
    fn a_unique_prefix_is_not_redundant() {
        let mut unique = index("t_a_key", &["a"], 5);
        unique.unique = true;
        assert!(check_indexes(vec![unique, index("t_a_b_idx", &["a", "b"], 5)]).is_empty());
    }
}
