//! Reading a plan: the JSON array EXPLAIN writes, auto_explain's bare object,
//! either one as psql prints it, or the text format (handed to [`super::text`]),
//! with the errors people need when the text is something else.

use super::{Actual, Buffers, Jit, Plan, PlanNode, Serialization, Trigger};
use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// What a piece of text turned out to be.
#[derive(Debug)]
pub enum Input {
    Plan(Box<Plan>),
    /// Not a plan, but it does not look like one either: probably SQL.
    NotAPlan,
}

/// Reads `text` as an EXPLAIN JSON plan. `Ok(Input::NotAPlan)` means the text does
/// not look like a plan at all (the caller may treat it as SQL); a plan that is
/// broken, truncated or in text format is an error that says what to do.
pub fn read(text: &str) -> Result<Input> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        bail!("the input is empty: give an EXPLAIN (FORMAT JSON) plan or a SQL file");
    }
    // JSON as EXPLAIN wrote it needs no unwrapping (and a copy of a large plan).
    let raw_json = text.trim_start().starts_with(['[', '{']);
    let json = if raw_json { Cow::Borrowed(text) } else { Cow::Owned(super::text::unwrap(text)) };
    let trimmed = json.trim_start();
    if !(trimmed.starts_with('[') || trimmed.starts_with('{')) {
        if super::text::looks_like_text_plan(&json) {
            return super::text::read(text).map(|plan| Input::Plan(Box::new(plan)));
        }
        return Ok(Input::NotAPlan);
    }
    if nesting_depth(&json) > MAX_JSON_DEPTH {
        bail!("the plan nests more than {MAX_JSON_DEPTH} levels deep, more than PostgreSQL plans: is it a plan?");
    }
    let mut deserializer = serde_json::Deserializer::from_str(&json);
    deserializer.disable_recursion_limit();
    let document = Json::deserialize(&mut deserializer).and_then(|document| deserializer.end().map(|()| document)).map_err(|e| {
        let cut = if e.is_eof() { " (it ends early: was it cut off when copied?)" } else { "" };
        anyhow!("the plan is not valid JSON: {e}{cut}")
    })?;
    from_json(document).map(|plan| Input::Plan(Box::new(plan)))
}

/// JSON nesting a plan may have: two levels a plan node (the node and its `Plans`),
/// so a thousand nodes deep, far beyond any plan PostgreSQL's own stack allows,
/// and far within what parsing it recursively needs of ours.
const MAX_JSON_DEPTH: usize = 2000;

/// The deepest nesting of `[` and `{` outside strings, in one pass. A string is
/// skipped in a loop of its own that looks only for its end: most of a plan's
/// bytes are in strings, and this pass runs before anything else can.
fn nesting_depth(json: &str) -> usize {
    let bytes = json.as_bytes();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at += 1;
                while at < bytes.len() {
                    match bytes[at] {
                        b'\\' => at += 2,
                        b'"' => break,
                        _ => at += 1,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    deepest
}

/// Reads text that must be a plan: anything else (SQL included) is an error.
pub fn read_plan(text: &str) -> Result<Plan> {
    match read(text)? {
        Input::Plan(plan) => Ok(*plan),
        Input::NotAPlan => bail!("no EXPLAIN plan in the input (JSON or text format)"),
    }
}

/// Finds the plan in a parsed JSON value: `[{"Plan": ...}]`, `{"Plan": ...}`,
/// `{"QUERY PLAN": [...]}` (a JSON export of psql's result), or a bare node.
pub fn from_value(value: &Value) -> Result<Plan> {
    from_json(Json::deserialize(value).map_err(|e| anyhow!("the plan is not valid JSON: {e}"))?)
}

/// JSON as the plan reader takes it in: each plan node is turned into a
/// [`PlanNode`] as soon as its object has been read (its children first), so a
/// plan of 100,000 nodes is never held as a tree of JSON objects too. What is
/// not a node is kept as it came.
enum Json<'de> {
    /// Boxed: the visitor recurses once per level of the plan, and a frame that
    /// held a whole node would overflow the stack on a deep plan.
    Node(Box<PlanNode>),
    /// An object that is not a node: a statement (`Plan` and the figures around
    /// it) or psql's `{"QUERY PLAN": ...}` export.
    Object {
        fields: Fields<'de>,
        plan: Option<Box<Json<'de>>>,
        query_plan: Option<Box<Json<'de>>>,
    },
    /// An array of plan nodes alone (a node's `Plans`), unboxed as they came: the
    /// children a node takes as they are, with no list of boxes alongside (the
    /// `Plans` of an Append of 100,000 partitions held each node twice). The list
    /// grows by doubling, which moves each node about once more; a box per node,
    /// all kept until the list was complete, cost more.
    Nodes(Vec<PlanNode>),
    /// Any other array.
    Array(Vec<Json<'de>>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// An object's fields in the order they came, keys borrowed from the input where
/// it has no escapes. A plan node has a score of fields, read a few times each: a
/// list is cheaper to build and to search than a map of owned keys, and it was
/// a third of the time of reading a plan of 10,000 partitions.
#[derive(Default)]
struct Fields<'de>(Vec<(Cow<'de, str>, Value)>);

impl Fields<'_> {
    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Moves the last value of `key` out: a node's strings are read once, so
    /// they are moved into it, not copied.
    fn take(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().rposition(|(k, _)| k == key)?;
        Some(std::mem::take(&mut self.0[at].1))
    }

    /// The object as serde_json's map, for what is read from it as JSON.
    fn into_map(self) -> Map<String, Value> {
        let mut map = Map::new();
        for (key, value) in self.0 {
            map.insert(key.into_owned(), value);
        }
        map
    }
}

