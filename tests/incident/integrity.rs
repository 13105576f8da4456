//! A journal that was changed after it was written: lines moved, repeated,
//! removed, edited or added by something that is not this drctl. Damage is
//! named by its line and nothing is appended after it; an edit breaks the
//! hash chain, which `drctl verify` reports (exit 1) and `log` and `report`
//! warn about; `resume` refuses both and never runs a step whose success is
//! recorded.

use std::path::PathBuf;

use drctl::hash::sha256_hex;

use super::{FailedLine, failed_line_run};
use crate::support::Output;
use crate::support::state::count;

impl FailedLine {
    fn write(&self, lines: &[String]) -> Vec<u8> {
        let bytes = (lines.join("\n") + "\n").into_bytes();
        std::fs::write(&self.journal, &bytes).expect("write the journal");
        bytes
    }

    fn drctl(&self, args: &[&str]) -> Output {
        self.test.again().args(args).run()
    }

    /// The index of the first line holding `needle`.
    fn find(&self, needle: &str) -> usize {
        self.lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {:#?}", self.lines))
    }

    /// The incident as `drctl incidents --format json` lists it: its status,
    /// and why it is `unreadable` or `damaged`.
    fn listed(&self) -> (String, String) {
        let out = self.drctl(&["incidents", "--format", "json"]);
        out.success();
        let list = out.stdout_json();
        let entry = list
            .as_array()
            .and_then(|all| all.iter().find(|e| e["id"] == self.incident.as_str()))
            .unwrap_or_else(|| panic!("{} not listed:\n{}", self.incident, out.report()))
            .clone();
        let why = entry["problem"].as_str().or(entry["damage"].as_str());
        (
            entry["status"].as_str().unwrap_or_default().to_owned(),
            why.unwrap_or_default().to_owned(),
        )
    }

    fn counts(&self) -> [usize; 3] {
        ["a", "b", "c"].map(|s| count(self.test.path(), &format!("{s}.count")))
    }

    /// Every command that would go on from a damaged journal refuses, names
    /// the line, and leaves the file as it is; no step runs.
    #[track_caller]
    fn refused_everywhere(&self, bytes: &[u8], line: usize, words: &str) {
        let id = self.incident.as_str();
        for args in [
            vec!["resume", id],
            vec!["resume", id, "--retry-interrupted"],
            vec!["run", "line", "--incident", id],
            vec!["log", id],
            vec!["report", id],
            vec!["verify", id],
        ] {
            self.drctl(&args)
                .code(1)
                .stderr_contains(&format!("at line {line}"))
                .stderr_contains(words);
            assert_eq!(
                std::fs::read(&self.journal).expect("journal"),
                bytes,
                "`drctl {}` changed the damaged journal",
                args.join(" ")
            );
        }
        // Listed as unreadable, with the same words.
        let (status, why) = self.listed();
        assert_eq!(status, "unreadable", "{why}");
        assert!(
            why.contains(&format!("at line {line}")) && why.contains(words),
            "{why}"
        );
        assert_eq!(std::fs::read(&self.journal).expect("journal"), bytes);
        assert_eq!(
            self.counts(),
            [1, 1, 1],
            "a step ran from a damaged journal"
        );
        // The raw lines stay available for repair.
        self.drctl(&["log", id, "--json"]).success();
    }
}

/// The issue's case: `run_started` moved below later lines once made
/// `resume` run the succeeded steps again.
#[test]
fn a_moved_first_line_is_damage_and_nothing_runs_again() {
    let run = failed_line_run();
    let mut lines = run.lines.clone();
    let first = lines.remove(0);
    lines.insert(4, first);
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, 1, "seq is 2, expected 1");
}

#[test]
fn swapped_lines_are_damage() {
    let run = failed_line_run();
    let mut lines = run.lines.clone();
    lines.swap(2, 3);
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, 3, "expected 3");
}

#[test]
fn a_repeated_line_is_damage() {
    let run = failed_line_run();
    let mut lines = run.lines.clone();
    let at = run.find(r#""event":"step_finished","step":"a""#);
    lines.insert(at + 1, lines[at].clone());
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, at + 2, &format!("expected {}", at + 2));
}

