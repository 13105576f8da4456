//! The drill, end to end: `examples/drill/drill.sh` sets up a `PostgreSQL`
//! primary and streaming standby and the demo application, then runs the four
//! shipped runbooks against them (freeze, db-restore in the same incident,
//! rotate-secrets, failover). The test checks what the runbooks did to those
//! real targets (the data, the passwords, who is primary), that the journals
//! are complete, that no secret leaked into drctl's files or the drill's
//! output, and that `env.sh down` leaves nothing running.
//!
//! One test on purpose: the environment takes seconds to build and each
//! runbook depends on the state the previous one left.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::{Test, drctl_bin, procs, state::files_under};

/// Includes building the demo app when the target directory has no fresh one.
const DRILL_TIMEOUT: Duration = Duration::from_mins(10);

/// The same query as `orders_checksum` in drill.sh: the failover runbook adds
/// probe orders, which the backup cannot hold.
const ORDERS_CHECKSUM: &str = "SELECT count(*) || ' ' || md5(string_agg(id || ':' || item, ',' ORDER BY id)) \
     FROM orders WHERE item NOT LIKE 'failover-probe%'";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The drill's directory. Dropping it stops the environment (`env.sh down`),
/// also when an assertion failed; after a failure the directory is kept for
/// inspection instead of deleted.
struct Drill {
    dir: Option<TempDir>,
    path: PathBuf,
    down: bool,
}

impl Drill {
    fn new() -> Drill {
        // Under /tmp: as root, the postgres user must be able to reach it.
        let dir = tempfile::Builder::new()
            .prefix("drctl-drill-")
            .tempdir_in("/tmp")
            .expect("create the drill directory");
        let path = dir.path().to_owned();
        Drill {
            dir: Some(dir),
            path,
            down: false,
        }
    }

    fn env_dir(&self) -> PathBuf {
        self.path.join("env")
    }

    /// `env.sh down DIR/env`; returns whether it succeeded, and its output.
    fn down(&mut self) -> (bool, String) {
        self.down = true;
        if !self.env_dir().exists() {
            return (true, String::new());
        }
        match Command::new("bash")
            .arg(repo().join("examples/drill/env.sh"))
            .arg("down")
            .arg(self.env_dir())
            .stdin(Stdio::null())
            .output()
        {
            Ok(out) => (
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ),
            Err(e) => (false, format!("cannot run env.sh down: {e}")),
        }
    }
}

impl Drop for Drill {
    fn drop(&mut self) {
        if !self.down {
            let (ok, output) = self.down();
            if !ok {
                eprintln!("env.sh down {} failed:\n{output}", self.env_dir().display());
            }
        }
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!(
                "drill directory kept for inspection: {}",
                dir.keep().display()
            );
        }
    }
}

