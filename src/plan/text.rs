//! Reading EXPLAIN's text format, as PostgreSQL 9.6 to 18 print it, into the same
//! [`Plan`] model as the JSON format, so that every rule, suggestion and output
//! works on the plans people paste.
//!
//! The text is first freed of what carries it (psql's aligned and expanded
//! output, auto_explain's log lines, see [`unwrap`]); then each line is a node
//! (`->  Seq Scan on t  (cost=...)`), a property of the node above it
//! (`Filter: ...`), a subplan's heading (`InitPlan 1`, `SubPlan 2`, `CTE name`),
//! or a statement-wide line at the left margin (`Planning Time: ...`). A node's
//! properties and children are indented two columns past the start of its name,
//! which is how each line finds its owner.
//!
//! The text format prints what the JSON format prints, with three exceptions the
//! model records in [`Plan::not_read`] rather than guesses: per-worker lines,
//! properties this reader does not know, and (implicitly) zero counts, which
//! the text leaves out and the model reads as absent.

use super::{Actual, Buffers, Jit, Plan, PlanNode, Serialization, Trigger};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// Whether `text` looks like a text-format plan (after [`unwrap`]).
pub fn looks_like_text_plan(text: &str) -> bool {
    let figures = text.lines().take(200).any(|line| {
        let line = line.trim_start();
        line.contains("(cost=") || line.contains("(actual time=") || line.contains("(actual rows=") || line.starts_with("->  ")
    });
    // COSTS OFF without ANALYZE: a plan of one node has no figures, only its name.
    figures
        || text.lines().find(|l| !l.trim().is_empty()).is_some_and(|first| NODE_TYPES.contains(&describe(first.trim()).node_type.as_str()))
}

/// Every node type PostgreSQL 9.6 to 18 prints (as the JSON format names them).
const NODE_TYPES: &[&str] = &[
    "Result",
    "ProjectSet",
    "ModifyTable",
    "Append",
    "Merge Append",
    "Recursive Union",
    "BitmapAnd",
    "BitmapOr",
    "Nested Loop",
    "Merge Join",
    "Hash Join",
    "Seq Scan",
    "Sample Scan",
    "Gather",
    "Gather Merge",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Index Scan",
    "Bitmap Heap Scan",
    "Tid Scan",
    "Tid Range Scan",
    "Subquery Scan",
    "Function Scan",
    "Table Function Scan",
    "Values Scan",
    "CTE Scan",
    "Named Tuplestore Scan",
    "WorkTable Scan",
    "Foreign Scan",
    "Custom Scan",
    "Materialize",
    "Memoize",
    "Sort",
    "Incremental Sort",
    "Group",
    "Aggregate",
    "WindowAgg",
    "Unique",
    "SetOp",
    "LockRows",
    "Limit",
    "Hash",
];

/// Reads a text-format plan; `text` may still carry psql's or a log's wrapping.
pub fn read(text: &str) -> Result<Plan> {
    let unwrapped = expand_leading_tabs(&unwrap(text));
    let lines: Vec<&str> = unwrapped.lines().filter(|l| !l.trim().is_empty() && !is_row_count(l)).collect();
    let is_node = |line: &str| {
        let text = line.trim_start().trim_start_matches("->  ");
        is_node_header(text) || NODE_TYPES.contains(&describe(text).node_type.as_str())
    };
    let Some(first) = lines.iter().position(|l| is_node(l)) else {
        bail!("no plan node found in the text plan: give EXPLAIN's output as it printed it");
    };
    let mut reader = Reader::default();
    // Lines before the first node: auto_explain's "Query Text: ..." (possibly over several lines).
    let preamble: Vec<&str> = lines[..first].iter().map(|l| l.trim()).collect();
    if let Some(start) = preamble.iter().position(|l| l.starts_with("Query Text:")) {
        let mut query = vec![preamble[start].trim_start_matches("Query Text:").trim()];
        query.extend(preamble[start + 1..].iter().copied());
        reader.query_text = Some(query.join("\n")).filter(|q| !q.trim().is_empty());
    }
    for line in &lines[first..] {
        reader.line(line);
    }
    if reader.execution_ms.is_none() {
        reader.execution_ms = log_duration(text);
    }
    reader.finish()
}

/// The `duration: 21.530 ms` of auto_explain's log entry: the executor's time for
/// the statement (auto_explain's own timer, what `Execution Time` would say), which
/// the entry's plan does not repeat.
fn log_duration(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains("duration: ") && l.trim_end().ends_with("plan:"))?;
    let (_, after) = line.split_once("duration: ")?;
    number(after.split_once(" ms")?.0)
}

/// One node being read, with the column its name starts at.
struct Open {
    column: usize,
    node: PlanNode,
    /// Its children read so far, closed (boxed, as the node will hold them).
    #[allow(clippy::vec_box)]
    children: Vec<Box<PlanNode>>,
}

