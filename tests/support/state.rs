//! Reading what drctl left in a test directory: the state directory's
//! incidents and journals, captured output, and every file's bytes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The default state directory under a test directory.
pub fn state_dir(dir: &Path) -> PathBuf {
    dir.join(".drctl")
}

/// Ids of the incidents in the test directory's state dir, sorted.
pub fn incident_ids(dir: &Path) -> Vec<String> {
    let incidents = state_dir(dir).join("incidents");
    let Ok(entries) = std::fs::read_dir(&incidents) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("INC-"))
        .collect();
    ids.sort();
    ids
}

/// The id of the only incident; fails when there is none or several.
#[track_caller]
pub fn only_incident(dir: &Path) -> String {
    let ids = incident_ids(dir);
    assert_eq!(ids.len(), 1, "expected exactly one incident, found {ids:?}");
    ids.into_iter().next().unwrap_or_default()
}

/// The journal of an incident, one JSON value a line. A torn last line
/// (a crash while writing) is left out, as drctl itself does.
pub fn journal(dir: &Path, incident: &str) -> Vec<Value> {
    let path = state_dir(dir)
        .join("incidents")
        .join(incident)
        .join("journal.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let mut events = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(value) => events.push(value),
            Err(e) if i + 1 == lines.len() && !text.ends_with('\n') => {
                eprintln!("ignoring a torn last line: {e}");
            }
            Err(e) => panic!(
                "line {} of {} is not JSON: {e}\n{line}",
                i + 1,
                path.display()
            ),
        }
    }
    events
}

/// The journal of the only incident.
#[track_caller]
pub fn only_journal(dir: &Path) -> Vec<Value> {
    journal(dir, &only_incident(dir))
}

/// `event` names in order, with the step after a colon when there is one
/// (`step_started:b`), for compact assertions on a journal.
pub fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let kind = e["event"].as_str().unwrap_or("?");
            match e["step"].as_str() {
                Some(step) => format!("{kind}:{step}"),
                None => kind.to_owned(),
            }
        })
        .collect()
}

/// The events of one kind (and step, when given).
pub fn events<'a>(events: &'a [Value], kind: &str, step: Option<&str>) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == kind && step.is_none_or(|s| e["step"] == s))
        .collect()
}

/// The captured output of `step` (`stream` is `stdout` or `stderr`) in the
/// only run of the only incident; empty when it printed nothing (no file).
#[track_caller]
pub fn step_output(dir: &Path, step: &str, stream: &str) -> String {
    let runs = state_dir(dir)
        .join("incidents")
        .join(only_incident(dir))
        .join("runs");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", runs.display()))
        .flatten()
        .map(|e| e.path().join("output").join(format!("{step}.{stream}")))
        .filter(|p| p.exists())
        .collect();
    assert!(
        found.len() <= 1,
        "expected one {step}.{stream}, found {found:?}"
    );
    // A stream that printed nothing gets no file.
    let Some(path) = found.pop() else {
        return String::new();
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every regular file under `root`, recursively.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// Reads a file of the test directory, trimmed; empty when it does not exist.
pub fn read(dir: &Path, relative: &str) -> String {
    std::fs::read_to_string(dir.join(relative))
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// How many lines a counter file (one line per execution) holds.
pub fn count(dir: &Path, relative: &str) -> usize {
    std::fs::read_to_string(dir.join(relative)).map_or(0, |t| t.lines().count())
}

/// Polls until `path` exists; fails after `limit`.
#[track_caller]
pub fn wait_for_file(path: &Path, limit: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < limit,
            "{} did not appear within {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
