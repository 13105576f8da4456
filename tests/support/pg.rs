//! A throwaway Postgres cluster for integration tests: initdb into a temp dir, start on a free
//! 127.0.0.1 port, stop and delete on drop.
//!
//! Use [`TempCluster::shared`] for one cluster per test binary (each test creates its own tables),
//! or [`TempCluster::start`] for a private one.
//!
//! Postgres refuses to run as root, so when the tests run as root the cluster is created and run
//! as the `postgres` user (`runuser -u postgres`), in a directory under /tmp chowned to it.
//!
//! Authentication: trust for everyone except the role [`PASSWORD_USER`], which must log in over TCP
//! with a scram-sha-256 password. The role does not exist until a test asks for it with
//! [`TempCluster::password_role`], so password failures can be tested for real.
//!
//! Tests on the shared cluster keep out of each other's way with their own database
//! ([`TempCluster::database`]) or their own table names.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The role that authenticates with a password (see the module doc).
pub const PASSWORD_USER: &str = "pwuser";

/// Where Debian puts the client binaries that are not on PATH.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct TempCluster {
    dir: PathBuf,
    /// Owned clusters delete their directory on drop; the shared one leaves that to its watchdog.
    tempdir: Option<tempfile::TempDir>,
    port: u16,
    as_postgres: bool,
    /// The shared cluster's watchdog shell; its stdin closes when the test process exits.
    watchdog: Option<Child>,
    /// How long `start` took (initdb + start + ready).
    pub startup: Duration,
    /// Set once [`PASSWORD_USER`] exists.
    role: OnceLock<()>,
}

impl TempCluster {
    /// initdb into a fresh temp dir and start postgres on a free random 127.0.0.1 port with its unix
    /// socket inside the temp dir; returns once the server accepts connections. Dropping it stops
    /// the server and deletes the directory.
    pub fn start() -> TempCluster {
        Self::launch(false)
    }

