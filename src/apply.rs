//! `pgadvise tune --apply`: the only code that changes a server's configuration.
//!
//! Order matters for safety: check privileges (ALTER SYSTEM on each setting and
//! pg_reload_conf()) and validate every value first, make sure the earlier values
//! can be read, write the rollback script second, and only then run `ALTER
//! SYSTEM`. Every failure after the first change names the rollback script.

use crate::action::{Action, SetParameter};
use crate::error::database_error;
use crate::pg::connect::{server_message, Connection};
use crate::pg::settings::{read_settings, ServerState};
use crate::sql::quote_ident;
use crate::tune::setting::Setting;
use crate::tune::Change;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to wait for a reload to reach our own session.
const RELOAD_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyStatus {
    Applied,
    PendingRestart,
    /// The server still reports another value (overridden, or the reload failed).
    NotApplied {
        running: String,
        /// What still wins over ALTER SYSTEM (`ALTER DATABASE ... SET`, say), when known.
        overridden_by: Option<String>,
    },
}

impl fmt::Display for ApplyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApplyStatus::Applied => "applied",
            ApplyStatus::PendingRestart => "pending restart",
            ApplyStatus::NotApplied { running, overridden_by: None } => return write!(f, "NOT applied: the server still uses {running}"),
            ApplyStatus::NotApplied { running, overridden_by: Some(by) } => {
                return write!(f, "NOT applied: the server still uses {running}, OVERRIDDEN by {by}")
            }
        })
    }
}

#[derive(Debug, Clone)]
pub struct AppliedSetting {
    pub name: &'static str,
    pub before: String,
    /// The value ALTER SYSTEM wrote; `status` says whether the server runs with it yet.
    pub set_to: String,
    pub status: ApplyStatus,
}

#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    pub target: String,
    pub rollback_path: PathBuf,
    pub results: Vec<AppliedSetting>,
    /// Errors `pg_file_settings` reports after the reload.
    pub file_errors: Vec<String>,
}

/// Applies `changes` with ALTER SYSTEM and a reload, after writing a rollback script.
pub async fn apply(
    connection: &Connection,
    state: &ServerState,
    settings: &[Setting],
    changes: &[Change],
    rollback_path: Option<&Path>,
) -> Result<ApplyOutcome> {
    let client = &connection.client;
    check_privileges(connection, state, changes).await?;
    for change in changes {
        validate(state, settings, change)?;
    }
    let rollback_path = match rollback_path {
        Some(path) => path.to_path_buf(),
        None => {
            let rows = client
                .query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')", &[])
                .await
                .map_err(|e| database_error(server_message(&e)))?;
            PathBuf::from(format!("pgadvise-rollback-{}.sql", rows[0].get::<_, String>(0)))
        }
    };
    let names: Vec<&str> = changes.iter().map(|c| c.name).collect();
    let earlier = auto_conf_values(client, state, &names).await?;
    let actions: Vec<Action> = changes
        .iter()
        .map(|c| {
            Action::SetParameter(SetParameter { name: c.name.into(), value: c.proposed.clone(), earlier: earlier.get(c.name).cloned() })
        })
        .collect();
    write_new_file(&rollback_path, &rollback_script(&connection.target, changes, &actions))?;
    change_and_reload(connection, settings, changes, &actions, rollback_path.clone())
        .await
        .with_context(|| format!("settings were changed: psql -f {} undoes them", rollback_path.display()))
}