/// A subplan heading (`InitPlan 1 (returns $0)`, `SubPlan 2`, `CTE recent`) and its column.
struct Heading {
    column: usize,
    name: String,
    relationship: &'static str,
}

#[derive(Default)]
struct Reader {
    open: Vec<Open>,
    headings: Vec<Heading>,
    /// The root's column: statement-wide lines start there.
    margin: Option<usize>,
    root: Option<PlanNode>,
    /// The statement-wide block a deeper line belongs to (`Planning:`, `JIT:`).
    block: Option<String>,
    planning_ms: Option<f64>,
    execution_ms: Option<f64>,
    planning_buffers: Option<Buffers>,
    planning_memory_kb: Option<f64>,
    serialization: Option<Serialization>,
    jit: Option<Jit>,
    triggers: Vec<Trigger>,
    settings: BTreeMap<String, String>,
    query_text: Option<String>,
    not_read: Vec<String>,
    /// The column of the last per-worker line: deeper lines continue it.
    worker_column: Option<usize>,
}

impl Reader {
    fn line(&mut self, line: &str) {
        let column = line.len() - line.trim_start().len();
        let content = line.trim();
        if let Some(worker) = self.worker_column {
            if column > worker && !content.starts_with("->") {
                return;
            }
            self.worker_column = None;
        }
        if let Some(rest) = content.strip_prefix("->") {
            let text_column = column + 2 + (rest.len() - rest.trim_start().len());
            self.node(rest.trim_start(), column, text_column);
            return;
        }
        let Some(margin) = self.margin else {
            // The root node: its column is the plan's left margin.
            self.margin = Some(column);
            self.node(content, column, column);
            return;
        };
        if column <= margin {
            self.statement_line(content);
            return;
        }
        if self.block.is_some() {
            self.block_line(content);
            return;
        }
        if self.open.is_empty() {
            self.note_owned(format!("a line not read: {}", content.chars().take(60).collect::<String>()));
            return;
        }
        self.close_deeper_than(column);
        self.headings.retain(|h| h.column < column);
        if let Some((name, relationship)) = heading(content) {
            self.headings.push(Heading { column, name, relationship });
            return;
        }
        if content.starts_with("Worker ") && content.contains(':') {
            self.worker_column = Some(column);
            self.note("per-worker lines (Worker N)");
            return;
        }
        self.property(content);
    }

    /// Closes the open nodes whose name starts at or right of `column`: a line
    /// there belongs to a node further left.
    fn close_deeper_than(&mut self, column: usize) {
        while self.open.last().is_some_and(|o| o.column >= column) {
            self.close_last();
        }
    }

    fn close_last(&mut self) {
        let Some(mut open) = self.open.pop() else { return };
        open.node.children = std::mem::take(&mut open.children);
        infer_relationships(&mut open.node);
        match self.open.last_mut() {
            Some(parent) => parent.children.push(Box::new(open.node)),
            None => self.root = Some(open.node),
        }
    }

    fn node(&mut self, text: &str, arrow_column: usize, text_column: usize) {
        if self.root.is_some() {
            self.note("a second plan after the first");
            return;
        }
        // The parent is the open node whose name starts left of this arrow.
        self.close_deeper_than(arrow_column);
        self.headings.retain(|h| h.column < arrow_column);
        let mut node = header(text);
        // A heading between the parent's column and this arrow names its subplan.
        let parent_column = self.open.last().map(|o| o.column);
        if let Some(heading) = self.headings.last().filter(|h| parent_column.is_none_or(|p| h.column > p)) {
            node.subplan_name = Some(heading.name.clone());
            node.parent_relationship = Some(heading.relationship.to_string());
        }
        self.open.push(Open { column: text_column, node, children: Vec::new() });
    }