/// What drill.sh printed and how it ended.
struct Ran {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Ran {
    fn report(&self) -> String {
        format!(
            "drill.sh exited with {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Runs drill.sh the way CI would: no terminal, no stdin, `CI=true`. Output
/// goes to files, not pipes: the servers it leaves running must not be able
/// to hold our reads open.
fn run_drill(drill: &Drill) -> Ran {
    let out_path = drill.path.join("drill.stdout");
    let err_path = drill.path.join("drill.stderr");
    let create = |p: &Path| {
        std::fs::File::create(p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()))
    };
    let started = Instant::now();
    let mut command = Command::new("bash");
    crate::support::without_cargo_test_env(&mut command);
    let mut child = command
        .arg(repo().join("examples/drill/drill.sh"))
        .arg(&drill.path)
        .current_dir(repo())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("DRILL_KEEP_RUNNING", "1")
        .env("DRILL_ORDERS", "100")
        // drctl as cargo built it for this test; drill.sh builds the demo app.
        .env("DRCTL_BIN", drctl_bin())
        .env_remove("DRILL_APP_BIN")
        .env_remove("DRCTL_DIR")
        .env_remove("DRCTL_STATE_DIR")
        .env_remove("DRCTL_OPERATOR")
        .stdin(Stdio::null())
        .stdout(create(&out_path))
        .stderr(create(&err_path))
        // Its own group, so a timeout can stop the script and everything under it.
        .process_group(0)
        .spawn()
        .expect("start drill.sh");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for drill.sh") {
            break status;
        }
        if started.elapsed() > DRILL_TIMEOUT {
            if let Some(group) = rustix::process::Pid::from_raw(
                i32::try_from(child.id()).expect("a pid fits in i32"),
            ) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.wait();
            panic!(
                "drill.sh did not finish within {DRILL_TIMEOUT:?}\n--- stderr ---\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ran {
        status: status.code(),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// DIR/env/env.yaml: flat `key: "value"` pairs.
fn env_inputs(drill: &Drill) -> BTreeMap<String, String> {
    let path = drill.env_dir().join("env.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not a map of strings: {e}", path.display()))
}

/// The password of a `postgres://user:password@host:port/db` URL.
fn url_password(url: &str) -> String {
    let rest = url
        .strip_prefix("postgres://")
        .unwrap_or_else(|| panic!("not a postgres:// url: {url:?}"));
    let (userinfo, _) = rest
        .split_once('@')
        .unwrap_or_else(|| panic!("no user info in {url:?}"));
    let (_, password) = userinfo
        .split_once(':')
        .unwrap_or_else(|| panic!("no password in {url:?}"));
    password.to_owned()
}

/// `host:port/db` of a `postgres://` URL.
fn url_target(url: &str) -> &str {
    url.rsplit_once('@').map_or(url, |(_, target)| target)
}

fn psql_bin() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("psql"))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    on_path.unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin/psql"))
}

/// Runs one SQL command through psql; `Ok(stdout)` or `Err(stderr)`.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(psql_bin())
        .args([
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .args(["--dbname", url, "--command", sql])
        // Only the password in the URL may count.
        .env("PGPASSFILE", "/dev/null")
        .env_remove("PGPASSWORD")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .expect("run psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A plain HTTP/1.0 GET: the status code and the body.
fn http_get(base: &str, path: &str) -> (u16, String) {
    let authority = base
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// url: {base:?}"));
    let mut stream = TcpStream::connect(authority)
        .unwrap_or_else(|e| panic!("cannot connect to {authority}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_owned())
}

/// `drctl log ID --json`, one event a line.
fn journal(state: &Path, incident: &str) -> Vec<Value> {
    let out = Test::new()
        .arg("--state-dir")
        .arg(state)
        .args(["log", incident, "--json"])
        .run();
    out.success();
    out.stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a journal line of {incident} is not JSON: {e}\n{line}"))
        })
        .collect()
}

/// The step ids of a shipped runbook, as written.
fn runbook_steps(name: &str) -> Vec<String> {
    let path = repo().join("runbooks").join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_saphyr::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
    doc["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("{} has no steps", path.display()))
        .iter()
        .map(|s| s["id"].as_str().expect("a step id").to_owned())
        .collect()
}

/// One run of a journal: its `run_started`, the events up to its
/// `run_finished`, and that.
struct Run<'a> {
    started: &'a Value,
    events: Vec<&'a Value>,
    finished: &'a Value,
}

/// Checks the journal is whole (seq without gaps, runs closed, steps
/// finished as often as started) and splits it into runs.
fn runs_of<'a>(incident: &str, events: &'a [Value]) -> Vec<Run<'a>> {
    for (i, event) in events.iter().enumerate() {
        assert_eq!(
            event["seq"].as_u64(),
            Some(i as u64 + 1),
            "{incident}: seq has a gap or is out of order at line {}",
            i + 1
        );
    }
    let mut runs = Vec::new();
    let mut current: Option<(&Value, Vec<&Value>)> = None;
    for event in events {
        match (event["event"].as_str(), current.take()) {
            (Some("run_started"), None) => current = Some((event, Vec::new())),
            (Some("run_started"), Some(_)) => {
                panic!("{incident}: a run started before the previous one finished: {event}")
            }
            (Some("run_finished"), Some((started, inner))) => runs.push(Run {
                started,
                events: inner,
                finished: event,
            }),
            (_, None) => panic!("{incident}: an event outside any run: {event}"),
            (_, Some((started, mut inner))) => {
                inner.push(event);
                current = Some((started, inner));
            }
        }
    }
    assert!(
        current.is_none(),
        "{incident}: the last run has no run_finished"
    );
    for run in &runs {
        let mut open: BTreeMap<&str, i32> = BTreeMap::new();
        for event in &run.events {
            let step = event["step"].as_str().unwrap_or_default();
            match event["event"].as_str() {
                Some("step_started") => *open.entry(step).or_default() += 1,
                Some("step_finished") => {
                    let count = open.entry(step).or_default();
                    assert!(*count > 0, "{incident}: {step} finished without starting");
                    *count -= 1;
                }
                _ => {}
            }
        }
        open.retain(|_, count| *count != 0);
        assert!(
            open.is_empty(),
            "{incident}: steps started and never finished: {open:?}"
        );
    }
    runs
}

/// Every step of the runbook ran and succeeded, and the run did.
fn assert_run_complete(incident: &str, run: &Run<'_>, runbook: &str) {
    assert_eq!(
        run.started["runbook"], runbook,
        "{incident}: which runbook ran"
    );
    assert_eq!(
        run.finished["status"], "succeeded",
        "{incident}: {runbook} did not succeed: {}",
        run.finished
    );
    let planned: Vec<&str> = run.started["steps"]
        .as_array()
        .expect("run_started lists its steps")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut expected = runbook_steps(runbook);
    let mut sorted_planned: Vec<String> = planned.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    sorted_planned.sort();
    assert_eq!(
        sorted_planned, expected,
        "{incident}: the run did not plan every step of {runbook}"
    );
    for step in planned {
        let finished: Vec<&&Value> = run
            .events
            .iter()
            .filter(|e| e["event"] == "step_finished" && e["step"] == step)
            .collect();
        assert_eq!(
            finished.len(),
            1,
            "{incident}: {runbook} step {step} finished {} times",
            finished.len()
        );
        assert_eq!(
            finished[0]["status"], "succeeded",
            "{incident}: {runbook} step {step}: {}",
            finished[0]
        );
    }
}

/// The step's last `step_finished` shows the app answered `200 {"status":"ok"}`.
fn assert_healthy(incident: &str, run: &Run<'_>, step: &str) {
    let finished = run
        .events
        .iter()
        .rev()
        .find(|e| e["event"] == "step_finished" && e["step"] == step)
        .unwrap_or_else(|| panic!("{incident}: no step_finished for {step}"));
    assert_eq!(
        finished["status"], "succeeded",
        "{incident}: {step}: {finished}"
    );
    assert_eq!(
        finished["result"]["status"], 200,
        "{incident}: {step}: {finished}"
    );
    assert_eq!(
        finished["result"]["json"]["status"], "ok",
        "{incident}: {step}: {finished}"
    );
}

/// Pids of the live children of `parent`, with their start times.
fn children_of(parent: i32) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Some((ppid, started)) = ppid_and_start(pid)
            && ppid == parent
        {
            found.push((pid, started));
        }
    }
    found
}

/// Fields 4 (ppid) and 22 (start time) of /proc/PID/stat; `None` once it is
/// gone or a zombie.
fn ppid_and_start(pid: i32) -> Option<(i32, String)> {
    let fields = procs::live_stat_fields(pid)?;
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.clone()))
}

