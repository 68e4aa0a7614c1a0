//! `pgadvise explain`'s report: the plan as a tree with where the time went, the
//! findings, and the suggested indexes as SQL to paste.

use super::{clip, new_table};
use crate::finding::Severity;
use crate::pg::explain::PlanKind;
use crate::pg::hypopg::HypoStatus;
use crate::plan::metrics::misestimate;
use crate::plan::report::{ExplainReport, StatementReport, Suggestion};
use crate::plan::rules::thresholds::HIGHLIGHT_TIME_SHARE;
use crate::plan::rules::time_share;
use crate::plan::{Plan, PlanNode};
use crate::sql::comment_text;
use crate::units::{format_count, format_human_bytes, format_ms};
use comfy_table::{Cell, CellAlignment, Color, Table};

/// Output formats of `explain`: the report's, plus pictures of where the time goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    /// Tables for people (default on a terminal).
    Table,
    /// Everything, for tools (default when piped).
    Json,
    /// A pull-request comment.
    Markdown,
    /// One self-contained page: an icicle of the time, the tree, findings and suggestions.
    Html,
    /// The icicle alone, to attach to an issue.
    Svg,
}

/// Output formats of the reports of `explain` and `advise`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Tables for people (default on a terminal).
    Table,
    /// Everything, for tools (default when piped).
    Json,
    /// A pull-request comment.
    Markdown,
}

/// Nodes highlighted as where the time goes: at most this many.
const HIGHLIGHTED_NODES: usize = 3;

/// What an explain report shows of one plan alone: its tree (table, Markdown,
/// HTML) and its icicle (HTML, SVG). On a plan of thousands of nodes it takes as
/// long to write as the plan takes to diagnose, and needs nothing the diagnosis
/// finds, so `explain` renders it on a thread of its own meanwhile.
pub struct PlanPart(String);

/// How `explain` writes its report: the format, and the width of a table.
#[derive(Debug, Clone, Copy)]
pub struct ExplainRenderer {
    pub format: ExplainFormat,
    pub width: u16,
}

impl ExplainRenderer {
    /// The part of the report that is the plan's alone; `statement` is the plan's
    /// place in the report (HTML links point into it). `None` for JSON, which
    /// streams the plan with the rest.
    pub fn plan_part(&self, plan: &Plan, statement: usize) -> Option<PlanPart> {
        let text = match self.format {
            ExplainFormat::Table => tree(plan, self.width, true).to_string(),
            ExplainFormat::Markdown => {
                let mut table = tree(plan, MARKDOWN_TREE_WIDTH, false);
                table.force_no_tty();
                table.to_string()
            }
            ExplainFormat::Html => html_plan(plan, statement),
            ExplainFormat::Svg => super::flame::svg(plan, false),
            ExplainFormat::Json => return None,
        };
        Some(PlanPart(text))
    }

    /// Writes the report. `parts` holds, by statement, the plan parts rendered
    /// beforehand; a missing one is rendered here.
    pub fn write(&self, report: &ExplainReport, mut parts: Vec<Option<PlanPart>>, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
        if self.format == ExplainFormat::Json {
            // Streamed: the JSON of a plan of 100,000 nodes is hundreds of MB.
            let mut buffered = std::io::BufWriter::with_capacity(JSON_BUFFER, out);
            write_explain_json(report, &mut buffered)?;
            std::io::Write::flush(&mut buffered)?;
            return Ok(());
        }
        parts.resize_with(report.statements.len(), || None);
        let parts: Vec<String> = parts
            .into_iter()
            .zip(&report.statements)
            .enumerate()
            .map(|(i, (part, statement))| part.or_else(|| self.plan_part(&statement.plan, i)).map_or_else(String::new, |p| p.0))
            .collect();
        let text = match self.format {
            ExplainFormat::Table => explain_table(report, &parts, self.width),
            ExplainFormat::Markdown => explain_markdown(report, &parts),
            ExplainFormat::Html => explain_html(report, &parts),
            ExplainFormat::Svg => explain_svg(&parts),
            ExplainFormat::Json => unreachable!("written above"),
        };
        out.write_all(text.as_bytes())?;
        Ok(())
    }
}

/// The width Markdown's plan tree is laid out in: a pull-request comment's code block.
const MARKDOWN_TREE_WIDTH: u16 = 140;

