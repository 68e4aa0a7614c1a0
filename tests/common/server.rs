//! A throwaway PostgreSQL 15: initdb in a temporary directory, a free port,
//! pg_stat_statements and pg_qualstats preloaded, HypoPG available. Shared by the live tests
//! (`tests/common`) and the benchmark harness (`bench/`), which includes this
//! file by path.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestServer {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    /// Where psql is: the server's own bin directory, or Debian's 15 for a
    /// package that ships none (npm's embedded-postgres).
    client_bin: PathBuf,
    run_as_postgres: bool,
}

const INSTALL_HINT: &str =
    "run tests/run (it installs them), or: apt-get install postgresql-15 postgresql-15-hypopg postgresql-15-pg-qualstats";

extern "C" {
    fn geteuid() -> u32;
}

impl TestServer {
    /// initdb in a fresh temporary directory and start on a free port, with
    /// pg_stat_statements preloaded and `settings` (`-c name=value ...`) on the command line.
    pub fn start(settings: &str) -> TestServer {
        let bin = PathBuf::from(std::env::var("PGADVISE_TEST_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()));
        for program in ["initdb", "pg_ctl", "postgres"] {
            assert!(bin.join(program).exists(), "PostgreSQL 15 is not installed ({} missing): {INSTALL_HINT}", bin.join(program).display());
        }
        let share = Path::new("/usr/share/postgresql/15/extension");
        for extension in ["pg_stat_statements", "hypopg", "pg_qualstats"] {
            assert!(
                share.join(format!("{extension}.control")).exists(),
                "the {extension} extension is not installed for PostgreSQL 15: {INSTALL_HINT}"
            );
        }
        let unique = format!(
            "pgadvise-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        );
        // pg_qualstats sampling every statement, for the tests that read it; it
        // records nothing in a database without the extension.
        let settings = format!("-c shared_preload_libraries=pg_stat_statements,pg_qualstats -c pg_qualstats.sample_rate=1 {settings}");
        Self::start_from(bin.clone(), bin, &settings, unique)
    }

    /// A server from another PostgreSQL's binaries in `bin` (initdb, pg_ctl,
    /// postgres; pg_stat_statements in its contrib), with Debian's 15 psql as the
    /// client. No HypoPG.
    pub fn start_version(bin: PathBuf, settings: &str) -> TestServer {
        for program in ["initdb", "pg_ctl", "postgres"] {
            assert!(bin.join(program).exists(), "{} is missing: run tests/run, which fetches it", bin.join(program).display());
        }
        let unique = format!(
            "pgadvise-test-version-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        );
        let client_bin = PathBuf::from(std::env::var("PGADVISE_TEST_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()));
        Self::start_from(bin, client_bin, settings, unique)
    }

    fn start_from(bin: PathBuf, client_bin: PathBuf, settings: &str, unique: String) -> TestServer {
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: geteuid has no preconditions.
        let run_as_postgres = unsafe { geteuid() } == 0;
        if run_as_postgres {
            // initdb refuses to run as root: hand the directory to the postgres user the package created.
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().unwrap();
            assert!(status.success(), "cannot chown {} to postgres", dir.display());
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = TestServer { port, dir, bin, client_bin, run_as_postgres };
        let data = server.dir.join("data");
        server.run_checked(
            "initdb",
            &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements {settings}",
            server.dir.display()
        );
        let log = server.dir.join("server.log");
        let output =
            server.run("pg_ctl", &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-t", "60", "-o", &options, "start"]);
        if !output.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("PostgreSQL did not start: {}\n{log}", String::from_utf8_lossy(&output.stderr));
        }
        server
    }

    /// The path of one of the server's programs (psql, pgbench...).
    pub fn program(&self, name: &str) -> PathBuf {
        if name == "psql" {
            return self.client_bin.join(name);
        }
        self.bin.join(name)
    }

    fn command(&self, program: &str) -> Command {
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            command
        } else {
            Command::new(self.bin.join(program))
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    fn run_checked(&self, program: &str, args: &[&str]) {
        let output = self.run(program, args);
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Restarts the server, for settings that need it.
    pub fn restart(&self) {
        let data = self.dir.join("data");
        // With -l the server logs to the file; without, it would hold our stdout pipe open and output() would never return.
        let log = self.dir.join("server.log");
        self.run_checked("pg_ctl", &["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-t", "60", "-m", "fast", "restart"]);
    }

    /// Stops the server and removes its directory.
    pub fn stop(&self) {
        let data = self.dir.join("data");
        let _ = self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// A superuser URL.
    pub fn url(&self) -> String {
        self.url_as("postgres")
    }

    pub fn url_as(&self, role: &str) -> String {
        self.url_to(role, "postgres")
    }

    pub fn url_to(&self, role: &str, database: &str) -> String {
        format!("postgresql://{role}@127.0.0.1:{}/{database}", self.port)
    }

    /// psql from the server's own bin directory, unaligned and tuples-only, stopping on the first error.
    pub fn psql_command(&self, url: &str) -> Command {
        let mut command = Command::new(self.client_bin.join("psql"));
        command.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]);
        command
    }

    /// Runs SQL with psql as the superuser; returns unaligned, tuples-only output.
    pub fn psql(&self, sql: &str) -> String {
        let output = Command::new(self.client_bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", &self.url(), "-c", sql])
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "psql -c {sql:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    /// Runs a SQL file with psql as the superuser, statement by statement, as a user would.
    pub fn psql_file(&self, path: &Path) {
        self.psql_file_to("postgres", path);
    }

    /// [`Self::psql_file`] in another database.
    pub fn psql_file_to(&self, database: &str, path: &Path) {
        let output = Command::new(self.client_bin.join("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url_to("postgres", database), "-f"])
            .arg(path)
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "psql -f {} failed: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    }
}
