//! The state directory never follows a planted link: a lock, journal,
//! torn-line file, output file, frozen runbook, incident or run directory
//! that is a symbolic link (or belongs to another user) is refused with the
//! path named, and the file it points to is left byte for byte as it was.
//! What drctl creates there is private: directories 0700, files 0600.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use super::with_runbook;
use crate::support::state::{files_under, only_incident, state_dir};
use crate::support::{Output, Test};

const ONE: &str = r#"
version: 1
name: one
steps:
  - id: a
    shell: { run: "echo run >> a.count; echo hello" }
"#;

/// Fails once, so that it can be resumed after `fixed` is created.
const FLAKY: &str = r#"
version: 1
name: flaky
steps:
  - id: a
    shell: { run: "echo run >> a.count; test -e fixed" }
"#;

/// A file outside the state directory that drctl must never touch.
struct Victim {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Victim {
    fn new(test_dir: &Path, bytes: &[u8]) -> Victim {
        let path = test_dir.join("victim.txt");
        std::fs::write(&path, bytes).expect("write the victim");
        Victim {
            path,
            bytes: bytes.to_vec(),
        }
    }

    /// Replaces `at` (under the state directory) by a link to the victim.
    fn plant(&self, at: &Path) {
        if at.is_dir() && !at.is_symlink() {
            std::fs::remove_dir_all(at).expect("remove the directory");
        } else {
            let _ = std::fs::remove_file(at);
        }
        symlink(&self.path, at).expect("plant the link");
    }

    #[track_caller]
    fn unchanged(&self) {
        let now = std::fs::read(&self.path).expect("read the victim");
        assert_eq!(
            String::from_utf8_lossy(&now),
            String::from_utf8_lossy(&self.bytes),
            "the victim was written through the link"
        );
    }
}

/// A victim directory: nothing may be created in it.
fn victim_dir(test_dir: &Path) -> PathBuf {
    let dir = test_dir.join("victim-dir");
    std::fs::create_dir_all(&dir).expect("victim dir");
    std::fs::write(dir.join("keep"), "keep").expect("victim file");
    dir
}

#[track_caller]
fn dir_unchanged(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the victim dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["keep"], "something was created through the link");
}

/// Refused: exit 1, the path named (as the state directory was given,
/// relative to the test directory), and the word for why.
#[track_caller]
fn refused(output: &Output, path: &Path, why: &str) {
    let named = path.strip_prefix(output.path()).unwrap_or(path);
    output
        .code(1)
        .stderr_contains(&named.display().to_string())
        .stderr_contains(why);
}

const LINK: &str = "symbolic link";

fn first_run(name: &str, yaml: &str) -> (Test, String) {
    let test = with_runbook(name, yaml);
    let output = test.again().args(["run", name]).run();
    assert!(output.status.code().is_some(), "{}", output.report());
    let incident = only_incident(test.path());
    (test, incident)
}

fn incident_dir(test: &Test, incident: &str) -> PathBuf {
    state_dir(test.path()).join("incidents").join(incident)
}

#[test]
fn a_linked_runbook_lock_is_refused() {
    let test = with_runbook("one", ONE);
    let locks = state_dir(test.path()).join("locks");
    std::fs::create_dir_all(&locks).expect("locks dir");
    let victim = Victim::new(test.path(), b"precious\n");
    let lock = locks.join("one.lock");
    victim.plant(&lock);
    refused(&test.again().args(["run", "one"]).run(), &lock, LINK);
    victim.unchanged();
    assert_eq!(crate::support::state::count(test.path(), "a.count"), 0);
}

#[test]
fn a_linked_incident_lock_is_refused_by_run_and_resume() {
    let (test, incident) = first_run("flaky", FLAKY);
    let victim = Victim::new(test.path(), b"precious\n");
    let lock = state_dir(test.path())
        .join("locks")
        .join(format!("incident-{incident}.lock"));
    victim.plant(&lock);
    refused(
        &test
            .again()
            .args(["run", "flaky", "--incident", &incident])
            .run(),
        &lock,
        LINK,
    );
    refused(&test.again().args(["resume", &incident]).run(), &lock, LINK);
    victim.unchanged();
    assert_eq!(crate::support::state::count(test.path(), "a.count"), 1);
}