/// Everything from the first ALTER SYSTEM on: the caller names the rollback script in any error.
async fn change_and_reload(
    connection: &Connection,
    settings: &[Setting],
    changes: &[Change],
    actions: &[Action],
    rollback_path: PathBuf,
) -> Result<ApplyOutcome> {
    let client = &connection.client;
    for statement in actions.iter().chain([&Action::ReloadConfiguration]).flat_map(Action::up) {
        client
            .batch_execute(&statement)
            .await
            .map_err(|e| database_error(format!("{statement} failed: {}; the settings before it were applied", server_message(&e))))?;
    }

    // A reload reaches our backend asynchronously: wait until the reloadable values show.
    let started = Instant::now();
    let after = loop {
        let live = read_settings(client).await?;
        let settled = changes.iter().filter(|c| !c.restart && c.overridden_by.is_none()).all(|c| {
            live.get(c.name).is_some_and(|s| value_of(settings, c.name).is_some_and(|v| v.matches_server(&s.setting, s.unit.as_deref())))
        });
        if settled || started.elapsed() > RELOAD_WAIT {
            break live;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let results: Vec<AppliedSetting> = changes
        .iter()
        .map(|change| {
            let live = after.get(change.name);
            let value = value_of(settings, change.name);
            let matches = live.zip(value).is_some_and(|(l, v)| v.matches_server(&l.setting, l.unit.as_deref()));
            let status = if matches {
                ApplyStatus::Applied
            } else if live.is_some_and(|l| l.pending_restart) {
                ApplyStatus::PendingRestart
            } else {
                let running = match (live, value) {
                    (Some(live), Some(value)) => value.show_server(&live.setting, live.unit.as_deref()),
                    _ => "?".into(),
                };
                ApplyStatus::NotApplied { running, overridden_by: change.overridden_by.clone() }
            };
            AppliedSetting { name: change.name, before: change.current.clone(), set_to: change.proposed.clone(), status }
        })
        .collect();

    // A setting waiting for a restart shows "setting could not be applied" there: that is expected.
    let waiting: Vec<String> = results.iter().filter(|r| r.status == ApplyStatus::PendingRestart).map(|r| r.name.to_string()).collect();
    let file_errors = match client
        .query(
            "SELECT coalesce(sourcefile, '?') || ':' || coalesce(sourceline, 0) || ': ' || coalesce(name, '') || ': ' || error
             FROM pg_file_settings WHERE error IS NOT NULL AND NOT (coalesce(name, '') = ANY($1)) ORDER BY seqno",
            &[&waiting],
        )
        .await
    {
        Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
        Err(_) => vec![], // pg_file_settings is for superusers; the statuses above still tell.
    };
    Ok(ApplyOutcome { target: connection.target.clone(), rollback_path, results, file_errors })
}

fn value_of<'a>(settings: &'a [Setting], name: &str) -> Option<&'a crate::tune::setting::Value> {
    settings.iter().find(|s| s.name == name).map(|s| &s.value)
}

/// Stops before any change unless the role may ALTER SYSTEM every setting.
async fn check_privileges(connection: &Connection, state: &ServerState, changes: &[Change]) -> Result<()> {
    let client = &connection.client;
    let names: Vec<String> = changes.iter().map(|c| c.name.to_string()).collect();
    let role_row = client
        .query_one("SELECT current_user::text, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)", &[])
        .await
        .map_err(|e| database_error(format!("cannot read the current role: {}", server_message(&e))))?;
    let role: String = role_row.get(0);
    let superuser: bool = role_row.get::<_, Option<bool>>(1).unwrap_or(false);
    if superuser {
        return Ok(());
    }
    let denied: Vec<String> = if state.major() >= 15 {
        let rows = client
            .query(
                "SELECT name FROM unnest($1::text[]) AS name WHERE NOT has_parameter_privilege(name, 'ALTER SYSTEM') ORDER BY name",
                &[&names],
            )
            .await
            .map_err(|e| database_error(format!("cannot check privileges: {}", server_message(&e))))?;
        rows.iter().map(|r| r.get(0)).collect()
    } else {
        names.clone()
    };
    if !denied.is_empty() {
        let grant = if state.major() >= 15 {
            format!(", or GRANT ALTER SYSTEM ON PARAMETER {} TO {}", denied.join(", "), quote_ident(&role))
        } else {
            String::new()
        };
        return Err(database_error(format!(
            "role {role} may not ALTER SYSTEM {}: nothing was changed; connect as a superuser{grant}",
            denied.join(", ")
        )));
    }
    let may_reload: bool = client
        .query_one("SELECT has_function_privilege('pg_catalog.pg_reload_conf()', 'EXECUTE')", &[])
        .await
        .map_err(|e| database_error(format!("cannot check privileges: {}", server_message(&e))))?
        .get(0);
    if !may_reload {
        return Err(database_error(format!(
            "role {role} may not run pg_reload_conf(), so settings written with ALTER SYSTEM would not take effect: nothing was changed; GRANT EXECUTE ON FUNCTION pg_catalog.pg_reload_conf() TO {}",
            quote_ident(&role)
        )));
    }
    Ok(())
}

