//! Connecting: a URL or key=value string from `--db`, filled in from the
//! standard PG* environment variables the way libpq does, with a timeout so an
//! unreachable server fails in seconds, and never a password in a message.
//!
//! Every session pgadvise opens is made safe to point at a busy primary before
//! its first query, through the startup packet's `options` (so nothing depends on
//! a SET having run first, and nothing leaks to another client through a pooler):
//! [`SESSION_SETTINGS`] bound every query's run time, every lock wait and every
//! idle transaction on the server's side, and fix `standard_conforming_strings`,
//! so that the SQL splitter and the server read quotes the same way. TCP
//! keepalives and a TCP user timeout bound a round trip to a server that vanished.

use super::conninfo::{self, Sources};
use super::session::{PgError, Session};
use super::tls::{SslMode, TlsSettings};
use crate::error::database_error;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_postgres::config::{ChannelBinding, Host, SslNegotiation, TargetSessionAttrs};
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Settings every pgadvise session starts with (`-c name=value` in the startup
/// options). A statement that needs longer (EXPLAIN ANALYZE under `--timeout`) sets
/// its own `statement_timeout` locally in its transaction.
pub const SESSION_SETTINGS: &[(&str, &str)] = &[
    // A backslash in a string is a plain character, as the splitter assumes; on a
    // database set to `off`, `'\''` would otherwise end a literal the splitter
    // thinks is still open.
    ("standard_conforming_strings", "on"),
    // Catalog, statistics and settings queries finish in well under a second on
    // any sane catalog; a minute is a fence, not a budget.
    ("statement_timeout", "60s"), // SESSION_STATEMENT_TIMEOUT
    // Waiting for a lock puts every later lock request on that table in the queue
    // behind ours: give up quickly instead (the statement is then reported as not
    // planned, with the server's reason).
    ("lock_timeout", LOCK_TIMEOUT),
    // A pgadvise that is killed or stalls never keeps a transaction (and its locks) open.
    ("idle_in_transaction_session_timeout", "60s"),
];

/// `statement_timeout` in [`SESSION_SETTINGS`], which the client's deadlines follow.
const SESSION_STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long pgadvise waits for a lock another session holds.
const LOCK_TIMEOUT: &str = "2s";

/// How long a dead peer may leave a round trip unanswered before the kernel gives up.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(90);
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The `--db` value; empty means "from the PG* environment variables".
    pub url: String,
    /// `--connect-timeout` when given: it wins over `connect_timeout` in the
    /// string or PGCONNECT_TIMEOUT, which win over [`DEFAULT_CONNECT_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// Only a primary will do (`--apply`): a standby is skipped, or refused with why.
    pub read_write: bool,
}

/// An open connection and a password-free description of where it goes.
pub struct Connection {
    pub client: Session,
    /// `user@host:port/dbname`, for messages.
    pub target: String,
}

/// Everything needed to connect: one configuration per host to try, in order,
/// and how to encrypt.
pub struct Plan {
    pub hosts: Vec<Config>,
    pub tls: TlsSettings,
    pub warnings: Vec<String>,
}

