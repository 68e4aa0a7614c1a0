//! The conditions a plan applies to each base relation, read with sqlparser:
//! what index suggestions are built from.
//!
//! A scan's own Filter / Index Cond / Recheck Cond use its columns bare (or
//! qualified by its alias under VERBOSE); join conditions (Hash Cond, Merge Cond,
//! Join Filter) are always qualified, so they are attributed by alias.

use super::{Plan, PlanNode};
use crate::advise::index::{Access, SMALL_HASH_ROWS};
use crate::sql::predicate::{self, columns_in, parse_expr, ColumnRef, Predicate, SortKey, Target};

/// Everything the plan says about how one scan node reads its relation.
#[derive(Debug, Clone)]
pub struct ScanConditions<'a> {
    pub node: &'a PlanNode,
    pub table: &'a str,
    pub schema: Option<&'a str>,
    /// Predicates of the scan's own conditions.
    pub predicates: Vec<Predicate>,
    /// The expressions over columns (`lower(email)`) its Filter compares, in the
    /// order written: what the function-on-column rule reports, read here once.
    pub filter_expressions: Vec<String>,
    /// Columns of conditions that are not indexable predicates (ORs, `<>`...): an
    /// index-only scan still needs them.
    pub residual_columns: Vec<String>,
    /// Join predicates on this relation, from the joins above it.
    pub joins: Vec<Predicate>,
    /// ORDER BY columns of a Sort under a Limit that reads only this relation.
    pub sort_keys: Vec<SortKey>,
    /// Columns the scan returns (VERBOSE `Output`); `None` when the plan does not say
    /// or a whole row is returned.
    pub output_columns: Option<Vec<String>>,
    /// Whether this scan is the inner side of a Nested Loop, run once per outer row.
    pub nested_loop_inner: bool,
    /// Rows on the hashed side when this scan is the probe (outer) side of a Hash
    /// Join: with few of them, a nested loop over an index here could replace the scan.
    pub hash_probe_of: Option<f64>,
}

impl ScanConditions<'_> {
    /// What the index builder needs, without the plan.
    pub fn access(&self) -> Access {
        Access {
            schema: self.schema.map(str::to_string),
            table: self.table.to_string(),
            predicates: self.predicates.clone(),
            residual_columns: self.residual_columns.clone(),
            joins: self.joins.clone(),
            join_lookup: self.nested_loop_inner || self.hash_probe_of.is_some_and(|rows| rows <= SMALL_HASH_ROWS),
            sort_keys: self.sort_keys.clone(),
            output_columns: self.output_columns.clone(),
            rows: self.node.total_actual_rows().or(self.node.plan_rows),
            partial_constants: None,
            byte_order_collation: false,
        }
    }
}

/// Conditions of every scan on a base relation, in plan order.
pub fn scans<'a>(plan: &'a Plan) -> Vec<ScanConditions<'a>> {
    let mut scan_counts = Vec::new();
    count_scans(&plan.root, &mut scan_counts);
    // The root's ancestors: none.
    let mut chains = vec![Vec::new()];
    let mut found = Vec::new();
    collect(&plan.root, 0, &mut chains, &mut found);
    // Reading a scan's conditions (sqlparser) is most of the time here, and each
    // scan is read alone: a plan of thousands of partitions is read in two halves
    // side by side.
    crate::halves::map(&found, |&(node, table, reference, chain)| scan(node, table, reference, &chains[chain], &scan_counts))
}

/// How many base-relation scans each subtree holds, at its node's id (computed
/// once: a Sort over an Append of thousands of partitions would otherwise be
/// walked per scan). Ids number the nodes from 1, so a list does for a map.
fn count_scans(node: &PlanNode, counts: &mut Vec<usize>) -> usize {
    let own = usize::from(node.relation.is_some());
    let total = own + node.children.iter().map(|c| count_scans(c, counts)).sum::<usize>();
    if counts.len() <= node.id {
        counts.resize(node.id + 1, 0);
    }
    counts[node.id] = total;
    total
}

/// A scan of a named relation: the node, its table and the name its conditions
/// use, and its ancestors as an index into a list of chains.
type Found<'a> = (&'a PlanNode, &'a str, &'a str, usize);

