//! Where a connection comes from, as libpq decides it: the `--db` string (a
//! `postgresql://` URL or `key=value` pairs), then a service from
//! `pg_service.conf`, then the PG* environment variables, then defaults; and a
//! password from the password file when none of those gave one.
//!
//! Written by hand because no crate does it: tokio-postgres parses only the
//! keywords it implements and rejects the rest (`sslrootcert`, `service`,
//! `passfile`, `verify-full`...), and nothing reads `.pgpass` or
//! `pg_service.conf`. What is read here is handed to tokio-postgres's own
//! config parser per host (see `connect`), so its reading of ports, timeouts and
//! options stays the reference.

use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// libpq's keywords, by what pgadvise does with them.
const HONOURED: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "service",
    "connect_timeout",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslnegotiation",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// Keywords whose absence of effect is harmless here: pgadvise always speaks
/// UTF-8, always sends the server name, never compresses and never uses GSSAPI.
const HARMLESS: &[&str] = &["client_encoding", "sslsni", "sslcompression", "krbsrvname", "gsslib", "gssencmode", "gssdelegation"];

/// libpq's environment variables and the keywords they stand for.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSERVICE", "service"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
];

/// Connection parameters by libpq keyword, and what the reader should be told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pub values: BTreeMap<String, String>,
    /// Warnings libpq would print, e.g. a password file others can read.
    pub warnings: Vec<String>,
}

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// What the parameters are read from besides the `--db` string: the environment
/// and the home directory (both injectable for tests).
pub struct Sources<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
}

impl Sources<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }
}

/// The parameters for `conninfo` (empty: everything from the environment), in
/// libpq's order of precedence.
pub fn resolve(conninfo: &str, sources: &Sources<'_>) -> Result<Params> {
    let mut params = Params { values: parse(conninfo)?, warnings: Vec::new() };
    let service = params.get("service").map(str::to_string).or_else(|| sources.var("PGSERVICE"));
    if let Some(service) = service {
        for (key, value) in service_params(&service, sources)? {
            params.values.entry(key).or_insert(value);
        }
    }
    for (variable, key) in ENVIRONMENT {
        if let Some(value) = sources.var(variable) {
            params.values.entry(key.to_string()).or_insert(value);
        }
    }
    Ok(params)
}

/// A `postgresql://` URL or a `key=value` string, as libpq reads either.
pub fn parse(conninfo: &str) -> Result<BTreeMap<String, String>> {
    let text = conninfo.trim();
    let pairs = if let Some(rest) = text.strip_prefix("postgresql://").or_else(|| text.strip_prefix("postgres://")) {
        parse_url(rest)?
    } else {
        parse_pairs(text)?
    };
    let mut values = BTreeMap::new();
    for (key, value) in pairs {
        if !HONOURED.contains(&key.as_str()) && !HARMLESS.contains(&key.as_str()) {
            bail!("invalid connection option \"{key}\"; see libpq's list of parameter keywords");
        }
        if key == "gssencmode" && value == "require" {
            bail!("gssencmode=require: pgadvise does not speak GSSAPI encryption; use TLS (sslmode) instead");
        }
        values.insert(key, value);
    }
    Ok(values)
}

/// `[user[:password]@][host[:port][,...]][/dbname][?key=value&...]`, percent-encoded.
fn parse_url(rest: &str) -> Result<Vec<(String, String)>> {
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, dbname) = before_query.split_once('/').unwrap_or((before_query, ""));
    let mut pairs = Vec::new();
    // The last `@` ends the user part: a password may hold `@` only percent-encoded, but be lenient.
    let (userinfo, hostlist) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = userinfo.split_once(':').map_or((userinfo, None), |(u, p)| (u, Some(p)));
        if !user.is_empty() {
            pairs.push(("user".into(), decode(user)?));
        }
        if let Some(password) = password {
            pairs.push(("password".into(), decode(password)?));
        }
    }
    if !hostlist.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for entry in hostlist.split(',') {
            let (host, port) = if let Some(inner) = entry.strip_prefix('[') {
                let (host, after) = inner.split_once(']').ok_or_else(|| anyhow!("an IPv6 address in the URL lacks its closing ']'"))?;
                (host.to_string(), after.strip_prefix(':').unwrap_or("").to_string())
            } else {
                let (host, port) = entry.split_once(':').unwrap_or((entry, ""));
                (decode(host)?, port.to_string())
            };
            hosts.push(host);
            ports.push(port);
        }
        pairs.push(("host".into(), hosts.join(",")));
        if ports.iter().any(|p| !p.is_empty()) {
            pairs.push(("port".into(), ports.join(",")));
        }
    }
    if !dbname.is_empty() {
        pairs.push(("dbname".into(), decode(dbname)?));
    }
    for parameter in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = parameter.split_once('=').ok_or_else(|| anyhow!("URL parameter \"{parameter}\" lacks '='"))?;
        let key = decode(key)?;
        let value = decode(value)?;
        // libpq's compatibility with JDBC URLs.
        if key == "ssl" && value == "true" {
            pairs.push(("sslmode".into(), "require".into()));
        } else {
            pairs.push((key, value));
        }
    }
    Ok(pairs)
}