/// Reads the parameters as libpq would (see [`conninfo`]) and builds one
/// tokio-postgres configuration per host, each with its own password from the
/// password file when none was given.
pub fn plan(options: &ConnectOptions, sources: &Sources<'_>) -> Result<Plan> {
    let params = conninfo::resolve(&options.url, sources).map_err(|e| anyhow!("--db: {e}"))?;
    let mut warnings = params.warnings.clone();
    let get = |key: &str| params.get(key).map(str::to_string);
    let tls = TlsSettings::new(
        get("sslmode").as_deref(),
        get("sslrootcert").as_deref(),
        get("sslcert").as_deref(),
        get("sslkey").as_deref(),
        sources.home.as_deref(),
    )?;
    let hosts: Vec<String> = match get("host") {
        Some(hosts) => hosts.split(',').map(str::to_string).collect(),
        None if get("hostaddr").is_some() => vec![String::new()],
        None if Path::new(DEFAULT_SOCKET_DIR).exists() => vec![DEFAULT_SOCKET_DIR.to_string()],
        None => vec!["localhost".to_string()],
    };
    let list = |key: &str| -> Result<Vec<String>> {
        let values: Vec<String> = get(key).map(|v| v.split(',').map(|p| p.trim().to_string()).collect()).unwrap_or_default();
        match values.len() {
            0 => Ok(vec![String::new(); hosts.len()]),
            1 => Ok(vec![values[0].clone(); hosts.len()]),
            n if n == hosts.len() => Ok(values),
            n => bail!("--db: could not match {n} {key} values to {} hosts", hosts.len()),
        }
    };
    let ports = list("port")?;
    let hostaddrs = list("hostaddr")?;
    let user = get("user").or_else(|| (sources.env)("USER")).unwrap_or_else(|| "postgres".into());
    let dbname = get("dbname").unwrap_or_else(|| user.clone());
    let from_params = match get("connect_timeout") {
        // libpq: a timeout under 2 s is 2 s, and 0 means none (we keep our default then).
        Some(seconds) => match seconds.parse::<u64>() {
            Ok(0) => None,
            Ok(seconds) => Some(Duration::from_secs(seconds.max(2))),
            Err(_) => bail!("--db: invalid connect_timeout value \"{seconds}\""),
        },
        None => None,
    };
    let timeout = options.timeout.or(from_params).unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let passfile = get("passfile").map(PathBuf::from).or_else(|| sources.home.as_ref().map(|h| h.join(".pgpass")));

    let mut configs = Vec::new();
    for ((host, port), hostaddr) in hosts.iter().zip(&ports).zip(&hostaddrs) {
        let mut config = Config::new();
        let socket = host.starts_with('/');
        if socket {
            config.host_path(host);
        } else if !host.is_empty() {
            config.host(host);
        }
        if !hostaddr.is_empty() {
            let address = hostaddr.parse().map_err(|_| anyhow!("--db: invalid hostaddr value \"{hostaddr}\""))?;
            config.hostaddr(address);
            if host.is_empty() {
                config.host(hostaddr);
            }
        }
        let port: u16 = if port.is_empty() { 5432 } else { port.parse().map_err(|_| anyhow!("--db: invalid port number: \"{port}\""))? };
        config.port(port).user(&user).dbname(&dbname);
        let password = match get("password") {
            Some(password) => Some(password),
            None => passfile.as_deref().and_then(|file| {
                // libpq looks a socket connection up as localhost.
                let name = if socket || host.is_empty() && hostaddr.is_empty() {
                    "localhost"
                } else if host.is_empty() {
                    hostaddr.as_str()
                } else {
                    host.as_str()
                };
                conninfo::password_from_file(file, name, port, &dbname, &user, &mut warnings)
            }),
        };
        if let Some(password) = password {
            config.password(password);
        }
        config.application_name(get("application_name").or_else(|| get("fallback_application_name")).as_deref().unwrap_or("pgadvise"));
        config.connect_timeout(timeout);
        config.keepalives(get("keepalives").as_deref() != Some("0"));
        config.keepalives_idle(seconds(get("keepalives_idle"), "keepalives_idle")?.unwrap_or(KEEPALIVE_IDLE));
        if let Some(interval) = seconds(get("keepalives_interval"), "keepalives_interval")? {
            config.keepalives_interval(interval);
        }
        if let Some(count) = get("keepalives_count") {
            config.keepalives_retries(count.parse().map_err(|_| anyhow!("--db: invalid keepalives_count value \"{count}\""))?);
        }
        let user_timeout = match get("tcp_user_timeout") {
            Some(ms) => Duration::from_millis(ms.parse().map_err(|_| anyhow!("--db: invalid tcp_user_timeout value \"{ms}\""))?),
            None => TCP_USER_TIMEOUT,
        };
        config.tcp_user_timeout(user_timeout);
        match get("target_session_attrs").as_deref() {
            None | Some("any") => {}
            Some("read-write") => {
                config.target_session_attrs(TargetSessionAttrs::ReadWrite);
            }
            Some("read-only") => {
                config.target_session_attrs(TargetSessionAttrs::ReadOnly);
            }
            Some(other) => bail!("--db: target_session_attrs \"{other}\" is not supported; use any, read-write or read-only"),
        }
        if options.read_write {
            config.target_session_attrs(TargetSessionAttrs::ReadWrite);
        }
        match get("channel_binding").as_deref() {
            None | Some("prefer") => {}
            Some("disable") => {
                config.channel_binding(ChannelBinding::Disable);
            }
            Some("require") => {
                config.channel_binding(ChannelBinding::Require);
            }
            Some(other) => bail!("--db: invalid channel_binding value \"{other}\""),
        }
        match get("sslnegotiation").as_deref() {
            None | Some("postgres") => {}
            Some("direct") if matches!(tls.mode, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull) => {
                config.ssl_negotiation(SslNegotiation::Direct);
            }
            Some("direct") => bail!(
                "--db: weak sslmode \"{}\" may not be used with sslnegotiation=direct (use \"require\", \"verify-ca\", or \"verify-full\")",
                tls.mode.as_str()
            ),
            Some(other) => bail!("--db: invalid sslnegotiation value \"{other}\""),
        }
        let ours = SESSION_SETTINGS.iter().map(|(name, value)| format!("-c {name}={value}")).collect::<Vec<_>>().join(" ");
        // The user's own options (PGOPTIONS, `options=` in --db) come first; ours, later, win.
        let startup = match get("options") {
            Some(theirs) if !theirs.trim().is_empty() => format!("{theirs} {ours}"),
            _ => ours,
        };
        config.options(startup);
        configs.push(config);
    }
    Ok(Plan { hosts: configs, tls, warnings })
}