    fn property(&mut self, content: &str) {
        let Some(open) = self.open.last_mut() else { return };
        let node = &mut open.node;
        let Some((key, value)) = content.split_once(": ").or_else(|| content.strip_suffix(':').map(|k| (k, ""))) else {
            self.note_owned(format!("a line not read: {}", content.chars().take(60).collect::<String>()));
            return;
        };
        let value = value.trim();
        match key {
            "Output" => node.output = split_list(value),
            "Filter" => node.filter = Some(value.into()),
            "Index Cond" => node.index_cond = Some(value.into()),
            "Recheck Cond" => node.recheck_cond = Some(value.into()),
            "Hash Cond" => node.hash_cond = Some(value.into()),
            "Merge Cond" => node.merge_cond = Some(value.into()),
            "Join Filter" => node.join_filter = Some(value.into()),
            "Sort Key" => node.sort_key = split_list(value),
            "Group Key" => node.group_key = split_list(value),
            "Rows Removed by Filter" => node.rows_removed_by_filter = number(value),
            "Rows Removed by Index Recheck" => node.rows_removed_by_index_recheck = number(value),
            "Rows Removed by Join Filter" => node.rows_removed_by_join_filter = number(value),
            "Heap Fetches" => node.heap_fetches = number(value),
            "Index Searches" => node.index_searches = number(value),
            "Workers Planned" => node.workers_planned = number(value),
            "Workers Launched" => node.workers_launched = number(value),
            "Disabled" => node.disabled = value == "true",
            "Heap Blocks" => {
                let pairs = pairs(value);
                node.exact_heap_blocks = Some(pairs.get("exact").copied().unwrap_or(0.0));
                node.lossy_heap_blocks = Some(pairs.get("lossy").copied().unwrap_or(0.0));
            }
            "Buffers" => node.buffers = buffers(value),
            "I/O Timings" => {
                // "shared read=1.2 write=0.3" from 17, "read=1.2 write=0.3" before.
                let shared = value.split(", ").find(|part| part.starts_with("shared ") || part.starts_with("read="));
                node.io_read_ms = shared.and_then(|part| pairs(part.trim_start_matches("shared ")).get("read").copied());
            }
            "Sort Method" => {
                // "quicksort  Memory: 25kB", "external merge  Disk: 1234kB"
                let mut parts = value.split("  ");
                node.sort_method = parts.next().map(str::to_string);
                for part in parts {
                    if let Some((kind, size)) = part.split_once(": ") {
                        node.sort_space_type = Some(kind.trim().to_string());
                        node.sort_space_kb = kilobytes(size);
                    }
                }
            }
            "Buckets" => {
                // "1024  Batches: 1  Memory Usage: 9kB", with "(originally N)" after a figure that grew.
                let fields = fields(content);
                if let Some(batches) = fields.get("Batches") {
                    node.hash_batches = number(first_word(batches));
                    node.original_hash_batches = originally(batches).or(node.hash_batches);
                }
                node.peak_memory_kb = fields.get("Memory Usage").and_then(|m| kilobytes(m));
            }
            "Batches" => {
                // A hash aggregate (13+): "1  Memory Usage: 793kB  Disk Usage: 12kB"
                let fields = fields(content);
                node.hashagg_batches = fields.get("Batches").and_then(|b| number(b));
                node.peak_memory_kb = fields.get("Memory Usage").and_then(|m| kilobytes(m));
                node.disk_usage_kb = fields.get("Disk Usage").and_then(|m| kilobytes(m));
            }
            "Hits" => {
                // Memoize: "10  Misses: 5  Evictions: 0  Overflows: 0  Memory Usage: 1kB"
                node.peak_memory_kb = fields(content).get("Memory Usage").and_then(|m| kilobytes(m));
            }
            "Storage" => {
                // 18: "Memory  Maximum Storage: 17kB"
                let fields = fields(content);
                node.storage = fields.get("Storage").map(|s| s.to_string());
                node.max_storage_kb = fields.get("Maximum Storage").and_then(|m| kilobytes(m));
            }
            // Read, but not part of the model (as with JSON).
            "One-Time Filter"
            | "Presorted Key"
            | "Cache Key"
            | "Cache Mode"
            | "Planned Partitions"
            | "Subplans Removed"
            | "Conflict Resolution"
            | "Conflict Arbiter Indexes"
            | "Tuples Inserted"
            | "Conflicting Tuples"
            | "Sampling"
            | "Run Condition"
            | "Window"
            | "Replaces"
            | "Full-sort Groups"
            | "Pre-sorted Groups"
            | "Index Name"
            | "Relations"
            | "Remote SQL"
            | "Foreign File"
            | "Foreign File Size"
            | "Single Copy"
            | "Inner Unique"
            | "Scan Direction"
            | "Order By"
            | "Array Cache"
            | "Table Function Call"
            | "Function Call"
            | "Params Evaluated"
            | "Estimates"
            | "Prefetch"
            | "Async Capable"
            | "Params" => {}
            other => self.note_owned(format!("the property {other}")),
        }
    }

    fn statement_line(&mut self, content: &str) {
        while !self.open.is_empty() {
            self.close_last();
        }
        self.headings.clear();
        self.block = None;
        let (key, value) = content.split_once(':').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((content, ""));
        match key {
            // Older servers wrote them in lowercase; "Total runtime" before 9.4.
            "Planning Time" | "Planning time" => self.planning_ms = milliseconds(value),
            "Execution Time" | "Execution time" | "Total runtime" => self.execution_ms = milliseconds(value),
            "Planning" | "JIT" => self.block = Some(key.to_string()),
            "Serialization" => {
                // "time=0.683 ms  output=62kB  format=text"; no time with TIMING OFF.
                let text = value.replace(" ms", "ms");
                let mut serialization = Serialization { time_ms: None, output_kb: 0.0, format: "text".into() };
                for part in text.split_whitespace() {
                    match part.split_once('=') {
                        Some(("time", ms)) => serialization.time_ms = number(ms.trim_end_matches("ms")),
                        Some(("output", size)) => serialization.output_kb = kilobytes(size).unwrap_or(0.0),
                        Some(("format", format)) => serialization.format = format.into(),
                        _ => {}
                    }
                }
                self.serialization = Some(serialization);
            }
            "Settings" => {
                for setting in split_list(value) {
                    if let Some((name, value)) = setting.split_once(" = ") {
                        self.settings.insert(name.trim().into(), value.trim().trim_matches('\'').replace("''", "'"));
                    }
                }
            }
            "Query Identifier" => {}
            _ if key.starts_with("Trigger ") => self.trigger(content),
            _ => self.note_owned(format!("the statement line {key}")),
        }
    }

