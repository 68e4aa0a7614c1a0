//! What an advisor found: shared by plan diagnostics and, later, workload advice.

use serde::Serialize;

/// How much a finding matters; ordered, so `--fail-on` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        })
    }
}

/// One problem, with the figures that show it and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's stable id, e.g. `seq-scan-discards-rows` (documented in docs/explain.md).
    pub rule: &'static str,
    pub severity: Severity,
    /// The plan node it is about (its `#` in the tree), if any.
    pub node: Option<usize>,
    pub title: String,
    pub evidence: String,
    pub advice: String,
}
