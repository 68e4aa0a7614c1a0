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
            let current = setting.value.show_server(&live.setting, unit);
            Some(Change {
                name: setting.name,
                current,
                proposed: setting.value.to_pg(),
                restart: live.context == "postmaster",
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

/// The postgresql.conf lines for `changes`, before and after, for `--diff`.
pub fn conf_lines(changes: &[Change]) -> (String, String) {
    let mut before = String::new();
    let mut after = String::new();
    for change in changes {
        before.push_str(&format!("{} = '{}'\n", change.name, change.current));
        after.push_str(&format!("{} = '{}'\n", change.name, change.proposed));
    }
    (before, after)
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
    fn conf_lines_make_a_before_and_after() {
        let change = Change {
            name: "work_mem",
            current: "4MB".into(),
            proposed: "32MB".into(),
            restart: false,
            overridden_by: None,
            rationale: String::new(),
        };
        assert_eq!(conf_lines(&[change]), ("work_mem = '4MB'\n".to_string(), "work_mem = '32MB'\n".to_string()));
    }
}