    /// A line inside the `Planning:` or `JIT:` block.
    fn block_line(&mut self, content: &str) {
        let (key, value) = content.split_once(':').map(|(k, v)| (k.trim(), v.trim())).unwrap_or((content, ""));
        match (self.block.as_deref(), key) {
            (Some("Planning"), "Buffers") => self.planning_buffers = Some(buffers(value)),
            (Some("Planning"), "Memory") => self.planning_memory_kb = pairs(value).get("used").copied(),
            (Some("JIT"), "Functions") => {
                self.jit.get_or_insert(Jit { functions: 0, total_ms: 0.0 }).functions = number(value).unwrap_or(0.0) as u64
            }
            (Some("JIT"), "Timing") => {
                // "Generation 1.2 ms (Deform 0.1 ms), Inlining 0.0 ms, ..., Total 12.3 ms"
                let total = value.rsplit_once("Total ").and_then(|(_, rest)| milliseconds(rest));
                self.jit.get_or_insert(Jit { functions: 0, total_ms: 0.0 }).total_ms = total.unwrap_or(0.0);
            }
            _ => {}
        }
    }

    /// `Trigger name on rel: time=1.234 calls=10`, `Trigger for constraint fk: time=... calls=...`.
    fn trigger(&mut self, content: &str) {
        let Some((head, figures)) = content.rsplit_once(": ") else { return };
        let head = head.trim_start_matches("Trigger ");
        let (name, relation) = match head.rsplit_once(" on ") {
            Some((name, relation)) => (name, Some(relation.to_string())),
            None => (head, None),
        };
        let figures = pairs(figures);
        self.triggers.push(Trigger {
            name: name.trim_start_matches("for constraint ").to_string(),
            relation,
            time_ms: figures.get("time").copied().unwrap_or(0.0),
            calls: figures.get("calls").copied().unwrap_or(0.0),
        });
    }

    fn note(&mut self, what: &str) {
        if !self.not_read.iter().any(|n| n == what) {
            self.not_read.push(what.to_string());
        }
    }

    fn note_owned(&mut self, what: String) {
        self.note(&what);
    }

    fn finish(mut self) -> Result<Plan> {
        while !self.open.is_empty() {
            self.close_last();
        }
        let Some(mut root) = self.root.take() else { bail!("no plan node found in the text plan") };
        let mut next_id = 1;
        number_nodes(&mut root, &mut next_id);
        let analyzed = root.walk().iter().any(|n| n.actual.is_some());
        let mut plan = Plan {
            root,
            analyzed,
            planning_ms: self.planning_ms,
            execution_ms: self.execution_ms,
            jit: self.jit,
            triggers: self.triggers,
            settings: self.settings,
            query_text: self.query_text,
            planning_buffers: self.planning_buffers,
            planning_memory_kb: self.planning_memory_kb,
            serialization: self.serialization,
            not_read: self.not_read,
        };
        super::metrics::derive(&mut plan);
        Ok(plan)
    }
}

/// Ids in depth-first order, as the JSON reader gives them.
fn number_nodes(node: &mut PlanNode, next_id: &mut usize) {
    node.id = *next_id;
    *next_id += 1;
    for child in &mut node.children {
        number_nodes(child, next_id);
    }
}

/// What JSON calls each child, which the text says only for subplans: the
/// first child of a node is its outer side, a join's second its inner side.
fn infer_relationships(node: &mut PlanNode) {
    let member = matches!(node.node_type.as_str(), "Append" | "Merge Append" | "BitmapAnd" | "BitmapOr" | "ModifyTable");
    let subquery = node.node_type == "Subquery Scan";
    for (position, child) in node.children.iter_mut().filter(|c| c.parent_relationship.is_none()).enumerate() {
        child.parent_relationship = Some(
            match (member, subquery, position) {
                (true, _, _) => "Member",
                (_, true, _) => "Subquery",
                (_, _, 0) => "Outer",
                _ => "Inner",
            }
            .to_string(),
        );
    }
    // ModifyTable's one child is its source, which JSON calls the outer plan.
    if node.node_type == "ModifyTable" {
        for child in node.children.iter_mut().filter(|c| c.parent_relationship.as_deref() == Some("Member")) {
            child.parent_relationship = Some("Outer".into());
        }
    }
}

