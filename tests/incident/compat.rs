//! A journal written by drctl before issue 11 (format 2, without
//! `action_succeeded`, `detected_at`, `incident_elapsed_ms`, notes or
//! rerun decisions) still loads: `log`, `report`, `verify`, `note` and
//! `resume` work on it. tests/fixtures/journal-v2 was written by that drctl:
//! `a` succeeded (output `id` = 7), `b` failed, `c` never ran.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::Test;
use crate::support::fixtures_dir;
use crate::support::state::{count, events, only_journal, read};

const ID: &str = "INC-20261201-001";

/// Copies a directory, private as drctl keeps its state (0700 and 0600).
fn copy_private(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    for entry in std::fs::read_dir(from).expect("read the fixture").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_private(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))
                .expect("chmod");
        }
    }
}

fn with_old_incident() -> Test {
    let test = Test::new();
    let state = test.path().join(".drctl");
    copy_private(&fixtures_dir().join("journal-v2"), &state.join("incidents"));
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    test
}

#[test]
fn a_journal_of_the_drctl_before_still_loads_and_resumes() {
    let test = with_old_incident();
    let dir = test.path().to_owned();
    let again = || test.again();
    again().args(["verify", ID]).run().success();
    again()
        .args(["log", ID])
        .run()
        .success()
        .stdout_contains("Step b failed in");
    again().args(["report", ID]).run().success();
    again()
        .args(["note", ID, "checked the disk by hand", "--operator", "erin"])
        .run()
        .success();
    std::fs::write(dir.join("fixed"), "").expect("fix");
    again()
        .args(["resume", ID, "--yes"])
        .run()
        .success()
        .stderr_contains("1 of 3 steps already done");
    assert_eq!(
        count(&dir, "a.count"),
        0,
        "a succeeded before and ran again"
    );
    assert_eq!(count(&dir, "b.count"), 1);
    assert_eq!(read(&dir, "c.out"), "7");
    let journal = only_journal(&dir);
    assert_eq!(events(&journal, "operator_note", None).len(), 1);
    again().args(["verify", ID]).run().success();
}