/// Each scan of a named relation, in plan order; `chain` is the index of
/// `node`'s ancestors in `chains`, which holds one chain for all the children
/// of a node.
fn collect<'a>(node: &'a PlanNode, chain: usize, chains: &mut Vec<Vec<&'a PlanNode>>, found: &mut Vec<Found<'a>>) {
    if let (Some(table), Some(reference)) = (node.relation.as_deref(), node.reference_name()) {
        found.push((node, table, reference, chain));
    }
    if node.children.is_empty() {
        return;
    }
    let mut children_chain = chains[chain].clone();
    children_chain.push(node);
    chains.push(children_chain);
    let children_chain = chains.len() - 1;
    for child in &node.children {
        collect(child, children_chain, chains, found);
    }
}

/// Predicates of one scan compared one by one, not hashed, up to this many.
const DEDUPLICATED_BY_SEARCH: usize = 16;

fn scan<'a>(node: &'a PlanNode, table: &'a str, reference: &str, ancestors: &[&'a PlanNode], scan_counts: &[usize]) -> ScanConditions<'a> {
    let own = predicate::of_relation(reference);
    let qualified = |c: &ColumnRef| c.qualifier.as_deref() == Some(reference);
    // Each condition, and whether it is the Filter.
    let conditions = [(&node.filter, true), (&node.index_cond, false), (&node.recheck_cond, false)];
    let mut predicates: Vec<Predicate> = Vec::new();
    // Seen predicates, so that a filter of thousands of conjuncts is deduplicated in
    // linear time; a filter of a few (nearly all) is searched as it stands.
    let mut seen: std::collections::HashSet<Predicate> = std::collections::HashSet::new();
    let mut residual_columns = Vec::new();
    let mut filter_expressions = Vec::new();
    for (condition, is_filter) in conditions {
        let Some(condition) = condition else { continue };
        // Each AND-ed part parsed once: an indexable predicate, or columns an
        // index-only scan would still need.
        for conjunct in predicate::conjuncts(condition) {
            let Some(expr) = parse_expr(conjunct) else { continue };
            for part in predicate::conjunct_exprs(&expr) {
                match predicate::predicate_of(part, &own) {
                    Some(found) => {
                        if let (true, Target::Expression { sql, .. }) = (is_filter, &found.target) {
                            filter_expressions.push(sql.clone());
                        }
                        let new = if predicates.len() < DEDUPLICATED_BY_SEARCH {
                            !predicates.contains(&found)
                        } else {
                            if seen.is_empty() {
                                seen.extend(predicates.iter().cloned());
                            }
                            seen.insert(found.clone())
                        };
                        if new {
                            predicates.push(found);
                        }
                    }
                    None => residual_columns.extend(columns_in(part).into_iter().filter(|c| own(c)).map(|c| c.name)),
                }
            }
        }
    }
    residual_columns.sort();
    residual_columns.dedup();

    let mut joins = Vec::new();
    for ancestor in ancestors {
        for condition in [&ancestor.hash_cond, &ancestor.merge_cond, &ancestor.join_filter].into_iter().flatten() {
            joins.extend(
                predicate::predicates(condition, &qualified).into_iter().filter(|p| matches!(p.operand, predicate::Operand::Column(_))),
            );
        }
    }
    // An inner index scan's Index Cond `(o.user_id = u.id)` is a join too.
    joins.extend(predicates.iter().filter(|p| matches!(p.operand, predicate::Operand::Column(_))).cloned());
    predicates.retain(|p| !matches!(p.operand, predicate::Operand::Column(_)));

    let nested_loop_inner = is_nested_loop_inner(node, ancestors);
    let hash_probe_of = hashed_rows_when_probe(node, ancestors);
    ScanConditions {
        node,
        table,
        schema: node.schema.as_deref(),
        predicates,
        filter_expressions,
        residual_columns,
        joins,
        sort_keys: sort_keys_for(reference, ancestors, scan_counts),
        output_columns: output_columns(node, reference),
        nested_loop_inner,
        hash_probe_of,
    }
}

/// The hashed side's rows, when `node` is the direct probe (Outer) child of a Hash Join.
fn hashed_rows_when_probe(node: &PlanNode, ancestors: &[&PlanNode]) -> Option<f64> {
    let join = ancestors.last().filter(|a| a.node_type == "Hash Join")?;
    if node.parent_relationship.as_deref() != Some("Outer") {
        return None;
    }
    let hash = join.children.iter().find(|c| c.parent_relationship.as_deref() == Some("Inner"))?;
    hash.total_actual_rows().or(hash.plan_rows)
}

