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
enum Json {
    /// Boxed: the visitor recurses once per level of the plan, and a frame that
    /// held a whole node would overflow the stack on a deep plan.
    Node(Box<PlanNode>),
    /// An object that is not a node: a statement (`Plan` and the figures around
    /// it) or psql's `{"QUERY PLAN": ...}` export.
    Object {
        fields: Map<String, Value>,
        /// What it held of a node's fields: a `Plan` that names no node type still is the plan.
        node: NodeFields,
        plan: Option<Box<Json>>,
        query_plan: Option<Box<Json>>,
    },
    /// An array of plan nodes alone (a node's `Plans`): the children a node
    /// takes as they are (boxed, as [`PlanNode::children`] holds them).
    #[allow(clippy::vec_box)]
    Nodes(Vec<Box<PlanNode>>),
    /// Any other array.
    Array(Vec<Json>),
    Other(Value),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// A plan node's fields, each read straight into the node as its key comes: no
/// node is held as JSON values first and then searched key by key (that search
/// was a fifth of the time of reading a plan of 100,000 nodes). The fields that
/// make one of the node's together wait here until the object ends.
#[derive(Default)]
struct NodeFields {
    node: Box<PlanNode>,
    /// Whether the object has a `Node Type`: only then is it a node.
    typed: bool,
    actual_startup_ms: Option<f64>,
    actual_total_ms: Option<f64>,
    actual_rows: Option<f64>,
    actual_loops: Option<f64>,
    /// PostgreSQL 18's `Disabled`, when the object has it.
    disabled: Option<bool>,
    /// "I/O Read Time" until 16, "Shared I/O Read Time" from 17.
    io_read_ms: Option<f64>,
    shared_io_read_ms: Option<f64>,
}

impl NodeFields {
    /// Reads the value of `key` into the node if the model keeps that field, and
    /// says whether it did (if not, the value is still to be read). A duplicated
    /// key keeps its last value, as serde_json's own maps do.
    fn read<'de, A: serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> std::result::Result<bool, A::Error> {
        let node = &mut *self.node;
        let mut value = || map.next_value::<Value>();
        match key {
            "Node Type" => {
                self.typed = true;
                node.node_type = into_text(value()?).unwrap_or_else(|| "Unknown".into());
            }
            "Parent Relationship" => node.parent_relationship = into_text(value()?),
            "Subplan Name" => node.subplan_name = into_text(value()?),
            "Relation Name" => node.relation = into_text(value()?),
            "Schema" => node.schema = into_text(value()?),
            "Alias" => node.alias = into_text(value()?),
            "Index Name" => node.index_name = into_text(value()?),
            "CTE Name" => node.cte_name = into_text(value()?),
            "Function Name" => node.function_name = into_text(value()?),
            "Join Type" => node.join_type = into_text(value()?),
            "Strategy" => node.strategy = into_text(value()?),
            "Operation" => node.operation = into_text(value()?),
            "Parallel Aware" => node.parallel_aware = value()?.as_bool().unwrap_or(false),
            "Disabled" => self.disabled = Some(value()?.as_bool().unwrap_or(false)),
            "Startup Cost" => node.startup_cost = figure(&value()?),
            "Total Cost" => node.total_cost = figure(&value()?),
            "Plan Rows" => node.plan_rows = figure(&value()?),
            "Plan Width" => node.plan_width = figure(&value()?),
            "Actual Startup Time" => self.actual_startup_ms = figure(&value()?),
            "Actual Total Time" => self.actual_total_ms = figure(&value()?),
            "Actual Rows" => self.actual_rows = figure(&value()?),
            "Actual Loops" => self.actual_loops = figure(&value()?),
            "Output" => node.output = into_list(value()?),
            "Filter" => node.filter = into_text(value()?),
            "Index Cond" => node.index_cond = into_text(value()?),
            "Recheck Cond" => node.recheck_cond = into_text(value()?),
            "Hash Cond" => node.hash_cond = into_text(value()?),
            "Merge Cond" => node.merge_cond = into_text(value()?),
            "Join Filter" => node.join_filter = into_text(value()?),
            "Sort Key" => node.sort_key = into_list(value()?),
            "Group Key" => node.group_key = into_list(value()?),
            "Rows Removed by Filter" => node.rows_removed_by_filter = figure(&value()?),
            "Rows Removed by Index Recheck" => node.rows_removed_by_index_recheck = figure(&value()?),
            "Rows Removed by Join Filter" => node.rows_removed_by_join_filter = figure(&value()?),
            "Index Searches" => node.index_searches = figure(&value()?),
            "Heap Fetches" => node.heap_fetches = figure(&value()?),
            "Exact Heap Blocks" => node.exact_heap_blocks = figure(&value()?),
            "Lossy Heap Blocks" => node.lossy_heap_blocks = figure(&value()?),
            "Sort Method" => node.sort_method = into_text(value()?),
            "Sort Space Used" => node.sort_space_kb = figure(&value()?),
            "Sort Space Type" => node.sort_space_type = into_text(value()?),
            "Hash Batches" => node.hash_batches = figure(&value()?),
            "Original Hash Batches" => node.original_hash_batches = figure(&value()?),
            "Peak Memory Usage" => node.peak_memory_kb = figure(&value()?),
            "Disk Usage" => node.disk_usage_kb = figure(&value()?),
            "HashAgg Batches" => node.hashagg_batches = figure(&value()?),
            "Storage" => node.storage = into_text(value()?),
            "Maximum Storage" => node.max_storage_kb = figure(&value()?),
            "Workers Planned" => node.workers_planned = figure(&value()?),
            "Workers Launched" => node.workers_launched = figure(&value()?),
            "I/O Read Time" => self.io_read_ms = figure(&value()?),
            "Shared I/O Read Time" => self.shared_io_read_ms = figure(&value()?),
            _ => match buffer_counter(&mut node.buffers, key) {
                Some(counter) => *counter = figure(&value()?).unwrap_or(0.0),
                None => return Ok(false),
            },
        }
        Ok(true)
    }

