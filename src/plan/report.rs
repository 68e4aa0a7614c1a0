//! What `pgadvise explain` reports: per statement, the plan with its derived
//! figures, the findings and the index suggestions with the planner's verdict.

use super::Plan;
use crate::action::Action;
use crate::advise::index::IndexCandidate;
use crate::finding::Finding;
use crate::pg::explain::PlanKind;
use crate::pg::hypopg::{HypoStatus, Verification};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ExplainReport {
    pub statements: Vec<StatementReport>,
    /// HypoPG's status when a server was used; `None` offline.
    pub hypopg: Option<HypoStatus>,
    /// Things said once: skipped statements, generic plans...
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementReport {
    /// `query.sql:3` or `plan.json`: where it came from.
    pub label: String,
    /// How the plan was made, when pgadvise ran it.
    pub kind: Option<PlanKind>,
    pub sql: Option<String>,
    pub plan: Plan,
    pub findings: Vec<Finding>,
    pub suggestions: Vec<Suggestion>,
    /// Suggestions left out, with why (already served, ignored by the planner).
    pub dropped: Vec<DroppedSuggestion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub name: String,
    /// plain, multi-column, partial, covering, expression.
    pub kind: &'static str,
    /// `Action::CreateIndex` of `index`: its SQL and undo.
    #[serde(flatten)]
    pub action: Action,
    pub reason: String,
    pub index: IndexCandidate,
    /// HypoPG's verdict; `None` when unverified.
    pub verification: Option<Verification>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DroppedSuggestion {
    pub name: String,
    pub sql: String,
    pub why: String,
}

impl Suggestion {
    pub fn new(index: IndexCandidate) -> Suggestion {
        Suggestion {
            name: index.name(),
            kind: index.kind(),
            action: Action::CreateIndex(index.clone()),
            reason: index.reason.clone(),
            index,
            verification: None,
        }
    }
}

impl ExplainReport {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.statements.iter().flat_map(|s| &s.findings)
    }
}