/// Looking a field up in a node's [`Fields`] or in a map of the JSON around it.
trait Object {
    fn get(&self, key: &str) -> Option<&Value>;
}

impl Object for Fields<'_> {
    /// The last value of a duplicated key, as serde_json's own maps keep it.
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, value)| value)
    }
}

impl Object for Map<String, Value> {
    fn get(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }
}

/// An object key, borrowed from the input when it can be.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a key")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: serde::de::Error>(self, key: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }

            fn visit_string<E: serde::de::Error>(self, key: String) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an EXPLAIN plan")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Json<'de>, A::Error> {
        let mut fields = Fields::default();
        let (mut plans, mut plan, mut query_plan) = (None, None, None);
        // A duplicated key keeps its last value, as serde_json's own maps do.
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_ref() {
                "Plans" => plans = Some(map.next_value::<Json>()?),
                "Plan" => plan = Some(Box::new(map.next_value::<Json>()?)),
                "QUERY PLAN" => query_plan = Some(Box::new(map.next_value::<Json>()?)),
                _ => {
                    let value = map.next_value::<Value>()?;
                    fields.0.push((key, value));
                }
            }
        }
        if fields.contains_key("Node Type") {
            let children = match plans {
                Some(Json::Nodes(children)) => children,
                // Sized up front: collecting through the filter would grow the list by
                // doubling, copying a partitioned plan's thousands of nodes each time.
                Some(Json::Array(items)) => {
                    let mut children = Vec::with_capacity(items.len());
                    children.extend(items.into_iter().filter_map(Json::into_node));
                    children
                }
                _ => Vec::new(),
            };
            return Ok(Json::Node(boxed_node(fields, children)));
        }
        Ok(Json::Object { fields, plan, query_plan })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Json<'de>, A::Error> {
        let (mut nodes, mut items) = (Vec::new(), Vec::new());
        while let Some(item) = seq.next_element::<Json>()? {
            match item {
                Json::Node(node) if items.is_empty() => nodes.push(*node),
                item => items.push(item),
            }
        }
        if items.is_empty() {
            return Ok(Json::Nodes(nodes));
        }
        // Not nodes alone: kept in order, as they came.
        let mut all: Vec<Json> = nodes.into_iter().map(|node| Json::Node(Box::new(node))).collect();
        all.append(&mut items);
        Ok(Json::Array(all))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::String(text.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::String(text)))
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::Bool(value)))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::from(value)))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::from(value)))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::from(value)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Json<'de>, E> {
        Ok(Json::Other(Value::Null))
    }
}

impl Json<'_> {
    fn into_node(self) -> Option<PlanNode> {
        match self {
            Json::Node(node) => Some(*node),
            _ => None,
        }
    }
}

/// The first of an array's items: EXPLAIN writes its plan as an array of one.
fn first_of<T>(items: Vec<T>) -> Result<T> {
    items.into_iter().next().ok_or_else(|| anyhow!("the JSON is an empty array: no plan in it"))
}