    /// One cluster for the whole test binary, started on first use. Statics are never dropped, so
    /// a watchdog shell holds the server: it waits for its stdin to close, which happens when the
    /// test process exits (however it exits), then stops the server and deletes the directory.
    pub fn shared() -> &'static TempCluster {
        static SHARED: OnceLock<TempCluster> = OnceLock::new();
        SHARED.get_or_init(|| Self::launch(true))
    }

    fn launch(watched: bool) -> TempCluster {
        let began = Instant::now();
        let as_postgres = is_root();
        let tempdir = tempfile::Builder::new()
            .prefix("drctl-pg-")
            .tempdir_in("/tmp")
            .expect("create a temp dir under /tmp");
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(tempdir.path())
                .status()
                .expect("run chown");
            assert!(
                status.success(),
                "chown of {} to postgres failed",
                tempdir.path().display()
            );
        }
        let mut cluster = TempCluster {
            dir: tempdir.path().to_owned(),
            tempdir: Some(tempdir),
            port: 0,
            as_postgres,
            watchdog: None,
            startup: Duration::ZERO,
            role: OnceLock::new(),
        };
        cluster.initdb();
        // The port is picked by binding and releasing it, so another process can take it before
        // postgres does: retry with a new port.
        let mut last_log = String::new();
        for _ in 0..3 {
            cluster.port = free_port();
            cluster.write_config();
            let started = if watched {
                cluster.start_watched()
            } else {
                cluster.start_owned()
            };
            if started {
                cluster.startup = began.elapsed();
                if watched {
                    // The watchdog deletes the directory after the process exits.
                    if let Some(t) = cluster.tempdir.take() {
                        let _ = t.keep();
                    }
                }
                return cluster;
            }
            last_log = std::fs::read_to_string(cluster.log_file()).unwrap_or_default();
        }
        panic!("postgres did not start; server log:\n{last_log}");
    }

    fn start_owned(&self) -> bool {
        let data = self.data_dir();
        let log = self.log_file();
        let args = [
            "-D",
            &data.to_string_lossy(),
            "-l",
            &log.to_string_lossy(),
            "-w",
            "-t",
            "30",
            "start",
        ]
        .map(str::to_owned);
        self.run_as_owner(
            &bin("pg_ctl"),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .status
        .success()
    }

    fn start_watched(&mut self) -> bool {
        const SCRIPT: &str = "\"$1\" -D \"$2\" -l \"$3\" -w -t 30 start >/dev/null || exit 1; \
                              echo ready; read _; \
                              \"$1\" -D \"$2\" stop -m immediate >/dev/null 2>&1; rm -rf \"$4\"";
        let mut cmd = self.owner_command(Path::new("sh"));
        cmd.args(["-c", SCRIPT, "sh"])
            .arg(bin("pg_ctl"))
            .arg(self.data_dir())
            .arg(self.log_file())
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn the postgres watchdog");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        if line.trim() == "ready" {
            self.watchdog = Some(child);
            true
        } else {
            let _ = child.wait();
            false
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE` (trust auth).
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a fresh, empty database (dropping one left by an earlier use of the name) so a
    /// test on the shared cluster has its own tables; returns its URL.
    pub fn database(&self, name: &str) -> String {
        self.psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        self.psql(&format!("CREATE DATABASE {name}"));
        self.url_for(name)
    }

    /// Creates the role [`PASSWORD_USER`] once per cluster and returns its password. Roles are
    /// cluster-wide, so tests sharing the cluster must not each create it.
    pub fn password_role(&self) -> &'static str {
        const PASSWORD: &str = "right-pass-42";
        self.role.get_or_init(|| {
            self.psql(&format!(
                "CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'"
            ));
        });
        PASSWORD
    }

    /// Run SQL through psql (stops at the first error), returning its unaligned, tuples-only output;
    /// panics with psql's error.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", sql)
    }

    /// [`psql`](Self::psql) in another database.
    pub fn psql_in(&self, database: &str, sql: &str) -> String {
        let out = Command::new(bin("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
            ])
            .args([
                "postgres",
                "-d",
                database,
                "-p",
                &self.port.to_string(),
                "-c",
                sql,
            ])
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed for {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    /// Stops the server (it can be started again with [`start_command`](Self::start_command)).
    pub fn stop(&self) {
        let data = self.data_dir();
        let out = self.run_as_owner(
            &bin("pg_ctl"),
            &["-D", &data.to_string_lossy(), "stop", "-m", "fast", "-w"],
        );
        assert!(out.status.success(), "pg_ctl stop failed: {out:?}");
    }

    /// A shell command that starts this (stopped) server with `pg_ctl start`
    /// and returns once it accepts connections, leaving it running. No word
    /// of it needs quoting: the paths are under a `/tmp/drctl-pg-*` directory.
    pub fn start_command(&self) -> String {
        let mut words = Vec::new();
        if self.as_postgres {
            words.extend(["runuser", "-u", "postgres", "--"].map(str::to_owned));
        }
        words.push(bin("pg_ctl").display().to_string());
        words.extend([
            "-D".to_owned(),
            self.data_dir().display().to_string(),
            "-l".to_owned(),
            self.log_file().display().to_string(),
            "-w".to_owned(),
            "start".to_owned(),
        ]);
        words.join(" ")
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn initdb(&self) {
        let data = self.data_dir();
        let out = self.run_as_owner(
            &bin("initdb"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The password role's line must come before the trust lines: the first match wins.
        let hba = format!(
            "local all all trust\n\
             host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 trust\n\
             host all all ::1/128 trust\n"
        );
        std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
    }

    fn write_config(&self) {
        let conf = format!(
            "listen_addresses = '127.0.0.1'\n\
             port = {}\n\
             unix_socket_directories = '{}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             max_connections = 64\n\
             shared_buffers = 16MB\n",
            self.port,
            self.dir.display()
        );
        // `include_if_exists` keeps initdb's file untouched, so a retry can rewrite just ours.
        let main = self.data_dir().join("postgresql.conf");
        let text = std::fs::read_to_string(&main).expect("read postgresql.conf");
        if !text.contains("include_if_exists = 'test.conf'") {
            std::fs::write(&main, format!("{text}\ninclude_if_exists = 'test.conf'\n"))
                .expect("write postgresql.conf");
        }
        std::fs::write(self.data_dir().join("test.conf"), conf).expect("write test.conf");
    }

    /// Run a server binary as the data dir's owner: `postgres` when we are root, else ourselves.
    fn run_as_owner(&self, program: &Path, args: &[&str]) -> Output {
        self.owner_command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
    }

    fn owner_command(&self, program: &Path) -> Command {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.current_dir(&self.dir);
        cmd
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if self.port != 0 && self.watchdog.is_none() {
            let data = self.data_dir();
            let _ = self.run_as_owner(
                &bin("pg_ctl"),
                &[
                    "-D",
                    &data.to_string_lossy(),
                    "stop",
                    "-m",
                    "immediate",
                    "-w",
                ],
            );
        }
        // The TempDir removes the directory (root may remove the postgres-owned files).
    }
}

fn bin(name: &str) -> PathBuf {
    let debian = Path::new(PG_BIN).join(name);
    if debian.exists() {
        debian
    } else {
        PathBuf::from(name)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