#[test]
fn the_drill_recovers_real_targets_and_leaves_nothing_behind() {
    let mut drill = Drill::new();
    let ran = run_drill(&drill);
    assert_eq!(ran.status, Some(0), "the drill failed\n{}", ran.report());
    eprintln!("drill.sh took {:?}", ran.elapsed);
    let dir = drill.path.clone();
    let state = dir.join("state");
    let inputs = env_inputs(&drill);
    let input = |key: &str| -> &str {
        inputs
            .get(key)
            .unwrap_or_else(|| panic!("env.yaml has no {key}"))
    };

    // Three incidents: freeze and db-restore share the first.
    let mut incidents: Vec<String> = std::fs::read_dir(state.join("incidents"))
        .expect("list the incidents")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("INC-"))
        .collect();
    incidents.sort();
    assert_eq!(
        incidents.len(),
        3,
        "incidents: {incidents:?}\n{}",
        ran.report()
    );
    let expected = [
        &["freeze", "db-restore"][..],
        &["rotate-secrets"][..],
        &["failover"][..],
    ];
    for (incident, runbooks) in incidents.iter().zip(expected) {
        let events = journal(&state, incident);
        let runs = runs_of(incident, &events);
        let names: Vec<&str> = runs
            .iter()
            .filter_map(|r| r.started["runbook"].as_str())
            .collect();
        assert_eq!(names, runbooks, "{incident}: the runs of the incident");
        for (run, runbook) in runs.iter().zip(runbooks) {
            assert_run_complete(incident, run, runbook);
            match *runbook {
                "db-restore" => assert_healthy(incident, run, "health"),
                "failover" => {
                    assert_healthy(incident, run, "health");
                    // Its health check and its wait for writes are polls: one record each.
                    for step in ["health", "accepts-writes"] {
                        let polled: Vec<&Value> = run
                            .events
                            .iter()
                            .filter(|e| e["event"] == "step_polled" && e["step"] == step)
                            .copied()
                            .collect();
                        assert!(
                            polled.len() == 1 && polled[0]["met"] == true,
                            "{incident}: {step} polled: {polled:?}"
                        );
                    }
                }
                "rotate-secrets" => assert_healthy(incident, run, "app-healthy"),
                _ => {}
            }
        }
        assert!(
            dir.join("reports").join(format!("{incident}.md")).is_file(),
            "no post-mortem report for {incident}"
        );
        let html = std::fs::read_to_string(dir.join("reports").join(format!("{incident}.html")))
            .expect("an HTML post-mortem");
        assert!(
            html.contains("<svg") && !html.contains("<script"),
            "{incident}"
        );
    }
    // db-restore's post-mortem features its row count and its status-page updates.
    let restore_report =
        std::fs::read_to_string(dir.join("reports").join(format!("{}.md", incidents[0])))
            .expect("report");
    for expected in [
        "| `verify-rows` → `orders` | `100` |",
        "| `status-restoring` | succeeded |",
        "| `status-resolved` | succeeded |",
        "| Incident commander | On-call SRE lead |",
    ] {
        assert!(
            restore_report.contains(expected),
            "{expected:?} not in\n{restore_report}"
        );
    }

    // The restore brought back exactly the backup, and the standby, promoted,
    // still holds it.
    let backup = std::fs::read_to_string(dir.join("backup.checksum")).expect("backup.checksum");
    let restored =
        std::fs::read_to_string(dir.join("restored.checksum")).expect("restored.checksum");
    assert!(backup.starts_with("100 "), "the backup holds: {backup:?}");
    assert_eq!(
        restored, backup,
        "the restored data differs from the backup"
    );
    let primary = input("standby_url");
    let now = psql(primary, ORDERS_CHECKSUM)
        .unwrap_or_else(|e| panic!("cannot query the new primary: {e}"));
    assert_eq!(
        now,
        backup.trim(),
        "the new primary's orders differ from the backup"
    );

    // The rotated password: the app uses the new one, the old one is refused.
    let state_file = dir.join("env/app/state.json");
    let app_state: Value = serde_json::from_str(
        &std::fs::read_to_string(&state_file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", state_file.display())),
    )
    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", state_file.display()));
    let new_url = app_state["database_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no database_url in the app's state: {app_state}"));
    assert_eq!(
        app_state["maintenance"], false,
        "the app is still in maintenance"
    );
    assert_eq!(
        url_target(new_url),
        url_target(primary),
        "the app does not use the promoted standby"
    );
    let old_password = url_password(input("app_db_url"));
    let new_password = url_password(new_url);
    assert_ne!(old_password, new_password, "the password was not rotated");
    let old_url = format!("postgres://app:{old_password}@{}", url_target(primary));
    match psql(&old_url, "SELECT 1") {
        Ok(out) => panic!("the old app password still logs in: {out}"),
        Err(e) => assert!(
            e.contains("password authentication failed"),
            "the old password failed for another reason: {e}"
        ),
    }
    assert_eq!(
        psql(new_url, "SELECT current_user").as_deref(),
        Ok("app"),
        "the new app password does not log in"
    );

    // The former standby is a primary: out of recovery, and it takes writes.
    assert_eq!(
        psql(primary, "SELECT pg_is_in_recovery()").as_deref(),
        Ok("f")
    );
    let inserted = psql(
        primary,
        "INSERT INTO orders (item) VALUES ('drill-test write') RETURNING id",
    )
    .unwrap_or_else(|e| panic!("the new primary refuses writes: {e}"));
    assert!(
        inserted.parse::<u64>().is_ok(),
        "INSERT returned {inserted:?}"
    );

    // The app answers healthy now, on the new primary.
    let (status, body) = http_get(input("app_url"), "/health");
    assert_eq!(status, 200, "GET /health: {body}");
    let health: Value = serde_json::from_str(&body).expect("/health answers JSON");
    assert_eq!(health["status"], "ok", "{body}");
    assert_eq!(health["database"], url_target(primary), "{body}");

    // No secret in drctl's files, the reports, or what the drill printed.
    let secrets = [
        ("the admin token", input("admin_token").to_owned()),
        ("the postgres password", url_password(input("primary_url"))),
        ("the old app password", old_password),
        ("the new app password", new_password),
    ];
    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("drill.sh's stdout".into(), ran.stdout.clone().into_bytes()),
        ("drill.sh's stderr".into(), ran.stderr.clone().into_bytes()),
    ];
    let files: Vec<PathBuf> = files_under(&state)
        .into_iter()
        .chain(files_under(&dir.join("reports")))
        .collect();
    assert!(files.len() > 10, "too few files to check: {files:?}");
    for file in files {
        let bytes =
            std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        places.push((file.display().to_string(), bytes));
    }
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is too short to search for");
        for (place, bytes) in &places {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{what} leaked into {place}"
            );
        }
    }

    // Down stops the app and both servers, whatever state the drill left them in.
    let needle = dir.display().to_string();
    let ours = procs::live_with_cmdline(&needle);
    assert!(
        ours.len() >= 2,
        "expected the app and the new primary to run on {needle}, found {ours:?}"
    );
    let mut watched: Vec<(i32, String)> = Vec::new();
    for &pid in &ours {
        if let Some((_, started)) = ppid_and_start(pid) {
            watched.push((pid, started));
        }
        watched.extend(children_of(pid));
    }
    let (ok, output) = drill.down();
    assert!(ok, "env.sh down failed:\n{output}");
    procs::assert_none_left(&needle, Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<i32> = watched
            .iter()
            .filter(|(pid, started)| ppid_and_start(*pid).is_some_and(|(_, now)| &now == started))
            .map(|(pid, _)| *pid)
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes of the drill still run after down: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
