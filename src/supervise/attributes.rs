//! What a step can change about its own supervisor from outside, being the
//! same user (`prlimit --pid $PPID`, `renice`, `taskset`, writing to
//! `/proc/$PPID/oom_score_adj`, moving it to another cgroup, …), read from
//! `/proc/self`. A supervisor serves another step only while these are what
//! they were when it started: each step starts from drctl's, as it would
//! under a supervisor of its own.
//!
//! Not covered: the I/O priority (`ionice`), which `/proc` does not show.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// What of a file counts: all of it, or the parts a step can change.
#[derive(Clone, Copy)]
enum Part {
    Whole,
    /// Of `/proc/self/status`: the CPUs and memory nodes allowed.
    Placement,
    /// Of `/proc/self/stat`: priority, nice, real-time priority and policy.
    Scheduling,
}

/// The files of `/proc/self` that hold the attributes.
const FILES: &[(&str, Part)] = &[
    ("limits", Part::Whole),
    ("oom_score_adj", Part::Whole),
    ("coredump_filter", Part::Whole),
    ("timerslack_ns", Part::Whole),
    ("cgroup", Part::Whole),
    ("autogroup", Part::Whole),
    ("personality", Part::Whole),
    ("status", Part::Placement),
    ("stat", Part::Scheduling),
];

/// A snapshot of the supervisor's attributes.
#[derive(Debug, PartialEq, Eq)]
pub struct Attributes(String);

/// The attribute files, opened once: each snapshot reads each of them
/// afresh from its start (one `pread` a file), not opening them again
/// for every step. They are close-on-exec: no step inherits them.
pub struct Probe {
    files: Vec<(Option<File>, Part)>,
    buffer: Vec<u8>,
}

impl Probe {
    pub fn open() -> Self {
        let files = FILES
            .iter()
            .map(|&(name, part)| (File::open(format!("/proc/self/{name}")).ok(), part))
            .collect();
        Self {
            files,
            buffer: vec![0; 4096],
        }
    }

    /// The attributes now. A file that cannot be read counts as empty, the
    /// same way each time.
    pub fn now(&mut self) -> Attributes {
        let mut all = String::new();
        for (file, part) in &self.files {
            let text = file
                .as_ref()
                .and_then(|f| read_whole(f, &mut self.buffer))
                .unwrap_or_default();
            match part {
                Part::Whole => all.push_str(text),
                Part::Placement => {
                    for line in text.lines().filter(|l| {
                        l.starts_with("Cpus_allowed_list:") || l.starts_with("Mems_allowed_list:")
                    }) {
                        all.push_str(line);
                        all.push('\n');
                    }
                }
                Part::Scheduling => all.push_str(&scheduling(text)),
            }
            all.push('\0');
        }
        Attributes(all)
    }
}

/// A `/proc` file from its start, in as few reads as it takes (a read
/// that does not fill the buffer has reached the end).
fn read_whole<'b>(file: &File, buffer: &'b mut Vec<u8>) -> Option<&'b str> {
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize(len * 2, 0);
        }
        let n = file.read_at(&mut buffer[len..], len as u64).ok()?;
        len += n;
        if n == 0 || len < buffer.len() {
            break;
        }
    }
    std::str::from_utf8(&buffer[..len]).ok()
}

/// Fields 18, 19, 40 and 41 of `/proc/self/stat` (after the command name,
/// which may hold spaces).
fn scheduling(stat: &str) -> String {
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

    use super::Probe;

    #[test]
    fn a_changed_limit_is_seen() {
        let mut probe = Probe::open();
        let before = probe.now();
        assert!(before.0.contains("Max open files"), "{before:?}");
        assert!(before.0.contains("Cpus_allowed_list:"), "{before:?}");
        assert_eq!(before, probe.now(), "the same attributes read twice");
        // One open file fewer (the soft limit is never 0: this process
        // has files open), then back.
        let limit = getrlimit(Resource::Nofile);
        let lower = Rlimit {
            current: limit.current.map(|n| n - 1).or(Some(1 << 20)),
            maximum: limit.maximum,
        };
        setrlimit(Resource::Nofile, lower).expect("lower the open-files limit");
        let after = probe.now();
        setrlimit(Resource::Nofile, limit).expect("restore the open-files limit");
        assert_ne!(before, after);
        assert_eq!(before, probe.now());
    }
}