#[test]
fn a_linked_journal_is_refused_by_every_command() {
    let (test, incident) = first_run("flaky", FLAKY);
    let journal = incident_dir(&test, &incident).join("journal.jsonl");
    // The victim holds a valid journal: following the link would append to it.
    let victim = Victim::new(test.path(), &std::fs::read(&journal).expect("journal"));
    victim.plant(&journal);
    for args in [
        vec!["run", "flaky", "--incident", &incident],
        vec!["resume", &incident],
        vec!["log", &incident],
        vec!["log", &incident, "--json"],
        vec!["report", &incident],
        vec!["verify", &incident],
    ] {
        refused(&test.again().args(&args).run(), &journal, LINK);
    }
    victim.unchanged();
}

#[test]
fn a_linked_torn_line_file_is_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let dir = incident_dir(&test, &incident);
    let journal = dir.join("journal.jsonl");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(br#"{"v":2,"seq":99,"ts":"2026"#);
    std::fs::write(&journal, &bytes).expect("tear the last line");
    let victim = Victim::new(test.path(), b"precious\n");
    let torn = dir.join("journal.jsonl.torn");
    victim.plant(&torn);
    refused(
        &test
            .again()
            .args(["run", "flaky", "--incident", &incident])
            .run(),
        &torn,
        LINK,
    );
    victim.unchanged();
    assert_eq!(
        std::fs::read(&journal).expect("journal"),
        bytes,
        "the journal is left as it was"
    );
}

#[test]
fn a_linked_journal_head_is_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let head = incident_dir(&test, &incident).join("journal.head");
    let victim = Victim::new(test.path(), &std::fs::read(&head).expect("head"));
    victim.plant(&head);
    for args in [
        vec!["run", "flaky", "--incident", &incident],
        vec!["verify", &incident],
    ] {
        refused(&test.again().args(&args).run(), &head, LINK);
    }
    victim.unchanged();
}

#[test]
fn a_linked_output_file_is_refused() {
    let test = Test::new();
    let victim = Victim::new(test.path(), b"precious\n");
    // The step itself plants the link where its output is about to be written.
    let yaml = format!(
        r#"
version: 1
name: plant
steps:
  - id: a
    shell: {{ run: "ln -s {} '{{{{ run.dir }}}}/output/a.stdout'; echo overwritten" }}
"#,
        victim.path.display()
    );
    let test = test.file("runbooks/plant.yaml", yaml);
    let output = test.again().args(["run", "plant"]).run();
    output.code(1).stderr_contains("a.stdout");
    victim.unchanged();
}

#[test]
fn a_linked_frozen_runbook_is_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let runs = incident_dir(&test, &incident).join("runs");
    let run = std::fs::read_dir(&runs)
        .expect("runs")
        .flatten()
        .next()
        .expect("one run")
        .path();
    let frozen = run.join("runbook.yaml");
    let victim = Victim::new(test.path(), FLAKY.as_bytes());
    victim.plant(&frozen);
    // Without the runbook file, resume falls back on the frozen copy.
    std::fs::remove_file(test.path().join("runbooks/flaky.yaml")).expect("remove");
    refused(
        &test.again().args(["resume", &incident]).run(),
        &frozen,
        LINK,
    );
    refused(
        &test.again().args(["verify", &incident]).run(),
        &frozen,
        LINK,
    );
    victim.unchanged();
}

#[test]
fn a_linked_incident_directory_is_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let victim = victim_dir(test.path());
    let dir = incident_dir(&test, &incident);
    std::fs::remove_dir_all(&dir).expect("remove the incident");
    symlink(&victim, &dir).expect("plant the link");
    for args in [
        vec!["run", "flaky", "--incident", &incident],
        vec!["resume", &incident],
        vec!["log", &incident],
        vec!["verify", &incident],
    ] {
        refused(&test.again().args(&args).run(), &dir, LINK);
    }
    dir_unchanged(&victim);
}

#[test]
fn a_linked_runs_directory_is_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let victim = victim_dir(test.path());
    let runs = incident_dir(&test, &incident).join("runs");
    std::fs::remove_dir_all(&runs).expect("remove the runs");
    symlink(&victim, &runs).expect("plant the link");
    let before =
        std::fs::read(incident_dir(&test, &incident).join("journal.jsonl")).expect("journal");
    refused(
        &test
            .again()
            .args(["run", "flaky", "--incident", &incident])
            .run(),
        &runs,
        LINK,
    );
    dir_unchanged(&victim);
    assert_eq!(
        std::fs::read(incident_dir(&test, &incident).join("journal.jsonl")).expect("journal"),
        before,
        "nothing was journaled"
    );
}

