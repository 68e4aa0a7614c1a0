//! Connecting as libpq does, against a real server that takes TLS connections
//! only (`hostssl` rules, no `host`), with a CA, server and client certificates
//! made here. psql, libpq's own client, runs beside pgadvise on every case and
//! must agree: same connection string, same environment, same verdict.

mod common;

use common::{stderr, TestServer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const PASSWORD: &str = "Pw-7c1e9b-secret";

struct Tls {
    server: TestServer,
    dir: PathBuf,
}

impl Tls {
    fn file(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }
}

fn write_private(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A CA, a server certificate for `localhost` only (so 127.0.0.1 is a name
/// mismatch), a client certificate for `certuser`, and a second CA that signed nothing.
fn make_certificates(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "pgadvise test CA");
    std::fs::write(dir.join("ca.crt"), ca.self_signed(&ca_key).unwrap().pem()).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server.distinguished_name.push(DnType::CommonName, "localhost");
    std::fs::write(dir.join("server.crt"), server.signed_by(&server_key, &issuer).unwrap().pem()).unwrap();
    write_private(&dir.join("server.key"), &server_key.serialize_pem());

    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "certuser");
    std::fs::write(dir.join("client.crt"), client.signed_by(&client_key, &issuer).unwrap().pem()).unwrap();
    write_private(&dir.join("client.key"), &client_key.serialize_pem());

    let other_key = KeyPair::generate().unwrap();
    let mut other = CertificateParams::new(Vec::<String>::new()).unwrap();
    other.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    other.distinguished_name.push(DnType::CommonName, "another CA");
    std::fs::write(dir.join("other_ca.crt"), other.self_signed(&other_key).unwrap().pem()).unwrap();
}

static TLS: OnceLock<Tls> = OnceLock::new();

extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn stop_at_exit() {
    if let Some(tls) = TLS.get() {
        tls.server.stop();
        let _ = std::fs::remove_dir_all(&tls.dir);
    }
}

/// The TLS-only server, started once for this test binary and stopped when it exits.
fn tls() -> &'static Tls {
    TLS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pgadvise-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("server")).unwrap();
        make_certificates(&dir);
        // The server's own copies, owned by the user it runs as (it refuses a key others can read).
        for name in ["ca.crt", "server.crt", "server.key"] {
            std::fs::copy(dir.join(name), dir.join("server").join(name)).unwrap();
        }
        std::fs::write(
            dir.join("server/pg_hba.conf"),
            "local all all trust\n\
             hostssl all certuser 127.0.0.1/32 cert\n\
             hostssl all pwuser 127.0.0.1/32 scram-sha-256\n\
             hostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let _ = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.join("server")).status();
        let server_dir = dir.join("server");
        let settings = format!(
            "-c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key -c ssl_ca_file={0}/ca.crt -c hba_file={0}/pg_hba.conf",
            server_dir.display()
        );
        let server = TestServer::start(&settings);
        let setup = Command::new(server.program("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&server.dir)
            .args(["-p", &server.port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
            .arg(format!("CREATE ROLE certuser LOGIN; CREATE ROLE pwuser LOGIN PASSWORD '{PASSWORD}'; GRANT pg_read_all_settings TO pwuser; CREATE ROLE standby_like LOGIN SUPERUSER; ALTER ROLE standby_like SET default_transaction_read_only = on"))
            .output()
            .unwrap();
        assert!(setup.status.success(), "{}", stderr(&setup));
        // SAFETY: registering a plain function with the C runtime; it runs at process exit.
        unsafe { atexit(stop_at_exit) };
        Tls { server, dir }
    })
}

/// A home directory of its own (no ~/.postgresql, no ~/.pgpass of the machine's)
/// and no PG* variables but `env`.
fn isolated(program: &Path, home: &Path, env: &[(&str, String)]) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars() {
        if name.starts_with("PG") {
            command.env_remove(name);
        }
    }
    command.env("HOME", home);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn home(name: &str) -> PathBuf {
    let home = tls().dir.join("homes").join(name);
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    home
}

fn pgadvise(conninfo: &str, home: &Path, env: &[(&str, String)]) -> Output {
    isolated(Path::new(env!("CARGO_BIN_EXE_pgadvise")), home, env)
        .args(["tune", "--db", conninfo, "--format", "json", "--connect-timeout", "5"])
        .output()
        .unwrap()
}

fn psql(conninfo: &str, home: &Path, env: &[(&str, String)]) -> Output {
    isolated(&tls().server.program("psql"), home, env).args(["-X", "-w", "-A", "-t", "-d", conninfo, "-c", "SELECT 1"]).output().unwrap()
}

/// Connects.
const OK: i32 = 0;
/// The connection settings are wrong here (a missing file): bad input.
const LOCAL: i32 = 2;
/// The server could not be reached or refused us.
const REFUSED: i32 = 3;

/// Runs both; psql must connect exactly when pgadvise does, and pgadvise exit
/// with `exit`, failing in one line. Returns pgadvise's output.
fn both(conninfo: &str, home: &Path, env: &[(&str, String)], exit: i32) -> Output {
    let reference = psql(conninfo, home, env);
    assert_eq!(reference.status.success(), exit == OK, "psql on {conninfo}: {}", stderr(&reference));
    let ours = pgadvise(conninfo, home, env);
    assert_eq!(ours.status.code(), Some(exit), "pgadvise on {conninfo}: {}", stderr(&ours));
    if exit != OK {
        assert_eq!(stderr(&ours).trim().lines().count(), 1, "one line: {}", stderr(&ours));
    }
    ours
}

#[test]
fn every_sslmode_connects_or_refuses_as_libpq_does() {
    let tls = tls();
    let port = tls.server.port;
    let home = home("modes");
    let ca = tls.file("ca.crt");
    let other = tls.file("other_ca.crt");
    let at = |host: &str, rest: &str| format!("host={host} port={port} user=postgres dbname=postgres {rest}");
    let cases: Vec<(String, i32, &str)> = vec![
        (at("127.0.0.1", "sslmode=disable"), REFUSED, "no encryption"),
        (at("127.0.0.1", "sslmode=allow"), OK, ""),
        (at("127.0.0.1", "sslmode=prefer"), OK, ""),
        (at("127.0.0.1", "sslmode=require"), OK, ""),
        (at("127.0.0.1", &format!("sslmode=require sslrootcert={other}")), REFUSED, "not signed by a trusted root"),
        (at("127.0.0.1", "sslmode=verify-ca"), LOCAL, "root.crt\" does not exist"),
        (at("127.0.0.1", &format!("sslmode=verify-ca sslrootcert={ca}")), OK, ""),
        (at("127.0.0.1", &format!("sslmode=verify-ca sslrootcert={other}")), REFUSED, "not signed by a trusted root"),
        (at("localhost", &format!("sslmode=verify-full sslrootcert={ca}")), OK, ""),
        (at("127.0.0.1", &format!("sslmode=verify-full sslrootcert={ca}")), REFUSED, "does not name this host"),
    ];
    for (conninfo, connects, why) in &cases {
        let output = both(conninfo, &home, &[], *connects);
        assert!(stderr(&output).contains(why), "{conninfo}: expected {why:?} in {}", stderr(&output));
    }
    // The same through PGSSLMODE and PGSSLROOTCERT.
    let env = [("PGSSLMODE", "verify-full".to_string()), ("PGSSLROOTCERT", ca.clone())];
    both(&format!("postgresql://postgres@localhost:{port}/postgres"), &home, &env, OK);
    // A root certificate in ~/.postgresql makes require verify the chain, in libpq and here.
    std::fs::create_dir_all(home.join(".postgresql")).unwrap();
    std::fs::copy(tls.file("other_ca.crt"), home.join(".postgresql/root.crt")).unwrap();
    both(&at("127.0.0.1", "sslmode=require"), &home, &[], REFUSED);
}

#[test]
fn a_client_certificate_logs_in_where_the_server_requires_one() {
    let tls = tls();
    let home = home("cert");
    let base = format!(
        "host=localhost port={} user=certuser dbname=postgres sslmode=verify-full sslrootcert={}",
        tls.server.port,
        tls.file("ca.crt")
    );
    both(&base, &home, &[], REFUSED);
    both(&format!("{base} sslcert={} sslkey={}", tls.file("client.crt"), tls.file("client.key")), &home, &[], OK);
    // libpq's defaults under ~/.postgresql.
    std::fs::create_dir_all(home.join(".postgresql")).unwrap();
    std::fs::copy(tls.file("client.crt"), home.join(".postgresql/postgresql.crt")).unwrap();
    std::fs::copy(tls.file("client.key"), home.join(".postgresql/postgresql.key")).unwrap();
    both(&base, &home, &[], OK);
}

#[test]
fn passwords_come_from_pgpass_services_and_the_environment() {
    use std::os::unix::fs::PermissionsExt;
    let tls = tls();
    let port = tls.server.port;
    let home = home("pgpass");
    let target = format!("host=127.0.0.1 port={port} user=pwuser dbname=postgres sslmode=require");
    both(&target, &home, &[], REFUSED);
    both(&target, &home, &[("PGPASSWORD", PASSWORD.to_string())], OK);

    let pgpass = home.join(".pgpass");
    std::fs::write(&pgpass, format!("# test\nelsewhere:*:*:*:wrong\n127.0.0.1:{port}:*:pwuser:{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    both(&target, &home, &[], OK);
    // libpq ignores a password file others can read, and warns.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let reference = psql(&target, &home, &[]);
    let ours = pgadvise(&target, &home, &[]);
    assert!(!reference.status.success() && ours.status.code() == Some(3), "{}", stderr(&ours));
    assert!(stderr(&ours).contains("has group or world access"), "{}", stderr(&ours));
    // PGPASSFILE names another file.
    let elsewhere = home.join("pass");
    std::fs::write(&elsewhere, format!("*:*:*:pwuser:{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    both(&target, &home, &[("PGPASSFILE", elsewhere.to_str().unwrap().to_string())], OK);

    // A service from PGSERVICEFILE, with the password from PGPASSFILE; the environment fills the rest.
    let services = home.join("services.conf");
    std::fs::write(&services, format!("[app]\nhost=127.0.0.1\nport={port}\nsslmode=require\n")).unwrap();
    let env = [
        ("PGSERVICEFILE", services.to_str().unwrap().to_string()),
        ("PGPASSFILE", elsewhere.to_str().unwrap().to_string()),
        ("PGUSER", "pwuser".to_string()),
        ("PGDATABASE", "postgres".to_string()),
    ];
    both("service=app", &home, &env, OK);
    both("", &home, &[env.to_vec(), vec![("PGSERVICE", "app".to_string())]].concat(), OK);
    both("service=nope", &home, &env, LOCAL);
}

#[test]
fn the_second_host_is_tried_when_the_first_is_down() {
    let tls = tls();
    let home = home("hosts");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conninfo = format!("host=127.0.0.1,127.0.0.1 port={closed},{} user=postgres dbname=postgres sslmode=require", tls.server.port);
    both(&conninfo, &home, &[], OK);
    let url = format!("postgresql://postgres@127.0.0.1:{closed},127.0.0.1:{}/postgres?sslmode=require", tls.server.port);
    both(&url, &home, &[], OK);
}

/// No command, in no format, shows the password: not in reports, migrations,
/// snapshots, errors or notes.
#[test]
fn the_password_is_never_printed() {
    let tls = tls();
    let home = home("secrets");
    let url = format!("postgresql://pwuser:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=require", tls.server.port);
    let wrong = format!("postgresql://pwuser:{PASSWORD}x@127.0.0.1:{}/postgres?sslmode=require", tls.server.port);
    let migrations = home.join("migrations");
    let snapshot = home.join("snapshot.json");
    let query = home.join("q.sql");
    std::fs::write(&query, "SELECT relname FROM pg_class WHERE relname = 'pg_type';\n").unwrap();
    let q = query.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["tune", "--db", &url, "--format", "table"],
        vec!["tune", "--db", &url, "--format", "json"],
        vec!["tune", "--db", &url, "--format", "sql", "--diff"],
        vec!["tune", "--db", &url, "--format", "conf"],
        vec!["tune", "--db", &url, "--emit-migration", migrations.to_str().unwrap()],
        vec!["explain", q, "--db", &url, "--format", "json"],
        vec!["explain", q, "--db", &url, "--format", "markdown"],
        vec!["explain", q, "--db", &url],
        vec!["advise", "--db", &url, "--queries", q, "--format", "json"],
        vec!["advise", "--db", &url, "--queries", q, "--format", "markdown"],
        vec!["advise", "--db", &url, "--queries", q],
        vec!["snapshot", "--db", &url, "--output", snapshot.to_str().unwrap()],
        vec!["tune", "--db", &wrong],
        vec!["advise", "--db", &wrong, "--queries", q],
    ];
    for args in &runs {
        let output = isolated(Path::new(env!("CARGO_BIN_EXE_pgadvise")), &home, &[]).args(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr(&output));
        assert!(!text.contains(PASSWORD), "{args:?} printed the password: {text}");
        let wrong_password = args.contains(&wrong.as_str());
        assert_eq!(output.status.code(), Some(if wrong_password { 3 } else { 0 }), "{args:?}: {text}");
    }
    let mut written = String::new();
    for entry in std::fs::read_dir(&migrations).expect("tune wrote migrations") {
        written.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    written.push_str(&std::fs::read_to_string(&snapshot).unwrap());
    assert!(!written.is_empty() && !written.contains(PASSWORD), "a written file holds the password");
}

/// `--apply` needs a primary: a server that only takes reads (a standby; here a
/// role whose sessions are read-only, which libpq's read-write check sees alike)
/// is refused before anything is read or written, with why.
#[test]
fn apply_refuses_a_read_only_server() {
    let tls = tls();
    let home = home("standby");
    let url = format!("postgresql://standby_like@127.0.0.1:{}/postgres?sslmode=require", tls.server.port);
    let output = isolated(Path::new(env!("CARGO_BIN_EXE_pgadvise")), &home, &[])
        .args(["tune", "--db", &url, "--apply", "--rollback-file", home.join("rollback.sql").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("--apply needs a primary (read-write) server"), "{}", stderr(&output));
    assert!(!home.join("rollback.sql").exists());
    // Without --apply, reading from it is fine.
    both(&url, &home, &[], OK);
}

/// A host that takes the TCP connection and then says nothing (a stuck proxy) is
/// given up on within --connect-timeout, in one line, exit 3; so is a closed port.
#[test]
fn a_silent_or_closed_server_fails_within_the_connect_timeout() {
    let home = home("silent");
    // Listening, never accepting: the kernel completes the handshake, nobody answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for (port, why) in [(silent_port, "no answer within 2 s"), (closed, "Connection refused")] {
        let started = std::time::Instant::now();
        let output = isolated(Path::new(env!("CARGO_BIN_EXE_pgadvise")), &home, &[])
            .args(["tune", "--db", &format!("host=127.0.0.1 port={port} user=u"), "--connect-timeout", "2"])
            .output()
            .unwrap();
        let waited = started.elapsed();
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        assert_eq!(stderr(&output).trim().lines().count(), 1, "{}", stderr(&output));
        assert!(stderr(&output).contains(why), "{}", stderr(&output));
        assert!(waited < std::time::Duration::from_secs(6), "waited {waited:?}");
    }
    drop(silent);
}

/// The PG* variables not covered above, each doing what libpq does with it.
#[test]
fn the_remaining_pg_variables_are_read_as_libpq_reads_them() {
    let tls = tls();
    let port = tls.server.port.to_string();
    let home = home("variables");
    let ca = tls.file("ca.crt");
    let env = |pairs: &[(&'static str, &str)]| pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>();
    // PGHOST, PGPORT, PGUSER, PGDATABASE alone (an empty --db).
    let base =
        [("PGHOST", "127.0.0.1"), ("PGPORT", port.as_str()), ("PGUSER", "postgres"), ("PGDATABASE", "postgres"), ("PGSSLMODE", "require")];
    both("", &home, &env(&base), OK);
    // PGHOSTADDR: connect to the address, verify the certificate against PGHOST's name.
    let by_address = [("PGHOST", "localhost"), ("PGHOSTADDR", "127.0.0.1"), ("PGPORT", port.as_str()), ("PGUSER", "postgres")];
    both("sslmode=verify-full", &home, &[env(&by_address), vec![("PGSSLROOTCERT", ca.clone())]].concat(), OK);
    // PGSSLCERT and PGSSLKEY: the client certificate for a cert-only role.
    let certificate = [("PGSSLCERT", tls.file("client.crt")), ("PGSSLKEY", tls.file("client.key"))];
    let cert_user = format!("host=localhost port={port} user=certuser dbname=postgres sslmode=verify-full sslrootcert={ca}");
    both(&cert_user, &home, &certificate, OK);
    // PGSYSCONFDIR: the system's service file.
    let sysconf = home.join("etc");
    std::fs::create_dir_all(&sysconf).unwrap();
    std::fs::write(sysconf.join("pg_service.conf"), format!("[sys]\nhost=127.0.0.1\nport={port}\nuser=postgres\nsslmode=require\n"))
        .unwrap();
    both("service=sys dbname=postgres", &home, &[("PGSYSCONFDIR", sysconf.to_str().unwrap().to_string())], OK);
    // PGTARGETSESSIONATTRS: a read-only session is skipped.
    let standby = format!("host=127.0.0.1 port={port} user=standby_like dbname=postgres sslmode=require");
    both(&standby, &home, &[("PGTARGETSESSIONATTRS", "read-write".to_string())], REFUSED);
    // PGOPTIONS reach the server: a session made read-only by them is no primary for --apply.
    let output =
        isolated(Path::new(env!("CARGO_BIN_EXE_pgadvise")), &home, &[("PGOPTIONS", "-c default_transaction_read_only=on".to_string())])
            .args(["tune", "--db", &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=require"), "--apply"])
            .args(["--rollback-file", home.join("rollback.sql").to_str().unwrap()])
            .output()
            .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("--apply needs a primary"), "{}", stderr(&output));
    // PGCONNECT_TIMEOUT replaces the default of 5 s (an explicit --connect-timeout would win over it).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let output = isolated(Path::new(env!("CARGO_BIN_EXE_pgadvise")), &home, &[("PGCONNECT_TIMEOUT", "2".to_string())])
        .args(["tune", "--db", &format!("host=127.0.0.1 port={} user=u", silent.local_addr().unwrap().port())])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("no answer within 2 s"), "{}", stderr(&output));
}

/// A refused connection says what to do about its cause, not a generic hint.
#[test]
fn a_refused_connection_says_what_to_fix() {
    let tls = tls();
    let home = home("refused");
    let at = |rest: &str| format!("host=127.0.0.1 port={} sslmode=require {rest}", tls.server.port);
    for (conninfo, expected) in [
        (at("user=postgres dbname=nope"), "database \"nope\" does not exist: check the database name in --db or PGDATABASE"),
        (at(&format!("user=pwuser dbname=postgres password={PASSWORD}x")), "check the password in --db, PGPASSWORD or ~/.pgpass"),
        (at("user=pwuser dbname=postgres"), "check the password in --db, PGPASSWORD or ~/.pgpass"),
    ] {
        let output = both(&conninfo, &home, &[], REFUSED);
        let message = stderr(&output);
        assert!(message.contains(expected), "{conninfo}: {message}");
        assert!(!message.contains("pg_hba.conf), and sslmode"), "no generic hint beside a specific one: {message}");
    }
}
