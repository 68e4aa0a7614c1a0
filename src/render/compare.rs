//! `explain --compare`: the two plans side by side, for a terminal, a pull request or a tool.

use super::new_table;
use crate::plan::compare::{Comparison, NodeChange, Side, Totals};
use crate::units::{format_count, format_ms};
use comfy_table::{Cell, CellAlignment, Table};

/// The summary line, the statement-wide figures, the shape changes, and every node.
pub fn compare_table(comparison: &Comparison, before: &str, after: &str, width: u16) -> String {
    let mut out = format!("{}\n\nbefore: {before}\nafter:  {after}\n\n", comparison.summary);
    out.push_str(&totals_table(comparison, width).to_string());
    out.push_str("\n\n");
    out.push_str(&changes_text(comparison));
    out.push_str(&nodes_table(comparison, width).to_string());
    out.push('\n');
    out
}

pub fn compare_json(comparison: &Comparison) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(comparison)? + "\n")
}

/// For a pull-request comment: the summary as a heading line, the figures and the
/// changes as tables, every node under a fold.
pub fn compare_markdown(comparison: &Comparison, before: &str, after: &str) -> String {
    let mut out = format!("### pgadvise explain --compare\n\n**{}**\n\n", md(&comparison.summary));
    out.push_str(&format!("before: `{before}` · after: `{after}`\n\n"));
    out.push_str("| | before | after |\n|---|---:|---:|\n");
    for (name, b, a) in total_rows(&comparison.before, &comparison.after) {
        out.push_str(&format!("| {name} | {b} | {a} |\n"));
    }
    out.push('\n');
    if comparison.shape_changes.is_empty() {
        out.push_str("The plan has the same shape.\n\n");
    } else {
        out.push_str("What changed in the plan:\n\n");
        for change in &comparison.shape_changes {
            out.push_str(&format!("- {}\n", md(&change.description)));
        }
        out.push('\n');
    }
    out.push_str("<details><summary>Nodes side by side</summary>\n\n");
    out.push_str(&format!("| before | after | {} | rows | buffers |\n|---|---|---:|---:|---:|\n", figure_name(comparison)));
    for node in &comparison.nodes {
        let [b, a, figure, rows, buffers] = node_cells(node, analyzed(comparison));
        out.push_str(&format!("| {} | {} | {figure} | {rows} | {buffers} |\n", md(&b), md(&a)));
    }
    out.push_str("\n</details>\n");
    out
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn analyzed(comparison: &Comparison) -> bool {
    comparison.before.time_ms.is_some() && comparison.after.time_ms.is_some()
}

fn figure_name(comparison: &Comparison) -> &'static str {
    if analyzed(comparison) {
        "time (own)"
    } else {
        "cost"
    }
}

fn total_rows(before: &Totals, after: &Totals) -> Vec<(&'static str, String, String)> {
    let ms = |v: Option<f64>| v.map(format_ms).unwrap_or_else(|| "–".into());
    let mut rows = Vec::new();
    if before.time_ms.is_some() || after.time_ms.is_some() {
        rows.push(("execution", ms(before.time_ms), ms(after.time_ms)));
    }
    if before.planning_ms.is_some() || after.planning_ms.is_some() {
        rows.push(("planning", ms(before.planning_ms), ms(after.planning_ms)));
    }
    let cost = |v: Option<f64>| v.map(|c| format!("{c:.2}")).unwrap_or_else(|| "–".into());
    rows.push(("cost", cost(before.cost), cost(after.cost)));
    if before.shared_blocks > 0.0 || after.shared_blocks > 0.0 {
        rows.push(("shared buffers", format_count(before.shared_blocks), format_count(after.shared_blocks)));
    }
    rows.push(("nodes", before.nodes.to_string(), after.nodes.to_string()));
    rows
}

fn totals_table(comparison: &Comparison, width: u16) -> Table {
    let mut table = new_table(width, &["", "before", "after"]);
    for (name, b, a) in total_rows(&comparison.before, &comparison.after) {
        table.add_row(vec![
            Cell::new(name),
            Cell::new(b).set_alignment(CellAlignment::Right),
            Cell::new(a).set_alignment(CellAlignment::Right),
        ]);
    }
    table
}

fn changes_text(comparison: &Comparison) -> String {
    if comparison.shape_changes.is_empty() {
        return "The plan has the same shape.\n\n".into();
    }
    let mut out = "What changed in the plan:\n".to_string();
    for change in &comparison.shape_changes {
        out.push_str(&format!("- {}\n", change.description));
    }
    out.push('\n');
    out
}

fn nodes_table(comparison: &Comparison, width: u16) -> Table {
    let mut table = new_table(width, &["before", "after", figure_name(comparison), "rows", "buffers (own)"]);
    for node in &comparison.nodes {
        let [b, a, figure, rows, buffers] = node_cells(node, analyzed(comparison));
        table.add_row(vec![
            Cell::new(b),
            Cell::new(a),
            Cell::new(figure).set_alignment(CellAlignment::Right),
            Cell::new(rows).set_alignment(CellAlignment::Right),
            Cell::new(buffers).set_alignment(CellAlignment::Right),
        ]);
    }
    table
}

/// Before's label, after's label, then "before → after" for time (or cost), rows and buffers.
fn node_cells(node: &NodeChange, analyzed: bool) -> [String; 5] {
    let label = |side: &Option<Side>| side.as_ref().map_or("–".to_string(), |s| format!("#{} {}", s.id, s.label));
    let pair = |f: &dyn Fn(&Side) -> Option<String>| {
        let show = |side: &Option<Side>| side.as_ref().and_then(f).unwrap_or_else(|| "–".into());
        format!("{} → {}", show(&node.before), show(&node.after))
    };
    let figure =
        if analyzed { pair(&|s: &Side| s.exclusive_ms.map(format_ms)) } else { pair(&|s: &Side| s.total_cost.map(|c| format!("{c:.2}"))) };
    [
        label(&node.before),
        label(&node.after),
        figure,
        pair(&|s: &Side| s.rows.map(format_count)),
        pair(&|s: &Side| Some(format_count(s.shared_blocks))),
    ]
}