/// Rejects a value the server would refuse, before anything changes.
fn validate(state: &ServerState, settings: &[Setting], change: &Change) -> Result<()> {
    let Some(live) = state.settings.get(change.name) else {
        bail!("the server has no setting {}; nothing was changed", change.name);
    };
    let Some(value) = value_of(settings, change.name) else {
        return Ok(());
    };
    if !live.enumvals.is_empty() && !live.enumvals.iter().any(|v| v.eq_ignore_ascii_case(&change.proposed)) {
        bail!(
            "{} = '{}' is not one of this server's values ({}); nothing was changed",
            change.name,
            change.proposed,
            live.enumvals.join(", ")
        );
    }
    if change.name == "max_connections" {
        // The server refuses to start unless max_connections exceeds what it reserves.
        let reserved: i64 = ["superuser_reserved_connections", "reserved_connections"]
            .iter()
            .filter_map(|name| state.settings.get(*name)?.setting.parse::<i64>().ok())
            .sum();
        if value.in_unit(None).is_some_and(|n| n <= reserved as f64) {
            bail!(
                "max_connections = {} would not exceed the {reserved} connections this server reserves (superuser_reserved_connections, reserved_connections), and the server would not start again; nothing was changed",
                change.proposed
            );
        }
    }
    if let Some(number) = value.in_unit(live.unit.as_deref()) {
        let bound = |text: &Option<String>| text.as_deref().and_then(|t| t.parse::<f64>().ok());
        let (min, max) = (bound(&live.min_val), bound(&live.max_val));
        if min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max) {
            bail!(
                "{} = '{}' is outside this server's bounds ({} to {} {}); nothing was changed",
                change.name,
                change.proposed,
                live.min_val.as_deref().unwrap_or("?"),
                live.max_val.as_deref().unwrap_or("?"),
                live.unit.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// The values postgresql.auto.conf holds now for `names`: what an undo writes back.
/// A setting missing here was never set with ALTER SYSTEM, and an undo RESETs it.
/// A role that can read neither pg_file_settings nor `pg_settings.sourcefile`
/// cannot tell an ALTER SYSTEM value from postgresql.conf's, and an undo that
/// RESETs would erase it: that is an error, before anything changes.
pub async fn auto_conf_values(
    client: &crate::pg::session::Session,
    state: &ServerState,
    names: &[&str],
) -> Result<BTreeMap<String, String>> {
    // pg_file_settings shows the file's own text, even when a restart is pending.
    let from_file: Option<Vec<(String, String)>> = client
        .query("SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY seqno", &[])
        .await
        .ok()
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect());
    let mut values = BTreeMap::new();
    let mut hidden = Vec::new();
    for name in names {
        let earlier = match &from_file {
            Some(entries) => entries.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone()),
            // pg_file_settings is for superusers; pg_settings tells when the value came from
            // a file, and which one when the role may see it (pg_read_all_settings).
            None => match state.settings.get(*name) {
                Some(s) if s.source == "configuration file" => match s.sourcefile.as_deref() {
                    Some(file) => file.ends_with("postgresql.auto.conf").then(|| with_unit(&s.setting, s.unit.as_deref())),
                    None => {
                        hidden.push(name.to_string());
                        None
                    }
                },
                _ => None,
            },
        };
        if let Some(value) = earlier {
            values.insert(name.to_string(), value);
        }
    }
    if !hidden.is_empty() {
        return Err(database_error(format!(
            "this role cannot see whether {} come from postgresql.auto.conf (pg_file_settings and pg_settings.sourcefile are hidden from it), so an undo could erase their earlier values: nothing was changed; GRANT pg_read_all_settings to the role, or connect as a superuser",
            hidden.join(", ")
        )));
    }
    Ok(values)
}

/// A `pg_settings.setting` with its unit, as ALTER SYSTEM reads it back (`6144kB`,
/// not a bare `6144` that only the unit column explains).
fn with_unit(setting: &str, unit: Option<&str>) -> String {
    match (unit, setting.parse::<i64>()) {
        (Some("8kB"), Ok(pages)) => format!("{}kB", pages * 8),
        (Some(unit @ ("B" | "kB" | "MB" | "ms" | "s" | "min")), Ok(_)) => format!("{setting}{unit}"),
        _ => setting.to_string(),
    }
}

/// The statements that put postgresql.auto.conf back as it was: each action's
/// undo (the earlier ALTER SYSTEM value where there was one, else RESET), then a reload.
fn rollback_script(target: &str, changes: &[Change], actions: &[Action]) -> String {
    let mut out = format!(
        "-- pgadvise tune --apply rollback for {}, written before any change.\n\
         -- Run with psql -f (not --single-transaction: ALTER SYSTEM cannot run in a transaction).\n",
        crate::sql::comment_text(target)
    );
    for statement in actions.iter().chain([&Action::ReloadConfiguration]).flat_map(Action::down) {
        out.push_str(&format!("{statement}\n"));
    }
    let restart: Vec<&str> = changes.iter().filter(|c| c.restart).map(|c| c.name).collect();
    if !restart.is_empty() {
        out.push_str(&format!("-- Then restart the server for {}.\n", restart.join(", ")));
    }
    out
}

/// Writes the rollback script, which must not exist yet, all at once.
fn write_new_file(path: &Path, content: &str) -> Result<()> {
    if path.exists() {
        bail!("{} already exists; choose another --rollback-file", path.display());
    }
    path.file_name().context("--rollback-file needs a file name")?;
    crate::files::write_atomically(path, content, false)
        .map_err(|e| anyhow::anyhow!("cannot write the rollback script {}: {e}; nothing was changed", path.display()))
}