/// How long to wait for a server when nothing says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Debian's libpq looks for the server's socket here when no host is given.
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

fn seconds(value: Option<String>, key: &str) -> Result<Option<Duration>> {
    value.map(|v| v.parse().map(Duration::from_secs).map_err(|_| anyhow!("--db: invalid {key} value \"{v}\""))).transpose()
}

/// `user@host:port/dbname`, never the password.
pub fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) if host.contains(':') => format!("[{host}]"),
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => config.get_hostaddrs().first().map_or("localhost".into(), |a| a.to_string()),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("?");
    let dbname = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{dbname}")
}

/// Connects to the first host that takes the connection, as libpq does, or fails
/// with a one-line error per host that maps to exit code 3.
pub async fn connect(options: &ConnectOptions) -> Result<Connection> {
    connect_as_planned(plan_from_environment(options)?, options.read_write).await
}

/// [`plan`] from this process's environment and home directory.
pub fn plan_from_environment(options: &ConnectOptions) -> Result<Plan> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let env = |name: &str| std::env::var(name).ok();
    plan(options, &Sources { env: &env, home })
}

/// Connects by `plan`; its warnings are the caller's to show (before, as libpq does).
pub async fn connect_as_planned(plan: Plan, read_write: bool) -> Result<Connection> {
    let mut failures = Vec::new();
    let mut all_say_what_to_do = true;
    for config in &plan.hosts {
        let target = describe(config);
        match connect_host(config, &plan.tls).await {
            Ok((client, cancel_tls)) => {
                return Ok(Connection { client: Session::new(client, SESSION_STATEMENT_TIMEOUT, cancel_tls), target })
            }
            Err(failure) => {
                all_say_what_to_do &= failure.says_what_to_do;
                failures.push(format!("{target}: {}", failure.message));
            }
        }
    }
    let hint = if read_write {
        "; --apply needs a primary (read-write) server; name it in --db, or list every host with target_session_attrs=read-write"
    } else if all_say_what_to_do {
        ""
    } else {
        "; check the host and port, that the server runs and accepts this user (pg_hba.conf), and sslmode"
    };
    Err(database_error(format!("cannot connect to {}{hint}", failures.join("; "))))
}

/// One host, with libpq's sslmode fallbacks: `allow` tries plain text first and
/// TLS second, `prefer` TLS first (taken when the server offers it) and plain
/// text second. A Unix socket never uses TLS, as in libpq.
async fn connect_host(config: &Config, tls: &TlsSettings) -> std::result::Result<(Client, Option<MakeRustlsConnect>), HostFailure> {
    let socket = matches!(config.get_hosts().first(), Some(Host::Unix(_)));
    let tries: &[SslMode] = match tls.mode {
        _ if socket => &[SslMode::Disable],
        SslMode::Allow => &[SslMode::Disable, SslMode::Require],
        SslMode::Prefer => &[SslMode::Prefer, SslMode::Disable],
        mode => &[if mode == SslMode::Disable { SslMode::Disable } else { SslMode::Require }],
    };
    let mut last = HostFailure::without_fix(String::new());
    for mode in tries {
        let mut config = config.clone();
        let wait = *config.get_connect_timeout().unwrap_or(&Duration::from_secs(5)) + Duration::from_secs(1);
        let attempt = match mode {
            SslMode::Disable => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                timeout_connect(wait, config.connect(NoTls)).await.map(|client| (client, None))
            }
            _ => {
                let mode = if *mode == SslMode::Prefer {
                    tokio_postgres::config::SslMode::Prefer
                } else {
                    tokio_postgres::config::SslMode::Require
                };
                config.ssl_mode(mode);
                let connector = MakeRustlsConnect::new(tls.client_config().map_err(|e| HostFailure::without_fix(e.to_string()))?);
                timeout_connect(wait, config.connect(connector.clone())).await.map(|client| (client, Some(connector)))
            }
        };
        match attempt {
            Ok(client) => return Ok(client),
            // No answer in time: another try would only wait as long again.
            Err(Failure::TimedOut(why)) => return Err(HostFailure::without_fix(why)),
            Err(Failure::Refused(why)) => last = why,
        }
    }
    Err(last)
}