/// `trees`: each statement's [`PlanPart`], in order.
fn explain_table(report: &ExplainReport, trees: &[String], width: u16) -> String {
    let mut out = String::new();
    for (statement, tree) in report.statements.iter().zip(trees) {
        out.push_str(&format!("── {} ──\n", statement.label));
        out.push_str(&summary(statement));
        out.push('\n');
        out.push_str(tree);
        out.push_str("\n\n");
        if statement.findings.is_empty() {
            out.push_str("Findings: none.\n\n");
        } else {
            let mut table = new_table(width, &["severity", "node", "finding", "what to do"]);
            let (shown, left_out) = shown_findings(statement);
            for finding in shown {
                table.add_row(vec![
                    severity_cell(finding.severity),
                    Cell::new(finding.node.map(|n| format!("#{n}")).unwrap_or_default()),
                    Cell::new(clip(&format!("{}\n{}", finding.title, finding.evidence))),
                    Cell::new(clip(&finding.advice)),
                ]);
            }
            for (rule, count) in left_out {
                table.add_row(vec![Cell::new(""), Cell::new(""), Cell::new(left_out_line(rule, count)), Cell::new("")]);
            }
            out.push_str(&format!("Findings\n{table}\n\n"));
        }
        out.push_str(&suggestions_sql(statement, report.hypopg.as_ref()));
    }
    out.push_str(&notes(report));
    super::wrap_prefixed(&out, "note: ", width)
}

/// The bytes of JSON handed to stdout at once: stdout writes each hand-over
/// straight through, so 8 KiB at a time (`BufWriter`'s own size) made the
/// 356 MB report of a 100,000-node plan 67,000 system calls (563 now).
const JSON_BUFFER: usize = 1 << 20;