/// A journal (or lock) of another user is not ours to write to. Needs root
/// to give a file away; as another user the test checks what it can.
#[test]
fn files_of_another_user_are_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let journal = incident_dir(&test, &incident).join("journal.jsonl");
    let before = std::fs::read(&journal).expect("journal");
    if std::os::unix::fs::chown(&journal, Some(65534), None).is_err() {
        eprintln!("not root: cannot give the journal to another user; skipped");
        return;
    }
    refused(
        &test
            .again()
            .args(["run", "flaky", "--incident", &incident])
            .run(),
        &journal,
        "owned by uid 65534",
    );
    refused(
        &test.again().args(["log", &incident]).run(),
        &journal,
        "owned by uid 65534",
    );
    assert_eq!(std::fs::read(&journal).expect("journal"), before);
    std::os::unix::fs::chown(&journal, Some(0), None).expect("give it back");
    let lock = state_dir(test.path()).join("locks/flaky.lock");
    std::os::unix::fs::chown(&lock, Some(65534), None).expect("give the lock away");
    refused(
        &test.again().args(["run", "flaky"]).run(),
        &lock,
        "owned by uid 65534",
    );
}

#[test]
fn the_state_directory_is_private() {
    let (test, _) = first_run("one", ONE);
    let state = state_dir(test.path());
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let mut dirs = vec![state.clone()];
    let mut checked = 0;
    while let Some(dir) = dirs.pop() {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).expect("list").flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            }
        }
        checked += 1;
    }
    let files = files_under(&state);
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert!(checked >= 6, "directories checked: {checked}");
}

/// A hard link is a second name `O_NOFOLLOW` cannot see: a lock or journal
/// with more than one link is refused too.
#[test]
fn a_hard_linked_lock_or_journal_is_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let victim = Victim::new(test.path(), b"precious\n");
    let lock = state_dir(test.path()).join("locks/flaky.lock");
    std::fs::remove_file(&lock).expect("remove the lock");
    std::fs::hard_link(&victim.path, &lock).expect("hard link");
    refused(
        &test.again().args(["run", "flaky"]).run(),
        &lock,
        "2 hard links",
    );
    victim.unchanged();
    std::fs::remove_file(&lock).expect("remove the link");

    let journal = incident_dir(&test, &incident).join("journal.jsonl");
    let victim = Victim::new(test.path(), &std::fs::read(&journal).expect("journal"));
    std::fs::remove_file(&journal).expect("remove the journal");
    std::fs::hard_link(&victim.path, &journal).expect("hard link");
    refused(
        &test
            .again()
            .args(["run", "flaky", "--incident", &incident])
            .run(),
        &journal,
        "2 hard links",
    );
    victim.unchanged();
}

/// `locks/` and `incidents/` themselves, planted before the first run.
#[test]
fn a_linked_locks_or_incidents_directory_is_refused() {
    for sub in ["locks", "incidents"] {
        let test = with_runbook("one", ONE);
        let victim = victim_dir(test.path());
        let state = state_dir(test.path());
        std::fs::create_dir_all(&state).expect("state dir");
        symlink(&victim, state.join(sub)).expect("plant the link");
        refused(
            &test.again().args(["run", "one"]).run(),
            &state.join(sub),
            LINK,
        );
        let listed = test.again().args(["incidents"]).run();
        if sub == "incidents" {
            refused(&listed, &state.join(sub), LINK);
        } else {
            listed.success();
        }
        dir_unchanged(&victim);
        assert_eq!(
            crate::support::state::count(test.path(), "a.count"),
            0,
            "{sub}"
        );
    }
}

/// What can stand where a regular file is expected, besides a link.
#[derive(Debug, Clone, Copy)]
enum Special {
    Fifo,
    Socket,
    Directory,
}

impl Special {
    fn plant(self, at: &Path) {
        let _ = std::fs::remove_file(at);
        match self {
            // Opening a FIFO for reading blocks until a writer comes: none will.
            Special::Fifo => {
                let status = std::process::Command::new("mkfifo")
                    .arg(at)
                    .status()
                    .expect("mkfifo");
                assert!(status.success(), "mkfifo {}", at.display());
            }
            Special::Socket => {
                drop(std::os::unix::net::UnixListener::bind(at).expect("bind a socket"));
            }
            Special::Directory => std::fs::create_dir(at).expect("plant a directory"),
        }
    }
}

