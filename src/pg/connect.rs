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

use super::session::{PgError, Session};
use crate::error::database_error;
use anyhow::{anyhow, Context, Result};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::{Config, NoTls};

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
    pub timeout: Duration,
}

/// An open connection and a password-free description of where it goes.
pub struct Connection {
    pub client: Session,
    /// `user@host:port/dbname`, for messages.
    pub target: String,
}

/// Builds the connection configuration: `--db` first, then PG* variables for what it leaves out
/// (host, user, database, password; a URL always carries a port, 5432 when it names none).
pub fn config(options: &ConnectOptions, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
    let mut config = if options.url.trim().is_empty() {
        Config::new()
    } else {
        Config::from_str(options.url.trim()).map_err(|e| {
            anyhow!("--db is not a PostgreSQL connection URL or key=value string ({e}); use e.g. postgresql://user@host:5432/dbname")
        })?
    };
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(hosts) => {
                for host in hosts.split(',') {
                    config.host(host);
                }
            }
            None if std::path::Path::new("/var/run/postgresql").exists() => {
                config.host_path("/var/run/postgresql");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT") {
            let port: u16 = port.parse().map_err(|_| anyhow!("PGPORT '{port}' is not a port number"))?;
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER").or_else(|| env("USER")).unwrap_or_else(|| "postgres".into());
        config.user(user);
    }
    if config.get_dbname().is_none() {
        if let Some(dbname) = env("PGDATABASE") {
            config.dbname(dbname);
        }
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("pgadvise");
    }
    config.connect_timeout(options.timeout);
    config.keepalives(true).keepalives_idle(KEEPALIVE_IDLE).tcp_user_timeout(TCP_USER_TIMEOUT);
    let ours = SESSION_SETTINGS.iter().map(|(name, value)| format!("-c {name}={value}")).collect::<Vec<_>>().join(" ");
    // The user's own options (PGOPTIONS, `options=` in --db) come first; ours, later, win.
    let theirs = config.get_options().map(str::to_string).or_else(|| env("PGOPTIONS"));
    let startup = match theirs {
        Some(theirs) if !theirs.trim().is_empty() => format!("{theirs} {ours}"),
        _ => ours,
    };
    config.options(startup);
    Ok(config)
}

/// `user@host:port/dbname`, never the password.
pub fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("?");
    let dbname = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{dbname}")
}

/// Connects, or fails within the timeout with a one-line error that maps to exit code 3.
pub async fn connect(options: &ConnectOptions) -> Result<Connection> {
    let config = config(options, |name| std::env::var(name).ok())?;
    let target = describe(&config);
    let attempt = tokio::time::timeout(options.timeout + Duration::from_secs(1), config.connect(NoTls)).await;
    let (client, connection) = match attempt {
        Err(_) => {
            return Err(database_error(format!(
                "cannot connect to {target}: no answer within {} s; check the host and port, or raise --connect-timeout",
                options.timeout.as_secs()
            )))
        }
        Ok(Err(e)) => {
            return Err(database_error(format!(
                "cannot connect to {target}: {}; check that the server runs and accepts this user (pg_hba.conf)",
                server_message(&PgError::Server(e))
            )))
        }
        Ok(Ok(pair)) => pair,
    };
    tokio::spawn(async move {
        // The connection ends when the client is dropped; errors surface on the client's calls.
        let _ = connection.await;
    });
    Ok(Connection { client: Session::new(client, SESSION_STATEMENT_TIMEOUT), target })
}

/// The useful part of a tokio-postgres error: the server's message when there is one.
pub fn server_message(error: &PgError) -> String {
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
            text
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
        ConnectOptions { url: url.into(), timeout: Duration::from_secs(3) }
    }

    #[test]
    fn url_wins_and_environment_fills_the_gaps() {
        let env = |name: &str| match name {
            "PGHOST" => Some("db.example".to_string()),
            "PGPORT" => Some("6543".to_string()),
            "PGUSER" => Some("env_user".to_string()),
            "PGPASSWORD" => Some("s3cret".to_string()),
            "PGDATABASE" => Some("env_db".to_string()),
            _ => None,
        };
        // A URL is complete on its own: tokio-postgres gives it port 5432 when it names none.
        let config = config(&options("postgresql://alice:pw@10.0.0.5/app"), env).unwrap();
        assert_eq!(describe(&config), "alice@10.0.0.5:5432/app");
        assert_eq!(config.get_password(), Some(&b"pw"[..]));

        let config = super::config(&options(""), env).unwrap();
        assert_eq!(describe(&config), "env_user@db.example:6543/env_db");
        assert_eq!(config.get_password(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn every_session_starts_with_timeouts_and_standard_strings() {
        let config = config(&options("postgresql://u@h/db?options=-c%20search_path%3Dapp"), |_| None).unwrap();
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
        let config = config(&options("postgresql://bob:hunter2@host/db"), |_| None).unwrap();
        assert!(!describe(&config).contains("hunter2"));
    }

    #[test]
    fn a_malformed_url_is_bad_input() {
        let err = config(&options("postgresql://host:notaport/db"), |_| None).unwrap_err();
        assert!(crate::error::exit_for(&err) == crate::error::Exit::BadInput);
        assert!(err.to_string().starts_with("--db is not a PostgreSQL connection URL"), "{err}");
    }
}
