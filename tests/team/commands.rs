//! The same scenario on both stores: `run` fails, `incidents`, `log`,
//! `log --json`, `verify`, `note`, `resume` finishes it, `report`, `unlock`;
//! what each prints and records is the same on the file store and in the
//! database, but for where the record is.

use super::{Backend, incident_ids, incident_of, journal, kinds, sql};
use crate::support::Test;

/// `a` succeeds; `b` fails until `fixed` exists, and prints a secret-looking line.
const LINE: &str = r#"
version: 1
name: line
inputs:
  token: { secret: true, env: LINE_TOKEN }
steps:
  - id: a
    shell:
      run: |
        echo run >> a.count
        echo a-out
        printf 'nul\0byte' >&2
  - id: b
    needs: [a]
    shell:
      run: |
        echo run >> b.count
        echo "token is {{ inputs.token }}"
        test -e fixed
"#;

#[test]
fn every_command_works_the_same_on_both_stores() {
    for backend in Backend::both("commands") {
        let test = backend.on(Test::new()
            .file("runbooks/line.yaml", LINE)
            .env("LINE_TOKEN", "tok-8812-secret")
            .env("DRCTL_OPERATOR", "alice")
            .env("DRCTL_HOST", "laptop-a"));
        let first = test.again().args(["run", "line"]).run();
        first.code(1).stderr_contains("Step b failed");
        let id = incident_of(&first);
        assert_eq!(incident_ids(&test, &backend), [id.as_str()], "{backend:?}");

        let list = test.again().args(["incidents"]).run();
        list.success()
            .stdout_contains(&id)
            .stdout_contains("failed")
            .stdout_contains("alice");

        let events = journal(&test, &backend, &id);
        assert_eq!(
            kinds(&events),
            [
                "run_started",
                "step_started",
                "step_finished",
                "step_started",
                "step_finished",
                "run_finished"
            ],
            "{backend:?}"
        );
        assert_eq!(events[0]["host"], "laptop-a");
        let text: String = events.iter().map(ToString::to_string).collect();
        assert!(text.contains("token is ***"), "{backend:?}: {text}");
        assert!(!text.contains("tok-8812-secret"), "{backend:?}");

        test.again()
            .args(["log", &id])
            .run()
            .success()
            .stdout_contains("Step b failed");
        test.again()
            .args(["verify", &id])
            .run()
            .success()
            .stdout_contains("journal intact (6 lines, hash chain unbroken, 1 run(s)");
        test.again()
            .args(["note", &id, "restarted api-2 by hand, password=hunter2x"])
            .run()
            .success()
            .stderr_contains(&format!("note added to incident {id} by alice"));

        std::fs::write(test.path().join("fixed"), "").unwrap();
        let resumed = test.again().args(["resume", &id, "--yes"]).run();
        resumed
            .success()
            .stderr_contains("1 of 2 steps already done");
        assert_eq!(crate::support::state::count(test.path(), "a.count"), 1);
        assert_eq!(crate::support::state::count(test.path(), "b.count"), 2);
        test.again()
            .args(["resume", &id])
            .run()
            .success()
            .stderr_contains("succeeded: nothing to resume");

        let events = journal(&test, &backend, &id);
        let note = events
            .iter()
            .find(|e| e["event"] == "operator_note")
            .expect("the note");
        assert_eq!(note["text"], "restarted api-2 by hand, password=***");
        assert_eq!(events.last().unwrap()["status"], "succeeded");
        let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
        test.again()
            .args(["verify", &id])
            .run()
            .success()
            .stdout_contains("2 run(s) matching their frozen runbooks");

        let report = test.again().args(["report", &id]).run();
        report
            .success()
            .stdout_contains(&format!("# Post-mortem: {id} — line"))
            .stdout_contains("restarted api-2 by hand")
            .stdout_not_contains("tok-8812-secret");
        test.again()
            .args(["report", &id, "--format", "html", "-o", "pm.html"])
            .run()
            .success();
        assert!(test.path().join("pm.html").exists());

        // Nothing holds the runbook now: unlock says so, on both stores.
        test.again()
            .args(["unlock", "line", "--id", "R1"])
            .run()
            .code(2)
            .stderr_contains("runbook line is not locked");
        test.again()
            .args(["log", "INC-20991231-001"])
            .run()
            .code(2)
            .stderr_contains("no incident `INC-20991231-001` in");
        test.again()
            .args(["note", "INC-1", "x"])
            .run()
            .code(2)
            .stderr_contains("is not an incident id");

        if let Backend::Postgres(_) = backend {
            // The database holds the frozen runbook and the outputs, and a
            // captured NUL byte did not stop anything.
            assert_eq!(sql("commands", "SELECT count(*) FROM runs"), "2");
            assert_eq!(
                sql(
                    "commands",
                    "SELECT text FROM outputs WHERE step = 'a' AND stream = 'stdout'"
                ),
                "a-out"
            );
            assert!(!test.path().join(".drctl/incidents").exists());
        }
    }
}