    /// The node, its children already read. Its id is set once the whole tree is read.
    #[allow(clippy::vec_box)] // the children as the node holds them
    fn finish(self, children: Vec<Box<PlanNode>>) -> Box<PlanNode> {
        let mut node = self.node;
        if !self.typed {
            node.node_type = "Unknown".into();
        }
        node.actual = match (self.actual_total_ms, self.actual_rows, self.actual_loops) {
            (total, Some(rows), Some(loops)) => Some(Actual {
                startup_ms: self.actual_startup_ms.unwrap_or(0.0),
                // ANALYZE with TIMING OFF writes rows and loops but no times.
                total_ms: total.unwrap_or(0.0),
                rows,
                loops,
            }),
            _ => None,
        };
        node.disabled = self.disabled.unwrap_or_else(|| {
            // Before 18 a disabled path carries the disable cost, and so does every
            // node above it: the node is the lowest one that has it.
            node.total_cost.is_some_and(|cost| cost >= DISABLE_COST)
                && children.iter().all(|c| c.total_cost.is_none_or(|cost| cost < DISABLE_COST))
        });
        node.io_read_ms = self.io_read_ms.or(self.shared_io_read_ms);
        node.children = children;
        node
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
    type Value = Json;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an EXPLAIN plan")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Json, A::Error> {
        let mut node = NodeFields::default();
        let mut fields = Map::new();
        let (mut plans, mut plan, mut query_plan) = (None, None, None);
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_ref() {
                "Plans" => plans = Some(map.next_value::<Json>()?),
                "Plan" => plan = Some(Box::new(map.next_value::<Json>()?)),
                "QUERY PLAN" => query_plan = Some(Box::new(map.next_value::<Json>()?)),
                name => {
                    if node.read(name, &mut map)? {
                        continue;
                    }
                    // What a node has that the model does not keep is skipped unread;
                    // what another object has is kept (a statement's figures).
                    if node.typed {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    } else {
                        fields.insert(key.into_owned(), map.next_value::<Value>()?);
                    }
                }
            }
        }
        if node.typed {
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
            return Ok(Json::Node(node.finish(children)));
        }
        Ok(Json::Object { fields, node, plan, query_plan })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Json, A::Error> {
        let (mut nodes, mut items) = (Vec::new(), Vec::new());
        while let Some(item) = seq.next_element::<Json>()? {
            match item {
                Json::Node(node) if items.is_empty() => nodes.push(node),
                item => items.push(item),
            }
        }
        if items.is_empty() {
            return Ok(Json::Nodes(nodes));
        }
        // Not nodes alone: kept in order, as they came.
        let mut all: Vec<Json> = nodes.into_iter().map(Json::Node).collect();
        all.append(&mut items);
        Ok(Json::Array(all))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::String(text.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::String(text)))
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::Bool(value)))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::from(value)))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::from(value)))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::from(value)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Json, E> {
        Ok(Json::Other(Value::Null))
    }
}