enum Failure {
    TimedOut(String),
    Refused(HostFailure),
}

/// Why one host refused, and whether the message already says what to fix.
struct HostFailure {
    message: String,
    says_what_to_do: bool,
}

impl HostFailure {
    fn without_fix(message: String) -> HostFailure {
        HostFailure { message, says_what_to_do: false }
    }

    fn with_fix(message: String) -> HostFailure {
        HostFailure { message, says_what_to_do: true }
    }
}

async fn timeout_connect<S, T>(
    wait: Duration,
    attempt: impl std::future::Future<Output = std::result::Result<(Client, tokio_postgres::Connection<S, T>), tokio_postgres::Error>>,
) -> std::result::Result<Client, Failure>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    match tokio::time::timeout(wait, attempt).await {
        Err(_) => {
            Err(Failure::TimedOut(format!("no answer within {} s (raise --connect-timeout if the server is slow)", wait.as_secs() - 1)))
        }
        Ok(Err(e)) => Err(Failure::Refused(connect_message(&e))),
        Ok(Ok((client, connection))) => {
            tokio::spawn(async move {
                // The connection ends when the client is dropped; errors surface on the client's calls.
                let _ = connection.await;
            });
            Ok(client)
        }
    }
}

/// A connection failure in one line, named by cause the way libpq names it, with
/// what to do about it when the cause is known.
fn connect_message(error: &tokio_postgres::Error) -> HostFailure {
    let text = error_text(error);
    let lower = text.to_lowercase();
    let code = error.code().map(|c| c.code());
    let fix = |message: String| HostFailure::with_fix(message);
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        fix("the server's certificate is not signed by a trusted root: check sslrootcert".into())
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        fix("the server's certificate does not name this host: connect by the name it was issued for, or use sslmode=verify-ca".into())
    } else if lower.contains("server does not support tls") {
        fix("the server does not support SSL, but SSL was required: use sslmode=prefer or disable".into())
    } else if lower.contains("no encryption") {
        fix(format!("{text}: the server requires SSL, set sslmode=require or stronger"))
    } else if code == Some("3D000") {
        fix(format!("{text}: check the database name in --db or PGDATABASE"))
    } else if code == Some("28P01") || lower.contains("password missing") {
        fix(format!("{text}: check the password in --db, PGPASSWORD or ~/.pgpass"))
    } else if code == Some("28000") {
        fix(format!("{text}: the server's pg_hba.conf does not let this user in from here"))
    } else {
        HostFailure::without_fix(text)
    }
}

/// The useful part of a tokio-postgres error: the server's message when there is one.
pub fn server_message(error: &PgError) -> String {
    match error {
        PgError::Server(error) => error_text(error),
        PgError::NoAnswer(_) => error.to_string(),
    }
}

fn error_text(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if db.code().code() == "55P03" => format!(
            "{}: another session holds a conflicting lock, and pgadvise waits at most {LOCK_TIMEOUT} for one so as not to queue others behind it; try again when it is released",
            db.message()
        ),
        Some(db) => db.message().to_string(),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text.replace('\n', " ")
        }
    }
}

/// Whether a failed statement is the database's fault (exit 3) rather than the
/// statement's (exit 2): a lost connection, a session terminated or cancelled by an
/// administrator (class 57, but for our own statement_timeout), a lock another
/// session holds past lock_timeout, a missing privilege, or the server running out
/// of resources or failing inside (classes 08, 53, 58, XX).
pub fn is_database_fault(error: &PgError) -> bool {
    let Some(db) = error.as_db_error() else { return true };
    let code = db.code().code();
    let cancelled_by_timeout = code == "57014" && db.message().contains("statement timeout");
    matches!(&code[..2], "08" | "53" | "57" | "58" | "XX") && !cancelled_by_timeout
        || code == "55P03" // lock_not_available
        || code == "42501" // insufficient_privilege
}

