//! Advice → migration files that a team reviews in a pull request and its
//! migration tool then runs: one [`Change`] per action, rendered by [`format`]
//! in the tool's conventions, written or checked against a directory by [`dir`].
//!
//! How a change may run decides its file. `CREATE/DROP INDEX CONCURRENTLY` and
//! `ALTER SYSTEM` refuse a transaction block, and PostgreSQL opens an implicit one
//! for a query string that holds several statements, which is how sqlx,
//! golang-migrate and dbmate send a file. So each such change is one statement in a
//! file the tool runs outside a transaction. A materialized view is plain DDL and
//! runs atomically in one.

pub mod dir;
pub mod format;

use crate::action::{qualified, Action};
use crate::advise::hygiene::{DropAdvice, Problem};
use crate::advise::report::{IndexAdvice, MatviewAdvice};
use crate::plan::report::Suggestion;
use crate::units::{format_human_bytes, format_ms};

pub use crate::action::Run;
pub use format::{render, MigrationFile, MigrationFormat};

/// One action with what a reviewer needs to judge it, as one migration.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: Action,
    /// Lower-case ASCII words joined by `_`: the file name's description.
    pub slug: String,
    /// The first line of the file's header: what the change does.
    pub title: String,
    /// Further header lines: why, the evidence, what to watch for.
    pub why: Vec<String>,
    /// Header lines of the down migration: what its undo cannot know.
    pub undo_notes: Vec<String>,
}

impl Change {
    pub fn new(action: Action, why: Vec<String>) -> Change {
        Change { slug: action.slug(), title: action.title(), why, undo_notes: Vec::new(), action }
    }

    /// The action's statements going up, each with the lint exceptions it needs.
    pub fn up(&self) -> Vec<String> {
        self.with_lint_exceptions(self.action.up())
    }

    pub fn down(&self) -> Vec<String> {
        self.with_lint_exceptions(self.action.down())
    }

    pub fn run(&self) -> Run {
        self.action.run()
    }

    /// squawk's rules that do not fit a statement, each turned off where it is
    /// made and said why, so the file still lints clean.
    fn with_lint_exceptions(&self, statements: Vec<String>) -> Vec<String> {
        statements
            .into_iter()
            .enumerate()
            .map(|(position, statement)| match (&self.action, position) {
                (Action::SetParameter(_), _) => format!("{LOCKS_NO_TABLE}{statement}"),
                (Action::CreateMaterializedView(_), 1) if statement.starts_with("CREATE UNIQUE INDEX") => format!(
                    "-- The view is new, empty and read by no one yet: a plain CREATE INDEX blocks nothing.\n\
                     -- squawk-ignore require-concurrent-index-creation\n{statement}"
                ),
                (Action::CreateMaterializedView(_), 0) if statement.starts_with("DROP MATERIALIZED VIEW") => format!(
                    "-- Only the up migration's own view, which no client reads before the application changes.\n\
                     -- squawk-ignore ban-drop-view\n{statement}"
                ),
                _ => statement,
            })
            .collect()
    }
}

/// `lock_timeout` and `statement_timeout` for changes that take locks, as PostgreSQL
/// reads them (`'1min'`, `'0'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub lock: String,
    pub statement: String,
}

impl Default for Timeouts {
    /// A concurrent build waits for the table's lock and then for every older
    /// transaction; a minute gives up before queueing long behind DDL without
    /// failing on an ordinary long transaction. Builds of big tables take hours,
    /// and block no reads or writes meanwhile, so the statement has no limit.
    fn default() -> Timeouts {
        Timeouts { lock: "1min".into(), statement: "0".into() }
    }
}

/// What to do when a concurrent build fails part-way: PostgreSQL keeps the index,
/// marked INVALID, and `IF NOT EXISTS` would then skip it on a rerun.
fn invalid_index_note(qualified_index: &str) -> Vec<String> {
    vec![
        "A failed build (lock_timeout, a cancel) leaves the index behind marked INVALID, which".into(),
        "IF NOT EXISTS then skips: before running again, look for it and drop it:".into(),
        format!("  SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid;  DROP INDEX CONCURRENTLY IF EXISTS {qualified_index};"),
    ]
}

/// A new index. `evidence` says why; the INVALID-build note is added here.
fn create_index(action: &Action, evidence: Vec<String>) -> Change {
    let mut why = evidence;
    if let Action::CreateIndex(index) = action {
        why.extend(invalid_index_note(&qualified(index.schema.as_deref(), &index.name())));
    }
    Change::new(action.clone(), why)
}

