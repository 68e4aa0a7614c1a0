//! A statement that reads most of its data from disk (or the OS cache) rather than shared buffers.

use super::thresholds::{DISK_READ_MIN_BLOCKS, DISK_READ_SHARE};
use super::{percent, Context};
use crate::finding::{Finding, Severity};
use crate::plan::{Buffers, Plan};
use crate::units::{format_count, format_human_bytes, format_ms};

pub const ID: &str = "disk-reads";

pub fn check(plan: &Plan, _: &Context) -> Vec<Finding> {
    let total = plan.nodes().iter().fold(Buffers::default(), |sum, n| sum.plus(&n.exclusive_buffers));
    let touched = total.shared_hit + total.shared_read;
    if total.shared_read < DISK_READ_MIN_BLOCKS || total.shared_read / touched < DISK_READ_SHARE {
        return Vec::new();
    }
    let io: f64 = plan.nodes().iter().filter_map(|n| n.io_read_ms).fold(0.0, f64::max);
    let io = if io > 0.0 { format!("; I/O read time {}", format_ms(io)) } else { String::new() };
    vec![Finding {
        rule: ID,
        severity: Severity::Warning,
        node: None,
        title: format!("{} of the blocks came from disk, not shared buffers", percent(total.shared_read / touched)),
        evidence: format!("{} blocks read ({}), {} hit{io}", format_count(total.shared_read), format_human_bytes((total.shared_read * 8192.0) as u64), format_count(total.shared_hit)),
        advice: "a first run after a restart reads from disk; if it repeats, the working set outgrows shared_buffers (see pgadvise tune), or an index would let the query read less".into(),
    }]
}