fn from_json(document: Json) -> Result<Plan> {
    match document {
        Json::Nodes(nodes) => Ok(statement(&Map::new(), first_of(nodes)?)),
        Json::Array(items) => from_json(first_of(items)?),
        Json::Object { fields, plan, query_plan } => {
            if let Some(inner) = query_plan {
                return from_json(*inner);
            }
            match plan.map(|p| *p) {
                Some(Json::Node(root)) => return Ok(statement(&fields.into_map(), *root)),
                // A "Plan" that names no node type still is the plan.
                Some(Json::Object { fields: root, .. }) => return Ok(statement(&fields.into_map(), node(root, Vec::new()))),
                _ => {}
            }
            bail!("the JSON holds no EXPLAIN plan (no \"Plan\" key): produce it with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)")
        }
        Json::Node(root) => Ok(statement(&Map::new(), *root)),
        Json::Other(Value::String(text)) => match read(&text)? {
            Input::Plan(plan) => Ok(*plan),
            Input::NotAPlan => bail!("the JSON holds a string that is not a plan"),
        },
        Json::Other(_) => bail!("the JSON holds no EXPLAIN plan: produce it with EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)"),
    }
}

/// [`node`] on the heap, outside the visitor's recursive frame.
#[inline(never)]
fn boxed_node(object: Fields, children: Vec<PlanNode>) -> Box<PlanNode> {
    Box::new(node(object, children))
}

/// Ids in depth-first order, from 1: how findings point at nodes.
fn number_nodes(node: &mut PlanNode, next_id: &mut usize) {
    node.id = *next_id;
    *next_id += 1;
    for child in &mut node.children {
        number_nodes(child, next_id);
    }
}

fn statement(top: &Map<String, Value>, mut root: PlanNode) -> Plan {
    number_nodes(&mut root, &mut 1);
    let analyzed = root.walk().iter().any(|n| n.actual.is_some());
    // "Total Runtime" is the name before 9.4; "Execution Time" after.
    let execution_ms = number(top, "Execution Time").or_else(|| number(top, "Total Runtime"));
    let planning_ms = number(top, "Planning Time");
    let jit = top.get("JIT").and_then(Value::as_object).map(|jit| Jit {
        functions: number(jit, "Functions").unwrap_or(0.0) as u64,
        total_ms: jit
            .get("Timing")
            .and_then(Value::as_object)
            .and_then(|t| match t.get("Total") {
                Some(Value::Number(n)) => n.as_f64(),
                // PostgreSQL 16+ nests: "Generation": {"Deform": .., "Total": ..}, "Total": ..
                Some(Value::Object(o)) => number(o, "Total"),
                _ => None,
            })
            .unwrap_or(0.0),
    });
    let triggers = top
        .get("Triggers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .map(|t| Trigger {
                    name: text(t, "Trigger Name").or_else(|| text(t, "Constraint Name")).unwrap_or_default(),
                    relation: text(t, "Relation"),
                    time_ms: number(t, "Time").unwrap_or(0.0),
                    calls: number(t, "Calls").unwrap_or(0.0),
                })
                .collect()
        })
        .unwrap_or_default();
    let settings =
        top.get("Settings").and_then(Value::as_object).map(|s| s.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()).unwrap_or_default();
    let query_text = text(top, "Query Text").filter(|q| !q.trim().is_empty());
    let planning = top.get("Planning").and_then(Value::as_object);
    let planning_buffers = planning.filter(|p| p.contains_key("Shared Hit Blocks")).map(buffers);
    let planning_memory_kb = planning.and_then(|p| number(p, "Memory Used"));
    let serialization = top.get("Serialization").and_then(Value::as_object).map(|s| Serialization {
        time_ms: number(s, "Time"),
        output_kb: number(s, "Output Volume").unwrap_or(0.0),
        format: text(s, "Format").unwrap_or_else(|| "text".into()),
    });
    let mut plan = Plan {
        root,
        analyzed,
        planning_ms,
        execution_ms,
        jit,
        triggers,
        settings,
        query_text,
        planning_buffers,
        planning_memory_kb,
        serialization,
        not_read: Vec::new(),
    };
    super::metrics::derive(&mut plan);
    plan
}

