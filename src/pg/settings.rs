//! Reading the server: `pg_settings`, its version, and the statistics that
//! tell how the current configuration is doing.

use super::connect::query;
use crate::pg::session::Session;
use crate::tune::Evidence;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// One row of `pg_settings`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ServerSetting {
    pub name: String,
    pub setting: String,
    pub unit: Option<String>,
    pub context: String,
    pub source: String,
    /// NULL unless the role may read all settings.
    pub sourcefile: Option<String>,
    pub pending_restart: bool,
    pub min_val: Option<String>,
    pub max_val: Option<String>,
    pub enumvals: Vec<String>,
    pub vartype: String,
}

/// The server's version and settings.
#[derive(Debug, Clone)]
pub struct ServerState {
    /// `server_version_num`, e.g. 150018.
    pub version_num: u32,
    /// `server_version`, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
    pub settings: BTreeMap<String, ServerSetting>,
}

impl ServerState {
    /// The major version (15 for 150018).
    pub fn major(&self) -> u32 {
        self.version_num / 10000
    }
}

pub async fn read_state(client: &Session) -> Result<ServerState> {
    let version =
        query(client, "SELECT current_setting('server_version_num')::int, current_setting('server_version')", "the server version").await?;
    let settings = read_settings(client).await?;
    Ok(ServerState { version_num: version[0].get::<_, i32>(0) as u32, version: version[0].get(1), settings })
}

pub async fn read_settings(client: &Session) -> Result<BTreeMap<String, ServerSetting>> {
    let rows = query(
        client,
        "SELECT name, setting, unit, context, source, sourcefile, pending_restart, min_val, max_val,
                coalesce(enumvals, '{}'::text[]), vartype
         FROM pg_settings ORDER BY name",
        "pg_settings",
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let setting = ServerSetting {
                name: row.get(0),
                setting: row.get(1),
                unit: row.get(2),
                context: row.get(3),
                source: row.get(4),
                sourcefile: row.get(5),
                pending_restart: row.get(6),
                min_val: row.get(7),
                max_val: row.get(8),
                enumvals: row.get(9),
                vartype: row.get(10),
            };
            (setting.name.clone(), setting)
        })
        .collect())
}

/// Total size of the databases this role may connect to.
pub async fn read_database_size(client: &Session) -> Result<u64> {
    let rows = query(
        client,
        "SELECT coalesce(sum(pg_database_size(oid)), 0)::bigint FROM pg_database
         WHERE datallowconn AND NOT datistemplate AND has_database_privilege(oid, 'CONNECT')",
        "database sizes",
    )
    .await?;
    Ok(rows[0].get::<_, i64>(0).max(0) as u64)
}

/// Statistics that adjust the advice: temp files, cache hits, checkpoints, connections.
pub async fn read_evidence(client: &Session, state: &ServerState) -> Result<Evidence> {
    let db = query(
        client,
        "SELECT coalesce(sum(temp_files), 0)::bigint, coalesce(sum(temp_bytes), 0)::bigint,
                coalesce(sum(blks_hit), 0)::bigint, coalesce(sum(blks_read), 0)::bigint,
                to_char(min(stats_reset), 'YYYY-MM-DD HH24:MI')
         FROM pg_stat_database",
        "pg_stat_database",
    )
    .await?;
    let checkpoint_sql = if state.major() >= 17 {
        "SELECT num_timed, num_requested FROM pg_stat_checkpointer"
    } else {
        "SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter"
    };
    let checkpoints = query(client, checkpoint_sql, "checkpoint statistics").await?;
    let activity = query(
        client,
        "SELECT count(*), count(*) FILTER (WHERE state = 'idle') FROM pg_stat_activity
         WHERE backend_type = 'client backend'",
        "pg_stat_activity",
    )
    .await?;
    let current_max_wal_size = state.settings.get("max_wal_size").and_then(|s| {
        let mb: u64 = s.setting.parse().ok()?;
        Some(mb * crate::units::MIB)
    });
    Ok(Evidence {
        temp_files: db[0].get(0),
        temp_bytes: db[0].get(1),
        blocks_hit: db[0].get(2),
        blocks_read: db[0].get(3),
        stats_since: db[0].get(4),
        checkpoints_timed: checkpoints[0].get(0),
        checkpoints_requested: checkpoints[0].get(1),
        current_max_wal_size,
        client_connections: activity[0].get(0),
        idle_connections: activity[0].get(1),
        wal_compression_methods: state.settings.get("wal_compression").map(|s| s.enumvals.clone()).unwrap_or_default(),
    })
}
