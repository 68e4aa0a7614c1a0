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

#[derive(Debug, Clone, Serialize)]
pub struct TuneReport {
    pub profile: String,
    pub pg_version: u32,
    pub inputs: Vec<InputRow>,
    pub recommendation: Recommendation,
    pub live: Option<LiveComparison>,
}
