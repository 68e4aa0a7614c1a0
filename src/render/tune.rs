//! `pgadvise tune`'s report as tables, ALTER SYSTEM SQL, a conf snippet or JSON.

use super::new_table;
use crate::action::{Action, SetParameter};
use crate::apply::{ApplyOutcome, ApplyStatus};
use crate::sql::{comment_text, quote_literal};
use crate::tune::report::TuneReport;
use crate::tune::MemoryBudget;
use crate::units::{format_human_bytes, format_pg_bytes};

/// Output formats of `pgadvise tune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TuneFormat {
    /// Tables for people (default on a terminal).
    Table,
    /// `ALTER SYSTEM SET` statements (default when piped).
    Sql,
    /// A postgresql.conf snippet.
    Conf,
    /// Everything, for tools.
    Json,
}

fn title(report: &TuneReport) -> String {
    let target = match &report.live {
        Some(live) => format!(" · {} (PostgreSQL {})", live.target, live.server_version),
        None => format!(" · PostgreSQL {}", report.pg_version),
    };
    format!("pgadvise tune · profile {}{target}", report.profile)
}

pub fn tune_table(report: &TuneReport, width: u16) -> String {
    let mut out = format!("{}\n\nInputs\n", title(report));
    let mut inputs = new_table(width, &["input", "value", "source"]);
    for row in &report.inputs {
        inputs.add_row(vec![row.name.to_string(), row.value.clone(), row.source.to_string()]);
    }
    out.push_str(&format!("{inputs}\n\n"));

    match &report.live {
        None => {
            out.push_str("Settings\n");
            let mut table = new_table(width, &["setting", "value", "applies", "why"]);
            for s in &report.recommendation.settings {
                table.add_row(vec![s.name.to_string(), s.value.to_pg(), applies(s.restart).into(), s.rationale.clone()]);
            }
            out.push_str(&format!("{table}\n\n"));
        }
        Some(live) if live.changes.is_empty() => {
            out.push_str("Changes\nNone: the server already runs with every recommended value.\n\n");
        }
        Some(live) => {
            out.push_str(&format!("Changes ({} of {} settings differ)\n", live.changes.len(), report.recommendation.settings.len()));
            let mut table = new_table(width, &["setting", "current", "proposed", "applies", "why"]);
            for c in &live.changes {
                let mut why = c.rationale.clone();
                if let Some(by) = &c.overridden_by {
                    why = format!("OVERRIDDEN by {by}. {why}");
                }
                table.add_row(vec![c.name.to_string(), c.current.clone(), c.proposed.clone(), applies(c.restart).into(), why]);
            }
            out.push_str(&format!("{table}\n\n"));
        }
    }

    out.push_str("Memory budget (worst case)\n");
    let mut budget = new_table(width, &["use", "memory"]);
    for (label, bytes) in budget_rows(&report.recommendation.budget) {
        budget.add_row(vec![label, bytes]);
    }
    out.push_str(&format!("{budget}\n"));
    if !report.recommendation.notes.is_empty() {
        out.push_str("\nNotes\n");
        for note in &report.recommendation.notes {
            out.push_str(&format!("- {note}\n"));
        }
    }
    super::wrap_prefixed(&out, "- ", width)
}

fn applies(restart: bool) -> &'static str {
    if restart {
        "restart"
    } else {
        "reload"
    }
}

fn budget_rows(b: &MemoryBudget) -> Vec<(String, String)> {
    vec![
        ("shared_buffers".into(), format_human_bytes(b.shared_buffers)),
        (
            format!(
                "{} backends × {} sort/hash nodes × work_mem {} × hash_mem_multiplier {}",
                b.backends,
                crate::tune::setting::Value::Real(b.nodes_per_query).to_pg(),
                format_pg_bytes(b.work_mem),
                crate::tune::setting::Value::Real(b.hash_mem_multiplier).to_pg()
            ),
            format_human_bytes(b.query_memory),
        ),
        (
            format!("{} autovacuum workers × autovacuum_work_mem {}", b.autovacuum_workers, format_pg_bytes(b.autovacuum_work_mem)),
            format_human_bytes(b.autovacuum_workers as u64 * b.autovacuum_work_mem),
        ),
        ("one CREATE INDEX or VACUUM at maintenance_work_mem".into(), format_human_bytes(b.maintenance_work_mem)),
        ("reserve for the OS".into(), format_human_bytes(b.os_reserve)),
        (
            "worst case (all of the above, OS reserve included), of the memory limit".into(),
            format!("{} of {} ({:.0}%)", format_human_bytes(b.total), format_human_bytes(b.limit), b.total as f64 * 100.0 / b.limit as f64),
        ),
    ]
}