fn decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| anyhow!("invalid percent-encoded token in the connection URL"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow!("the connection URL decodes to invalid UTF-8"))
}

/// `key = value` pairs separated by whitespace; a value may be single-quoted, and
/// a backslash escapes the next character.
fn parse_pairs(text: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            bail!("missing \"=\" after \"{key}\" in the connection string; use key=value pairs or a postgresql:// URL");
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => bail!("unterminated quoted string in the connection string"),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// A service's parameters: the user's file (`PGSERVICEFILE`, else
/// `~/.pg_service.conf`) first, then the system's (`PGSYSCONFDIR/pg_service.conf`).
fn service_params(service: &str, sources: &Sources<'_>) -> Result<Vec<(String, String)>> {
    let user_file = sources.var("PGSERVICEFILE").map(PathBuf::from).or_else(|| sources.home.as_ref().map(|h| h.join(".pg_service.conf")));
    let system_dir = sources.var("PGSYSCONFDIR").unwrap_or_else(|| "/etc/postgresql-common".into());
    let system_file = Path::new(&system_dir).join("pg_service.conf");
    for file in user_file.iter().chain([&system_file]) {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        if let Some(pairs) = service_section(&text, service, file)? {
            return Ok(pairs);
        }
    }
    bail!("definition of service \"{service}\" not found (looked in ~/.pg_service.conf, PGSERVICEFILE and {})", system_file.display())
}

/// The `[service]` section of a service file, if it has one.
fn service_section(text: &str, service: &str, file: &Path) -> Result<Option<Vec<(String, String)>>> {
    let mut found: Option<Vec<(String, String)>> = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if found.is_some() {
                break;
            }
            if name == service {
                found = Some(Vec::new());
            }
            continue;
        }
        let Some(pairs) = found.as_mut() else { continue };
        let (key, value) =
            line.split_once('=').ok_or_else(|| anyhow!("syntax error in service file {}, line {}", file.display(), number + 1))?;
        let key = key.trim();
        if key == "service" {
            bail!("nested service specifications not supported in service file {}, line {}", file.display(), number + 1);
        }
        if !HONOURED.contains(&key) && !HARMLESS.contains(&key) {
            bail!("syntax error in service file {}, line {}: invalid connection option \"{key}\"", file.display(), number + 1);
        }
        pairs.push((key.to_string(), value.trim().to_string()));
    }
    Ok(found)
}