/// An index chosen by workload advice.
pub fn from_index_advice(advice: &IndexAdvice, workload_ms: f64) -> Change {
    let mut why = Vec::new();
    if advice.verified {
        let share = if workload_ms > 0.0 { advice.saved_ms / workload_ms * 100.0 } else { 0.0 };
        why.push(format!(
            "Verified with HypoPG: saves {} of the workload's time ({share:.1}%), {} a call; about {}.",
            format_ms(advice.saved_ms),
            format_ms(advice.saved_per_call_ms),
            advice.size_bytes.map_or("size unknown".into(), format_human_bytes)
        ));
        if advice.write_ms > 0.0 {
            why.push(format!("Costs about {} of writes to maintain.", format_ms(advice.write_ms)));
        }
    } else {
        why.push(format!(
            "Not verified (no HypoPG): ranked by the time of the statements it may help; about {}.",
            advice.size_bytes.map_or("size unknown".into(), format_human_bytes)
        ));
    }
    why.push("Helps:".into());
    why.extend(advice.statements.iter().map(|s| format!("  {s}")));
    create_index(&advice.action, why)
}

/// An index suggested for one plan.
pub fn from_suggestion(suggestion: &Suggestion, statement_label: &str) -> Change {
    let mut why = vec![format!("For {statement_label}: {}", suggestion.reason)];
    match &suggestion.verification {
        Some(v) => why.push(format!(
            "Verified with HypoPG: the planner uses it; cost {:.0} → {:.0}; about {}.",
            v.cost_before,
            v.cost_after,
            format_human_bytes(v.size_bytes)
        )),
        None => why.push("Not verified (no HypoPG): check the plan after building it.".into()),
    }
    create_index(&suggestion.action, why)
}

/// An index to drop. The down migration rebuilds it from its definition.
pub fn from_drop_advice(advice: &DropAdvice) -> Change {
    let mut why = vec![format!("{}.", capitalized(&advice.evidence)), format!("Frees {}.", format_human_bytes(advice.size_bytes))];
    match advice.problem {
        Problem::Unused => why.push("Scans are counted per server: check that no replica uses it before dropping.".into()),
        Problem::Invalid => why.push("Going down rebuilds it whole, and fails as the first build did if the cause remains.".into()),
        Problem::Duplicate(_) | Problem::Redundant(_) => {}
    }
    Change::new(advice.action.clone(), why)
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A materialized view for a heavy repeated aggregation.
pub fn from_matview_advice(advice: &MatviewAdvice) -> Change {
    let why = vec![
        format!("For a repeated aggregation taking {} of the workload: {}", format_ms(advice.total_ms), advice.statement),
        "Needs an application change (read from the view) and a refresh schedule, e.g. pg_cron:".into(),
        format!("  {}", advice.refresh),
    ];
    Change::new(advice.action.clone(), why)
}

/// squawk takes ALTER SYSTEM for slow DDL that needs timeouts; it only edits
/// postgresql.auto.conf, under a file lock, so the exception is stated where it is made.
const LOCKS_NO_TABLE: &str = "-- ALTER SYSTEM locks no table: squawk's timeout rules do not apply.\n\
                              -- squawk-ignore require-lock-timeout, require-statement-timeout\n";

/// One setting for `ALTER SYSTEM`, whose undo writes `earlier` back (see [`SetParameter`]).
pub fn alter_system(set: crate::action::SetParameter, restart: bool, rationale: &str) -> Change {
    let mut why = vec![rationale.to_string()];
    if restart {
        why.push("Takes effect only after a server restart.".into());
    }
    Change::new(Action::SetParameter(set), why)
}

/// The reloads around `ALTER SYSTEM` changes: the first runs last when migrating down,
/// after the undos, and the second last when migrating up. Both reload in both
/// directions, which costs nothing, so that either direction ends with the server
/// reading what was written. `restart` names the settings that also need a restart.
pub fn reloads(restart: &[&str]) -> [Change; 2] {
    let mut why = vec!["ALTER SYSTEM only writes postgresql.auto.conf; a reload makes the server read it.".to_string()];
    if !restart.is_empty() {
        why.push(format!("Then restart the server for {}.", restart.join(", ")));
    }
    let reload = |slug: &str, title: &str, first_line: &str| Change {
        action: Action::ReloadConfiguration,
        slug: slug.into(),
        title: title.into(),
        why: [vec![first_line.to_string()], why.clone()].concat(),
        undo_notes: Vec::new(),
    };
    [
        reload(
            "reload_configuration_after_down",
            "Reload the server's configuration after migrating down.",
            "Migrating down runs this file last, after the settings below are undone.",
        ),
        reload("reload_configuration", "Reload the server's configuration.", "Migrating up runs this file last, after the settings above."),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::SetParameter;

    #[test]
    fn settings_say_that_alter_system_locks_no_table() {
        let set = SetParameter { name: "work_mem".into(), value: "64MB".into(), earlier: Some("4MB".into()) };
        let change = alter_system(set, false, "why");
        assert!(change.up()[0].ends_with("\nALTER SYSTEM SET work_mem = '64MB';"));
        assert!(change.up()[0].contains("squawk-ignore require-lock-timeout"));
        assert!(change.down()[0].ends_with("\nALTER SYSTEM SET work_mem = '4MB';"));
    }
}