#[test]
fn a_changed_journal_row_is_caught_by_verify_and_refused_by_resume() {
    let url = super::team_store("tamper");
    let backend = Backend::Postgres(url);
    let test = backend.on(Test::new()
        .file("runbooks/line.yaml", LINE)
        .env("LINE_TOKEN", "t0k3n"));
    let first = test.again().args(["run", "line"]).run();
    first.code(1);
    let id = incident_of(&first);
    // The journal is append-only; only the superuser, with its trigger off, can edit it.
    let edit = "UPDATE journal SET line = replace(line, '\"status\":\"failed\"', '\"status\":\"succeeded\"') WHERE seq = 5";
    let refused = std::process::Command::new("/usr/lib/postgresql/15/bin/psql")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "team_tamper",
        ])
        .args([
            "-p",
            &crate::support::pg::TempCluster::shared().port().to_string(),
        ])
        .args(["-c", edit])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("table journal is append-only"),
        "{refused:?}"
    );
    sql(
        "tamper",
        &format!(
            "ALTER TABLE journal DISABLE TRIGGER journal_append_only; {edit}; ALTER TABLE journal ENABLE TRIGGER journal_append_only"
        ),
    );
    test.again()
        .args(["verify", &id])
        .run()
        .code(1)
        .stderr_contains("fails its hash chain at line 6");
    test.again()
        .args(["resume", &id, "--yes"])
        .run()
        .code(1)
        .stderr_contains("fails its hash chain");
}

#[test]
fn killed_in_the_middle_of_a_step_resume_asks_what_happened_on_both_stores() {
    use std::time::Duration;
    // `b` waits in its `sleep` until killed the first time; the sleep's
    // length names it, so the test can tell it was not left running.
    let yaml = r#"
version: 1
name: mid
steps:
  - id: a
    shell: { run: "echo run >> a.count" }
  - id: b
    needs: [a]
    shell: { run: "echo run >> b.count; [ -e second ] || { touch started; sleep 304.4; }" }
  - id: c
    needs: [b]
    shell: { run: "echo run >> c.count" }
"#;
    for backend in Backend::both("crash") {
        let test = backend.on(Test::new().file("runbooks/mid.yaml", yaml));
        let running = test.again().args(["run", "mid"]).spawn();
        crate::support::state::wait_for_file(&test.path().join("started"), Duration::from_secs(10));
        running.signal(rustix::process::Signal::KILL);
        let _ = running.wait();
        crate::support::procs::assert_none_left("sleep 304.4", Duration::from_secs(1));
        std::fs::write(test.path().join("second"), "").unwrap();
        let id = incident_ids(&test, &backend).remove(0);
        // `b`'s start was committed before its command ran: it is there.
        let events = journal(&test, &backend, &id);
        assert_eq!(
            kinds(&events),
            [
                "run_started",
                "step_started",
                "step_finished",
                "step_started"
            ],
            "{backend:?}"
        );
        test.again()
            .args(["resume", &id])
            .run()
            .code(3)
            .stderr_contains("--retry-interrupted");
        let resumed = test
            .again()
            .args(["resume", &id, "--retry-interrupted"])
            .run();
        resumed.success();
        let count =
            |step: &str| crate::support::state::count(test.path(), &format!("{step}.count"));
        assert_eq!(
            [count("a"), count("b"), count("c")],
            [1, 2, 1],
            "{backend:?}"
        );
        let events = journal(&test, &backend, &id);
        assert!(
            events.iter().any(|e| e["event"] == "lock_taken_over"),
            "{backend:?}: the dead run's locks were taken over"
        );
        test.again().args(["verify", &id]).run().success();
    }
}