/// A subplan heading and the relationship JSON gives its nodes.
fn heading(content: &str) -> Option<(String, &'static str)> {
    if content.starts_with("InitPlan ") {
        return Some((content.to_string(), "InitPlan"));
    }
    if content.starts_with("SubPlan ") || content.starts_with("Hashed SubPlan ") {
        return Some((content.to_string(), "SubPlan"));
    }
    if content.starts_with("CTE ") && !content.contains(':') && !content.contains("  (") {
        return Some((content.to_string(), "InitPlan"));
    }
    None
}

/// Whether a line's text (after any `->`) is a node: a name followed by its figures.
fn is_node_header(text: &str) -> bool {
    text.contains("  (cost=") || text.contains("  (actual ") || text.contains("(never executed)") || text.starts_with("->")
}

/// A node line's name part and figures: `Hash Join  (cost=1.00..2.00 rows=10 width=8) (actual time=...)`.
fn header(text: &str) -> PlanNode {
    let (name, figures) = match ["  (cost=", "  (actual ", " (cost=", " (actual ", "  (never executed)", " (never executed)"]
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()
    {
        Some(at) => (text[..at].trim(), &text[at..]),
        None => (text.trim(), ""),
    };
    let mut node = describe(name);
    for group in figures.split(')').map(|g| g.trim().trim_start_matches('(')) {
        if let Some(costs) = group.strip_prefix("cost=") {
            let fields = pairs(costs);
            if let Some((startup, total)) = costs.split_whitespace().next().and_then(|c| c.split_once("..")) {
                node.startup_cost = number(startup);
                node.total_cost = number(total);
            }
            node.plan_rows = fields.get("rows").copied();
            node.plan_width = fields.get("width").copied();
        } else if let Some(actual) = group.strip_prefix("actual ") {
            let fields = pairs(actual);
            let (startup_ms, total_ms) = actual
                .strip_prefix("time=")
                .and_then(|t| t.split_whitespace().next())
                .and_then(|t| t.split_once(".."))
                .map_or((0.0, 0.0), |(s, t)| (number(s).unwrap_or(0.0), number(t).unwrap_or(0.0)));
            node.actual = Some(Actual {
                startup_ms,
                total_ms,
                rows: fields.get("rows").copied().unwrap_or(0.0),
                loops: fields.get("loops").copied().unwrap_or(0.0),
            });
        } else if group == "never executed" {
            node.actual = Some(Actual { startup_ms: 0.0, total_ms: 0.0, rows: 0.0, loops: 0.0 });
        }
    }
    node
}

/// The node type and what it reads from a node's name: `Parallel Index Scan
/// Backward using idx on public.orders o`, `Hash Left Join`, `Partial HashAggregate`.
fn describe(name: &str) -> PlanNode {
    let mut node = PlanNode::default();
    let mut rest = name;
    if let Some(r) = rest.strip_prefix("Parallel ") {
        node.parallel_aware = true;
        rest = r;
    }
    rest = rest.strip_prefix("Async ").unwrap_or(rest);
    for prefix in ["Partial ", "Finalize "] {
        if let Some(aggregate) = rest.strip_prefix(prefix).filter(|r| r.contains("Aggregate")) {
            rest = aggregate;
        }
    }
    // Joins: "Nested Loop", "Hash Join", "Merge Left Join", "Nested Loop Anti Join".
    for (text, node_type) in [("Nested Loop", "Nested Loop"), ("Hash ", "Hash Join"), ("Merge ", "Merge Join")] {
        if let Some(r) = rest.strip_prefix(text) {
            if text == "Nested Loop" || r.ends_with("Join") {
                let kind = r.trim().trim_end_matches("Join").trim();
                node.node_type = node_type.into();
                node.join_type = Some(if kind.is_empty() { "Inner".into() } else { kind.into() });
                return node;
            }
        }
    }
    for (text, strategy) in [("HashAggregate", "Hashed"), ("GroupAggregate", "Sorted"), ("MixedAggregate", "Mixed"), ("Aggregate", "Plain")]
    {
        if rest == text {
            node.node_type = "Aggregate".into();
            node.strategy = Some(strategy.into());
            return node;
        }
    }
    if rest.starts_with("HashSetOp ") || rest.starts_with("SetOp ") {
        node.node_type = "SetOp".into();
        node.strategy = Some(if rest.starts_with("Hash") { "Hashed" } else { "Sorted" }.into());
        return node;
    }
    for operation in ["Insert", "Update", "Delete", "Merge"] {
        if let Some(target) = rest.strip_prefix(operation).and_then(|r| r.strip_prefix(" on ")) {
            node.node_type = "ModifyTable".into();
            node.operation = Some(operation.into());
            target_of(&mut node, target, Target::Relation);
            return node;
        }
    }
    if let Some(r) = rest.strip_prefix("Custom Scan (") {
        node.node_type = "Custom Scan".into();
        if let Some((_, target)) = r.split_once(") on ") {
            target_of(&mut node, target, Target::Relation);
        }
        return node;
    }
    // Scans: the longest known name, then "Backward", "using index", "on target".
    const SCANS: &[(&str, Target)] = &[
        ("Index Only Scan", Target::Relation),
        ("Bitmap Index Scan", Target::Index),
        ("Bitmap Heap Scan", Target::Relation),
        ("Index Scan", Target::Relation),
        ("Seq Scan", Target::Relation),
        ("Sample Scan", Target::Relation),
        ("Tid Range Scan", Target::Relation),
        ("Tid Scan", Target::Relation),
        ("Foreign Scan", Target::Relation),
        ("Function Scan", Target::Function),
        ("Table Function Scan", Target::Alias),
        ("Subquery Scan", Target::Alias),
        ("Values Scan", Target::Alias),
        ("CTE Scan", Target::Cte),
        ("Named Tuplestore Scan", Target::Alias),
        ("WorkTable Scan", Target::Cte),
    ];
    for (text, target) in SCANS {
        if let Some(mut r) = rest.strip_prefix(text) {
            node.node_type = (*text).into();
            r = r.strip_prefix(" Backward").unwrap_or(r);
            if let Some(using) = r.strip_prefix(" using ") {
                let (index, after) = split_identifier(using);
                node.index_name = Some(unquote(&index));
                r = after;
            }
            if let Some(on) = r.strip_prefix(" on ") {
                target_of(&mut node, on, *target);
            }
            return node;
        }
    }
    node.node_type = rest.to_string();
    node
}

