//! Parsing and diagnosing a plan with 10,000 nodes: the figures for the README
//! and the closing note. A benchmark, not a test: `cargo bench --bench explain`.
//!
//! The plan is what a partitioned table gives: Limit → Sort → Append over
//! 9,997 partitions, each a Seq Scan whose filter discards most rows.

#![recursion_limit = "256"]

use pgadvise::advise::index::suggest;
use pgadvise::plan::conditions::scans;
use pgadvise::plan::parse::read_plan;
use pgadvise::plan::rules::{diagnose, Context};
use serde_json::json;
use std::time::{Duration, Instant};

const NODES: usize = 10_000;
const RUNS: usize = 7;

fn plan_json(nodes: usize) -> String {
    let partitions = nodes - 3;
    let scans: Vec<_> = (0..partitions)
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
    let plan = json!([{
        "Plan": {
            "Node Type": "Limit", "Startup Cost": 1.0, "Total Cost": 2.0, "Plan Rows": 50, "Plan Width": 40,
            "Actual Startup Time": 1.0, "Actual Total Time": 60_000.0, "Actual Rows": 50, "Actual Loops": 1,
            "Plans": [{
                "Node Type": "Sort", "Parent Relationship": "Outer", "Sort Key": ["created_at DESC"],
                "Sort Method": "top-N heapsort", "Sort Space Type": "Memory", "Sort Space Used": 40,
                "Startup Cost": 1.0, "Total Cost": 2.0, "Plan Rows": 100_000, "Plan Width": 40,
                "Actual Startup Time": 1.0, "Actual Total Time": 59_990.0, "Actual Rows": 50, "Actual Loops": 1,
                "Plans": [{
                    "Node Type": "Append", "Parent Relationship": "Outer",
                    "Startup Cost": 0.0, "Total Cost": 2.0, "Plan Rows": 100_000, "Plan Width": 40,
                    "Actual Startup Time": 0.1, "Actual Total Time": 59_000.0, "Actual Rows": 119_964, "Actual Loops": 1,
                    "Plans": scans,
                }],
            }],
        },
        "Planning Time": 900.0,
        "Execution Time": 60_010.0,
    }]);
    plan.to_string()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and gets a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let (nodes, runs) = if full { (NODES, RUNS) } else { (1_000, 1) };
    let text = plan_json(nodes);
    let (mut parse, mut rules, mut suggestions, mut render) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut counts = (0, 0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        let plan = read_plan(&text).expect("parses");
        parse.push(start.elapsed());

        let start = Instant::now();
        let findings = diagnose(&plan, &Context::default());
        rules.push(start.elapsed());

        let start = Instant::now();
        let candidates = suggest(&scans(&plan), None);
        suggestions.push(start.elapsed());

        let start = Instant::now();
        let report = pgadvise::plan::report::ExplainReport {
            statements: vec![pgadvise::plan::report::StatementReport {
                label: "bench".into(),
                kind: None,
                sql: None,
                plan: plan.clone(),
                findings: findings.clone(),
                suggestions: candidates.iter().cloned().map(pgadvise::plan::report::Suggestion::new).collect(),
                dropped: vec![],
            }],
            hypopg: None,
            notes: vec![],
        };
        let table = pgadvise::render::explain_table(&report, 140);
        render.push(start.elapsed());
        counts = (plan.nodes().len(), findings.len(), candidates.len());
        std::hint::black_box(table);
    }
    println!("explain benchmark: {} nodes, {} kB of JSON, median of {runs} runs", counts.0, text.len() / 1024);
    println!("  parse + derive times   {:>10.1?}", median(parse));
    println!("  diagnose (13 rules)    {:>10.1?}  ({} findings)", median(rules), counts.1);
    println!("  index suggestions      {:>10.1?}  ({} candidates)", median(suggestions), counts.2);
    println!("  render table           {:>10.1?}", median(render));
    if let Some(kib) = peak_rss_kib() {
        println!("  peak memory (VmHWM)    {:>7} MiB", kib / 1024);
    }
}
