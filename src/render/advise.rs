//! `pgadvise advise`'s report: what to create, what to drop, and why.

use super::new_table;
use crate::advise::report::AdviseReport;
use crate::pg::hypopg::HypoStatus;
use crate::units::{format_count, format_human_bytes, format_ms};

fn summary(report: &AdviseReport) -> String {
    let mut lines = vec![
        format!("statements: {}", report.statements_from),
        format!("catalog: {}", report.catalog_from),
        match &report.hypopg {
            Some(HypoStatus::Installed) | Some(HypoStatus::Temporary) => {
                format!("verified with HypoPG: {} planner calls", format_count(report.planner_calls as f64))
            }
            Some(HypoStatus::Unavailable(why)) => format!("unverified: {why}"),
            None => "unverified: no server, so candidates are ranked by the time of the statements they help".into(),
        },
    ];
    lines.extend(report.notes.iter().map(|n| format!("note: {n}")));
    if report.workload_ms > 0.0
        && !report.indexes.is_empty()
        && report.hypopg.as_ref().is_some_and(|h| !matches!(h, HypoStatus::Unavailable(_)))
    {
        lines.push(format!(
            "workload time {}; the indexes below help statements taking {} of it ({:.0}%)",
            format_ms(report.workload_ms),
            format_ms(report.covered_ms),
            report.covered_ms / report.workload_ms * 100.0
        ));
    }
    lines.join("\n") + "\n"
}

/// HypoPG's size when verified; offline a rough estimate, marked with ~.
fn size(index: &crate::advise::report::IndexAdvice) -> String {
    match (index.size_bytes, index.verified) {
        (Some(bytes), true) => format_human_bytes(bytes),
        (Some(bytes), false) => format!("~{}", format_human_bytes(bytes)),
        (None, _) => "?".into(),
    }
}

pub fn advise_table(report: &AdviseReport, width: u16) -> String {
    let mut out = format!("pgadvise advise\n{}\n", summary(report));
    if report.indexes.is_empty() {
        out.push_str("Indexes to create: none.\n\n");
    } else {
        let mut table = new_table(width, &["#", "index", "kind", "helps", "saves (per call)", "size", "write cost", "verified"]);
        for (i, index) in report.indexes.iter().enumerate() {
            table.add_row(vec![
                (i + 1).to_string(),
                index.name.clone(),
                index.kind.to_string(),
                index.statements.join("\n"),
                if index.verified { format!("{} ({})", format_ms(index.saved_ms), format_ms(index.saved_per_call_ms)) } else { "?".into() },
                size(index),
                if index.verified { format_ms(index.write_ms) } else { "?".into() },
                if index.verified { "yes".into() } else { "no".into() },
            ]);
        }
        out.push_str(&format!("Indexes to create\n{table}\n\n"));
        for index in &report.indexes {
            out.push_str(&format!("{}\n", index.action.sql()));
        }
        out.push('\n');
    }
    if !report.drops.is_empty() {
        let mut table = new_table(width, &["index", "table", "problem", "size", "evidence"]);
        for drop in &report.drops {
            table.add_row(vec![
                drop.index.clone(),
                drop.table.clone(),
                drop.problem.to_string(),
                format_human_bytes(drop.size_bytes),
                drop.evidence.clone(),
            ]);
        }
        out.push_str(&format!("Indexes to drop\n{table}\n\n"));
        for drop in &report.drops {
            out.push_str(&format!("{}\n", drop.action.sql()));
        }
        out.push('\n');
    }
    for view in &report.materialized_views {
        out.push_str(&format!(
            "Materialized view for {} ({} in total)\n\
             -- Needs an application change (read from the view) and a refresh schedule.\n{}\n\
             -- Then on a schedule (cron, pg_cron), which does not block readers:\n{}\n\n",
            view.statement,
            format_ms(view.total_ms),
            view.action.sql(),
            view.refresh
        ));
    }
    for lookup in &report.n_plus_one {
        out.push_str(&format!(
            "N+1: {} runs {} times for {:.1} rows each: fetch the keys in one statement (WHERE id = ANY($1)) instead of a loop\n",
            lookup.statement,
            format_count(lookup.calls),
            lookup.rows_per_call
        ));
    }
    if !report.n_plus_one.is_empty() {
        out.push('\n');
    }
    for (name, existing) in &report.already_served {
        out.push_str(&format!("note: {name} is not suggested: the existing index {existing} serves it\n"));
    }
    for (name, why) in &report.rejected {
        out.push_str(&format!("note: {name} was considered and left out: {why}\n"));
    }
    for kept in &report.kept_indexes {
        out.push_str(&format!("note: {} on {} is kept: {}\n", kept.index, kept.table, kept.why));
    }
    for assumed in &report.assumed_values {
        out.push_str(&format!("note: planned with {}: {}\n", assumed.values.join(", "), assumed.statement));
    }
    for skipped in &report.not_analyzed {
        out.push_str(&format!("note: not analyzed ({}): {}: {}\n", skipped.source, skipped.statement, skipped.reason));
    }
    super::wrap_prefixed(&out, "note: ", width)
}

pub fn advise_markdown(report: &AdviseReport) -> String {
    let mut out = format!("### pgadvise advise\n\n{}\n", summary(report).lines().map(|l| format!("- {l}\n")).collect::<String>());
    if !report.indexes.is_empty() {
        out.push_str("| # | index | kind | saves | size | verified |\n|---|---|---|---|---|---|\n");
        for (i, index) in report.indexes.iter().enumerate() {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                i + 1,
                index.name,
                index.kind,
                if index.verified { format_ms(index.saved_ms) } else { "?".into() },
                size(index),
                if index.verified { "yes" } else { "no" }
            ));
        }
        out.push_str(&format!("\n```sql\n{}\n```\n\n", report.indexes.iter().map(|i| i.action.sql()).collect::<Vec<_>>().join("\n")));
    }
    if !report.drops.is_empty() {
        out.push_str("Indexes to drop:\n\n");
        for drop in &report.drops {
            out.push_str(&format!(
                "- `{}` on `{}`: {} ({}), {}\n",
                drop.index,
                drop.table,
                drop.problem,
                format_human_bytes(drop.size_bytes),
                drop.evidence
            ));
        }
        out.push('\n');
    }
    if !report.kept_indexes.is_empty() {
        out.push_str("Indexes kept although they look droppable:\n\n");
        for kept in &report.kept_indexes {
            out.push_str(&format!("- `{}` on `{}`: {}\n", kept.index, kept.table, kept.why));
        }
        out.push('\n');
    }
    out
}
