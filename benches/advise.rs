//! Offline workload analysis of generated pg_stat_statements exports of 1,000,
//! 10,000 and 100,000 statements against a 50-table catalog: wall time and peak
//! memory, to show how the cost grows. `cargo bench --bench advise`.

use pgadvise::advise::hygiene;
use pgadvise::advise::report::unverified_indexes;
use pgadvise::advise::workload::analyze_workload;
use pgadvise::catalog::{Catalog, Column, Index, Table};
use pgadvise::workload::{export, Workload};
use std::time::Instant;

const TABLES: usize = 50;
const COLUMNS: usize = 10;

fn catalog() -> Catalog {
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
    Catalog { tables }
}

/// A CSV export with `n` distinct statements of a few shapes.
fn export_csv(n: usize) -> String {
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

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[1_000, 10_000, 100_000] } else { &[200] };
    let catalog = catalog();
    let dir = std::env::temp_dir().join(format!("pgadvise-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("advise benchmark: offline analysis, {TABLES} tables");
    println!("  {:>9}  {:>10}  {:>10}  {:>10}  {:>10}  {:>10}", "statements", "read CSV", "analyze", "rank", "candidates", "peak MiB");
    for &n in sizes {
        let path = dir.join(format!("stats-{n}.csv"));
        std::fs::write(&path, export_csv(n)).unwrap();
        let start = Instant::now();
        let workload = Workload::new(export::read(&path).unwrap());
        let read = start.elapsed();
        let start = Instant::now();
        let analysis = analyze_workload(&workload, &catalog);
        let drops = hygiene::check(&catalog);
        let analyze = start.elapsed();
        let start = Instant::now();
        let ranked = unverified_indexes(&analysis, &catalog, 10);
        let rank = start.elapsed();
        std::hint::black_box((&ranked, &drops));
        println!(
            "  {:>9}  {:>10.1?}  {:>10.1?}  {:>10.1?}  {:>10}  {:>10}",
            n,
            read,
            analyze,
            rank,
            analysis.candidates.len(),
            peak_rss_mib().map_or("?".into(), |m| m.to_string())
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