/// A FIFO, a socket or a directory at a journal, head, lock, frozen runbook
/// or its hash: every command refuses it at once, naming it, and never
/// blocks waiting for a writer that will not come.
#[test]
fn special_files_in_place_of_state_files_are_refused_at_once() {
    for special in [Special::Fifo, Special::Socket, Special::Directory] {
        let (test, incident) = first_run("flaky", FLAKY);
        let dir = incident_dir(&test, &incident);
        let run = std::fs::read_dir(dir.join("runs"))
            .expect("runs")
            .flatten()
            .next()
            .expect("one run")
            .path();
        let locks = state_dir(test.path()).join("locks");
        let resume = vec!["resume", &incident];
        let rerun = vec!["run", "flaky", "--incident", &incident];
        let readers = vec![
            vec!["log", &incident],
            vec!["log", &incident, "--json"],
            vec!["report", &incident],
            vec!["verify", &incident],
            resume.clone(),
        ];
        let cases: Vec<(PathBuf, Vec<Vec<&str>>)> = vec![
            (dir.join("journal.jsonl"), readers),
            (
                dir.join("journal.head"),
                vec![vec!["verify", &incident], rerun.clone()],
            ),
            (run.join("runbook.yaml"), vec![vec!["verify", &incident]]),
            (run.join("runbook.sha256"), vec![vec!["verify", &incident]]),
            (locks.join("flaky.lock"), vec![vec!["run", "flaky"]]),
            (
                locks.join(format!("incident-{incident}.lock")),
                vec![resume, rerun],
            ),
        ];
        for (path, commands) in cases {
            let saved = std::fs::read(&path).ok();
            special.plant(&path);
            for args in commands {
                let output = test
                    .again()
                    .args(&args)
                    .timeout(std::time::Duration::from_secs(10))
                    .run();
                refused(&output, &path, "not a regular file");
            }
            if path.is_dir() {
                std::fs::remove_dir(&path).expect("remove the directory");
            } else {
                std::fs::remove_file(&path).expect("remove the special file");
            }
            if let Some(bytes) = saved {
                std::fs::write(&path, bytes).expect("put the file back");
            }
        }
        assert_eq!(
            crate::support::state::count(test.path(), "a.count"),
            1,
            "{special:?}: nothing ran again"
        );
    }
}

/// A file or directory of the state directory that its group or others may
/// write to could hold anyone's lines: drctl never makes one (0600, 0700),
/// so finding one is refused, the state directory itself included.
#[test]
fn group_or_world_writable_state_files_are_refused() {
    let (test, incident) = first_run("flaky", FLAKY);
    let state = state_dir(test.path());
    let dir = incident_dir(&test, &incident);
    let journal = dir.join("journal.jsonl");
    let before = std::fs::read(&journal).expect("journal");
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    for (path, mode, private) in [
        (journal.clone(), 0o666, 0o600),
        (journal.clone(), 0o620, 0o600),
        (dir.join("journal.head"), 0o602, 0o600),
        (state.join("locks/flaky.lock"), 0o660, 0o600),
        (dir.clone(), 0o777, 0o700),
        (dir.join("runs"), 0o730, 0o700),
        (state.join("incidents"), 0o703, 0o700),
        (state.clone(), 0o770, 0o700),
    ] {
        set_mode(&path, mode);
        let args: &[&str] = if path.ends_with("flaky.lock") {
            &["run", "flaky"]
        } else {
            &["run", "flaky", "--incident", &incident]
        };
        refused(&test.again().args(args).run(), &path, "writable by");
        if !path.ends_with("flaky.lock") && !path.ends_with("runs") {
            refused(
                &test.again().args(["log", &incident]).run(),
                &path,
                "writable by",
            );
        }
        set_mode(&path, private);
    }
    assert_eq!(std::fs::read(&journal).expect("journal"), before);
    assert_eq!(crate::support::state::count(test.path(), "a.count"), 1);
    // Read-only for others is fine: they could read, not plant.
    set_mode(&journal, 0o644);
    test.again().args(["log", &incident]).run().success();
}

/// A dangling link at the journal is a link all the same: it does not make
/// the incident look empty to `log`, `report` or `incidents`.
#[test]
fn a_dangling_journal_link_is_refused_not_taken_for_no_journal() {
    let (test, incident) = first_run("flaky", FLAKY);
    let journal = incident_dir(&test, &incident).join("journal.jsonl");
    std::fs::remove_file(&journal).expect("remove the journal");
    symlink(test.path().join("nowhere"), &journal).expect("plant a dangling link");
    for args in [
        vec!["log", &incident],
        vec!["log", &incident, "--json"],
        vec!["report", &incident],
        vec!["resume", &incident],
        vec!["run", "flaky", "--incident", &incident],
    ] {
        refused(&test.again().args(&args).run(), &journal, LINK);
    }
    test.again()
        .args(["incidents"])
        .run()
        .success()
        .stdout_contains("unreadable");
    assert!(
        !test.path().join("nowhere").exists(),
        "nothing was created through it"
    );
}