impl Json {
    fn into_node(self) -> Option<Box<PlanNode>> {
        match self {
            Json::Node(node) => Some(node),
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
        Json::Nodes(nodes) => Ok(statement(&Map::new(), *first_of(nodes)?)),
        Json::Array(items) => from_json(first_of(items)?),
        Json::Object { fields, plan, query_plan, .. } => {
            if let Some(inner) = query_plan {
                return from_json(*inner);
            }
            match plan.map(|p| *p) {
                Some(Json::Node(root)) => return Ok(statement(&fields, *root)),
                // A "Plan" that names no node type still is the plan.
                Some(Json::Object { node, .. }) => return Ok(statement(&fields, *node.finish(Vec::new()))),
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

/// What PostgreSQL before 18 adds to the cost of a path an `enable_*` setting disables.
const DISABLE_COST: f64 = 1.0e10;

/// Buffer counters of an object that has them (a statement's `Planning`).
fn buffers(object: &Map<String, Value>) -> Buffers {
    let mut buffers = Buffers::default();
    for (key, value) in object {
        if let Some(counter) = buffer_counter(&mut buffers, key) {
            *counter = figure(value).unwrap_or(0.0);
        }
    }
    buffers
}

/// The counter PostgreSQL's `key` is, if it is one.
fn buffer_counter<'a>(buffers: &'a mut Buffers, key: &str) -> Option<&'a mut f64> {
    Some(match key {
        "Shared Hit Blocks" => &mut buffers.shared_hit,
        "Shared Read Blocks" => &mut buffers.shared_read,
        "Shared Dirtied Blocks" => &mut buffers.shared_dirtied,
        "Shared Written Blocks" => &mut buffers.shared_written,
        "Local Hit Blocks" => &mut buffers.local_hit,
        "Local Read Blocks" => &mut buffers.local_read,
        "Temp Read Blocks" => &mut buffers.temp_read,
        "Temp Written Blocks" => &mut buffers.temp_written,
        _ => return None,
    })
}

fn number(object: &Map<String, Value>, key: &str) -> Option<f64> {
    figure(object.get(key)?)
}

/// A figure of the plan, also when a tool wrote it as a string. Costs, rows,
/// times and buffers are never negative, NaN or infinite in a plan PostgreSQL
/// wrote, so such a value is treated as missing.
fn figure(value: &Value) -> Option<f64> {
    let value = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (value.is_finite() && value >= 0.0).then_some(value)
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).cloned().and_then(into_text)
}

/// A value as text: a string as it is, null as none, anything else as JSON.
fn into_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(scalar(&other)),
    }
}

/// A list of strings; a single string (some tools flatten one-element lists) is
/// a list of one.
fn into_list(value: Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.into_iter().map(|item| if let Value::String(s) = item { s } else { scalar(&item) }).collect(),
        Value::String(s) => vec![s],
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
    fn a_node_is_read_whatever_order_its_keys_come_in_and_however_a_tool_typed_them() {
        // Keys sorted as `jq -S` writes them (Node Type after most), values typed
        // loosely: a number as a string, a name as a number, a list as one string.
        let text = r#"[{"Plan": {"Actual Loops": 2, "Actual Rows": "5", "Actual Total Time": 1.5, "Alias": 7,
            "Disabled": "yes", "Node Type": "Sort", "Shared I/O Read Time": 3.0, "Shared Read Blocks": "4",
            "Sort Key": "a DESC", "Total Cost": 2e10, "Workers": [{"Worker Number": 0}], "Plans": []}}]"#;
        let root = plan(text).root;
        assert_eq!(root.node_type, "Sort");
        let actual = root.actual.unwrap();
        assert_eq!((actual.rows, actual.loops, actual.total_ms, actual.startup_ms), (5.0, 2.0, 1.5, 0.0));
        assert_eq!(root.alias.as_deref(), Some("7"));
        assert!(!root.disabled, "a Disabled that is not a boolean is not true, whatever the cost says");
        assert_eq!(root.io_read_ms, Some(3.0), "PostgreSQL 17's name for the read time");
        assert_eq!(root.buffers.shared_read, 4.0);
        assert_eq!(root.sort_key, vec!["a DESC"]);
        // Without Disabled, the disable cost first appearing at this node says it.
        let costly = plan(r#"[{"Plan": {"Node Type": "Seq Scan", "Total Cost": 1e10, "I/O Read Time": 1, "Shared I/O Read Time": 9}}]"#);
        assert!(costly.root.disabled);
        assert_eq!(costly.root.io_read_ms, Some(1.0), "the name before 17 first");
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
