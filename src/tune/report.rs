//! What `pgadvise tune` shows: the inputs with their origins, the
//! recommendation, and, when connected, the changes against the server.

use super::{Change, Recommendation};
use crate::input::Source;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct InputRow {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
}

/// The server side of a live run.
#[derive(Debug, Clone, Serialize)]
pub struct LiveComparison {
    /// `user@host:port/dbname`, never a password.
    pub target: String,
    pub server_version: String,
    /// Recommended settings that differ from the server's, in recommendation order.
    pub changes: Vec<Change>,
}

/// A setting to write: every recommendation offline, only those that differ from the server live.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedSetting {
    pub name: String,
    pub value: String,
    pub restart: bool,
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TuneReport {
    pub profile: String,
    pub pg_version: u32,
    pub inputs: Vec<InputRow>,
    pub recommendation: Recommendation,
    pub live: Option<LiveComparison>,
}

impl TuneReport {
    pub fn proposed(&self) -> Vec<ProposedSetting> {
        match &self.live {
            Some(live) => live
                .changes
                .iter()
                .map(|c| ProposedSetting {
                    name: c.name.to_string(),
                    value: c.proposed.clone(),
                    restart: c.restart,
                    rationale: c.rationale.clone(),
                })
                .collect(),
            None => self
                .recommendation
                .settings
                .iter()
                .map(|s| ProposedSetting {
                    name: s.name.to_string(),
                    value: s.value.to_pg(),
                    restart: s.restart,
                    rationale: s.rationale.clone(),
                })
                .collect(),
        }
    }
}
