//! A check whose expected answer is failure: `expect: { exit: [1, 2] }` for
//! shell, `expect: { status: 503 }` for http ("confirm the provider is down").

use super::{finished, refused, with_runbook};
use crate::support::http_server::TestServer;
use crate::support::state::only_incident;

fn down_check(exit: &str, script: &str) -> String {
    format!(
        "version: 1\nname: down\nsteps:\n  - id: provider-down\n    shell:\n      \
         run: {script}\n      expect: {{ exit: {exit}, that: [\"result.exit_code > 0\"] }}\n  \
         - id: after\n    needs: [provider-down]\n    shell: {{ run: echo went on }}\n"
    )
}

#[test]
fn an_expected_non_zero_exit_succeeds_and_the_run_goes_on() {
    for (exit, code) in [("[1, 2]", 2), ("1", 1)] {
        let out = with_runbook("down", &down_check(exit, &format!("exit {code}")))
            .args(["run", "down"])
            .run();
        out.success();
        let step = finished(&out, "provider-down");
        assert_eq!(step["status"], "succeeded", "{}", out.report());
        assert_eq!(step["result"]["exit_code"], code);
        assert_eq!(finished(&out, "after")["status"], "succeeded");
    }
}

#[test]
fn exit_zero_fails_a_check_that_expects_failure_and_says_what_was_expected() {
    let out = with_runbook("down", &down_check("[1, 2]", "echo still up"))
        .args(["run", "down"])
        .run();
    out.code(1);
    let step = finished(&out, "provider-down");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["error"], "exit code 0, expected 1 or 2");
    out.stderr_contains("exit code 0, expected 1 or 2");
    // An exit code outside the list fails too, naming it and the stderr line.
    let out = with_runbook("down", &down_check("[1, 2]", "echo boom >&2; exit 7"))
        .args(["run", "down"])
        .run();
    out.code(1);
    assert_eq!(
        finished(&out, "provider-down")["error"],
        "exit code 7, expected 1 or 2: boom"
    );
}

#[test]
fn the_list_form_of_shell_expect_still_works() {
    let yaml = "version: 1\nname: down\nsteps:\n  - id: check\n    shell:\n      run: echo 3\n      \
                expect: [\"result.stdout | trim == '3'\"]\n";
    with_runbook("down", yaml)
        .args(["run", "down"])
        .run()
        .success();
    // ... and a non-zero exit without `exit:` still fails.
    let yaml = "version: 1\nname: down\nsteps:\n  - id: check\n    shell:\n      run: exit 1\n      \
                expect: { that: [\"true\"] }\n";
    let out = with_runbook("down", yaml).args(["run", "down"]).run();
    out.code(1);
    assert_eq!(finished(&out, "check")["error"], "exit code 1");
}

#[test]
fn an_expected_503_confirms_the_provider_is_down() {
    let server = TestServer::start();
    let url = server.url();
    let yaml = |status: &str| {
        format!(
            "version: 1\nname: down\nsteps:\n  - id: provider-down\n    http:\n      \
             url: {url}/status/503\n      expect: {{ status: {status} }}\n"
        )
    };
    let out = with_runbook("down", &yaml("503"))
        .args(["run", "down"])
        .run();
    out.success();
    assert_eq!(finished(&out, "provider-down")["result"]["status"], 503);
    let out = with_runbook("down", &yaml("[500, 502]"))
        .args(["run", "down"])
        .run();
    out.code(1);
    out.stderr_contains("got 503");
}

#[test]
fn the_dry_run_shows_the_expected_exit_codes() {
    let out = with_runbook("down", &down_check("[1, 2]", "exit 1"))
        .args(["run", "down", "--dry-run"])
        .run();
    out.success()
        .stdout_contains("expect: exit code 1 or 2")
        .stdout_contains("expect: result.exit_code > 0");
}

#[test]
fn resume_runs_a_failed_expected_failure_check_again() {
    let test = with_runbook(
        "down",
        &down_check("[1]", "test -e gone && exit 1 || exit 0"),
    );
    let out = test.again().args(["run", "down"]).run();
    out.code(1);
    let incident = only_incident(out.path());
    std::fs::write(out.path().join("gone"), "").unwrap();
    let out = test.again().args(["resume", &incident]).run();
    out.success();
    let journal = crate::support::state::only_journal(out.path());
    let runs = crate::support::state::events(&journal, "step_finished", Some("provider-down"));
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["status"], "succeeded");
}

#[test]
fn validate_refuses_bad_expected_codes() {
    let shell = |expect: &str| {
        format!(
            "version: 1\nname: bad\nsteps:\n  - id: s\n    shell:\n      run: exit 1\n      \
             expect: {expect}\n"
        )
    };
    refused(
        &shell("{ exit: 256 }"),
        &[("7:23", "256 is not an exit code")],
    );
    refused(
        &shell("{ exit: [1, -1] }"),
        &[("7:23", "-1 is not an exit code")],
    );
    refused(
        &shell("{ exit: [] }"),
        &[("7:23", "`expect.exit` is an empty list")],
    );
    refused(
        &shell("{ exit: one }"),
        &[("7:23", "a code or a list of codes")],
    );
    refused(
        &shell("{ exit: 1.5 }"),
        &[("7:23", "a code or a list of codes")],
    );
    refused(
        &shell("{ status: 503 }"),
        &[(
            "7:25",
            "`expect.status` applies to http steps only, not shell",
        )],
    );
    refused(&shell("{ exits: [1] }"), &[("7:17", "unknown")]);
    let http = "version: 1\nname: bad\nsteps:\n  - id: h\n    http:\n      url: http://127.0.0.1:1/\n      \
                expect: { exit: 1, status: 600 }\n";
    refused(
        http,
        &[
            (
                "7:23",
                "`expect.exit` applies to shell steps only, not http",
            ),
            ("7:34", "600 is not an HTTP status code"),
        ],
    );
    let pg = "version: 1\nname: bad\nsteps:\n  - id: p\n    postgres:\n      url: postgres://x/y\n      \
              query: SELECT 1\n      expect: { exit: 0 }\n";
    refused(pg, &[("8:23", "applies to shell steps only, not postgres")]);
}
