//! Every threshold the plan rules use, in one place. docs/explain.md publishes
//! the same table; a test keeps the two in step.

/// A scan "discards most rows" when at least this share of the rows it read were removed by its filter.
pub const DISCARD_SHARE: f64 = 0.9;
/// A table is "big" when a scan reads at least this many rows (over all loops).
pub const BIG_SCAN_ROWS: f64 = 10_000.0;
/// An index scan's filter matters when it removes at least this many rows (over all loops).
pub const INDEX_FILTER_MIN_REMOVED: f64 = 1_000.0;
/// Estimated vs actual rows: a misestimate at this factor or more.
pub const MISESTIMATE_FACTOR: f64 = 10.0;
/// ... and it is critical at this factor.
pub const MISESTIMATE_CRITICAL_FACTOR: f64 = 1_000.0;
/// Misestimates of fewer rows than this (on both sides) are not worth a finding.
pub const MISESTIMATE_MIN_ROWS: f64 = 100.0;
/// A Nested Loop's inner side "runs many times" from this many loops.
pub const NESTED_LOOP_MIN_LOOPS: f64 = 1_000.0;
/// Heap fetches in an index-only scan matter from this share of the rows returned.
pub const HEAP_FETCH_SHARE: f64 = 0.1;
/// ... and this many fetches.
pub const HEAP_FETCH_MIN: f64 = 1_000.0;
/// An OFFSET is large from this many skipped rows.
pub const LARGE_OFFSET_ROWS: f64 = 1_000.0;
/// Planning time "dominates" at this share of planning + execution ...
pub const PLANNING_SHARE: f64 = 0.5;
/// ... when planning takes at least this long (ms).
pub const PLANNING_MIN_MS: f64 = 10.0;
/// JIT time "dominates" at this share of execution time ...
pub const JIT_SHARE: f64 = 0.3;
/// ... when JIT takes at least this long (ms).
pub const JIT_MIN_MS: f64 = 50.0;
/// Sending the result "dominates" at this share of execution time ...
pub const SERIALIZATION_SHARE: f64 = 0.3;
/// ... when it takes at least this long (ms).
pub const SERIALIZATION_MIN_MS: f64 = 50.0;
/// An index scan "skips" from this many index searches per loop (PostgreSQL 18's skip scan).
pub const SKIP_SCAN_MIN_SEARCHES: f64 = 10.0;
/// Reading "most data from disk": this share of shared blocks read rather than hit ...
pub const DISK_READ_SHARE: f64 = 0.5;
/// ... of at least this many blocks (8 kB each; 10,000 blocks = 78 MiB).
pub const DISK_READ_MIN_BLOCKS: f64 = 10_000.0;
/// A node's finding is raised to critical when the node takes this share of the statement's time.
pub const CRITICAL_TIME_SHARE: f64 = 0.3;
/// ... and the node takes at least this long (ms): a large share of a fast statement is not critical.
pub const CRITICAL_MIN_MS: f64 = 100.0;
/// ... and lowered to info below this share.
pub const MINOR_TIME_SHARE: f64 = 0.05;
/// Nodes highlighted in the tree: those taking at least this share of the time (at most three).
pub const HIGHLIGHT_TIME_SHARE: f64 = 0.1;

/// (name, value) of every threshold, for the documentation test.
pub const ALL: &[(&str, f64)] = &[
    ("DISCARD_SHARE", DISCARD_SHARE),
    ("BIG_SCAN_ROWS", BIG_SCAN_ROWS),
    ("INDEX_FILTER_MIN_REMOVED", INDEX_FILTER_MIN_REMOVED),
    ("MISESTIMATE_FACTOR", MISESTIMATE_FACTOR),
    ("MISESTIMATE_CRITICAL_FACTOR", MISESTIMATE_CRITICAL_FACTOR),
    ("MISESTIMATE_MIN_ROWS", MISESTIMATE_MIN_ROWS),
    ("NESTED_LOOP_MIN_LOOPS", NESTED_LOOP_MIN_LOOPS),
    ("HEAP_FETCH_SHARE", HEAP_FETCH_SHARE),
    ("HEAP_FETCH_MIN", HEAP_FETCH_MIN),
    ("LARGE_OFFSET_ROWS", LARGE_OFFSET_ROWS),
    ("PLANNING_SHARE", PLANNING_SHARE),
    ("PLANNING_MIN_MS", PLANNING_MIN_MS),
    ("JIT_SHARE", JIT_SHARE),
    ("JIT_MIN_MS", JIT_MIN_MS),
    ("SERIALIZATION_SHARE", SERIALIZATION_SHARE),
    ("SERIALIZATION_MIN_MS", SERIALIZATION_MIN_MS),
    ("SKIP_SCAN_MIN_SEARCHES", SKIP_SCAN_MIN_SEARCHES),
    ("DISK_READ_SHARE", DISK_READ_SHARE),
    ("DISK_READ_MIN_BLOCKS", DISK_READ_MIN_BLOCKS),
    ("CRITICAL_TIME_SHARE", CRITICAL_TIME_SHARE),
    ("CRITICAL_MIN_MS", CRITICAL_MIN_MS),
    ("MINOR_TIME_SHARE", MINOR_TIME_SHARE),
    ("HIGHLIGHT_TIME_SHARE", HIGHLIGHT_TIME_SHARE),
];