/// Inner side of a Nested Loop, possibly below a Materialize/Memoize or a Bitmap Heap Scan.
fn is_nested_loop_inner(node: &PlanNode, ancestors: &[&PlanNode]) -> bool {
    let mut child = node;
    for ancestor in ancestors.iter().rev() {
        if ancestor.node_type == "Nested Loop" {
            return child.parent_relationship.as_deref() == Some("Inner");
        }
        if !matches!(ancestor.node_type.as_str(), "Materialize" | "Memoize" | "Result") {
            return false;
        }
        child = ancestor;
    }
    false
}

/// A Sort (or Incremental Sort) directly under a Limit, whose subtree reads this relation only.
fn sort_keys_for(reference: &str, ancestors: &[&PlanNode], scan_counts: &[usize]) -> Vec<SortKey> {
    for (i, ancestor) in ancestors.iter().enumerate().rev() {
        if !matches!(ancestor.node_type.as_str(), "Sort" | "Incremental Sort") {
            continue;
        }
        let under_limit = ancestors[..i]
            .iter()
            .rev()
            .take_while(|a| matches!(a.node_type.as_str(), "Limit" | "Gather Merge" | "Result"))
            .any(|a| a.node_type == "Limit");
        if !under_limit || scan_counts.get(ancestor.id) != Some(&1) {
            return Vec::new();
        }
        return ancestor.sort_key.iter().map_while(|key| sort_key(key, reference)).collect();
    }
    Vec::new()
}

fn sort_key(text: &str, reference: &str) -> Option<SortKey> {
    let mut expression = text.trim();
    let mut direction = Vec::new();
    for suffix in [" NULLS LAST", " NULLS FIRST", " DESC", " ASC"] {
        if let Some(rest) = expression.strip_suffix(suffix) {
            direction.insert(0, suffix.trim());
            expression = rest;
        }
    }
    let expr = parse_expr(expression)?;
    let column = column_of(&expr)?;
    (column.qualifier.is_none() || column.qualifier.as_deref() == Some(reference))
        .then(|| SortKey { column: column.name, direction: direction.join(" ").replace("ASC", "").trim().to_string() })
}

fn column_of(expr: &sqlparser::ast::Expr) -> Option<ColumnRef> {
    use sqlparser::ast::Expr;
    match expr {
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => column_of(inner),
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            let columns = columns_in(expr);
            columns.into_iter().next()
        }
        _ => None,
    }
}