/// One node from its object's fields, its children already read. Its id is set
/// once the whole tree is read.
fn node(mut object: Fields, children: Vec<PlanNode>) -> PlanNode {
    let actual = match (number(&object, "Actual Total Time"), number(&object, "Actual Rows"), number(&object, "Actual Loops")) {
        (total, Some(rows), Some(loops)) => Some(Actual {
            startup_ms: number(&object, "Actual Startup Time").unwrap_or(0.0),
            // ANALYZE with TIMING OFF writes rows and loops but no times.
            total_ms: total.unwrap_or(0.0),
            rows,
            loops,
        }),
        _ => None,
    };
    PlanNode {
        id: 0,
        node_type: take_text(&mut object, "Node Type").unwrap_or_else(|| "Unknown".into()),
        parent_relationship: take_text(&mut object, "Parent Relationship"),
        subplan_name: take_text(&mut object, "Subplan Name"),
        relation: take_text(&mut object, "Relation Name"),
        schema: take_text(&mut object, "Schema"),
        alias: take_text(&mut object, "Alias"),
        index_name: take_text(&mut object, "Index Name"),
        cte_name: take_text(&mut object, "CTE Name"),
        function_name: take_text(&mut object, "Function Name"),
        join_type: take_text(&mut object, "Join Type"),
        strategy: take_text(&mut object, "Strategy"),
        operation: take_text(&mut object, "Operation"),
        parallel_aware: object.get("Parallel Aware").and_then(Value::as_bool).unwrap_or(false),
        disabled: match object.get("Disabled") {
            Some(value) => value.as_bool().unwrap_or(false),
            // Before 18 a disabled path carries the disable cost, and so does every
            // node above it: the node is the lowest one that has it.
            None => {
                number(&object, "Total Cost").is_some_and(|cost| cost >= DISABLE_COST)
                    && children.iter().all(|c| c.total_cost.is_none_or(|cost| cost < DISABLE_COST))
            }
        },
        startup_cost: number(&object, "Startup Cost"),
        total_cost: number(&object, "Total Cost"),
        plan_rows: number(&object, "Plan Rows"),
        plan_width: number(&object, "Plan Width"),
        actual,
        output: take_list(&mut object, "Output"),
        filter: take_text(&mut object, "Filter"),
        index_cond: take_text(&mut object, "Index Cond"),
        recheck_cond: take_text(&mut object, "Recheck Cond"),
        hash_cond: take_text(&mut object, "Hash Cond"),
        merge_cond: take_text(&mut object, "Merge Cond"),
        join_filter: take_text(&mut object, "Join Filter"),
        sort_key: take_list(&mut object, "Sort Key"),
        group_key: take_list(&mut object, "Group Key"),
        rows_removed_by_filter: number(&object, "Rows Removed by Filter"),
        rows_removed_by_index_recheck: number(&object, "Rows Removed by Index Recheck"),
        rows_removed_by_join_filter: number(&object, "Rows Removed by Join Filter"),
        index_searches: number(&object, "Index Searches"),
        heap_fetches: number(&object, "Heap Fetches"),
        exact_heap_blocks: number(&object, "Exact Heap Blocks"),
        lossy_heap_blocks: number(&object, "Lossy Heap Blocks"),
        sort_method: take_text(&mut object, "Sort Method"),
        sort_space_kb: number(&object, "Sort Space Used"),
        sort_space_type: take_text(&mut object, "Sort Space Type"),
        hash_batches: number(&object, "Hash Batches"),
        original_hash_batches: number(&object, "Original Hash Batches"),
        peak_memory_kb: number(&object, "Peak Memory Usage"),
        disk_usage_kb: number(&object, "Disk Usage"),
        hashagg_batches: number(&object, "HashAgg Batches"),
        storage: take_text(&mut object, "Storage"),
        max_storage_kb: number(&object, "Maximum Storage"),
        workers_planned: number(&object, "Workers Planned"),
        workers_launched: number(&object, "Workers Launched"),
        buffers: buffers(&object),
        // "I/O Read Time" until 16, "Shared I/O Read Time" from 17.
        io_read_ms: number(&object, "I/O Read Time").or_else(|| number(&object, "Shared I/O Read Time")),
        children,
        ..PlanNode::default()
    }
}