/// The password file's password for one host, as libpq looks it up: the first
/// line whose host, port, database and user match (`*` matches anything; `\:`
/// and `\\` escape). A file others can read is ignored, with libpq's warning.
pub fn password_from_file(path: &Path, host: &str, port: u16, dbname: &str, user: &str, warnings: &mut Vec<String>) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        warnings.push(format!("password file \"{}\" is not a plain file", path.display()));
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            warnings
                .push(format!("password file \"{}\" has group or world access; permissions should be u=rw (0600) or less", path.display()));
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let port = port.to_string();
    let wanted = [host, port.as_str(), dbname, user];
    text.lines().filter(|line| !line.trim_start().starts_with('#')).find_map(|line| {
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            return None;
        }
        let matches = fields.iter().zip(wanted).all(|(field, value)| field == "*" || field == value);
        // The password is the rest of the line: it may hold unescaped colons.
        matches.then(|| fields[4..].join(":"))
    })
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap().into_iter().collect()
    }

    fn map(entries: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        out.sort();
        out
    }

    #[test]
    fn reads_urls_as_libpq_does() {
        assert_eq!(
            pairs("postgresql://al%40ice:p%3Aw@db1:5433,[::1]:5434,db3/my%20db?sslmode=verify-full&application_name=x"),
            map(&[
                ("user", "al@ice"),
                ("password", "p:w"),
                ("host", "db1,::1,db3"),
                ("port", "5433,5434,"),
                ("dbname", "my db"),
                ("sslmode", "verify-full"),
                ("application_name", "x"),
            ])
        );
        assert_eq!(pairs("postgres://%2Fvar%2Frun%2Fpostgresql/app"), map(&[("host", "/var/run/postgresql"), ("dbname", "app")]));
        assert_eq!(pairs("postgresql://h/db?ssl=true"), map(&[("host", "h"), ("dbname", "db"), ("sslmode", "require")]));
        assert_eq!(pairs("postgresql://"), map(&[]));
    }

    #[test]
    fn reads_key_value_strings_as_libpq_does() {
        assert_eq!(
            pairs(r"host=a,b port = 5432 dbname=we\ ird sslrootcert=system"),
            map(&[("host", "a,b"), ("port", "5432"), ("dbname", "we ird"), ("sslrootcert", "system")])
        );
        assert_eq!(pairs(r"password='a \' b'"), map(&[("password", "a ' b")]));
        assert!(parse("host").unwrap_err().to_string().contains("missing \"=\""));
        assert!(parse("password='open").unwrap_err().to_string().contains("unterminated"));
        assert!(parse("sslcrl=x").unwrap_err().to_string().contains("invalid connection option \"sslcrl\""));
    }

    #[test]
    fn errors_never_repeat_the_password() {
        for bad in ["postgresql://u:hunter2@h/db?nope=1", "password=hunter2 nope=1", "postgresql://u:hunter2%zz@h/db"] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn the_explicit_string_wins_then_the_service_then_the_environment() {
        let dir = std::env::temp_dir().join(format!("pgadvise-conninfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".pg_service.conf"), "# ours\n[other]\nhost=wrong\n[app]\nhost=svc-host\ndbname = svc_db\nport=6000\n")
            .unwrap();
        let env = |name: &str| match name {
            "PGSERVICE" => Some("app".to_string()),
            "PGDATABASE" => Some("env_db".to_string()),
            "PGUSER" => Some("env_user".to_string()),
            "PGPORT" => Some("7000".to_string()),
            _ => None,
        };
        let sources = Sources { env: &env, home: Some(dir.clone()) };
        let params = resolve("port=5555", &sources).unwrap();
        assert_eq!(params.get("port"), Some("5555"), "the string");
        assert_eq!(params.get("host"), Some("svc-host"), "the service");
        assert_eq!(params.get("dbname"), Some("svc_db"), "the service, before PGDATABASE");
        assert_eq!(params.get("user"), Some("env_user"), "the environment");
        let missing = resolve("service=nope", &sources).unwrap_err().to_string();
        assert!(missing.contains("definition of service \"nope\" not found"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pgpass_matches_fields_with_wildcards_and_escapes() {
        let dir = std::env::temp_dir().join(format!("pgadvise-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pgpass");
        std::fs::write(&path, "# comment\nother:*:*:*:nope\ndb\\:1:5432:app:alice:s3:cr\\:et\n*:*:*:bob:bobpw\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut warnings = Vec::new();
        assert_eq!(password_from_file(&path, "db:1", 5432, "app", "alice", &mut warnings).as_deref(), Some("s3:cr:et"));
        assert_eq!(password_from_file(&path, "anything", 1, "x", "bob", &mut warnings).as_deref(), Some("bobpw"));
        assert_eq!(password_from_file(&path, "db:1", 5433, "app", "alice", &mut warnings), None);
        assert!(warnings.is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(password_from_file(&path, "anything", 1, "x", "bob", &mut warnings), None);
            assert!(warnings[0].contains("has group or world access"), "{warnings:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