#[derive(Clone, Copy)]
enum Target {
    Relation,
    Index,
    Function,
    Cte,
    Alias,
}

/// `public.orders o`, `"Order Items"`, `generate_series g`: the name (schema-
/// qualified under VERBOSE) and the alias, which the text leaves out when it is the name.
fn target_of(node: &mut PlanNode, text: &str, target: Target) {
    let (qualified, rest) = split_identifier(text);
    let alias = unquote(&split_identifier(rest.trim_start()).0);
    let (schema, name) = match split_qualified(&qualified) {
        (Some(schema), name) => (Some(schema), name),
        (None, name) => (None, name),
    };
    let alias = if alias.is_empty() { None } else { Some(alias) };
    match target {
        Target::Relation => {
            node.schema = schema;
            node.alias = alias.or_else(|| Some(name.clone()));
            node.relation = Some(name);
        }
        Target::Index => node.index_name = Some(name),
        Target::Function => {
            node.schema = schema;
            node.alias = alias.or_else(|| Some(name.clone()));
            node.function_name = Some(name);
        }
        Target::Cte => {
            node.alias = alias.or_else(|| Some(name.clone()));
            node.cte_name = Some(name);
        }
        Target::Alias => node.alias = Some(name),
    }
}

/// The first identifier of `text` (quoted or not, possibly dotted), raw, and what follows it.
fn split_identifier(text: &str) -> (String, &str) {
    let mut in_quotes = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ' ' if !in_quotes => return (text[..i].to_string(), &text[i..]),
            _ => {}
        }
    }
    (text.to_string(), "")
}

/// `public.orders` → (Some("public"), "orders"); quotes removed.
fn split_qualified(text: &str) -> (Option<String>, String) {
    let mut in_quotes = false;
    let mut dot = None;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => dot = Some(i),
            _ => {}
        }
    }
    match dot {
        Some(at) => (Some(unquote(&text[..at])), unquote(&text[at + 1..])),
        None => (None, unquote(text)),
    }
}

fn unquote(text: &str) -> String {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => text.to_string(),
    }
}

