//! The EXPLAIN plan model: what PostgreSQL 9.6 to 18 write for `EXPLAIN (FORMAT JSON)`,
//! read tolerantly, plus the figures people actually want (exclusive time, misestimates).
//!
//! `parse` turns JSON into a [`Plan`] and `text` the text format; `metrics` derives loop-adjusted and
//! parallel-aware times; `rules` diagnoses; `conditions` reads the conditions
//! on base relations that index suggestions start from.

pub mod compare;
pub mod conditions;
pub mod metrics;
pub mod parse;
pub mod report;
pub mod rules;
pub mod text;

use serde::Serialize;
use std::collections::BTreeMap;

/// One EXPLAIN result: the node tree and the statement-level figures around it.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub root: PlanNode,
    /// Whether the plan carries actual times and rows (EXPLAIN ANALYZE).
    pub analyzed: bool,
    pub planning_ms: Option<f64>,
    pub execution_ms: Option<f64>,
    pub jit: Option<Jit>,
    pub triggers: Vec<Trigger>,
    /// Non-default planner settings (`SETTINGS`, PostgreSQL 12+).
    pub settings: BTreeMap<String, String>,
    /// The statement, when the plan came with it (auto_explain, or run by us).
    pub query_text: Option<String>,
    /// Buffers the planner touched (`BUFFERS`, PostgreSQL 13+): catalog reads
    /// that a cold cache or many partitions make slow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planning_buffers: Option<Buffers>,
    /// Memory the planner used, in kB (`MEMORY`, PostgreSQL 17+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planning_memory_kb: Option<f64>,
    /// Turning the result into what the client receives (`SERIALIZE`, PostgreSQL 17+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialization: Option<Serialization>,
    /// What the input said that the model did not take in (from a text plan: per-worker
    /// lines, properties the reader does not know), named so the report can say so.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<String>,
}

/// What `EXPLAIN (ANALYZE, SERIALIZE)` measured of sending the result: time
/// ANALYZE alone leaves out (detoasting, output functions).
#[derive(Debug, Clone, Serialize)]
pub struct Serialization {
    /// `None` with TIMING OFF.
    pub time_ms: Option<f64>,
    pub output_kb: f64,
    pub format: String,
}

/// JIT compilation figures; the total is what competes with execution time.
#[derive(Debug, Clone, Serialize)]
pub struct Jit {
    pub functions: u64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trigger {
    pub name: String,
    pub relation: Option<String>,
    pub time_ms: f64,
    pub calls: f64,
}

/// Buffer counters of a node, in 8 kB blocks. PostgreSQL reports them inclusive of children.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Buffers {
    pub shared_hit: f64,
    pub shared_read: f64,
    pub shared_dirtied: f64,
    pub shared_written: f64,
    pub local_hit: f64,
    pub local_read: f64,
    pub temp_read: f64,
    pub temp_written: f64,
}

impl Buffers {
    /// Self minus other, never below zero (children can report more than a parent
    /// when an InitPlan ran elsewhere).
    pub fn minus(&self, other: &Buffers) -> Buffers {
        let d = |a: f64, b: f64| (a - b).max(0.0);
        Buffers {
            shared_hit: d(self.shared_hit, other.shared_hit),
            shared_read: d(self.shared_read, other.shared_read),
            shared_dirtied: d(self.shared_dirtied, other.shared_dirtied),
            shared_written: d(self.shared_written, other.shared_written),
            local_hit: d(self.local_hit, other.local_hit),
            local_read: d(self.local_read, other.local_read),
            temp_read: d(self.temp_read, other.temp_read),
            temp_written: d(self.temp_written, other.temp_written),
        }
    }

    pub fn plus(&self, other: &Buffers) -> Buffers {
        Buffers {
            shared_hit: self.shared_hit + other.shared_hit,
            shared_read: self.shared_read + other.shared_read,
            shared_dirtied: self.shared_dirtied + other.shared_dirtied,
            shared_written: self.shared_written + other.shared_written,
            local_hit: self.local_hit + other.local_hit,
            local_read: self.local_read + other.local_read,
            temp_read: self.temp_read + other.temp_read,
            temp_written: self.temp_written + other.temp_written,
        }
    }
}

/// What EXPLAIN ANALYZE measured for a node. Times are per loop, as PostgreSQL reports them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Actual {
    pub startup_ms: f64,
    pub total_ms: f64,
    /// Rows per loop; fractional since PostgreSQL 18.
    pub rows: f64,
    pub loops: f64,
}