fn output_columns(node: &PlanNode, reference: &str) -> Option<Vec<String>> {
    if node.output.is_empty() {
        return None;
    }
    let mut columns = Vec::new();
    for item in &node.output {
        // `o.*` or a bare row reference `o`: the whole row, no index covers that.
        if item.ends_with(".*") || item == reference {
            return None;
        }
        let expr = parse_expr(item)?;
        columns.extend(
            columns_in(&expr).into_iter().filter(|c| c.qualifier.is_none() || c.qualifier.as_deref() == Some(reference)).map(|c| c.name),
        );
    }
    columns.sort();
    columns.dedup();
    Some(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::parse::read_plan;
    use crate::sql::predicate::{Operand, Operator, Target};

    fn plan(text: &str) -> Plan {
        read_plan(text).unwrap()
    }

    #[test]
    fn reads_a_scan_with_sort_under_limit_and_verbose_output() {
        let plan = plan(
            r#"[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort", "Sort Key": ["o.created_at DESC"], "Plans": [
               {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "public", "Alias": "o",
                "Output": ["o.id", "o.total"], "Filter": "((o.status = 'open'::text) AND (o.deleted_at IS NULL) AND ((o.a = 1) OR (o.b = 2)))"}]}]}}]"#,
        );
        let scans = scans(&plan);
        assert_eq!(scans.len(), 1);
        let scan = &scans[0];
        assert_eq!((scan.table, scan.schema), ("orders", Some("public")));
        assert_eq!(scan.predicates.iter().map(|p| p.operator).collect::<Vec<_>>(), vec![Operator::Equality, Operator::IsNull]);
        assert_eq!(scan.residual_columns, vec!["a", "b"]);
        assert_eq!(scan.sort_keys, vec![SortKey { column: "created_at".into(), direction: "DESC".into() }]);
        assert_eq!(scan.output_columns, Some(vec!["id".to_string(), "total".to_string()]));
    }

    #[test]
    fn a_plan_read_in_two_halves_keeps_plan_order_and_each_scans_joins() {
        // Enough partitions that the scans are read on two threads, under a hash
        // join, so that the ancestors each half reads are checked too.
        let partitions = crate::halves::SPLIT_FROM + 1;
        let scans_json: Vec<String> = (0..partitions)
            .map(|i| format!(r#"{{"Node Type": "Seq Scan", "Relation Name": "events_p{i}", "Alias": "e{i}", "Filter": "(kind = {i})"}}"#))
            .collect();
        let plan = plan(&format!(
            r#"[{{"Plan": {{"Node Type": "Hash Join", "Hash Cond": "(e0.account_id = a.id)", "Plans": [
                {{"Node Type": "Append", "Parent Relationship": "Outer", "Plans": [{}]}},
                {{"Node Type": "Hash", "Parent Relationship": "Inner", "Plans": [
                    {{"Node Type": "Seq Scan", "Relation Name": "accounts", "Alias": "a"}}]}}]}}}}]"#,
            scans_json.join(",")
        ));
        let scans = scans(&plan);
        let tables: Vec<&str> = scans.iter().map(|s| s.table).collect();
        let expected: Vec<String> = (0..partitions).map(|i| format!("events_p{i}")).chain(["accounts".to_string()]).collect();
        assert_eq!(tables, expected);
        for (i, scan) in scans.iter().take(partitions).enumerate() {
            let Operand::Constant(value) = &scan.predicates[0].operand else { panic!("{:?}", scan.predicates) };
            assert_eq!(value, &i.to_string());
        }
        // The join reaches the first partition, in the first half, and the hashed
        // table, in the second.
        assert_eq!(scans[0].joins.len(), 1);
        assert!(scans[1..partitions].iter().all(|s| s.joins.is_empty()));
        assert_eq!(scans[partitions].joins.len(), 1);
    }

    #[test]
    fn attributes_join_conditions_by_alias() {
        let plan = plan(
            r#"[{"Plan": {"Node Type": "Nested Loop", "Join Filter": "(o.user_id = u.id)", "Plans": [
               {"Node Type": "Seq Scan", "Relation Name": "users", "Alias": "u", "Parent Relationship": "Outer", "Filter": "(email = 'x'::text)"},
               {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "o", "Parent Relationship": "Inner"}]}}]"#,
        );
        let scans = scans(&plan);
        let orders = scans.iter().find(|s| s.table == "orders").unwrap();
        assert!(orders.nested_loop_inner);
        assert_eq!(orders.joins.len(), 1);
        assert!(matches!(&orders.joins[0].target, Target::Column(c) if c.name == "user_id"));
        let users = scans.iter().find(|s| s.table == "users").unwrap();
        assert!(!users.nested_loop_inner);
        assert_eq!(users.joins.len(), 1, "u.id is users' side of the same join");
        assert_eq!(users.predicates.len(), 1);
    }

    #[test]
    fn keeps_each_predicate_once_in_the_order_first_seen() {
        let columns = |scan: &ScanConditions| -> Vec<String> {
            scan.predicates.iter().map(|p| if let Target::Column(c) = &p.target { c.name.clone() } else { String::new() }).collect()
        };
        // A few, repeated across the Index Cond and the Filter.
        let few = plan(
            r#"[{"Plan": {"Node Type": "Index Scan", "Relation Name": "t", "Alias": "t", "Index Cond": "(b = 2)",
                "Filter": "((a = 1) AND (b = 2) AND (a = 1))"}}]"#,
        );
        assert_eq!(columns(&scans(&few)[0]), vec!["a", "b"], "the Filter is read before the Index Cond");
        // More than are compared one by one: 40 distinct columns, each twice.
        let conjuncts: Vec<String> = (0..80).map(|i| format!("(c{} = 1)", i % 40)).collect();
        let many = plan(&format!(
            r#"[{{"Plan": {{"Node Type": "Seq Scan", "Relation Name": "t", "Alias": "t", "Filter": "({})"}}}}]"#,
            conjuncts.join(" AND ")
        ));
        assert_eq!(columns(&scans(&many)[0]), (0..40).map(|i| format!("c{i}")).collect::<Vec<_>>());
    }
}
