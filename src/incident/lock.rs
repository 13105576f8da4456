//! Locks, one per runbook and one per incident, so that two operators
//! cannot run the same thing at once.
//!
//! A lock is two things together:
//! - an `flock` on the lock file, held for the life of the [`LockGuard`]. The
//!   kernel drops it when the process dies, however it dies, so on one host it
//!   never goes stale;
//! - the file's content, a JSON [`LockInfo`] naming the holder, so that the
//!   one refused can be told who holds it, and so that a lock seen from
//!   another host (a shared state directory where `flock` may not reach) is
//!   never broken silently.
//!
//! The file is emptied when the guard is dropped, never deleted: deleting it
//! would let a waiting process lock the old inode while a new one locks a
//! fresh file at the same path.

use std::fs::{File, TryLockError};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::fsafe::{self, Access, Create};
use crate::exec::event::millis_utc;
use crate::exit_code;

/// Who holds a lock: the JSON content of the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub run_id: String,
    pub operator: String,
    pub host: String,
    pub pid: u32,
    /// Start time of `pid` (field 22 of `/proc/<pid>/stat`), to tell a
    /// reused pid from the holder; `None` where `/proc` is missing.
    pub process_start: Option<u64>,
    #[serde(with = "millis_utc")]
    pub acquired_at: DateTime<Utc>,
}

impl LockInfo {
    /// A holder description for this process.
    #[must_use]
    pub fn for_this_process(run_id: &str, operator: &str, now: DateTime<Utc>) -> LockInfo {
        let pid = std::process::id();
        LockInfo {
            run_id: run_id.to_owned(),
            operator: operator.to_owned(),
            host: hostname(),
            pid,
            process_start: process_start(pid),
            // The journal keeps milliseconds; so does the lock, so the two compare equal.
            acquired_at: now.trunc_subsecs(3),
        }
    }

