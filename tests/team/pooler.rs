//! `PgBouncer` between drctl and `PostgreSQL`: in transaction mode session
//! locks do not hold, and drctl refuses it before anything runs; in session
//! mode it works. A real `PgBouncer` (scripts/setup.sh installs it), run as the
//! `postgres` user when the tests run as root, as the cluster is.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::team_store;
use crate::support::Test;
use crate::support::pg::TempCluster;

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A `PgBouncer` on a free port in front of `database`; stopped when dropped.
struct Bouncer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bouncer(database: &str, mode: &str) -> Bouncer {
    assert!(
        Path::new(PGBOUNCER).exists(),
        "{PGBOUNCER} is missing: run scripts/setup.sh (or apt-get install pgbouncer)"
    );
    let dir = tempfile::Builder::new()
        .prefix("drctl-pgbouncer-")
        .tempdir_in("/tmp")
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // One server session for every client: what a busy pool does, every time.
    let config = format!(
        "[databases]\n{database} = host=127.0.0.1 port={} dbname={database} user=postgres\n\
         [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
         auth_type = any\npool_mode = {mode}\ndefault_pool_size = 1\n\
         ignore_startup_parameters = extra_float_digits\n",
        TempCluster::shared().port()
    );
    let path = dir.path().join("pgbouncer.ini");
    std::fs::write(&path, config).unwrap();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut command = if root {
        let status = Command::new("chown")
            .arg("-R")
            .arg("postgres")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        // PgBouncer takes the identity itself: the child is PgBouncer, not
        // a `runuser` whose SIGKILL on drop would leave it running.
        let mut c = Command::new(PGBOUNCER);
        c.args(["-u", "postgres"]);
        c
    } else {
        Command::new(PGBOUNCER)
    };
    let child = command
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "pgbouncer did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Bouncer {
        child,
        port,
        _dir: dir,
    }
}

/// `sql` through the pool as a client, retried while the pool logs in
/// (under load the first login may be slow); what it printed.
fn through_pool(port: u16, database: &str, sql: &str) -> String {
    let start = Instant::now();
    loop {
        let out = Command::new("/usr/lib/postgresql/15/bin/psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
            .output()
            .unwrap();
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).trim().to_owned();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "psql through pgbouncer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Leaves another client's session state on the pool's one server session
/// (a session mark and sqlx-named prepared statements), as busy clients
/// do; the server process that holds it.
fn prime(port: u16, database: &str) -> String {
    through_pool(
        port,
        database,
        "DEALLOCATE ALL; SELECT set_config('drctl.session', 'another-client', false); \
         PREPARE sqlx_s_1 AS SELECT 1; PREPARE sqlx_s_2 AS SELECT 2; \
         PREPARE sqlx_s_3 AS SELECT 3; PREPARE sqlx_s_4 AS SELECT 4; \
         SELECT pg_backend_pid();",
    )
    .lines()
    .last()
    .unwrap_or_default()
    .to_owned()
}

const MARK: &str = "version: 1\nname: mark\nsteps:\n  - id: mark\n    shell: { run: touch ran }\n";

#[test]
fn pgbouncer_in_transaction_mode_is_refused_and_in_session_mode_works() {
    team_store("pooler");
    let transaction = bouncer("team_pooler", "transaction");
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/team_pooler",
        transaction.port
    );
    let test = Test::new()
        .file("runbooks/mark.yaml", MARK)
        .env("DRCTL_STORE", &url);
    // Another client first leaves its state on the pool's one server
    // session; drctl, next on that session, meets it and refuses, every time.
    let (mut refused, mut replaced) = (0, 0);
    while refused < 2 {
        let server = prime(transaction.port, "team_pooler");
        let out = test.again().args(["run", "mark"]).run();
        if out.status.success() {
            // Only a server session the pool replaced in between (something
            // ended it) leaves drctl nothing to meet; anything else is a miss.
            let now = through_pool(transaction.port, "team_pooler", "SELECT pg_backend_pid()");
            assert_ne!(
                now, server,
                "drctl ran through a transaction pool\n{}",
                out.stderr
            );
            std::fs::remove_file(test.path().join("ran")).unwrap();
            replaced += 1;
            assert!(
                replaced < 5,
                "the pool replaced its server session {replaced} times"
            );
            continue;
        }
        out.code(1)
            .stderr_contains("is reached through a pooler in transaction mode")
            .stderr_contains("through a pool in session mode");
        refused += 1;
        assert!(!test.path().join("ran").exists(), "a step ran");
    }
    drop(transaction);

    let session = bouncer("team_pooler", "session");
    let url = format!("postgres://postgres@127.0.0.1:{}/team_pooler", session.port);
    let test = Test::new()
        .file("runbooks/mark.yaml", MARK)
        .env("DRCTL_STORE", &url);
    for _ in 0..2 {
        test.again().args(["run", "mark"]).run().success();
    }
    assert!(test.path().join("ran").exists());
}