#[test]
fn a_removed_line_is_damage() {
    let run = failed_line_run();
    let mut lines = run.lines.clone();
    // Without b's start, b's success would look like nothing ran.
    let at = run.find(r#""event":"step_started","step":"b""#);
    lines.remove(at);
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, at + 1, &format!("expected {}", at + 1));
}

/// A complete last line of an event this drctl does not know is not a
/// torn write: it is damage, and nothing is appended after it. Its chain
/// and seq are right, so only the event is wrong.
#[test]
fn a_foreign_event_is_damage_not_a_torn_line() {
    let run = failed_line_run();
    let mut lines = run.lines.clone();
    let last = lines.last().expect("a last line");
    lines.push(format!(
        r#"{{"v":2,"seq":{},"ts":"2026-11-21T23:30:00.000Z","prev":"{}","event":"step_teleported","step":"a"}}"#,
        lines.len() + 1,
        sha256_hex(last.as_bytes())
    ));
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, lines.len(), "step_teleported");
}

#[test]
fn a_line_of_another_format_is_refused_clearly() {
    let run = failed_line_run();
    let mut lines = run.lines.clone();
    let last = lines.len() - 1;
    lines[last] = lines[last].replacen(r#""v":2"#, r#""v":7"#, 1);
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, lines.len(), "is in format 7");

    let mut lines = run.lines.clone();
    lines[last] = lines[last].replacen(r#""v":2,"#, "", 1);
    let bytes = run.write(&lines);
    run.refused_everywhere(&bytes, lines.len(), "no journal format");
}

/// An edit that keeps every line valid JSON in order is caught by the chain:
/// `verify` names the line after the edit, `log` and `report` still show the
/// incident with a warning, and `resume` will not trust it.
#[test]
fn an_edited_line_breaks_the_chain() {
    let run = failed_line_run();
    let id = run.incident.as_str();
    run.drctl(&["verify", id])
        .success()
        .stdout_contains(&format!("journal intact ({} lines", run.lines.len()));

    let mut lines = run.lines.clone();
    // Say c succeeded: a resume would then skip it.
    let at = run.find(r#""event":"step_finished","step":"c""#);
    lines[at] = lines[at].replace(r#""status":"failed""#, r#""status":"succeeded""#);
    assert_ne!(lines[at], run.lines[at]);
    let bytes = run.write(&lines);
    let line = at + 2;
    run.drctl(&["verify", id])
        .code(1)
        .stderr_contains(&format!("fails its hash chain at line {line}"))
        .stderr_contains(&format!("line {} hashes to", at + 1));
    for args in [["log", id], ["report", id]] {
        run.drctl(&args)
            .success()
            .stderr_contains(&format!("line {line}: the hash chain is broken"));
    }
    // The list does not show the forged status.
    let (status, why) = run.listed();
    assert_eq!(status, "damaged");
    assert!(
        why.starts_with(&format!("line {line}: the hash chain is broken")),
        "{why}"
    );
    for args in [vec!["resume", id], vec!["run", "line", "--incident", id]] {
        run.drctl(&args)
            .code(1)
            .stderr_contains(&format!("fails its hash chain at line {line}"))
            .stderr_contains("drctl verify");
    }
    assert_eq!(std::fs::read(&run.journal).expect("journal"), bytes);
    assert_eq!(run.counts(), [1, 1, 1]);
}

/// The chain starts at the run's frozen runbook: editing the first line's
/// hash, or the frozen copy, is caught too.
#[test]
fn the_chain_is_anchored_in_the_frozen_runbook() {
    let run = failed_line_run();
    let id = run.incident.as_str();
    let runs = run.journal.parent().expect("incident dir").join("runs");
    let frozen: PathBuf = std::fs::read_dir(&runs)
        .expect("runs")
        .flatten()
        .next()
        .expect("a run")
        .path()
        .join("runbook.yaml");
    let text = std::fs::read_to_string(&frozen).expect("frozen runbook");
    std::fs::write(&frozen, text.replace("test -e fixed", "true")).expect("edit the frozen copy");
    run.drctl(&["verify", id])
        .code(1)
        .stderr_contains("no longer matches its recorded hash");
    std::fs::write(&frozen, &text).expect("restore it");

    let mut lines = run.lines.clone();
    let real = sha256_hex(text.as_bytes());
    lines[0] = lines[0].replacen(&real, &"0".repeat(64), 1);
    run.write(&lines);
    run.drctl(&["verify", id])
        .code(1)
        .stderr_contains("fails its hash chain at line 1");
}

/// A crash while writing leaves a last line without its newline: not
/// damage (warned, cut off and kept aside on the next append), and `resume`
/// runs only what is not recorded as done.
#[test]
fn a_torn_last_line_is_a_crash_and_resume_goes_on() {
    let run = failed_line_run();
    let id = run.incident.as_str();
    let mut bytes = (run.lines.join("\n") + "\n").into_bytes();
    let next = format!(
        r#"{{"v":2,"seq":{},"ts":"2026-11-21T23:3"#,
        run.lines.len() + 1
    );
    bytes.extend_from_slice(next.as_bytes());
    std::fs::write(&run.journal, &bytes).expect("tear a last line");
    run.drctl(&["verify", id])
        .success()
        .stderr_contains("incomplete last line");
    run.drctl(&["log", id])
        .success()
        .stderr_contains("incomplete last line");
    run.drctl(&["resume", id]).success();
    assert_eq!(run.counts(), [1, 1, 2], "only c runs again");
    let torn = std::fs::read_to_string(run.journal.with_extension("jsonl.torn")).expect("torn");
    assert_eq!(torn, next + "\n");
    run.drctl(&["verify", id]).success();
}

/// Truncation at a line boundary leaves every remaining line valid and
/// chained; `journal.head`, which names the last synced line, shows it. So
/// does an edit of the last line, which no later line vouches for.
#[test]
fn lines_cut_from_the_end_or_an_edited_last_line_are_caught() {
    let run = failed_line_run();
    let id = run.incident.as_str();
    let total = run.lines.len();
    // Cut from `step_finished:c` on: a resume would take c for running.
    let at = run.find(r#""event":"step_finished","step":"c""#);
    let bytes = run.write(&run.lines[..at]);
    let message =
        format!("journal.head vouches for line {total}, but the journal ends at line {at}");
    for args in [
        vec!["verify", id],
        vec!["resume", id, "--retry-interrupted"],
        vec!["run", "line", "--incident", id],
    ] {
        run.drctl(&args)
            .code(1)
            .stderr_contains(&format!("fails its hash chain at line {}", at + 1))
            .stderr_contains(&message);
    }
    run.drctl(&["log", id]).success().stderr_contains(&message);
    let (status, why) = run.listed();
    assert_eq!(
        (status.as_str(), why.contains(&message)),
        ("damaged", true),
        "{why}"
    );
    assert_eq!(std::fs::read(&run.journal).expect("journal"), bytes);

    let mut lines = run.lines.clone();
    lines[total - 1] = lines[total - 1].replace(r#""status":"failed""#, r#""status":"succeeded""#);
    assert_ne!(lines[total - 1], run.lines[total - 1]);
    run.write(&lines);
    run.drctl(&["verify", id])
        .code(1)
        .stderr_contains(&format!("fails its hash chain at line {total}"));
    let (status, why) = run.listed();
    assert_eq!(status, "damaged", "{why}");
    assert!(why.contains("which journal.head recorded for it"), "{why}");
    assert_eq!(run.counts(), [1, 1, 1]);

    // Without its head a journal can still be read, with a warning.
    run.write(&run.lines);
    std::fs::remove_file(run.journal.with_file_name("journal.head")).expect("remove the head");
    run.drctl(&["verify", id])
        .success()
        .stderr_contains("journal.head is missing");
}

/// The repair the hint describes works: keep the lines before the damage,
/// remove the head, and the incident can be verified and resumed.
#[test]
fn the_documented_repair_works() {
    let run = failed_line_run();
    let id = run.incident.as_str();
    let mut lines = run.lines.clone();
    let at = run.find(r#""event":"step_started","step":"c""#);
    lines[at] = lines[at][..20].to_owned();
    run.write(&lines);
    run.drctl(&["resume", id]).code(1).stderr_contains(&format!(
        "keep its first {at} lines (`head -n {at}`) and remove journal.head"
    ));
    run.write(&run.lines[..at]);
    std::fs::remove_file(run.journal.with_file_name("journal.head")).expect("remove the head");
    run.drctl(&["verify", id])
        .success()
        .stderr_contains("journal.head is missing");
    run.drctl(&["resume", id]).success();
    assert_eq!(run.counts(), [1, 1, 2], "a and b stay done");
    run.drctl(&["verify", id]).success();
}