/// The settings (or, when live, the changes) as they would be written.
fn header_comment(report: &TuneReport, comment: &str) -> String {
    let mut out = format!("{comment} {}\n", comment_text(&title(report)));
    for row in &report.inputs {
        out.push_str(&format!("{comment}   {}\n", comment_text(&format!("{}: {}, {}", row.name, row.value, row.source))));
    }
    out
}

pub fn tune_sql(report: &TuneReport) -> String {
    let mut out = header_comment(report, "--");
    out.push_str("-- Run as a superuser with psql, outside a transaction (ALTER SYSTEM cannot run in one).\n");
    let proposed = report.proposed();
    if proposed.is_empty() {
        out.push_str("-- Nothing to change.\n");
        return out;
    }
    for setting in &proposed {
        out.push_str(&format!("\n-- {}\n", comment_text(&setting.rationale)));
        let applies = if setting.restart { "  -- takes a restart" } else { "" };
        let set = SetParameter { name: setting.name.clone(), value: setting.value.clone(), earlier: None };
        out.push_str(&format!("{}{applies}\n", Action::SetParameter(set).sql()));
    }
    out.push_str(&format!("\n{}\n", Action::ReloadConfiguration.sql()));
    let restart: Vec<&str> = proposed.iter().filter(|s| s.restart).map(|s| s.name.as_str()).collect();
    if !restart.is_empty() {
        out.push_str(&format!("-- Restart the server for {} to take effect.\n", restart.join(", ")));
    }
    out
}

pub fn tune_conf(report: &TuneReport) -> String {
    let mut out = header_comment(report, "#");
    for setting in report.proposed() {
        out.push_str(&format!("\n# {}{}\n", comment_text(&setting.rationale), if setting.restart { " (restart)" } else { "" }));
        out.push_str(&format!("{} = {}\n", setting.name, quote_literal(&setting.value)));
    }
    out
}

pub fn tune_json(report: &TuneReport) -> String {
    let mut value = serde_json::to_value(report).expect("a tune report is plain data");
    // Each setting also carries its value as postgresql.conf writes it.
    if let Some(settings) = value.pointer_mut("/recommendation/settings").and_then(|v| v.as_array_mut()) {
        for (json, setting) in settings.iter_mut().zip(&report.recommendation.settings) {
            json["setting"] = serde_json::Value::String(setting.value.to_pg());
            json["unit"] = serde_json::Value::String(
                match setting.value {
                    crate::tune::setting::Value::Bytes(_) => "bytes",
                    crate::tune::setting::Value::Seconds(_) => "seconds",
                    _ => "",
                }
                .into(),
            );
        }
    }
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialize");
    text.push('\n');
    text
}

/// What `--apply` did.
pub fn apply_table(outcome: &ApplyOutcome, width: u16) -> String {
    let mut out = format!(
        "Applied {} settings to {}.\nRollback script: {}\n  (run it with psql -f, outside a transaction, then restart if it lists restart settings)\n\n",
        outcome.results.iter().filter(|r| !matches!(r.status, ApplyStatus::NotApplied { .. })).count(),
        outcome.target,
        outcome.rollback_path.display()
    );
    let mut table = new_table(width, &["setting", "before", "set to", "status"]);
    for r in &outcome.results {
        table.add_row(vec![r.name.to_string(), r.before.clone(), r.set_to.clone(), r.status.to_string()]);
    }
    out.push_str(&format!("{table}\n"));
    let waiting: Vec<&str> = outcome.results.iter().filter(|r| r.status == ApplyStatus::PendingRestart).map(|r| r.name).collect();
    if !waiting.is_empty() {
        out.push_str(&format!("Restart the server for {} to take effect.\n", waiting.join(", ")));
    }
    for error in &outcome.file_errors {
        out.push_str(&format!("Configuration file error: {error}\n"));
    }
    out
}