/// Runs a query, turning failures into database errors that name what was being read.
pub async fn query(client: &Session, sql: &str, what: &str) -> Result<Vec<tokio_postgres::Row>> {
    client
        .query(sql, &[])
        .await
        .map_err(|e| database_error(format!("cannot read {what}: {}", server_message(&e))))
        .with_context(|| format!("reading {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str) -> ConnectOptions {
        ConnectOptions { url: url.into(), timeout: None, read_write: false }
    }

    fn plan_with(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Plan> {
        plan(&options(url), &Sources { env, home: None })
    }

    #[test]
    fn url_wins_and_environment_fills_the_gaps() {
        let env = |name: &str| match name {
            "PGHOST" => Some("db.example".to_string()),
            "PGPORT" => Some("6543".to_string()),
            "PGUSER" => Some("env_user".to_string()),
            "PGPASSWORD" => Some("s3cret".to_string()),
            "PGDATABASE" => Some("env_db".to_string()),
            "PGAPPNAME" => Some("nightly".to_string()),
            _ => None,
        };
        let config = &plan_with("postgresql://alice:pw@10.0.0.5/app", &env).unwrap().hosts[0];
        assert_eq!(describe(config), "alice@10.0.0.5:6543/app", "PGPORT fills in the port the URL leaves out, as in libpq");
        assert_eq!(config.get_password(), Some(&b"pw"[..]));
        assert_eq!(config.get_application_name(), Some("nightly"));

        let config = &plan_with("", &env).unwrap().hosts[0];
        assert_eq!(describe(config), "env_user@db.example:6543/env_db");
        assert_eq!(config.get_password(), Some(&b"s3cret"[..]));
        assert_eq!(plan_with("host=h", &|_| None).unwrap().hosts[0].get_application_name(), Some("pgadvise"));
        let timeout = |name: &str| (name == "PGCONNECT_TIMEOUT").then(|| "1".to_string());
        assert_eq!(plan_with("host=h", &timeout).unwrap().hosts[0].get_connect_timeout(), Some(&Duration::from_secs(2)), "libpq's minimum");
        let address = |name: &str| (name == "PGHOSTADDR").then(|| "10.1.2.3".to_string());
        assert_eq!(describe(&plan_with("user=u", &address).unwrap().hosts[0]), "u@10.1.2.3:5432/u");
    }

    #[test]
    fn several_hosts_each_with_its_port() {
        let hosts = plan_with("postgresql://u@a:1,b,[::1]:3/db", &|_| None).unwrap().hosts;
        let described: Vec<String> = hosts.iter().map(describe).collect();
        assert_eq!(described, ["u@a:1/db", "u@b:5432/db", "u@[::1]:3/db"]);
        assert!(plan_with("host=a,b,c port=1,2", &|_| None)
            .err()
            .unwrap()
            .to_string()
            .contains("could not match 2 port values to 3 hosts"));
        let read_write = plan(&ConnectOptions { read_write: true, ..options("host=a") }, &Sources { env: &|_| None, home: None }).unwrap();
        assert_eq!(read_write.hosts[0].get_target_session_attrs(), TargetSessionAttrs::ReadWrite);
    }

    #[test]
    fn every_session_starts_with_timeouts_and_standard_strings() {
        let config = &plan_with("postgresql://u@h/db?options=-c%20search_path%3Dapp", &|_| None).unwrap().hosts[0];
        let startup = config.get_options().unwrap();
        assert!(startup.starts_with("-c search_path=app "), "{startup}");
        for needed in
            ["-c standard_conforming_strings=on", "-c statement_timeout=", "-c lock_timeout=", "-c idle_in_transaction_session_timeout="]
        {
            assert!(startup.contains(needed), "{needed} missing from {startup}");
        }
        assert_eq!(config.get_tcp_user_timeout(), Some(&TCP_USER_TIMEOUT));
    }

    #[test]
    fn description_never_shows_the_password() {
        let config = &plan_with("postgresql://bob:hunter2@host/db", &|_| None).unwrap().hosts[0];
        assert!(!describe(config).contains("hunter2"));
    }

    #[test]
    fn malformed_strings_are_bad_input() {
        for (url, expected) in [
            ("postgresql://host:notaport/db", "invalid port number"),
            ("sslmode=verify_full", "invalid sslmode value"),
            ("host=h connect_timeout=soon", "invalid connect_timeout"),
            ("host=h sslnegotiation=direct", "weak sslmode \"prefer\""),
        ] {
            let err = plan_with(url, &|_| None).err().unwrap();
            assert!(crate::error::exit_for(&err) == crate::error::Exit::BadInput, "{url}");
            assert!(err.to_string().contains(expected), "{url}: {err}");
        }
    }
}