/// A comma-separated list whose items may hold commas in parentheses or quotes.
fn split_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (index, &(i, c)) in bytes.iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 && bytes.get(index + 1).is_some_and(|(_, next)| *next == ' ') => {
                items.push(text[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        items.push(last.to_string());
    }
    items
}

/// `shared hit=58 read=3, temp read=1 written=2` → Buffers.
fn buffers(text: &str) -> Buffers {
    let mut buffers = Buffers::default();
    for part in text.split(", ") {
        let (kind, figures) = part.trim().split_once(' ').unwrap_or((part, ""));
        let figures = pairs(figures);
        let get = |key: &str| figures.get(key).copied().unwrap_or(0.0);
        match kind {
            "shared" => {
                buffers.shared_hit = get("hit");
                buffers.shared_read = get("read");
                buffers.shared_dirtied = get("dirtied");
                buffers.shared_written = get("written");
            }
            "local" => {
                buffers.local_hit = get("hit");
                buffers.local_read = get("read");
            }
            "temp" => {
                buffers.temp_read = get("read");
                buffers.temp_written = get("written");
            }
            _ => {}
        }
    }
    buffers
}

/// `key=value` pairs separated by spaces; values are numbers, possibly with kB.
fn pairs(text: &str) -> BTreeMap<&str, f64> {
    text.split_whitespace()
        .filter_map(|part| part.split_once('='))
        .filter_map(|(key, value)| Some((key, number(value.trim_end_matches("kB").trim_end_matches(','))?)))
        .collect()
}

/// `Batches: 4 (originally 1)  Memory Usage: 9kB`: fields separated by two spaces.
fn fields(text: &str) -> BTreeMap<&str, &str> {
    text.split("  ").filter_map(|part| part.split_once(": ")).map(|(k, v)| (k.trim(), v.trim())).collect()
}

fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

/// `4 (originally 1)` → 1.
fn originally(text: &str) -> Option<f64> {
    number(text.split_once("(originally ")?.1.trim_end_matches(')'))
}

fn kilobytes(text: &str) -> Option<f64> {
    number(text.trim().trim_end_matches("kB"))
}

fn milliseconds(text: &str) -> Option<f64> {
    number(text.trim().trim_end_matches("ms").trim())
}

/// A figure: never negative, NaN or infinite in a plan PostgreSQL wrote.
fn number(text: &str) -> Option<f64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// Frees a text plan of what carries it: psql's aligned output (the `QUERY PLAN`
/// header, dashes, `(N rows)`, the leading space and `+` continuation marks),
/// psql's expanded output (`-[ RECORD 1 ]`, `QUERY PLAN | ...`), and
/// auto_explain's log entry (the log line prefix up to `plan:`, tab-indented
/// continuation lines).
pub fn unwrap(text: &str) -> String {
    if let Some(unquoted) = unquote_lines(text) {
        return unwrap(&unquoted);
    }
    let lines: Vec<&str> = text.lines().collect();
    // auto_explain in a server log: "... LOG:  duration: 12.3 ms  plan:" then tab-indented lines.
    if let Some(start) = lines.iter().position(|l| l.contains("duration: ") && l.trim_end().ends_with("plan:")) {
        let body: Vec<&str> = lines[start + 1..]
            .iter()
            .take_while(|l| l.starts_with('\t') || l.trim().is_empty())
            .map(|l| l.strip_prefix('\t').unwrap_or(l))
            .collect();
        return body.join("\n");
    }
    // psql's expanded output: "QUERY PLAN | line", then "           | line".
    if lines.iter().any(|l| l.starts_with("-[ RECORD ")) {
        let mut body = Vec::new();
        for line in &lines {
            if line.starts_with("-[ RECORD ") {
                continue;
            }
            if let Some((_, value)) = line.split_once("| ") {
                body.push(value.trim_end_matches('+').trim_end());
            } else if let Some(value) = line.strip_prefix("QUERY PLAN |") {
                body.push(value);
            }
        }
        return body.join("\n");
    }
    let unframed = unframe(&lines);
    let lines: Vec<&str> = match &unframed {
        Some(unframed) => unframed.iter().map(String::as_str).collect(),
        None => lines,
    };
    let Some(header) = lines.iter().position(|l| !l.trim().is_empty()) else { return String::new() };
    if lines[header].trim() != "QUERY PLAN" {
        return text.to_string();
    }
    // psql's wrapped format (\pset format wrapped) cuts a long line at the terminal's
    // width: the cut line ends with `.` (or `…` in unicode linestyle) where the
    // border would be, and its continuation starts with the same mark instead of
    // the leading space. Joined first, so the rest reads whole lines.
    let mut joined: Vec<String> = Vec::new();
    let mut rest = lines[header + 1..].iter().peekable();
    while let Some(line) = rest.next() {
        let mut whole = line.to_string();
        while let Some(continued) = rest.peek().and_then(|next| next.strip_prefix('.').or_else(|| next.strip_prefix('…'))) {
            if !(whole.ends_with('.') || whole.ends_with('…')) {
                break;
            }
            whole.pop();
            whole.push_str(continued);
            rest.next();
        }
        joined.push(whole);
    }
    // A plan copied from a terminal narrower than its lines has them cut with no
    // mark at all. psql starts every line of its default output with a space, so in
    // such output a line that does not is the rest of the one before it.
    let bordered = joined.iter().find(|l| !l.trim().is_empty() && !is_rule(l)).is_some_and(|l| l.starts_with(' '));
    if bordered {
        let mut whole: Vec<String> = Vec::with_capacity(joined.len());
        for line in joined {
            let footer = is_row_count(&line);
            let continues = |previous: &str| {
                !line.is_empty()
                    && !footer
                    && !is_rule(&line)
                    && (!line.starts_with(' ') || (open_parentheses(previous) > 0 && !starts_plan_line(&line)))
            };
            match whole.last_mut() {
                Some(previous) if continues(previous) => previous.push_str(&line),
                _ => whole.push(line),
            }
        }
        joined = whole;
    }
    let mut body = Vec::new();
    for line in &joined {
        let trimmed = line.trim();
        if is_rule(trimmed) && body.is_empty() {
            continue;
        }
        if is_row_count(trimmed) {
            break;
        }
        let line = line.trim_end();
        let line = line.strip_suffix('+').unwrap_or(line).trim_end();
        body.push(line.strip_prefix(' ').unwrap_or(line));
    }
    body.join("\n")
}

/// PostgreSQL indents with spaces only; a tab in a line's indentation is an
/// editor's or a chat's, which put it for four of them (so `" \t->"` is the
/// `"     ->"` it replaced). auto_explain's leading tab is gone by now (`unwrap`).
fn expand_leading_tabs(text: &str) -> String {
    if !text.contains('\t') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let body = line.trim_start_matches([' ', '\t']);
        for c in line[..line.len() - body.len()].chars() {
            out.push_str(if c == '\t' { "    " } else { " " });
        }
        out.push_str(body);
        out.push('\n');
    }
    out
}

