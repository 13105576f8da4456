//! `drctl report` of a real incident, pinned by a snapshot with times, ids,
//! durations, hosts and pids redacted; `drctl incidents` lists it.

use super::with_runbook;
use crate::support::state::only_incident;

const DRILL: &str = r#"
version: 1
name: drill
title: A drill with a bit of everything
severity: SEV-3
inputs:
  region: { default: eu-west-1 }
  token: { secret: true, env: DRILL_TOKEN }
steps:
  - id: freeze
    title: Freeze writes
    confirm: Freeze writes in {{ inputs.region }}?
    shell: { run: "echo frozen" }
    rollback:
      shell: { run: "echo thawed" }
  - id: flaky
    needs: [freeze]
    retry: { attempts: 2, delay: 10ms }
    shell:
      run: |
        echo try >> tries
        [ "$(wc -l < tries)" -ge 2 ] || { echo "not yet" >&2; exit 1; }
  - id: only-us
    needs: [freeze]
    when: "inputs.region == 'us-east-1'"
    shell: { run: "echo never" }
  - id: optional
    needs: [freeze]
    continue_on_error: true
    shell: { run: "echo 'token {{ inputs.token }} refused' >&2; exit 2" }
  - id: thaw
    needs: [flaky, only-us, optional]
    shell: { run: "echo thawed" }
"#;

#[test]
fn the_report_of_a_finished_incident() {
    let output = with_runbook("drill", DRILL)
        .env("DRCTL_OPERATOR", "alice")
        .env("DRILL_TOKEN", "drill-token-1234")
        .args(["run", "drill", "--yes", "--concurrency", "1"])
        .run();
    output.success();
    let incident = only_incident(output.path());

    let report = output.again().args(["report", incident.as_str()]).run();
    report.success().stdout_not_contains("drill-token-1234");
    let host = drctl::incident::lock::hostname();
    insta::with_settings!({
        snapshot_path => "../snapshots",
        filters => vec![
            (r"INC-\d{8}-\d{3}", "[INCIDENT]"),
            (r"R\d{8}T\d{9}Z-\d+", "[RUN]"),
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[DATETIME]"),
            (r"\d{2}:\d{2}:\d{2}", "[TIME]"),
            (r"\b\d+(\.\d+)?(ms|s|m)\b", "[DURATION]"),
            (r"pid \d+", "pid [PID]"),
            (&format!(r"\b{}\b", regex_quote(&host)), "[HOST]"),
        ],
    }, {
        insta::assert_snapshot!("report_of_a_drill", report.stdout);
    });

    let list = output.again().args(["incidents"]).run();
    list.success()
        .stdout_contains(&incident)
        .stdout_contains("drill")
        .stdout_contains("succeeded")
        .stdout_contains("alice");
}

/// `text` as a regex that matches only itself.
fn regex_quote(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !c.is_ascii_alphanumeric() && c != '_' && c != '-';
            escape.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// `report -o` onto a link (live or dangling), a FIFO or an existing file:
/// refused, nothing written through it, nothing created where it points.
#[test]
fn report_output_onto_a_link_or_a_fifo_is_refused() {
    let test = with_runbook("drill", DRILL).env("DRILL_TOKEN", "s3cret-drill");
    test.again().args(["run", "drill", "--yes"]).run().success();
    let incident = only_incident(test.path());
    let victim = test.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").expect("victim");
    std::os::unix::fs::symlink(&victim, test.path().join("live.md")).expect("link");
    std::os::unix::fs::symlink(
        test.path().join("nowhere.md"),
        test.path().join("dangling.md"),
    )
    .expect("dangling link");
    let fifo = std::process::Command::new("mkfifo")
        .arg(test.path().join("fifo.md"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    for name in ["live.md", "dangling.md", "fifo.md", "victim.txt"] {
        test.again()
            .args(["report", &incident, "-o", name])
            .timeout(std::time::Duration::from_secs(10))
            .run()
            .code(2)
            .stderr_contains(&format!("{name} already exists"));
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    assert!(!test.path().join("nowhere.md").exists());
}
