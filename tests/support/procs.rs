//! Finding processes by their command line in `/proc`, to prove that a step
//! stopped by drctl left nothing running. Each test uses a distinctive
//! command line (`sleep 301.5`) so that tests running in parallel do not see
//! each other's processes.

use std::path::Path;
use std::time::{Duration, Instant};

use drctl::adapter::process::ProcessSpec;

/// A step that runs `script` with `bash -euo pipefail -c` under
/// `supervisor`, bounded as the process adapter's tests need.
pub fn bash_under(script: &str, supervisor: &Path) -> ProcessSpec {
    ProcessSpec {
        program: "bash".into(),
        args: vec!["-euo".into(), "pipefail".into(), "-c".into(), script.into()],
        env: Vec::new(),
        cwd: None,
        capture_limit: 64 * 1024,
        timeout: Some(Duration::from_secs(20)),
        grace: Duration::from_secs(1),
        leak_grace: Duration::from_millis(100),
        redactor: drctl::secret::Redactor::new(),
        supervisor: supervisor.to_owned(),
        stdin: None,
    }
}

/// Pids of live (not zombie) processes whose command line, arguments joined
/// by spaces, contains `needle`.
pub fn live_with_cmdline(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline: String = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) && !is_zombie(pid) {
            found.push(pid);
        }
    }
    found
}

/// The fields of `/proc/PID/stat` after the command name (the state
/// first, then the parent's pid, …); `None` once the process is gone. The
/// name may hold spaces and parentheses: the fields follow the last `)`.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Dead and not yet reaped (`Z`), or going (`X`).
fn dying(fields: &[String]) -> bool {
    matches!(fields.first().map(String::as_str), Some("Z" | "X"))
}

fn is_zombie(pid: i32) -> bool {
    stat_fields(pid).is_some_and(|f| dying(&f))
}

/// [`stat_fields`] of a live process: `None` once it is gone or a zombie.
pub fn live_stat_fields(pid: i32) -> Option<Vec<String>> {
    stat_fields(pid).filter(|f| !dying(f))
}

/// Waits until no live process has `needle` in its command line. On
/// failure the processes are killed first, so a failing test leaves nothing
/// behind. Orphans are reparented to PID 1, which in some sandboxes reaps
/// them slowly: zombies do not count, and the wait is generous.
#[track_caller]
pub fn assert_none_left(needle: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let pids = live_with_cmdline(needle);
        if pids.is_empty() {
            return;
        }
        if start.elapsed() > limit {
            kill_all(&pids);
            panic!("processes matching {needle:?} still alive after {limit:?}: {pids:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGKILL to each pid (cleanup after a crash test that leaves a step running).
pub fn kill_all(pids: &[i32]) {
    for &pid in pids {
        if let Some(pid) = rustix::process::Pid::from_raw(pid) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}