/// What PostgreSQL before 18 adds to the cost of a path an `enable_*` setting disables.
const DISABLE_COST: f64 = 1.0e10;

fn buffers(object: &impl Object) -> Buffers {
    Buffers {
        shared_hit: number(object, "Shared Hit Blocks").unwrap_or(0.0),
        shared_read: number(object, "Shared Read Blocks").unwrap_or(0.0),
        shared_dirtied: number(object, "Shared Dirtied Blocks").unwrap_or(0.0),
        shared_written: number(object, "Shared Written Blocks").unwrap_or(0.0),
        local_hit: number(object, "Local Hit Blocks").unwrap_or(0.0),
        local_read: number(object, "Local Read Blocks").unwrap_or(0.0),
        temp_read: number(object, "Temp Read Blocks").unwrap_or(0.0),
        temp_written: number(object, "Temp Written Blocks").unwrap_or(0.0),
    }
}

/// A number, also when a tool wrote it as a string.
/// A figure of the plan: costs, rows, times and buffers are never negative, NaN or
/// infinite in a plan PostgreSQL wrote, so such a value is treated as missing.
fn number(object: &impl Object, key: &str) -> Option<f64> {
    let value = match object.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (value.is_finite() && value >= 0.0).then_some(value)
}

fn text(object: &impl Object, key: &str) -> Option<String> {
    object.get(key).cloned().and_then(into_text)
}

/// [`text`], moving the string out of a node's fields.
fn take_text(object: &mut Fields, key: &str) -> Option<String> {
    object.take(key).and_then(into_text)
}

/// A value as text: a string as it is, null as none, anything else as JSON.
fn into_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(scalar(&other)),
    }
}

