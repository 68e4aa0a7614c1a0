//! Time outside execution: planning, JIT compilation and sending the result
//! that outweigh the work itself.

use super::thresholds::{JIT_MIN_MS, JIT_SHARE, PLANNING_MIN_MS, PLANNING_SHARE, SERIALIZATION_MIN_MS, SERIALIZATION_SHARE};
use super::{percent, Context};
use crate::finding::{Finding, Severity};
use crate::plan::Plan;
use crate::units::{format_human_bytes, format_ms};

pub const PLANNING_ID: &str = "planning-time";
pub const JIT_ID: &str = "jit-time";
pub const SERIALIZATION_ID: &str = "serialization-time";

pub fn check_planning(plan: &Plan, _: &Context) -> Vec<Finding> {
    let (Some(planning), Some(execution)) = (plan.planning_ms, plan.execution_ms) else { return Vec::new() };
    let share = planning / (planning + execution).max(f64::MIN_POSITIVE);
    if planning < PLANNING_MIN_MS || share < PLANNING_SHARE {
        return Vec::new();
    }
    vec![Finding {
        rule: PLANNING_ID,
        severity: Severity::Warning,
        node: None,
        title: format!("planning takes {} of the statement's time", percent(share)),
        evidence: format!("planning {}, execution {}", format_ms(planning), format_ms(execution)),
        advice: "prepare the statement once and execute it many times (most drivers can); with many partitions or joins, prune partitions at plan time and keep join_collapse_limit low".into(),
    }]
}

pub fn check_jit(plan: &Plan, _: &Context) -> Vec<Finding> {
    let (Some(jit), Some(execution)) = (&plan.jit, plan.execution_ms) else { return Vec::new() };
    if jit.total_ms < JIT_MIN_MS || jit.total_ms < execution * JIT_SHARE {
        return Vec::new();
    }
    vec![Finding {
        rule: JIT_ID,
        severity: Severity::Warning,
        node: None,
        title: format!("JIT compilation takes {} of {} execution", format_ms(jit.total_ms), format_ms(execution)),
        evidence: format!("{} functions compiled", jit.functions),
        advice: "JIT pays off only on long analytic queries: raise jit_above_cost (and jit_inline_above_cost, jit_optimize_above_cost), or SET jit = off for this workload".into(),
    }]
}

/// PostgreSQL 17's `SERIALIZE`: turning the rows into output (detoasting large
/// values, output functions) is time ANALYZE alone does not count.
pub fn check_serialization(plan: &Plan, _: &Context) -> Vec<Finding> {
    let (Some(serialization), Some(execution)) = (&plan.serialization, plan.execution_ms) else { return Vec::new() };
    let Some(time) = serialization.time_ms else { return Vec::new() };
    if time < SERIALIZATION_MIN_MS || time < execution * SERIALIZATION_SHARE {
        return Vec::new();
    }
    vec![Finding {
        rule: SERIALIZATION_ID,
        severity: Severity::Warning,
        node: None,
        title: format!("sending the result takes {} of {} execution", format_ms(time), format_ms(execution)),
        evidence: format!("{} of {} output", format_human_bytes((serialization.output_kb * 1024.0) as u64), serialization.format),
        advice: "select only the columns and rows the client uses: large text, json or bytea values are read from TOAST and converted only when sent".into(),
    }]
}