/// The report as JSON, written as it is serialized.
/// Generic over the writer: each write of the hundreds of MB a large plan's JSON
/// takes then goes straight to the buffer, not through a `dyn Write` call.
fn write_explain_json<W: std::io::Write>(report: &ExplainReport, mut out: W) -> anyhow::Result<()> {
    super::json::write_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// `trees`: each statement's [`PlanPart`], in order.
fn explain_markdown(report: &ExplainReport, trees: &[String]) -> String {
    let mut out = String::new();
    for (statement, tree) in report.statements.iter().zip(trees) {
        out.push_str(&format!("### pgadvise explain: `{}`\n\n", statement.label));
        out.push_str(&summary(statement));
        out.push_str("\n<details><summary>Plan</summary>\n\n```text\n");
        out.push_str(tree);
        out.push_str("\n```\n\n</details>\n\n");
        if statement.findings.is_empty() {
            out.push_str("No findings.\n\n");
        } else {
            out.push_str("| severity | node | finding | what to do |\n|---|---|---|---|\n");
            let (shown, left_out) = shown_findings(statement);
            for finding in shown {
                out.push_str(&format!(
                    "| {} | {} | **{}**<br>{} | {} |\n",
                    finding.severity,
                    finding.node.map(|n| format!("#{n}")).unwrap_or_default(),
                    md(&finding.title),
                    md(&finding.evidence),
                    md(&finding.advice)
                ));
            }
            for (rule, count) in &left_out {
                out.push_str(&format!("| | | {} | |\n", left_out_line(rule, *count)));
            }
            out.push('\n');
        }
        let sql = suggestions_sql(statement, report.hypopg.as_ref());
        if !statement.suggestions.is_empty() {
            out.push_str(&format!("```sql\n{}\n```\n\n", sql.trim_start_matches("Suggested indexes\n").trim_end()));
        } else {
            out.push_str(&sql);
            out.push('\n');
        }
    }
    let notes = notes(report);
    if !notes.is_empty() {
        out.push_str(&notes.lines().map(|l| format!("> {}\n", l.trim_start_matches("note: "))).collect::<String>());
    }
    out
}

/// The findings a person reads: at most [`FINDINGS_SHOWN_PER_RULE`] of each rule
/// (the most severe, then in plan order), and how many of each rule are left out.
/// A plan of 10,000 partitions has 10,000 findings of one kind; the first ones
/// say what the rest would.
fn shown_findings(statement: &StatementReport) -> (Vec<&crate::finding::Finding>, Vec<(&'static str, usize)>) {
    let mut per_rule: std::collections::BTreeMap<&'static str, usize> = std::collections::BTreeMap::new();
    let mut shown = Vec::new();
    for finding in &statement.findings {
        let count = per_rule.entry(finding.rule).or_default();
        *count += 1;
        if *count <= FINDINGS_SHOWN_PER_RULE {
            shown.push(finding);
        }
    }
    let left_out =
        per_rule.into_iter().filter(|(_, n)| *n > FINDINGS_SHOWN_PER_RULE).map(|(rule, n)| (rule, n - FINDINGS_SHOWN_PER_RULE)).collect();
    (shown, left_out)
}

/// What a person's report says of the findings of one rule it leaves out.
fn left_out_line(rule: &str, count: usize) -> String {
    format!("… and {} more {rule} findings like these (--format json lists every one)", format_count(count as f64))
}

/// Findings of one rule a table, Markdown or HTML report shows; JSON has them all.
const FINDINGS_SHOWN_PER_RULE: usize = 20;

/// Escapes what would break a Markdown table cell.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

fn summary(statement: &StatementReport) -> String {
    let plan = &statement.plan;
    let mut parts = Vec::new();
    if let Some(ms) = plan.execution_ms {
        parts.push(format!("execution {}", format_ms(ms)));
    }
    if let Some(ms) = plan.planning_ms {
        parts.push(format!("planning {}", format_ms(ms)));
    }
    if let Some(memory) = plan.planning_memory_kb {
        parts.push(format!("planner memory {}", format_human_bytes((memory * 1024.0) as u64)));
    }
    if let Some(jit) = &plan.jit {
        parts.push(format!("JIT {}", format_ms(jit.total_ms)));
    }
    if let Some(serialization) = &plan.serialization {
        let volume = format_human_bytes((serialization.output_kb * 1024.0) as u64);
        parts.push(match serialization.time_ms {
            Some(ms) => format!("sending {volume} {}", format_ms(ms)),
            None => format!("sending {volume}"),
        });
    }
    if let Some(cost) = plan.root.total_cost {
        parts.push(format!("cost {cost:.2}"));
    }
    parts.push(
        match statement.kind {
            Some(PlanKind::Analyzed) => "executed with EXPLAIN ANALYZE in a rolled-back transaction",
            Some(PlanKind::Estimated) => "planned only (--no-analyze)",
            Some(PlanKind::Generic) => "generic plan for unknown $n values, not executed",
            None if plan.analyzed => "EXPLAIN ANALYZE",
            None => "estimates only (no ANALYZE)",
        }
        .to_string(),
    );
    let triggers: f64 = plan.triggers.iter().map(|t| t.time_ms).sum();
    if triggers > 0.0 {
        parts.push(format!("triggers {}", format_ms(triggers)));
    }
    format!("{}\n", parts.join(" · "))
}

/// The plan as a table, one node a line, indented as a tree.
fn tree(plan: &Plan, width: u16, colour: bool) -> Table {
    let analyzed = plan.analyzed;
    let mut table = new_table(width, tree_header(analyzed));
    if !colour {
        table.force_no_tty();
    }
    let highlighted = slowest(plan);
    let mut rows = Vec::new();
    lines(&plan.root, String::new(), String::new(), &mut rows);
    // Each row's cells are written alone: a tree of thousands of rows in two halves side by side.
    let rows = crate::halves::map(&rows, |(node, prefix)| {
        let label = match (&node.parent_relationship, &node.subplan_name) {
            (_, Some(subplan)) => format!("{prefix}[{subplan}] {}{}", node.label(), remarks(node)),
            _ => format!("{prefix}{}{}", node.label(), remarks(node)),
        };
        let mut cells = vec![Cell::new(node.id).set_alignment(CellAlignment::Right), Cell::new(label)];
        if analyzed {
            cells.extend(analyzed_cells(plan, node, highlighted.contains(&node.id)));
        } else {
            cells.extend(estimate_texts(node).map(|text| Cell::new(text).set_alignment(CellAlignment::Right)));
        }
        cells
    });
    table.add_rows(rows);
    table
}

/// What PostgreSQL 18 adds about a node that changes how to read it: a node
/// chosen although disabled, an index searched more than once a loop, rows
/// kept on disk.
fn remarks(node: &PlanNode) -> String {
    let mut remarks = String::new();
    if node.disabled {
        remarks.push_str(" · disabled");
    }
    if let Some(searches) = node.index_searches {
        let per_loop = searches / node.actual.map_or(1.0, |a| a.loops).max(1.0);
        if per_loop > 1.0 {
            remarks.push_str(&format!(" · {} searches/loop", format_count(per_loop)));
        }
    }
    if let (Some("Disk"), Some(kb)) = (node.storage.as_deref(), node.max_storage_kb) {
        remarks.push_str(&format!(" · {} on disk", format_human_bytes((kb * 1024.0) as u64)));
    }
    remarks
}

fn analyzed_cells(plan: &Plan, node: &PlanNode, highlight: bool) -> Vec<Cell> {
    let [time, share, rows, loops, removed, buffers] = analyzed_texts(plan, node, highlight);
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    let (mut time_cell, mut share_cell) = (right(time), right(share));
    if highlight && !node.never_executed() {
        time_cell = time_cell.fg(Color::Red);
        share_cell = share_cell.fg(Color::Red);
    }
    vec![time_cell, share_cell, right(rows), right(loops), right(removed), Cell::new(buffers)]
}

/// The analyzed columns of a node as text: own time, share, rows (actual /
/// estimated, with the misestimate factor), loops, rows removed, own buffers.
fn analyzed_texts(plan: &Plan, node: &PlanNode, highlight: bool) -> [String; 6] {
    if node.never_executed() {
        return ["never executed".into(), String::new(), String::new(), "0".into(), String::new(), String::new()];
    }
    let time = node.exclusive_ms.map(format_ms).unwrap_or_default();
    let share = time_share(plan, node).map(|s| format!("{:.1}%{}", s * 100.0, if highlight { " ◀" } else { "" })).unwrap_or_default();
    let rows = match (node.actual, node.plan_rows) {
        (Some(actual), Some(estimated)) => {
            let factor = misestimate(node)
                .filter(|m| m.factor >= 2.0)
                .map(|m| format!(" ({}{:.0}×)", if m.under { "↑" } else { "↓" }, m.factor))
                .unwrap_or_default();
            format!("{} / {}{factor}", format_count(actual.rows), format_count(estimated))
        }
        (Some(actual), None) => format_count(actual.rows),
        _ => String::new(),
    };
    let loops = node.actual.map(|a| format_count(a.loops)).unwrap_or_default();
    let removed = [node.rows_removed_by_filter, node.rows_removed_by_join_filter, node.rows_removed_by_index_recheck]
        .into_iter()
        .flatten()
        .filter(|r| *r > 0.0)
        .map(|r| format_count(r * node.actual.map_or(1.0, |a| a.loops)))
        .collect::<Vec<_>>()
        .join(" + ");
    let b = node.exclusive_buffers;
    let mut buffers = Vec::new();
    if b.shared_hit > 0.0 {
        buffers.push(format!("hit {}", format_count(b.shared_hit)));
    }
    if b.shared_read > 0.0 {
        buffers.push(format!("read {}", format_count(b.shared_read)));
    }
    if b.shared_written > 0.0 {
        buffers.push(format!("written {}", format_count(b.shared_written)));
    }
    if b.temp_read > 0.0 || b.temp_written > 0.0 {
        buffers.push(format!("temp {}/{}", format_count(b.temp_read), format_count(b.temp_written)));
    }
    [time, share, rows, loops, removed, buffers.join(" ")]
}

/// The estimate columns of a node as text: cost, rows, width.
fn estimate_texts(node: &PlanNode) -> [String; 3] {
    [
        node.total_cost.map(|c| format!("{c:.2}")).unwrap_or_default(),
        node.plan_rows.map(format_count).unwrap_or_default(),
        node.plan_width.map(format_count).unwrap_or_default(),
    ]
}

/// The tree's column headers, after `#` and `node`.
fn tree_header(analyzed: bool) -> &'static [&'static str] {
    if analyzed {
        &["#", "node", "time", "%", "rows (actual / est.)", "loops", "removed", "buffers (own)"]
    } else {
        &["#", "node", "cost", "est. rows", "width"]
    }
}

/// One self-contained page (no script, font or style from the network): per
/// statement its summary, an icicle of where the time goes whose boxes link to
/// the tree's rows, the tree with the table's columns, the findings linked to
/// their nodes, and the suggested indexes.
fn explain_html(report: &ExplainReport, plans: &[String]) -> String {
    use super::flame::escape;
    let mut out = String::from(HTML_HEAD);
    for (index, (statement, plan)) in report.statements.iter().zip(plans).enumerate() {
        let anchor = |id: usize| node_anchor(index, id);
        out.push_str(&format!(
            "<section>\n<h2>{}</h2>\n<p class=\"summary\">{}</p>\n",
            escape(&statement.label),
            escape(summary(statement).trim())
        ));
        out.push_str(plan);
        if statement.findings.is_empty() {
            out.push_str("<p>No findings.</p>\n");
        } else {
            out.push_str("<h3>Findings</h3>\n<ul class=\"findings\">\n");
            let (shown, left_out) = shown_findings(statement);
            for finding in shown {
                let node = finding.node.map(|n| format!("<a href=\"#{}\">#{n}</a> ", anchor(n))).unwrap_or_default();
                out.push_str(&format!(
                    "<li class=\"{}\"><span class=\"severity\">{}</span> {node}<b>{}</b><br>{}<br><i>{}</i></li>\n",
                    finding.severity,
                    finding.severity,
                    escape(&finding.title),
                    escape(&finding.evidence),
                    escape(&finding.advice)
                ));
            }
            for (rule, count) in &left_out {
                out.push_str(&format!("<li>{}</li>\n", escape(&left_out_line(rule, *count))));
            }
            out.push_str("</ul>\n");
        }
        out.push_str(&format!(
            "<h3>Suggested indexes</h3>\n<pre>{}</pre>\n</section>\n",
            escape(suggestions_sql(statement, report.hypopg.as_ref()).trim())
        ));
    }
    let notes = notes(report);
    if !notes.is_empty() {
        out.push_str(&format!("<p class=\"notes\">{}</p>\n", escape(notes.trim()).replace('\n', "<br>")));
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The id of a node's row in the HTML page: `statement` is the plan's place in the report.
fn node_anchor(statement: usize, node: usize) -> String {
    format!("s{statement}-node-{node}")
}

/// A plan's part of the HTML page: its icicle, whose boxes link to the tree's
/// rows, and the tree with the table's columns.
fn html_plan(plan: &Plan, index: usize) -> String {
    // The icicle and the tree are written side by side: on a plan of thousands
    // of nodes each takes tens of milliseconds.
    let (icicle, tree) = std::thread::scope(|scope| {
        let icicle = scope.spawn(|| super::flame::svg(plan, true).replace("href=\"#node-", &format!("href=\"#s{index}-node-")));
        let tree = html_tree(plan, index);
        (crate::halves::joined(icicle), tree)
    });
    format!("<div class=\"flame\">\n{icicle}</div>\n{tree}")
}

/// The tree of [`html_plan`], with the table's columns; each row's id is its anchor.
fn html_tree(plan: &Plan, index: usize) -> String {
    use super::flame::escape;
    let anchor = |id: usize| node_anchor(index, id);
    let mut out = String::from("<table class=\"tree\">\n<tr>");
    for name in tree_header(plan.analyzed) {
        out.push_str(&format!("<th>{}</th>", escape(name)));
    }
    out.push_str("</tr>\n");
    let highlighted = slowest(plan);
    let mut rows = Vec::new();
    lines(&plan.root, String::new(), String::new(), &mut rows);
    for (node, prefix) in rows {
        let hot = highlighted.contains(&node.id);
        let label = match &node.subplan_name {
            Some(subplan) => format!("{prefix}[{subplan}] {}{}", node.label(), remarks(node)),
            None => format!("{prefix}{}{}", node.label(), remarks(node)),
        };
        out.push_str(&format!(
            "<tr id=\"{}\"{}><td class=\"num\">{}</td><td class=\"label\">{}</td>",
            anchor(node.id),
            if hot { " class=\"hot\"" } else { "" },
            node.id,
            escape(&label)
        ));
        let cells: Vec<String> = if plan.analyzed { analyzed_texts(plan, node, hot).to_vec() } else { estimate_texts(node).to_vec() };
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(&format!("<td{}>{}</td>", if i < last { " class=\"num\"" } else { "" }, escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// `--format svg`: each statement's icicle, one under the other, in one SVG.
/// `icicles`: each statement's [`PlanPart`], in order.
fn explain_svg(icicles: &[String]) -> String {
    match icicles {
        [icicle] => icicle.clone(),
        parts => {
            let heights: Vec<f64> = parts.iter().map(|p| svg_height(p)).collect();
            let total: f64 = heights.iter().sum();
            let mut out = format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {total}\" width=\"{w}\" height=\"{total}\">\n",
                w = super::flame::WIDTH
            );
            let mut y = 0.0;
            for (part, height) in parts.iter().zip(heights) {
                out.push_str(&format!(
                    "<g transform=\"translate(0,{y})\">\n{}</g>\n",
                    part.replacen("<svg xmlns=\"http://www.w3.org/2000/svg\" ", "<svg ", 1)
                ));
                y += height;
            }
            out.push_str("</svg>\n");
            out
        }
    }
}

fn svg_height(svg: &str) -> f64 {
    svg.split("height=\"").nth(1).and_then(|rest| rest.split('"').next()).and_then(|h| h.parse().ok()).unwrap_or(0.0)
}

const HTML_HEAD: &str = "<!DOCTYPE html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<title>pgadvise explain</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
.flame { overflow-x: auto; margin: 1em 0; }
.flame svg a:hover rect { stroke: #000; stroke-width: 1.5; }
table.tree { border-collapse: collapse; font-size: 13px; }
table.tree td, table.tree th { border-bottom: 1px solid #ddd; padding: 2px 8px; white-space: pre; }
table.tree td.num { text-align: right; }
table.tree tr.hot td { color: #b00; }
table.tree tr:target td { background: #ffe08a; }
ul.findings li { margin-bottom: 0.6em; }
.severity { font-weight: bold; text-transform: uppercase; font-size: 11px; }
li.critical .severity { color: #b00; }
li.warning .severity { color: #a60; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.notes { color: #555; }
</style>
</head>
<body>
<h1>pgadvise explain</h1>
";

/// Ids of the nodes where most time went: at most three, each over the highlight share.
fn slowest(plan: &Plan) -> Vec<usize> {
    let mut nodes: Vec<(&PlanNode, f64)> =
        plan.nodes().into_iter().filter_map(|n| time_share(plan, n).map(|s| (n, s))).filter(|(_, s)| *s >= HIGHLIGHT_TIME_SHARE).collect();
    nodes.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    nodes.into_iter().take(HIGHLIGHTED_NODES).map(|(n, _)| n.id).collect()
}

/// Depth-first rows with tree-drawing prefixes.
fn lines<'a>(node: &'a PlanNode, prefix: String, child_prefix: String, rows: &mut Vec<(&'a PlanNode, String)>) {
    rows.push((node, prefix));
    let count = node.children.len();
    for (i, child) in node.children.iter().enumerate() {
        let last = i + 1 == count;
        // No-break spaces: comfy-table trims ordinary leading spaces when it wraps a cell.
        let (branch, next) = if last { ("└─\u{a0}", "\u{a0}\u{a0}\u{a0}") } else { ("├─\u{a0}", "│\u{a0}\u{a0}") };
        lines(child, format!("{child_prefix}{branch}"), format!("{child_prefix}{next}"), rows);
    }
}

fn severity_cell(severity: Severity) -> Cell {
    let cell = Cell::new(severity);
    match severity {
        Severity::Critical => cell.fg(Color::Red),
        Severity::Warning => cell.fg(Color::Yellow),
        Severity::Info => cell,
    }
}

/// The suggestions as SQL, each with a comment saying why and what the planner thought.
fn suggestions_sql(statement: &StatementReport, hypopg: Option<&HypoStatus>) -> String {
    if statement.suggestions.is_empty() {
        let mut out = String::from("Suggested indexes: none");
        if statement.dropped.is_empty() {
            out.push_str(".\n");
        } else {
            out.push_str(&format!(" ({} considered and dropped, below).\n", statement.dropped.len()));
        }
        out.push_str(&dropped(statement));
        return out + "\n";
    }
    let mut out = String::from("Suggested indexes\n");
    for (suggestion, alike) in fold_partitions(&statement.suggestions) {
        out.push_str(&format!("-- {} index for {}\n", suggestion.kind, comment_text(&suggestion.reason)));
        out.push_str(&format!("-- {}\n", comment_text(&verdict(suggestion, hypopg))));
        out.push_str(&suggestion.action.sql());
        out.push_str("\n\n");
        if !alike.is_empty() {
            let named: Vec<&str> = alike.iter().take(PARTITIONS_NAMED).map(|s| s.index.table.as_str()).collect();
            let more = if alike.len() > PARTITIONS_NAMED { ", …" } else { "" };
            out.push_str(&format!(
                "-- and the same index on {} more tables named like it, partitions by the look of them ({}{more}); \
                 --format json and the migration list each one, or index their parent table once\n\n",
                format_count(alike.len() as f64),
                comment_text(&named.join(", "))
            ));
        }
    }
    out.push_str(&dropped(statement));
    out
}

/// A partitioned table scanned whole gives one suggestion per partition, the same
/// index on `events_p0`, `events_p1`, ...: a person reads it once. Suggestions
/// whose index differs only in a table name that differs only in its trailing
/// digits and underscores, at least [`PARTITIONS_FOLDED_FROM`] of them, are shown
/// as the first one and the rest named after it. Display only: the JSON report
/// and the migration keep every one.
fn fold_partitions(suggestions: &[Suggestion]) -> Vec<(&Suggestion, Vec<&Suggestion>)> {
    let shape = |s: &Suggestion| {
        let stem = s.index.table.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
        (s.kind, s.index.schema.clone(), stem.to_string(), s.index.keys.clone(), s.index.include.clone(), s.index.predicate.clone())
    };
    let mut groups: Vec<(&Suggestion, Vec<&Suggestion>)> = Vec::new();
    let mut by_shape: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for suggestion in suggestions {
        let key = shape(suggestion);
        let partition_like = key.2.len() < suggestion.index.table.len();
        match by_shape.get(&key) {
            Some(&at) if partition_like => groups[at].1.push(suggestion),
            _ => {
                if partition_like {
                    by_shape.insert(key, groups.len());
                }
                groups.push((suggestion, Vec::new()));
            }
        }
    }
    // Too few to be partitions: shown one by one.
    let mut shown = Vec::with_capacity(groups.len());
    for (first, alike) in groups {
        if alike.len() + 1 >= PARTITIONS_FOLDED_FROM {
            shown.push((first, alike));
        } else {
            shown.push((first, Vec::new()));
            shown.extend(alike.into_iter().map(|s| (s, Vec::new())));
        }
    }
    shown
}

/// Suggestions alike on this many tables named alike are shown as one.
const PARTITIONS_FOLDED_FROM: usize = 3;
/// The other partitions named after a folded suggestion.
const PARTITIONS_NAMED: usize = 3;

fn dropped(statement: &StatementReport) -> String {
    statement.dropped.iter().map(|d| format!("-- dropped {}: {}\n", comment_text(&d.name), comment_text(&d.why))).collect()
}

fn verdict(suggestion: &Suggestion, hypopg: Option<&HypoStatus>) -> String {
    match (&suggestion.verification, hypopg) {
        (Some(v), _) => {
            let saved = if v.cost_before > 0.0 { (1.0 - v.cost_after / v.cost_before) * 100.0 } else { 0.0 };
            format!(
                "verified with HypoPG: the planner uses it; cost {:.0} → {:.0} ({saved:.0}% less); about {}",
                v.cost_before,
                v.cost_after,
                format_human_bytes(v.size_bytes)
            )
        }
        (None, Some(HypoStatus::Unavailable(_))) | (None, None) => "unverified".into(),
        (None, Some(_)) => "unverified: the statement could not be planned again".into(),
    }
}

fn notes(report: &ExplainReport) -> String {
    let mut notes: Vec<String> = report.notes.clone();
    if let Some(HypoStatus::Unavailable(why)) = &report.hypopg {
        notes.push(why.clone());
    }
    notes.iter().map(|n| format!("note: {n}\n")).collect()
}