#[test]
fn many_incidents_are_listed_alike_on_both_stores_each_from_its_own_journal() {
    let ok = "version: 1\nname: ok\nsteps:\n  - id: a\n    shell: { run: 'echo ok' }\n";
    let fails = "version: 1\nname: fails\nsteps:\n  - id: a\n    shell: { run: 'exit 3' }\n";
    let mut listings = Vec::new();
    for backend in Backend::both("listing") {
        let test = backend.on(Test::new()
            .file("runbooks/ok.yaml", ok)
            .file("runbooks/fails.yaml", fails)
            .env("DRCTL_OPERATOR", "alice"));
        for (runbook, code) in [("ok", 0), ("ok", 0), ("fails", 1), ("ok", 0), ("ok", 0)] {
            test.again().args(["run", runbook]).run().code(code);
        }
        let ids = incident_ids(&test, &backend);
        assert_eq!(ids.len(), 5, "{backend:?}: {ids:?}");
        // The failed run's step made to say it succeeded, which breaks the
        // chain at the next line; and an incident without a line yet, newer
        // than the others.
        let (failed, empty) = (&ids[2], "INC-20991231-001");
        match &backend {
            Backend::File => {
                let incidents = test.path().join(".drctl/incidents");
                let path = incidents.join(failed).join("journal.jsonl");
                let text = std::fs::read_to_string(&path).unwrap();
                let mut lines: Vec<&str> = text.lines().collect();
                let edited = lines[2].replace(r#""status":"failed""#, r#""status":"succeeded""#);
                assert_ne!(edited, lines[2]);
                lines[2] = &edited;
                std::fs::write(&path, lines.join("\n") + "\n").unwrap();
                std::fs::create_dir(incidents.join(empty)).unwrap();
            }
            Backend::Postgres(_) => {
                sql(
                    "listing",
                    &format!(
                        "ALTER TABLE journal DISABLE TRIGGER journal_append_only; \
                         UPDATE journal SET line = replace(line, '\"status\":\"failed\"', '\"status\":\"succeeded\"') \
                         WHERE incident_id = '{failed}' AND seq = 3; \
                         ALTER TABLE journal ENABLE TRIGGER journal_append_only; \
                         INSERT INTO incidents (id, host, operator) VALUES ('{empty}', 'h', 'bob')"
                    ),
                );
            }
        }
        let list = backend
            .on(test.again())
            .args(["incidents", "--format", "json"])
            .run();
        list.success();
        let entries = list.stdout_json();
        let entries = entries.as_array().expect("an array");
        assert_eq!(entries[0]["id"], empty, "{backend:?}");
        assert_eq!(entries[3]["id"], failed.as_str(), "{backend:?}");
        let damage = entries[3]["damage"].as_str().expect("the damage");
        assert!(
            damage.starts_with("line 4: the hash chain is broken"),
            "{backend:?}: {damage}"
        );
        let shown: Vec<(String, String, String, u64)> = entries
            .iter()
            .map(|e| {
                (
                    e["runbooks"].to_string(),
                    e["status"].as_str().unwrap_or_default().to_owned(),
                    e["operators"].to_string(),
                    e["runs"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        listings.push(shown);
        // In words: the damaged one is named under the table.
        let words = backend.on(test.again()).args(["incidents"]).run();
        words
            .success()
            .stdout_contains("damaged")
            .stderr_contains(&format!("{failed}: line 4: the hash chain is broken"));
    }
    let line = |runbook: &str, status: &str| {
        (
            format!(r#"["{runbook}"]"#),
            status.to_owned(),
            r#"["alice"]"#.to_owned(),
            1,
        )
    };
    let newest_first = vec![
        ("[]".to_owned(), "empty".to_owned(), "[]".to_owned(), 0),
        line("ok", "succeeded"),
        line("ok", "succeeded"),
        line("fails", "damaged"),
        line("ok", "succeeded"),
        line("ok", "succeeded"),
    ];
    assert_eq!(listings, [newest_first.clone(), newest_first]);
}