/// One plan node. Fields PostgreSQL writes only for some node types are `Option`s;
/// fields this model does not know are ignored.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanNode {
    /// Position in a depth-first walk, from 1: how findings point at a node.
    pub id: usize,
    pub node_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_relationship: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subplan_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cte_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub parallel_aware: bool,
    /// The planner chose this node although an `enable_*` setting disabled it:
    /// PostgreSQL 18's `Disabled`, or before 18 the disable cost (10^10) that
    /// first appears at this node.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,

    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_rows: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_width: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Actual>,

    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_cond: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recheck_cond: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_cond: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_cond: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_filter: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort_key: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_key: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_removed_by_filter: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_removed_by_index_recheck: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_removed_by_join_filter: Option<f64>,
    /// B-tree descents over all loops (PostgreSQL 18+): more than one per loop
    /// means a skip scan or a list of values (`= ANY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_searches: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heap_fetches: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_heap_blocks: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lossy_heap_blocks: Option<f64>,

    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_space_kb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_space_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_batches: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_hash_batches: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_memory_kb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_usage_kb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashagg_batches: Option<f64>,
    /// Where a Materialize, CTE Scan, WindowAgg or Recursive Union kept its rows
    /// (`Memory` or `Disk`) and at most how many kB (PostgreSQL 18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_storage_kb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers_planned: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers_launched: Option<f64>,

    pub buffers: Buffers,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io_read_ms: Option<f64>,

    /// Boxed: a node is allocated once, where it is read, and a list of an
    /// Append's 100,000 partitions holds pointers, not 1,152-byte nodes copied in
    /// (and copied again each time the list doubled).
    pub children: Vec<Box<PlanNode>>,

    /// Derived by [`metrics::derive`]: wall time of this node and its children, loops included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusive_ms: Option<f64>,
    /// Derived: time spent in this node alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusive_ms: Option<f64>,
    /// Derived: buffers touched by this node alone.
    pub exclusive_buffers: Buffers,
}

impl PlanNode {
    /// `Seq Scan on orders o`, `Index Scan using orders_pkey on orders`, `CTE Scan on recent`.
    pub fn label(&self) -> String {
        let mut label = self.node_type.clone();
        if let Some(strategy) = self.strategy.as_deref().filter(|s| *s != "Plain" && self.node_type == "Aggregate") {
            label = format!("{strategy} {label}");
            label = label.replace("Hashed Aggregate", "HashAggregate").replace("Sorted Aggregate", "GroupAggregate");
        }
        if let Some(join) = self.join_type.as_deref().filter(|j| *j != "Inner") {
            label.push_str(&format!(" ({join})"));
        }
        if let Some(index) = &self.index_name {
            label.push_str(&format!(" using {index}"));
        }
        let target = self.relation.as_ref().or(self.cte_name.as_ref()).or(self.function_name.as_ref());
        if let Some(target) = target {
            label.push_str(&format!(" on {target}"));
            if let Some(alias) = self.alias.as_ref().filter(|a| *a != target) {
                label.push_str(&format!(" {alias}"));
            }
        }
        label
    }

    /// Rows this node produced over all loops.
    pub fn total_actual_rows(&self) -> Option<f64> {
        self.actual.map(|a| a.rows * a.loops)
    }

    /// Index searches per loop when this scan skips through the leading columns of
    /// its index (PostgreSQL 18's `Index Searches`); not for a list of values
    /// (`= ANY`, IN), which is searched once per value.
    pub fn skip_searches_per_loop(&self) -> Option<f64> {
        let searches = self.index_searches?;
        let lists_values = self.index_cond.as_deref().is_some_and(|c| c.contains("ANY ("));
        (!lists_values).then(|| searches / self.actual.map_or(1.0, |a| a.loops).max(1.0))
    }

    /// Whether ANALYZE saw this node run at all.
    pub fn never_executed(&self) -> bool {
        self.actual.is_some_and(|a| a.loops == 0.0)
    }

    /// The name the plan's conditions use for this relation: the alias, else the table.
    pub fn reference_name(&self) -> Option<&str> {
        self.alias.as_deref().or(self.relation.as_deref())
    }

    /// All nodes of this subtree, depth first (self first). With a stack, not by
    /// recursion: each level of a recursive walk copied its subtree's list again.
    pub fn walk(&self) -> Vec<&PlanNode> {
        let mut nodes = Vec::new();
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            nodes.push(node);
            stack.extend(node.children.iter().rev().map(|child| &**child));
        }
        nodes
    }
}

impl Plan {
    pub fn nodes(&self) -> Vec<&PlanNode> {
        self.root.walk()
    }

    pub fn node(&self, id: usize) -> Option<&PlanNode> {
        self.nodes().into_iter().find(|n| n.id == id)
    }

    /// The time to measure shares against: the root's inclusive time, which the
    /// exclusive times add up to (PostgreSQL's "Execution Time" can be a little
    /// smaller or larger), else the reported execution time.
    pub fn total_ms(&self) -> Option<f64> {
        self.root.inclusive_ms.or(self.execution_ms)
    }
}
