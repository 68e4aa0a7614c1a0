//! Indexes to drop: invalid, duplicate, redundant and unused ones, each with
//! its evidence and size. From the catalog alone; `select` can confirm a drop
//! by hiding the index from the planner.

use crate::action::{Action, ExistingIndex};
use crate::catalog::{Catalog, Index, Table};
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
    /// `Action::DropIndex`: its SQL, and the rebuild that undoes it.
    #[serde(flatten)]
    pub action: Action,
}

/// An index that looks droppable but whose evidence cannot bear a DROP: reported,
/// never put into a migration.
#[derive(Debug, Clone, Serialize)]
pub struct KeptIndex {
    pub schema: String,
    pub table: String,
    pub index: String,
    pub why: String,
}

/// What the catalog says about existing indexes: what to drop, and what only looks droppable.
#[derive(Debug, Clone, Default)]
pub struct Hygiene {
    pub drops: Vec<DropAdvice>,
    pub kept: Vec<KeptIndex>,
}

/// Statistics younger than this do not prove an index unused: a monthly report or a
/// failover runbook may not have run since the reset.
pub const DEFAULT_MIN_STATS_AGE_SECONDS: u64 = 7 * 86400;

/// The drops, judged as a set per table, ordered by table, then index name: of
/// identical indexes one stays (the one that enforces something, else the most
/// scanned); a prefix is dropped only for a wider index that stays; an index that
/// another drop relies on is never dropped as unused; an unused index is dropped
/// only when the statistics are at least `min_stats_age_seconds` old. Indexes that
/// back a constraint or the replica identity are never dropped.
pub fn check(catalog: &Catalog, min_stats_age_seconds: u64) -> Hygiene {
    let mut hygiene = Hygiene::default();
    for table in &catalog.tables {
        let decisions = table_decisions(table, catalog.stats_age_seconds, min_stats_age_seconds);
        for (index, decision) in table.indexes.iter().zip(decisions) {
            match decision {
                Decision::Keep => {}
                Decision::Note(why) => {
                    hygiene.kept.push(KeptIndex { schema: table.schema.clone(), table: table.name.clone(), index: index.name.clone(), why })
                }
                Decision::Drop(problem, evidence) => hygiene.drops.push(DropAdvice {
                    schema: table.schema.clone(),
                    table: table.name.clone(),
                    index: index.name.clone(),
                    problem,
                    size_bytes: index.size_bytes,
                    evidence,
                    action: Action::DropIndex(ExistingIndex {
                        schema: table.schema.clone(),
                        table: table.name.clone(),
                        name: index.name.clone(),
                        definition: index.definition.clone(),
                    }),
                }),
            }
        }
    }
    hygiene.drops.sort_by(|a, b| (&a.schema, &a.table, &a.index).cmp(&(&b.schema, &b.table, &b.index)));
    hygiene.kept.sort_by(|a, b| (&a.schema, &a.table, &a.index).cmp(&(&b.schema, &b.table, &b.index)));
    hygiene
}

enum Decision {
    Keep,
    Note(String),
    Drop(Problem, String),
}

/// Whether dropping the index could break something: it enforces a constraint, or
/// logical replication identifies rows by it.
fn protected(index: &Index) -> bool {
    index.primary || index.unique || index.constraint.is_some() || index.replica_identity
}

fn same_definition(a: &Index, b: &Index) -> bool {
    a.method == b.method && a.keys == b.keys && a.include == b.include && a.predicate == b.predicate
}

/// `wider` serves every scan `index` can: a btree with the same predicate whose keys
/// start with all of `index`'s, and which carries its INCLUDE columns.
fn covers(wider: &Index, index: &Index) -> bool {
    wider.method == index.method
        && index.method == "btree"
        && wider.predicate == index.predicate
        && index.keys.len() < wider.keys.len()
        && wider.keys[..index.keys.len()] == index.keys[..]
        && index.include.iter().all(|c| wider.keys.contains(c) || wider.include.contains(c))
}