    fn since(&self) -> String {
        self.acquired_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

/// A lock taken, and the stale holder it replaced, if any (journal it as
/// `lock_taken_over`).
#[derive(Debug)]
pub struct Acquired {
    pub guard: LockGuard,
    pub taken_over: Option<LockInfo>,
}

/// Holds the lock until dropped; dropping empties the file so the next run finds it free.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Releases the lock, reporting a failure to empty the file (which `Drop` cannot).
    pub fn release(self) -> Result<(), LockError> {
        self.file.set_len(0).map_err(LockError::io(&self.path))
        // Dropping `self` empties the file again (harmless) and closes it, which releases the flock.
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Emptied while still locked, so no other process can read a half-released lock.
        let _ = self.file.set_len(0);
    }
}

/// Why a lock could not be taken or removed. `name` is the lock file's stem:
/// a runbook name, or `incident-INC-…`.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{} is being run by {} on host {} (pid {}, run {}, since {})",
        describe(name), holder.operator, holder.host, holder.pid, holder.run_id, holder.since()
    )]
    Held { name: String, holder: Box<LockInfo> },
    #[error("{} is locked by another process, which did not record who it is ({})", describe(name), path.display())]
    HeldUnknown { name: String, path: PathBuf },
    #[error(
        "{} is locked by {} on another host, {} (pid {}, run {}, since {}); drctl cannot tell from here whether that run is still going",
        describe(name), holder.operator, holder.host, holder.pid, holder.run_id, holder.since()
    )]
    OtherHost { name: String, holder: Box<LockInfo> },
    #[error(
        "{} is recorded as locked by {} (pid {}, run {}, since {}) and that process is still alive, although it no longer holds the lock",
        describe(name), holder.operator, holder.pid, holder.run_id, holder.since()
    )]
    Orphaned { name: String, holder: Box<LockInfo> },
    #[error(
        "refusing to unlock {}: run {} is live on this host (pid {}, {})",
        describe(name), holder.run_id, holder.pid, holder.operator
    )]
    Live { name: String, holder: Box<LockInfo> },
    #[error("{} is not locked ({} is empty or missing)", describe(name), path.display())]
    NotLocked { name: String, path: PathBuf },
    #[error("the lock of {} belongs to run {}, not {given}", describe(name), holder.run_id)]
    WrongRun {
        name: String,
        holder: Box<LockInfo>,
        given: String,
    },
    #[error(
        "{} is locked by a session of {target} that did not record who it is",
        describe(name)
    )]
    HeldUnnamed { name: String, target: String },
    #[error(
        "refusing to unlock {}: run {} still holds it through its database session ({} on host {}, pid {})",
        describe(name), holder.run_id, holder.operator, holder.host, holder.pid
    )]
    Connected {
        name: String,
        holder: Box<LockInfo>,
        backend_pid: i32,
    },
    #[error(transparent)]
    Store(Box<super::store::StoreError>),
    #[error("cannot access the lock file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            LockError::Held { .. }
            | LockError::HeldUnknown { .. }
            | LockError::OtherHost { .. }
            | LockError::Orphaned { .. }
            | LockError::Live { .. }
            | LockError::HeldUnnamed { .. }
            | LockError::Connected { .. } => exit_code::REFUSED,
            LockError::NotLocked { .. } | LockError::WrongRun { .. } => exit_code::INVALID_INPUT,
            LockError::Io { .. } | LockError::Store(_) => exit_code::RUN_FAILED,
        }
    }

    #[must_use]
    pub fn hint(&self) -> Option<String> {
        match self {
            LockError::Held { holder, .. } | LockError::Live { holder, .. } => Some(format!(
                "wait for run {} to finish, or ask {} to stop it",
                holder.run_id, holder.operator
            )),
            LockError::HeldUnknown { path, .. } => {
                Some(format!("`fuser -v {}` shows the process", path.display()))
            }
            LockError::OtherHost { name, holder } => Some(format!(
                "check on {} that the run is over, then `drctl unlock {name} --id {}`",
                holder.host, holder.run_id
            )),
            LockError::Orphaned { name, holder } => Some(format!(
                "check `ps -p {}`; if it is not drctl, `drctl unlock {name} --id {}`",
                holder.pid, holder.run_id
            )),
            LockError::WrongRun { holder, .. } => {
                Some(format!("the lock names run {}", holder.run_id))
            }
            LockError::HeldUnnamed { .. } => Some(
                "the holder is between taking the lock and naming itself; try again in a moment"
                    .to_owned(),
            ),
            LockError::Connected { backend_pid, .. } => Some(format!(
                "a lock in the shared store frees itself when its run ends or its connection drops; to stop that run from here, `SELECT pg_terminate_backend({backend_pid})` in the store's database"
            )),
            LockError::Store(error) => error.hint(),
            LockError::NotLocked { .. } | LockError::Io { .. } => None,
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LockError {
        let path = path.to_owned();
        move |source| LockError::Io { path, source }
    }
}

fn describe(name: &str) -> String {
    match name.strip_prefix("incident-") {
        Some(id) => format!("incident {id}"),
        None => format!("runbook {name}"),
    }
}

fn lock_name(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// Takes the lock at `path` (under the state directory `root`) for `info`'s
/// run. The file is created 0600 when missing; a link or a file of another
/// user there is refused, never followed.
pub fn acquire(root: &Path, path: &Path, info: &LockInfo) -> Result<Acquired, LockError> {
    let name = lock_name(path);
    let file = fsafe::open(root, path, Access::ReadWrite, Create::IfMissing)
        .map_err(LockError::io(path))?;
    if let Some(holder) = try_lock_patiently(&file, path)? {
        return Err(match holder {
            Some(holder) => LockError::Held {
                name,
                holder: Box::new(holder),
            },
            None => LockError::HeldUnknown {
                name,
                path: path.to_owned(),
            },
        });
    }
    // We hold the flock. Whatever the file still says was left by a holder
    // that did not release it: a crash, or another host.
    let taken_over = match read_holder(&file) {
        None => None,
        Some(previous) if previous.host != hostname() => {
            return Err(LockError::OtherHost {
                name,
                holder: Box::new(previous),
            });
        }
        Some(previous)
            if previous.pid == std::process::id()
                && previous.process_start == process_start(previous.pid) =>
        {
            // An earlier guard of this very process whose file could not be emptied.
            None
        }
        Some(previous) => match pid_state(previous.pid, previous.process_start) {
            PidState::Alive => {
                return Err(LockError::Orphaned {
                    name,
                    holder: Box::new(previous),
                });
            }
            PidState::Gone | PidState::Reused => Some(previous),
        },
    };
    let mut text = serde_json::to_string(info).map_err(|e| LockError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    text.push('\n');
    file.set_len(0)
        .and_then(|()| file.write_all_at(text.as_bytes(), 0))
        .and_then(|()| file.sync_data())
        .map_err(LockError::io(path))?;
    Ok(Acquired {
        guard: LockGuard {
            file,
            path: path.to_owned(),
        },
        taken_over,
    })
}

/// Removes a lock for `drctl unlock`, only when `run_id` is the one it
/// names and no process on this host holds it.
pub fn unlock(root: &Path, path: &Path, run_id: &str) -> Result<LockInfo, LockError> {
    let name = lock_name(path);
    let not_locked = || LockError::NotLocked {
        name: name.clone(),
        path: path.to_owned(),
    };
    let file = match fsafe::open(root, path, Access::ReadWrite, Create::No) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_locked()),
        Err(e) => return Err(LockError::io(path)(e)),
    };
    if let Some(holder) = try_lock_patiently(&file, path)? {
        return Err(match holder {
            Some(holder) => LockError::Live {
                name,
                holder: Box::new(holder),
            },
            None => LockError::HeldUnknown {
                name,
                path: path.to_owned(),
            },
        });
    }
    let holder = read_holder(&file).ok_or_else(not_locked)?;
    if holder.run_id != run_id {
        return Err(LockError::WrongRun {
            name,
            holder: Box::new(holder),
            given: run_id.to_owned(),
        });
    }
    file.set_len(0)
        .and_then(|()| file.sync_data())
        .map_err(LockError::io(path))?;
    Ok(holder)
}

/// The holder recorded in a lock file, without locking it.
#[must_use]
pub fn peek(root: &Path, path: &Path) -> Option<LockInfo> {
    let file = fsafe::open(root, path, Access::Read, Create::No).ok()?;
    read_holder(&file)
}

/// The holder is a process running on this host now (same host name, same
/// pid, same start time).
#[must_use]
pub fn is_live_here(info: &LockInfo) -> bool {
    info.host == hostname() && pid_state(info.pid, info.process_start) == PidState::Alive
}

/// Read through the open lock file, never by path again: the path could
/// have been replaced since.
fn read_holder(file: &File) -> Option<LockInfo> {
    let mut text = String::new();
    let mut reader = file;
    std::io::Seek::rewind(&mut reader).ok()?;
    reader.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Takes the flock, or returns who holds it (`Some(None)` when the holder
/// does not say). An empty file while the flock is held is a moment, not a
/// state: a holder that has just locked and not yet written its name, or one
/// releasing (emptied, not yet closed), or a child process of ours between
/// `fork` and `exec` that briefly shares the descriptor. So an unnamed holder
/// is given a moment before the answer is final.
#[expect(
    clippy::option_option,
    reason = "not held / held by someone named / held by someone unnamed"
)]
fn try_lock_patiently(file: &File, path: &Path) -> Result<Option<Option<LockInfo>>, LockError> {
    for _ in 0..40 {
        match file.try_lock() {
            Ok(()) => return Ok(None),
            Err(TryLockError::WouldBlock) => {
                if let Some(holder) = read_holder(file) {
                    return Ok(Some(Some(holder)));
                }
            }
            Err(TryLockError::Error(e)) => return Err(LockError::io(path)(e)),
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Ok(Some(None))
}

/// This host's name: `DRCTL_HOST` when set (two processes with different
/// values stand in for two machines), else as `uname -n` gives it.
#[must_use]
pub fn hostname() -> String {
    if let Some(host) = std::env::var("DRCTL_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
    {
        // A host name is shown in `log` and lock messages: a newline or an
        // escape sequence in it would forge lines there.
        return host.trim().escape_debug().to_string();
    }
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Start time of a process in clock ticks since boot (`/proc/<pid>/stat`, field 22).
#[must_use]
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last `)`.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidState {
    Alive,
    Gone,
    /// The pid now belongs to a process started at another time.
    Reused,
}

fn pid_state(pid: u32, recorded_start: Option<u64>) -> PidState {
    let Some(raw) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return PidState::Gone;
    };
    match rustix::process::test_kill_process(raw) {
        Ok(()) | Err(rustix::io::Errno::PERM) => {}
        Err(_) => return PidState::Gone,
    }
    if is_zombie(pid) {
        return PidState::Gone;
    }
    match (recorded_start, process_start(pid)) {
        (Some(recorded), Some(now)) if recorded != now => PidState::Reused,
        _ => PidState::Alive,
    }
}

/// A zombie has exited; only its parent has not collected it yet.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after = stat.rfind(')').map(|i| stat[i + 1..].to_owned())?;
            after.split_whitespace().next().map(|state| state == "Z")
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Child, Command, Stdio};

    fn info(run_id: &str) -> LockInfo {
        LockInfo::for_this_process(run_id, "alice", Utc::now())
    }

    fn write_holder(path: &Path, holder: &LockInfo) {
        std::fs::write(path, serde_json::to_string(holder).unwrap()).unwrap();
    }

    fn locked_elsewhere(path: &Path) -> bool {
        let file = File::open(path).unwrap();
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
    }

    /// A real `sleep` process holding an flock on `path` (taken by the `flock`
    /// binary on the file given as stdin, which `sleep` then inherits).
    fn sleeper_holding(path: &Path) -> Option<Child> {
        let has_flock = Command::new("flock")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_flock {
            return None;
        }
        let child = Command::new("sh")
            .args(["-c", "flock -x 0 && exec sleep 30"])
            .stdin(File::open(path).unwrap())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = child;
        for _ in 0..200 {
            if locked_elsewhere(path) {
                return Some(child);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child never took the lock");
    }

    /// [`acquire`] once no copy of a descriptor that held the lock earlier
    /// in the test is left: a child another test thread forks inherits
    /// every descriptor (and so the `flock`) until it execs, which on a
    /// loaded machine can outlast the guard's drop. Such a copy makes the
    /// lock look held; a lock held for real is not expected here.
    fn acquire_settled(root: &Path, path: &Path, info: &LockInfo) -> Result<Acquired, LockError> {
        for _ in 0..80 {
            match acquire(root, path, info) {
                Err(LockError::Held { .. } | LockError::HeldUnknown { .. }) => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                other => return other,
            }
        }
        acquire(root, path, info)
    }

    #[test]
    fn free_lock_is_taken_and_emptied_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/db-restore.lock");
        let acquired = acquire(dir.path(), &path, &info("RUN-1")).unwrap();
        assert!(acquired.taken_over.is_none());
        assert_eq!(peek(dir.path(), &path).unwrap().run_id, "RUN-1");
        assert!(is_live_here(&peek(dir.path(), &path).unwrap()));
        // Another open file description of this very process is refused too.
        let error = acquire(dir.path(), &path, &info("RUN-2")).unwrap_err();
        assert!(
            matches!(&error, LockError::Held { holder, .. } if holder.run_id == "RUN-1"),
            "{error:?}"
        );
        drop(acquired);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        let again = acquire_settled(dir.path(), &path, &info("RUN-2")).unwrap();
        assert!(again.taken_over.is_none());
        again.guard.release().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn held_by_a_live_child_then_stale_once_it_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db-restore.lock");
        std::fs::write(&path, "").unwrap();
        let (mut child, holder) = match sleeper_holding(&path) {
            Some(child) => {
                let pid = child.id();
                let holder = LockInfo {
                    run_id: "RUN-20261121-233000-ab12".to_owned(),
                    operator: "bob".to_owned(),
                    host: hostname(),
                    pid,
                    process_start: process_start(pid),
                    acquired_at: DateTime::parse_from_rfc3339("2026-11-21T23:30:00Z")
                        .unwrap()
                        .to_utc(),
                };
                (child, holder)
            }
            None => return held_from_another_open_file(&path),
        };
        write_holder(&path, &holder);

        let error = acquire(dir.path(), &path, &info("RUN-mine")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "runbook db-restore is being run by bob on host {} (pid {}, run RUN-20261121-233000-ab12, since 2026-11-21 23:30:00 UTC)",
                hostname(),
                holder.pid
            )
        );
        assert_eq!(error.exit_code(), exit_code::REFUSED);
        let error = unlock(dir.path(), &path, &holder.run_id).unwrap_err();
        assert!(matches!(error, LockError::Live { .. }), "{error:?}");

        child.kill().unwrap();
        child.wait().unwrap();
        let acquired = acquire_settled(dir.path(), &path, &info("RUN-mine")).unwrap();
        assert_eq!(acquired.taken_over, Some(holder));
        assert_eq!(peek(dir.path(), &path).unwrap().run_id, "RUN-mine");
    }

    /// Without the `flock` binary: the same check with the lock held through
    /// another open file description of this process.
    fn held_from_another_open_file(path: &Path) {
        let other = File::open(path).unwrap();
        other.try_lock().unwrap();
        write_holder(path, &info("RUN-other"));
        assert!(matches!(
            acquire(path.parent().unwrap(), path, &info("RUN-mine")),
            Err(LockError::Held { .. })
        ));
    }

    #[test]
    fn dead_or_reused_pid_on_this_host_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("freeze.lock");
        let mut gone = Command::new("true").spawn().unwrap();
        let gone_pid = gone.id();
        gone.wait().unwrap();
        let mut dead = info("RUN-dead");
        dead.pid = gone_pid;
        dead.process_start = Some(1);
        write_holder(&path, &dead);
        let acquired = acquire_settled(dir.path(), &path, &info("RUN-new")).unwrap();
        assert_eq!(acquired.taken_over, Some(dead));
        drop(acquired);

        // pid 1 is alive, but not the process that took the lock.
        let mut reused = info("RUN-reused");
        reused.pid = 1;
        reused.process_start = Some(u64::MAX);
        write_holder(&path, &reused);
        let acquired = acquire_settled(dir.path(), &path, &info("RUN-new")).unwrap();
        assert_eq!(acquired.taken_over, Some(reused));
        drop(acquired);

        // pid 1 with its real start time: alive, so not broken.
        let mut alive = info("RUN-alive");
        alive.pid = 1;
        alive.process_start = process_start(1);
        write_holder(&path, &alive);
        let error = acquire_settled(dir.path(), &path, &info("RUN-new")).unwrap_err();
        assert!(matches!(error, LockError::Orphaned { .. }), "{error:?}");
        assert_eq!(
            peek(dir.path(), &path),
            Some(alive),
            "a refused acquire leaves the file alone"
        );
    }

    #[test]
    fn other_host_is_never_broken_silently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("failover.lock");
        let mut remote = info("RUN-remote");
        remote.host = "db-admin-2.example".to_owned();
        write_holder(&path, &remote);
        let error = acquire(dir.path(), &path, &info("RUN-mine")).unwrap_err();
        assert!(
            matches!(&error, LockError::OtherHost { holder, .. } if **holder == remote),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("on another host, db-admin-2.example"),
            "{error}"
        );
        assert_eq!(
            error.hint().unwrap(),
            "check on db-admin-2.example that the run is over, then `drctl unlock failover --id RUN-remote`"
        );
        assert_eq!(error.exit_code(), exit_code::REFUSED);
        assert_eq!(peek(dir.path(), &path), Some(remote));
    }

    #[test]
    fn unlock_requires_the_matching_run_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("failover.lock");
        assert!(matches!(
            unlock(dir.path(), &path, "RUN-x"),
            Err(LockError::NotLocked { .. })
        ));
        let mut remote = info("RUN-remote");
        remote.host = "db-admin-2.example".to_owned();
        write_holder(&path, &remote);
        let error = unlock(dir.path(), &path, "RUN-wrong").unwrap_err();
        assert!(matches!(error, LockError::WrongRun { .. }), "{error:?}");
        assert_eq!(error.exit_code(), exit_code::INVALID_INPUT);
        assert_eq!(unlock(dir.path(), &path, "RUN-remote").unwrap(), remote);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert!(matches!(
            unlock(dir.path(), &path, "RUN-remote"),
            Err(LockError::NotLocked { .. })
        ));
        let acquired = acquire_settled(dir.path(), &path, &info("RUN-mine")).unwrap();
        assert!(acquired.taken_over.is_none());
    }

    #[test]
    fn incident_locks_name_the_incident() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("incident-INC-20261121-001.lock");
        let _held = acquire(dir.path(), &path, &info("RUN-1")).unwrap();
        let error = acquire(dir.path(), &path, &info("RUN-2")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("incident INC-20261121-001 is being run by alice"),
            "{error}"
        );
    }

    #[test]
    fn process_start_reads_this_process() {
        let own = process_start(std::process::id());
        assert!(own.is_some());
        assert_eq!(pid_state(std::process::id(), own), PidState::Alive);
    }
}