/// A plan exported as CSV from a GUI (pgAdmin, DBeaver): every line in double
/// quotes, a quote inside doubled. `None` unless every non-empty line is so.
fn unquote_lines(text: &str) -> Option<String> {
    let mut lines = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let inner = line.strip_prefix('"')?.strip_suffix('"')?;
        lines.push(inner.replace("\"\"", "\""));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// psql's row count under a result, `(13 rows)`, `(1 row)`, in the client's
/// language too (`(11 lignes)`, `(3 Zeilen)`): a number and one word in parentheses.
fn is_row_count(line: &str) -> bool {
    let Some(inner) = line.trim().strip_prefix('(').and_then(|l| l.strip_suffix(')')) else { return false };
    let Some((count, word)) = inner.split_once(' ') else { return false };
    !count.is_empty() && count.chars().all(|c| c.is_ascii_digit()) && !word.is_empty() && word.chars().all(char::is_alphabetic)
}

/// Parentheses a line opens and does not close (outside quoted literals): a line
/// cut inside `(cost=... rows=...)` or a condition is not whole.
fn open_parentheses(line: &str) -> i64 {
    let mut depth = 0i64;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Whether a line starts as a plan line does: a node (`->`), a property
/// (`Filter: ...`), a subplan heading or a statement line, not the middle of one.
fn starts_plan_line(line: &str) -> bool {
    let text = line.trim_start();
    if text.starts_with("->") || text.starts_with("InitPlan") || text.starts_with("SubPlan") || text.starts_with("CTE ") {
        return true;
    }
    let Some((name, _)) = text.split_once(':') else { return false };
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '/' | '-'))
}

/// A line of a table's frame: dashes and corners, in psql's ASCII and unicode
/// line styles (single and double lines).
fn is_rule(line: &str) -> bool {
    const RULE: &str = "+-─═┌┐└┘├┤┬┴┼╔╗╚╝╠╣╦╩╬╒╕╘╛╞╡╤╧╪╓╖╙╜╟╢╥╨╫";
    let line = line.trim();
    !line.is_empty() && line.chars().all(|c| RULE.contains(c))
}

/// The vertical bars of a frame, in psql's line styles.
const VERTICAL: [char; 3] = ['|', '│', '║'];

/// A plan in a frame, as psql draws it with `\pset border 2` (ASCII or unicode,
/// single or double lines) and as DBeaver copies it (a bar closing each line), as
/// psql's default output: the bars off, the rules one dashed line under the header.
fn unframe(lines: &[&str]) -> Option<Vec<String>> {
    let header = lines.iter().position(|l| !l.trim().is_empty())?;
    let first = lines[header].trim_end();
    let titled = |line: &str| line.trim().trim_matches(VERTICAL).trim() == "QUERY PLAN";
    let border_2 = is_rule(first) && lines.get(header + 1).is_some_and(|l| l.trim_start().starts_with(VERTICAL) && titled(l));
    let dbeaver = first.ends_with(VERTICAL) && titled(first) && !first.trim_start().starts_with(VERTICAL);
    let body = match (border_2, dbeaver) {
        (true, _) => &lines[header + 2..],
        (false, true) => &lines[header + 1..],
        (false, false) => return None,
    };
    let mut out = vec!["QUERY PLAN".to_string(), "-".to_string()];
    for line in body.iter().map(|l| l.trim_end()).filter(|l| !is_rule(l)) {
        // psql pads a cell with one space each side, as its default output does on the left.
        let inner = line.strip_prefix(VERTICAL).unwrap_or(line);
        out.push(inner.strip_suffix(VERTICAL).unwrap_or(inner).trim_end().to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests;