/// A list of strings, moved out of a node's fields; a single string (some tools
/// flatten one-element lists) is a list of one.
fn take_list(object: &mut Fields, key: &str) -> Vec<String> {
    match object.take(key) {
        Some(Value::Array(items)) => items.into_iter().map(|item| if let Value::String(s) = item { s } else { scalar(&item) }).collect(),
        Some(Value::String(s)) => vec![s],
        _ => Vec::new(),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Plan {
        read_plan(text).unwrap()
    }

    #[test]
    fn plans_as_deep_as_postgresql_makes_them_are_read() {
        // A chain of 100 nested joins: 200 levels of JSON, beyond serde_json's default 128.
        let mut node = r#"{"Node Type": "Seq Scan", "Relation Name": "t0"}"#.to_string();
        for i in 1..=100 {
            node = format!(r#"{{"Node Type": "Nested Loop", "Total Cost": {i}, "Plans": [{node}]}}"#);
        }
        let p = plan(&format!(r#"[{{"Plan": {node}}}]"#));
        assert_eq!(p.nodes().len(), 101);
        assert_eq!(nesting_depth(r#"{"a": "[[[{{{", "b": [[1]]}"#), 3, "brackets in strings do not count");
        assert_eq!(nesting_depth(r#"{"a\"[": "\\", "b": ["\"{", [1]]}"#), 3, "nor escaped quotes, nor a backslash before a closing quote");
        assert_eq!(nesting_depth(r#"[["unterminated \"#), 2, "an unterminated string ends the input");
        let too_deep = "[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1);
        assert!(read(&too_deep).unwrap_err().to_string().contains("nests more than 2000 levels"));
    }

    #[test]
    fn children_are_the_nodes_of_plans_in_order_whatever_else_it_holds() {
        // Nodes alone; then a list that also holds what is not a node (kept out, the
        // nodes after it kept in); then a bare array of nodes, whose first is the plan.
        let p = plan(
            r#"[{"Plan": {"Node Type": "Append", "Plans": [
                {"Node Type": "Seq Scan", "Relation Name": "a"},
                {"Node Type": "Append", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "b"}, 7, {"x": 1},
                                                  {"Node Type": "Seq Scan", "Relation Name": "c"}]}]}}]"#,
        );
        let relations: Vec<Option<&str>> = p.nodes().iter().map(|n| n.relation.as_deref()).collect();
        assert_eq!(relations, vec![None, Some("a"), None, Some("b"), Some("c")]);
        let bare = plan(r#"[{"Node Type": "Seq Scan", "Relation Name": "first"}, {"Node Type": "Seq Scan", "Relation Name": "second"}]"#);
        assert_eq!(bare.root.relation.as_deref(), Some("first"));
        assert!(read("[]").unwrap_err().to_string().contains("empty array"));
    }

    #[test]
    fn impossible_figures_are_missing_not_printed() {
        let p =
            plan(r#"[{"Plan": {"Node Type": "Seq Scan", "Total Cost": -5, "Plan Rows": "NaN", "Startup Cost": "inf", "Plan Width": 8}}]"#);
        assert_eq!((p.root.total_cost, p.root.plan_rows, p.root.startup_cost), (None, None, None));
        assert_eq!(p.root.plan_width, Some(8.0));
    }

    const SMALL: &str = r#"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Alias": "t",
        "Startup Cost": 0.0, "Total Cost": 10.5, "Plan Rows": 100, "Plan Width": 4,
        "Actual Startup Time": 0.01, "Actual Total Time": 1.5, "Actual Rows": 2.5, "Actual Loops": 1,
        "Filter": "(x = 1)", "Rows Removed by Filter": 97, "Some Future Field": {"a": 1}},
        "Planning Time": 0.2, "Execution Time": 1.7}]"#;

    #[test]
    fn reads_the_array_form_with_fractional_rows_and_unknown_fields() {
        let plan = plan(SMALL);
        assert!(plan.analyzed);
        assert_eq!(plan.root.label(), "Seq Scan on t");
        assert_eq!(plan.root.actual.unwrap().rows, 2.5);
        assert_eq!(plan.root.rows_removed_by_filter, Some(97.0));
        assert_eq!(plan.execution_ms, Some(1.7));
    }

    #[test]
    fn reads_auto_explain_objects_with_query_text() {
        let text = r#"{"Query Text": "select * from t where x = 1", "Plan": {"Node Type": "Result", "Plan Rows": 1}}"#;
        let plan = plan(text);
        assert_eq!(plan.query_text.as_deref(), Some("select * from t where x = 1"));
        assert!(!plan.analyzed);
    }

    #[test]
    fn reads_psql_output() {
        let text = " QUERY PLAN \n-------------------\n [                +\n   {              +\n     \"Plan\": {   +\n       \"Node Type\": \"Result\",+\n       \"Plan Rows\": 1+\n     }            +\n   }              +\n ]\n(1 row)\n\n";
        assert_eq!(plan(text).root.node_type, "Result");
    }

    #[test]
    fn keeps_the_last_of_duplicated_keys() {
        // PostgreSQL writes "Workers" twice for a parallel Sort; either copy will do.
        let text =
            r#"[{"Plan": {"Node Type": "Sort", "Workers": [{"Worker Number": 0}], "Workers": [{"Worker Number": 0, "Actual Rows": 5}]}}]"#;
        assert_eq!(plan(text).root.node_type, "Sort");
        let twice = r#"[{"Plan": {"Node Type": "Seq Scan", "Filter": "(a = 1)", "Filter": "(b = 2)"}}]"#;
        assert_eq!(plan(twice).root.filter.as_deref(), Some("(b = 2)"), "the last one, as serde_json's maps keep");
    }

    #[test]
    fn reads_keys_written_with_escapes() {
        // Keys are borrowed from the input where they can be; an escaped one is unescaped first.
        let text = r#"[{"Plan": {"Node\u0020Type": "Seq Scan", "Relation Name": "t", "Filter": "(x = 1)"}, "Execution\u0020Time": 2.5}]"#;
        let plan = plan(text);
        assert_eq!(plan.root.label(), "Seq Scan on t");
        assert_eq!(plan.root.filter.as_deref(), Some("(x = 1)"));
        assert_eq!(plan.execution_ms, Some(2.5));
    }

    #[test]
    fn explains_what_is_wrong_with_bad_input() {
        let error = |text: &str| read(text).unwrap_err().to_string();
        assert!(error("").contains("empty"));
        assert!(error("[{\"Plan\": {\"Node Type\": ").contains("cut off"));
        assert!(matches!(read("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)").unwrap(), Input::Plan(_)), "a text plan");
        assert!(error("{\"hello\": 1}").contains("no EXPLAIN plan"));
        assert!(error("[]").contains("empty array"));
        assert!(matches!(read("select 1").unwrap(), Input::NotAPlan));
    }
}
