//! The tool's own speed: the release binary, end to end, on generated inputs:
//! offline workload analysis of pg_stat_statements exports of 1,000 to 100,000
//! statements against a 50-table catalog, EXPLAIN plans of 10,000 and 100,000
//! nodes (JSON, table and HTML output), and one
//! scan whose filter is long: 100 KB, 250 KB and 1 MB of ANDed conditions, and a
//! 20,000-id IN list (time that grows faster than the filter is a bug).
//! Wall time is the fastest of the runs (on a shared machine noise only ever
//! slows a run: the median of three moved by half between two runs of the
//! harness); peak memory is the kernel's ru_maxrss.

use crate::stats::{measure, Usage};
use crate::Settings;
use anyhow::Result;
use pgadvise::catalog::{Catalog, Column, Index, Snapshot, Table};
use serde_json::json;
use std::process::Command;

pub const STATEMENTS: [usize; 3] = [1_000, 10_000, 100_000];
pub const PLAN_NODES: [usize; 2] = [10_000, 100_000];
/// Conjuncts in the long filters: about 100 KB, 250 KB and 1 MB.
pub const FILTER_CONJUNCTS: [usize; 3] = [6_000, 15_000, 60_000];
pub const IN_LIST_IDS: usize = 20_000;
const TABLES: usize = 50;
const COLUMNS: usize = 10;

pub struct Speed {
    /// (input, input size, fastest wall time, peak memory)
    pub rows: Vec<(String, usize, f64, u64)>,
}

pub fn run(settings: &Settings<'_>, progress: &dyn Fn(&str)) -> Result<Speed> {
    let (pgadvise, work_dir, runs) = (settings.pgadvise, settings.work_dir, settings.runs);
    let catalog = work_dir.join("catalog.json");
    std::fs::write(&catalog, serde_json::to_string(&snapshot())?)?;
    let mut rows = Vec::new();
    for n in STATEMENTS {
        progress(&format!("pgadvise advise: {n} statements, offline"));
        let stats = work_dir.join(format!("stats-{n}.csv"));
        std::fs::write(&stats, export_csv(n))?;
        let usage = repeat(runs, || {
            measure(Command::new(pgadvise).args(["advise", "--format", "json", "--catalog"]).arg(&catalog).arg("--stats").arg(&stats))
        })?;
        rows.push((format!("advise, offline: {n} statements"), n, usage.wall_s, usage.peak_bytes));
    }
    for nodes in PLAN_NODES {
        let plan = work_dir.join("plan.json");
        std::fs::write(&plan, plan_json(nodes))?;
        for format in ["json", "table", "html"] {
            progress(&format!("pgadvise explain: {nodes} nodes, {format}"));
            let usage = repeat(runs, || measure(Command::new(pgadvise).args(["explain", "--format", format]).arg(&plan)))?;
            rows.push((format!("explain: {nodes}-node plan, {format}"), nodes, usage.wall_s, usage.peak_bytes));
        }
    }
    let long_filters = FILTER_CONJUNCTS.iter().map(|&n| (format!("{n} ANDed conditions"), long_filter(n)));
    let in_list = std::iter::once((format!("a {IN_LIST_IDS}-id IN list"), in_list(IN_LIST_IDS)));
    for (what, filter) in long_filters.chain(in_list) {
        progress(&format!("pgadvise explain: a filter of {what}, table"));
        let plan = work_dir.join("long-filter.json");
        std::fs::write(&plan, one_scan_plan(&filter))?;
        let usage = repeat(runs, || measure(Command::new(pgadvise).args(["explain", "--format", "table"]).arg(&plan)))?;
        rows.push((
            format!("explain: a filter of {what} ({} KB), table", filter.len() / 1024),
            filter.len(),
            usage.wall_s,
            usage.peak_bytes,
        ));
    }
    Ok(Speed { rows })
}

fn long_filter(conjuncts: usize) -> String {
    (0..conjuncts).map(|i| format!("(c{} = {i})", i % COLUMNS)).collect::<Vec<_>>().join(" AND ")
}

