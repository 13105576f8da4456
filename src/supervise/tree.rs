//! The supervisor's process tree, read from `/proc`: its descendants, their
//! command lines, and signals sent to each of them.
//!
//! The supervisor is a child subreaper, so a descendant whose parent exits
//! (a double fork, `setsid`, `nohup … &`) is re-parented to the supervisor
//! instead of init: walking parent → children links from the supervisor
//! finds every process the step started, whatever process group or session
//! it moved to; all but one moving to the supervisor while the walk runs (its
//! parent died between two reads), which a later walk finds. Whether
//! anything is left at all is told by reaping, not by a walk (`step.rs`).

use std::collections::HashSet;
use std::fs;

use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, kill_process, pidfd_open, pidfd_send_signal};

/// The longest command line recorded for a process left running.
const COMMAND_WIDTH: usize = 200;

/// `(state, parent)` from `/proc/PID/stat`; `None` once the process is gone.
fn stat(pid: Pid) -> Option<(char, i32)> {
    let text = fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())).ok()?;
    // The command name is in parentheses and may itself hold `)` or spaces.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

/// Not a zombie (dead, waiting to be reaped) and not gone. A process whose
/// main thread exited (`pthread_exit`) shows `Z` while its other threads
/// run on: it counts as alive while it has more than that one thread.
fn alive(pid: Pid) -> bool {
    match stat(pid) {
        Some(('Z' | 'X', _)) => threads(pid) > 1,
        Some(_) => true,
        None => false,
    }
}

/// The process's thread count (`Threads:` in `/proc/PID/status`); 0 once gone.
fn threads(pid: Pid) -> usize {
    fs::read_to_string(format!("/proc/{}/status", pid.as_raw_nonzero()))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Threads:"))?;
            line["Threads:".len()..].trim().parse().ok()
        })
        .unwrap_or(0)
}

/// The children of `parent`, zombies included. Reads each thread's
/// `children` list; where the kernel lacks it (no `CONFIG_PROC_CHILDREN`),
/// scans every process for its parent.
fn children(parent: Pid) -> Vec<Pid> {
    let raw = parent.as_raw_nonzero().get();
    let mut found = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{raw}/task")) else {
        return found;
    };
    let mut listed = false;
    for task in tasks.flatten() {
        if let Ok(list) = fs::read_to_string(task.path().join("children")) {
            listed = true;
            found.extend(
                list.split_whitespace()
                    .filter_map(|p| Pid::from_raw(p.parse().ok()?)),
            );
        }
    }
    if !listed {
        found = scan_children(raw);
    }
    found.sort_unstable_by_key(|p| p.as_raw_nonzero());
    found.dedup();
    found
}

fn scan_children(parent: i32) -> Vec<Pid> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| Pid::from_raw(e.file_name().to_str()?.parse().ok()?))
        .filter(|&pid| matches!(stat(pid), Some((_, p)) if p == parent))
        .collect()
}

/// Live children of `root`: the roots of what a finished step left running.
pub fn live_children(root: Pid) -> Vec<Pid> {
    children(root).into_iter().filter(|&p| alive(p)).collect()
}

/// Every live descendant of `root`, parents before their children.
fn descendants(root: Pid) -> Vec<Pid> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for child in children(parent) {
            // A zombie's own children were already re-parented to us.
            if alive(child) && seen.insert(child.as_raw_nonzero()) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// Sends `signal` to every live descendant of `root`. A pid read from
/// `/proc` could be reused by an unrelated process before the signal goes
/// out: each process is pinned by a pidfd first, then checked to be a child
/// of `root` or of a descendant, and only then signalled through the pidfd.
pub fn signal_descendants(root: Pid, signal: Signal) {
    let tree = descendants(root);
    // Who may be a parent of a process we signal: the root and the tree.
    let parents: HashSet<i32> = std::iter::once(root)
        .chain(tree.iter().copied())
        .map(|p| p.as_raw_nonzero().get())
        .collect();
    for &pid in &tree {
        let pidfd = match pidfd_open(pid, PidfdFlags::empty()) {
            Ok(pidfd) => pidfd,
            // A kernel without pidfds (before 5.3): the plain signal.
            Err(Errno::NOSYS) => {
                let _ = kill_process(pid, signal);
                continue;
            }
            // Gone already.
            Err(_) => continue,
        };
        if stat(pid).is_some_and(|(_, parent)| parents.contains(&parent)) {
            let _ = pidfd_send_signal(&pidfd, signal);
        }
    }
}

/// A process's command line, arguments joined by spaces, cut to a width.
pub fn command_line(pid: Pid) -> String {
    let raw = fs::read(format!("/proc/{}/cmdline", pid.as_raw_nonzero())).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    joined(text.split('\0'))
}

/// Words as [`command_line`] shows them: joined by spaces, cut to a width.
pub fn joined<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.filter(|w| !w.is_empty()).collect();
    let line = words.join(" ");
    if line.chars().count() <= COMMAND_WIDTH {
        line
    } else {
        let cut: String = line.chars().take(COMMAND_WIDTH - 1).collect();
        format!("{cut}…")
    }
}
