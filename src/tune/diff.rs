//! Recommended settings against the live server's `pg_settings`: what would
//! change, whether it needs a restart, and whether something would override it.

use super::setting::Setting;
use crate::pg::settings::ServerSetting;
use serde::Serialize;
use std::collections::BTreeMap;

/// `pg_settings.source` values that take precedence over postgresql.auto.conf,
/// so an `ALTER SYSTEM` would not be what the server (or some sessions) use.
const SOURCES_THAT_BEAT_ALTER_SYSTEM: &[&str] = &["command line", "database", "user", "database user"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Change {
    pub name: &'static str,
    /// The server's value, written as we write ours.
    pub current: String,
    pub proposed: String,
    /// `postmaster` context: takes a restart.
    pub restart: bool,
    /// The source that would still win after ALTER SYSTEM, if any.
    pub overridden_by: Option<String>,
    pub rationale: String,
}

/// A setting that needs a restart is proposed only when the server's value is
/// further than this share from the recommendation.
pub const RESTART_HYSTERESIS: f64 = 0.2;

/// The recommended settings that differ from the server's, in recommendation order.
/// Settings the server does not know are left out (the version decides availability).
pub fn compare(settings: &[Setting], server: &BTreeMap<String, ServerSetting>) -> Vec<Change> {
    settings
        .iter()
        .filter_map(|setting| {
            let live = server.get(setting.name)?;
            let unit = live.unit.as_deref();
            if setting.value.matches_server(&live.setting, unit) {
                return None;
            }
            // A restart for a few percent is not worth it: advice that moves with the
            // data (shared_buffers and wal_buffers on a growing database) settles.
            let restart = live.context == "postmaster";
            if restart && setting.value.near_server(&live.setting, unit, RESTART_HYSTERESIS) {
                return None;
            }
            let current = setting.value.show_server(&live.setting, unit);
            Some(Change {
                name: setting.name,
                current,
                proposed: setting.value.to_pg(),
                restart,
                overridden_by: overriding_source(live),
                rationale: setting.rationale.clone(),
            })
        })
        .collect()
}

fn overriding_source(live: &ServerSetting) -> Option<String> {
    if SOURCES_THAT_BEAT_ALTER_SYSTEM.contains(&live.source.as_str()) {
        return Some(match &live.source[..] {
            "command line" => "the server's command line (-c); ALTER SYSTEM will not take effect".to_string(),
            "database" => "ALTER DATABASE ... SET; sessions in that database keep their value".to_string(),
            "user" => "ALTER ROLE ... SET; that role's sessions keep their value".to_string(),
            _ => "ALTER ROLE ... IN DATABASE ... SET; those sessions keep their value".to_string(),
        });
    }
    None
}

/// `--diff`: a unified diff of the postgresql.conf lines, current to proposed,
/// that a reviewer reads setting by setting: each change is its own `-`/`+`
/// pair under a context line naming it and whether it takes a restart.
pub fn conf_diff(changes: &[Change]) -> String {
    let mut before = String::new();
    let mut after = String::new();
    for change in changes {
        let context = format!("# {}{}\n", change.name, if change.restart { " (takes a restart)" } else { "" });
        before.push_str(&format!("{context}{} = '{}'\n", change.name, change.current));
        after.push_str(&format!("{context}{} = '{}'\n", change.name, change.proposed));
    }
    similar::TextDiff::from_lines(&before, &after).unified_diff().context_radius(1).header("current", "proposed").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::setting::{InputName, Value};

    fn live(name: &str, setting: &str, unit: Option<&str>, context: &str, source: &str) -> (String, ServerSetting) {
        (
            name.to_string(),
            ServerSetting {
                name: name.to_string(),
                setting: setting.to_string(),
                unit: unit.map(str::to_string),
                context: context.to_string(),
                source: source.to_string(),
                ..ServerSetting::default()
            },
        )
    }

    fn ours(name: &'static str, value: Value) -> Setting {
        Setting { name, value, rationale: "because".into(), inputs: vec![InputName::Memory], restart: false }
    }

    #[test]
    fn shows_only_changes_with_restart_from_context_and_overrides() {
        let server: BTreeMap<_, _> = [
            live("shared_buffers", "16384", Some("8kB"), "postmaster", "default"),
            live("work_mem", "4096", Some("kB"), "user", "default"),
            live("random_page_cost", "1.1", None, "user", "configuration file"),
            live("jit", "on", None, "user", "command line"),
        ]
        .into_iter()
        .collect();
        let settings = vec![
            ours("shared_buffers", Value::Bytes(1 << 30)),
            ours("work_mem", Value::Bytes(32 << 20)),
            ours("random_page_cost", Value::Real(1.1)),
            ours("jit", Value::Bool(false)),
            ours("not_in_this_version", Value::Integer(1)),
        ];
        let changes = compare(&settings, &server);
        let summary: Vec<_> = changes.iter().map(|c| (c.name, c.current.as_str(), c.proposed.as_str(), c.restart)).collect();
        assert_eq!(
            summary,
            vec![("shared_buffers", "128MB", "1GB", true), ("work_mem", "4MB", "32MB", false), ("jit", "on", "off", false)]
        );
        assert!(changes[2].overridden_by.as_deref().unwrap().contains("command line"));
        assert!(changes[0].overridden_by.is_none());
    }

    #[test]
    fn a_restart_for_a_few_percent_is_not_proposed() {
        let setting = |name: &'static str, bytes: u64| ours(name, Value::Bytes(bytes));
        let server: BTreeMap<String, ServerSetting> = [
            live("shared_buffers", &(460 * 128).to_string(), Some("8kB"), "postmaster", "configuration file"),
            live("work_mem", "4096", Some("kB"), "user", "default"),
        ]
        .into_iter()
        .collect();
        let mib = 1024 * 1024;
        // 460MB running, 512MB advised: within 20%, and a restart: left alone.
        assert!(compare(&[setting("shared_buffers", 512 * mib)], &server).is_empty());
        assert_eq!(compare(&[setting("shared_buffers", 1024 * mib)], &server).len(), 1);
        // A reloadable setting changes however small the step.
        assert_eq!(compare(&[setting("work_mem", 4 * mib + mib / 2)], &server).len(), 1);
    }

    #[test]
    fn the_diff_reads_setting_by_setting() {
        let change = |name: &'static str, current: &str, proposed: &str, restart: bool| Change {
            name,
            current: current.into(),
            proposed: proposed.into(),
            restart,
            overridden_by: None,
            rationale: String::new(),
        };
        let diff = conf_diff(&[change("shared_buffers", "128MB", "2GB", true), change("work_mem", "4MB", "32MB", false)]);
        insta::assert_snapshot!(diff, @r"
        --- current
        +++ proposed
        @@ -1,4 +1,4 @@
         # shared_buffers (takes a restart)
        -shared_buffers = '128MB'
        +shared_buffers = '2GB'
         # work_mem
        -work_mem = '4MB'
        +work_mem = '32MB'
        ");
    }
}