fn in_list(ids: usize) -> String {
    format!("(id = ANY ('{{{}}}'::integer[]))", (0..ids).map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}

/// One sequential scan with `filter`, as EXPLAIN ANALYZE writes it.
fn one_scan_plan(filter: &str) -> String {
    json!([{
        "Plan": {
            "Node Type": "Seq Scan", "Relation Name": "t0", "Alias": "t0", "Startup Cost": 0.0, "Total Cost": 1000.0,
            "Plan Rows": 10, "Plan Width": 8, "Actual Startup Time": 0.1, "Actual Total Time": 500.0, "Actual Rows": 10,
            "Actual Loops": 1, "Filter": filter, "Rows Removed by Filter": 100_000,
        },
        "Execution Time": 500.0,
    }])
    .to_string()
}

/// Runs of each input: at least this many, whatever --runs says.
pub const MIN_RUNS: usize = 5;

/// The fastest wall time and the highest peak memory of `runs` runs (at least [`MIN_RUNS`]).
fn repeat(runs: usize, mut once: impl FnMut() -> Result<Usage>) -> Result<Usage> {
    let usages = (0..runs.max(MIN_RUNS)).map(|_| once()).collect::<Result<Vec<_>>>()?;
    Ok(Usage {
        wall_s: usages.iter().map(|u| u.wall_s).fold(f64::INFINITY, f64::min),
        peak_bytes: usages.iter().map(|u| u.peak_bytes).max().unwrap_or(0),
    })
}

/// 50 tables of 10 integer columns, a million rows each, primary keys only.
fn snapshot() -> Snapshot {
    let tables = (0..TABLES)
        .map(|t| Table {
            size_bytes: 100 << 20,
            columns: (0..COLUMNS).map(|c| Column::new(&format!("c{c}"), "integer")).collect(),
            indexes: vec![Index {
                unique: true,
                primary: true,
                size_bytes: 1 << 20,
                scans: Some(100),
                constraint: Some("p".into()),
                ..Index::btree(&format!("t{t}_pkey"), &["c0"])
            }],
            ..Table::new("public", &format!("t{t}"), 1_000_000.0)
        })
        .collect();
    Snapshot::new("15.0".into(), 150_000, "bench".into(), Catalog { tables, ..Catalog::default() })
}

/// A pg_stat_statements CSV export with `n` distinct statements of four shapes.
pub fn export_csv(n: usize) -> String {
    let mut csv = String::from("userid,dbid,queryid,query,calls,total_exec_time,rows,shared_blks_hit,shared_blks_read\n");
    for i in 0..n {
        let t = i % TABLES;
        let (a, b, c) = (1 + i % 9, 1 + (i / 9) % 9, 1 + (i / 81) % 9);
        let query = match i % 4 {
            0 => format!("SELECT c{a}, c{b} FROM t{t} WHERE c{a} = $1 AND c{b} > $2 /* {i} */"),
            1 => format!("SELECT * FROM t{t} WHERE c{c} = $1 ORDER BY c{b} DESC LIMIT $2 /* {i} */"),
            2 => format!("SELECT x.c{a} FROM t{t} x JOIN t{} y ON y.c0 = x.c{b} WHERE y.c{c} = $1 /* {i} */", (t + 1) % TABLES),
            _ => format!("UPDATE t{t} SET c{a} = $1 WHERE c{b} = $2 /* {i} */"),
        };
        csv.push_str(&format!("10,1,{i},\"{}\",{},{},{},0,0\n", query.replace('"', "\"\""), 10 + i % 100, (i % 1000) as f64 / 3.0, i % 50));
    }
    csv
}

/// What a partitioned table gives: Limit → Sort → Append over `nodes - 3`
/// partitions, each a Seq Scan whose filter discards most rows.
pub fn plan_json(nodes: usize) -> String {
    let scans: Vec<_> = (0..nodes - 3)
        .map(|i| {
            json!({
                "Node Type": "Seq Scan", "Parent Relationship": "Member", "Parallel Aware": false,
                "Relation Name": format!("events_p{i}"), "Schema": "public", "Alias": format!("events_p{i}"),
                "Startup Cost": 0.0, "Total Cost": 2041.0, "Plan Rows": 10, "Plan Width": 40,
                "Actual Startup Time": 0.01, "Actual Total Time": 1.2 + (i % 7) as f64, "Actual Rows": 12, "Actual Loops": 1,
                "Output": ["id", "kind", "created_at"],
                "Filter": format!("((kind = 'signup'::text) AND (account_id = {}))", i % 97),
                "Rows Removed by Filter": 99_988,
                "Shared Hit Blocks": 400, "Shared Read Blocks": 900,
            })
        })
        .collect();
    let append = json!({
        "Node Type": "Append", "Parent Relationship": "Outer",
        "Startup Cost": 0.0, "Total Cost": 2.0, "Plan Rows": 100_000, "Plan Width": 40,
        "Actual Startup Time": 0.1, "Actual Total Time": 59_000.0, "Actual Rows": 119_964, "Actual Loops": 1,
        "Plans": scans,
    });
    let sort = json!({
        "Node Type": "Sort", "Parent Relationship": "Outer", "Sort Key": ["created_at DESC"],
        "Sort Method": "top-N heapsort", "Sort Space Type": "Memory", "Sort Space Used": 40,
        "Startup Cost": 1.0, "Total Cost": 2.0, "Plan Rows": 100_000, "Plan Width": 40,
        "Actual Startup Time": 1.0, "Actual Total Time": 59_990.0, "Actual Rows": 50, "Actual Loops": 1,
        "Plans": [append],
    });
    let plan = json!([{
        "Plan": {
            "Node Type": "Limit", "Startup Cost": 1.0, "Total Cost": 2.0, "Plan Rows": 50, "Plan Width": 40,
            "Actual Startup Time": 1.0, "Actual Total Time": 60_000.0, "Actual Rows": 50, "Actual Loops": 1,
            "Plans": [sort],
        },
        "Planning Time": 900.0,
        "Execution Time": 60_010.0,
    }]);
    plan.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_plan_has_the_nodes_it_claims() {
        let plan = pgadvise::plan::parse::read_plan(&plan_json(1_000)).unwrap();
        assert_eq!(plan.nodes().len(), 1_000);
    }

    #[test]
    fn the_generated_export_reads_back_statement_for_statement() {
        let dir = std::env::temp_dir().join(format!("pgadvise-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stats.csv");
        std::fs::write(&path, export_csv(100)).unwrap();
        let statements = pgadvise::workload::export::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(statements.len(), 100);
        assert!(statements[2].query.contains("JOIN"), "{}", statements[2].query);
    }
}
