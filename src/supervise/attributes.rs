//! What a step can change about its own supervisor from outside, being the
//! same user (`prlimit --pid $PPID`, `renice`, `taskset`, writing to
//! `/proc/$PPID/oom_score_adj`, moving it to another cgroup, …), read from
//! `/proc/self`. A supervisor serves another step only while these are what
//! they were when it started: each step starts from drctl's, as it would
//! under a supervisor of its own.
//!
//! Not covered: the I/O priority (`ionice`), which `/proc` does not show.

use std::fs;

/// The files, or the lines and fields of them, that hold the attributes.
const FILES: &[&str] = &[
    "limits",
    "oom_score_adj",
    "coredump_filter",
    "timerslack_ns",
    "cgroup",
    "autogroup",
    "personality",
];

/// Lines of `/proc/self/status` that a step can change.
const STATUS_LINES: &[&str] = &["Cpus_allowed_list:", "Mems_allowed_list:"];

/// A snapshot of the supervisor's attributes.
#[derive(Debug, PartialEq, Eq)]
pub struct Attributes(String);

impl Attributes {
    /// The attributes now. A file that cannot be read counts as empty, the
    /// same way each time.
    pub fn now() -> Self {
        let mut all = String::new();
        for file in FILES {
            all.push_str(&fs::read_to_string(format!("/proc/self/{file}")).unwrap_or_default());
            all.push('\0');
        }
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        for line in status
            .lines()
            .filter(|l| STATUS_LINES.iter().any(|s| l.starts_with(s)))
        {
            all.push_str(line);
            all.push('\n');
        }
        all.push_str(&scheduling());
        Self(all)
    }
}

/// Priority, nice, real-time priority and policy: fields 18, 19, 40 and 41
/// of `/proc/self/stat` (after the command name, which may hold spaces).
fn scheduling() -> String {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
        return String::new();
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` begins with field 3 (the state).
    [18, 19, 40, 41]
        .iter()
        .map(|&n| fields.get(n - 3).copied().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

    use super::Attributes;

    #[test]
    fn a_changed_limit_is_seen() {
        let before = Attributes::now();
        assert_eq!(before, Attributes::now(), "the same attributes read twice");
        // One open file fewer (the soft limit is never 0: this process
        // has files open), then back.
        let limit = getrlimit(Resource::Nofile);
        let lower = Rlimit {
            current: limit.current.map(|n| n - 1).or(Some(1 << 20)),
            maximum: limit.maximum,
        };
        setrlimit(Resource::Nofile, lower).expect("lower the open-files limit");
        let after = Attributes::now();
        setrlimit(Resource::Nofile, limit).expect("restore the open-files limit");
        assert_ne!(before, after);
        assert_eq!(before, Attributes::now());
    }
}