/// One decision per index of the table, in the table's order.
fn table_decisions(table: &Table, stats_age: Option<f64>, min_stats_age: u64) -> Vec<Decision> {
    let indexes = &table.indexes;
    let mut dropped = vec![false; indexes.len()];
    // Indexes a drop relies on (the name of one index dropped in their favour): they
    // stay whatever their own scans say.
    let mut relied_on: Vec<Option<String>> = vec![None; indexes.len()];
    let mut decisions: Vec<Decision> = indexes.iter().map(|_| Decision::Keep).collect();
    for (i, index) in indexes.iter().enumerate() {
        if !index.valid {
            dropped[i] = true;
            decisions[i] = Decision::Drop(
                Problem::Invalid,
                "marked invalid: a CREATE INDEX CONCURRENTLY failed; it is still maintained on every write".into(),
            );
        }
    }
    // Identical indexes: keep the one that enforces something, else the most scanned, else the first by name.
    let keeper_rank = |index: &Index| (protected(index), index.scans.unwrap_or(0), std::cmp::Reverse(index.name.clone()));
    for (i, index) in indexes.iter().enumerate() {
        if dropped[i] || protected(index) {
            continue;
        }
        let keeper = (0..indexes.len())
            .filter(|&j| j != i && !dropped[j] && same_definition(index, &indexes[j]))
            .chain(std::iter::once(i))
            .max_by_key(|&j| keeper_rank(&indexes[j]))
            .expect("the index itself is a candidate");
        if keeper != i {
            let other = &indexes[keeper];
            dropped[i] = true;
            relied_on[keeper] = Some(index.name.clone());
            decisions[i] = Decision::Drop(Problem::Duplicate(other.name.clone()), format!("same definition as {}", other.name));
        }
    }
    // A prefix of a wider index that stays: the widest one, so that a chain of
    // prefixes all rely on the index at its end, which nothing here drops.
    for (i, index) in indexes.iter().enumerate() {
        if dropped[i] || protected(index) {
            continue;
        }
        let wider = (0..indexes.len())
            .filter(|&j| !dropped[j] && indexes[j].valid && covers(&indexes[j], index))
            .max_by_key(|&j| (indexes[j].keys.len(), std::cmp::Reverse(indexes[j].name.clone())));
        if let Some(j) = wider {
            let other = &indexes[j];
            dropped[i] = true;
            relied_on[j] = Some(index.name.clone());
            decisions[i] = Decision::Drop(
                Problem::Redundant(other.name.clone()),
                format!("({}) is a leading prefix of {} ({})", index.keys.join(", "), other.name, other.keys.join(", ")),
            );
        }
    }
    for (i, index) in indexes.iter().enumerate() {
        if dropped[i] || protected(index) || index.scans != Some(0) {
            continue;
        }
        if let Some(dropped) = &relied_on[i] {
            decisions[i] = Decision::Note(format!("no scans, but {dropped} is dropped in its favour, so one of them stays"));
            continue;
        }
        decisions[i] = match stats_age {
            Some(age) if age >= min_stats_age as f64 => Decision::Drop(
                Problem::Unused,
                format!(
                    "no scans in the {} since the statistics were last reset on this server (scans on replicas are not counted here)",
                    format_age(age)
                ),
            ),
            Some(age) => Decision::Note(format!(
                "no scans, but the statistics cover only {} (--min-stats-age is {}): not dropped",
                format_age(age),
                format_age(min_stats_age as f64)
            )),
            None => Decision::Note(
                "no scans, but how long the statistics cover is unknown (a snapshot from an older pgadvise?): not dropped".into(),
            ),
        };
    }
    decisions
}

/// A duration for people: `3 min`, `5 h`, `12 days`.
fn format_age(seconds: f64) -> String {
    match seconds {
        s if s < 3600.0 => format!("{:.0} min", s / 60.0),
        s if s < 2.0 * 86400.0 => format!("{:.0} h", s / 3600.0),
        s => format!("{:.0} days", s / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(name: &str, keys: &[&str], scans: i64) -> Index {
        Index { size_bytes: 8192, scans: Some(scans), ..Index::btree(name, keys) }
    }

    const WEEK: u64 = 7 * 86400;

    fn check_aged(indexes: Vec<Index>, stats_age_seconds: Option<f64>) -> Hygiene {
        let table = Table { indexes, ..Table::new("public", "t", 1e5) };
        check(&Catalog { tables: vec![table], stats_age_seconds, ..Catalog::default() }, WEEK)
    }

    fn check_indexes(indexes: Vec<Index>) -> Vec<(String, Problem)> {
        check_aged(indexes, Some(30.0 * 86400.0)).drops.into_iter().map(|a| (a.index, a.problem)).collect()
    }

    #[test]
    fn never_drops_both_halves_of_a_pair() {
        // The case: one unused, its twin scanned. The scanned one stays.
        let found = check_indexes(vec![index("orders_status_idx", &["status"], 0), index("orders_status_idx2", &["status"], 9)]);
        assert_eq!(found, vec![("orders_status_idx".to_string(), Problem::Duplicate("orders_status_idx2".into()))]);
        // Both unused: one goes as the duplicate, the other stays (with a note) because the drop relies on it.
        let hygiene = check_aged(vec![index("a", &["x"], 0), index("b", &["x"], 0)], Some(30.0 * 86400.0));
        assert_eq!(hygiene.drops.len(), 1);
        assert_eq!(hygiene.drops[0].index, "b");
        assert_eq!(hygiene.kept.iter().map(|k| k.index.as_str()).collect::<Vec<_>>(), ["a"]);
        // A prefix is dropped for the wider index, which then is not dropped as unused.
        let found = check_indexes(vec![index("t_a_idx", &["a"], 7), index("t_a_b_idx", &["a", "b"], 0)]);
        assert_eq!(found, vec![("t_a_idx".to_string(), Problem::Redundant("t_a_b_idx".into()))]);
        // A chain of prefixes relies on its widest index.
        let found = check_indexes(vec![index("x1", &["a"], 1), index("x2", &["a", "b"], 1), index("x3", &["a", "b", "c"], 1)]);
        assert_eq!(found, vec![("x1".to_string(), Problem::Redundant("x3".into())), ("x2".to_string(), Problem::Redundant("x3".into()))]);
    }

    #[test]
    fn unused_needs_statistics_old_enough() {
        let young = check_aged(vec![index("t_d_idx", &["d"], 0)], Some(600.0));
        assert!(young.drops.is_empty());
        assert!(young.kept[0].why.contains("cover only 10 min"), "{:?}", young.kept);
        let unknown = check_aged(vec![index("t_d_idx", &["d"], 0)], None);
        assert!(unknown.drops.is_empty() && unknown.kept[0].why.contains("unknown"));
        let old = check_aged(vec![index("t_d_idx", &["d"], 0)], Some(8.0 * 86400.0));
        assert_eq!(old.drops[0].problem, Problem::Unused);
        assert!(old.drops[0].evidence.contains("8 days"), "{}", old.drops[0].evidence);
    }

    #[test]
    fn never_drops_the_replica_identity() {
        let mut identity = index("t_code_idx", &["code"], 0);
        identity.replica_identity = true;
        assert!(check_indexes(vec![identity, index("t_code_copy", &["code"], 0)]).iter().all(|(name, _)| name != "t_code_idx"));
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
