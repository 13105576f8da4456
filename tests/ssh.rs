//! The `ssh:` action through the real binary and the system OpenSSH client,
//! against a real sshd on 127.0.0.1 (one for the whole test binary, see
//! `support::sshd`): running, values as data and out of every argument
//! list, dry run, `validate`, failures in words, timeouts and Ctrl-C that
//! reach the remote processes, output bounds and resume.

use std::time::Duration;

use rustix::process::Signal;

use crate::support::Test;
use crate::support::procs::{assert_none_left, live_with_cmdline};
use crate::support::sshd::Sshd;
use crate::support::state::{events, journal, only_incident, only_journal, step_output};

/// A runbook `remote` with these inputs (YAML lines at two spaces) and steps.
fn runbook(inputs: &str, steps: &str) -> String {
    format!(
        "version: 1\nname: remote\ninputs:\n  unused: {{ default: x }}\n{inputs}steps:\n{steps}"
    )
}

/// One step `id` running `run` on the test server (`extra`: more step keys).
fn step(id: &str, extra: &str, run: &str) -> String {
    format!(
        "  - id: {id}\n{extra}    ssh:\n{}      run: {}\n",
        Sshd::shared().keys(),
        serde_json::to_string(run).expect("a string")
    )
}

fn test(yaml: &str) -> Test {
    Test::new().file("runbooks/remote.yaml", yaml)
}

/// The `error` of the finished event of `step` in the only journal.
fn error_of(dir: &std::path::Path, step: &str) -> String {
    let journal = only_journal(dir);
    let finished = events(&journal, "step_finished", Some(step));
    finished
        .last()
        .and_then(|e| e["error"].as_str())
        .unwrap_or_else(|| panic!("no error for {step}: {journal:#?}"))
        .to_owned()
}

#[test]
fn a_script_runs_on_the_host_as_its_user_with_values_as_data() {
    let yaml = runbook(
        "  v: { default: \"it's $(touch PWNED) `id` \\\"q\\\" \\\\ *\" }\n  pw: { secret: true, default: hunter2-secret }\n",
        &step(
            "hello",
            "",
            "cat\nprintf '%s|' \"$(id -un)\" {{ inputs.v }} \"{{ inputs.pw }}\"\necho\nls PWNED 2>/dev/null || true",
        ),
    );
    let output = test(&yaml).args(["run", "remote"]).run();
    output.success().stderr_contains("Step hello succeeded");
    let sshd = Sshd::shared();
    // `cat` read nothing of the program; the value arrived byte for byte;
    // the secret is masked in the captured output; nothing ran.
    assert_eq!(
        step_output(output.path(), "hello", "stdout"),
        format!("{}|it's $(touch PWNED) `id` \"q\" \\ *|***|\n", sshd.user)
    );
    assert!(!output.path().join("PWNED").exists());
    let log = output
        .again()
        .args(["log", &only_incident(output.path())])
        .run();
    log.success()
        .stdout_contains(&format!(
            "Step hello started (ssh: {}@127.0.0.1:{}",
            sshd.user, sshd.port
        ))
        .stdout_not_contains("hunter2-secret");
    let report = output
        .again()
        .args(["report", &only_incident(output.path())])
        .run();
    report
        .success()
        .stdout_not_contains("hunter2-secret")
        .stdout_contains(&format!(
            "_Values written in for reading: the remote shell received them as quoted data on its stdin._\n\n```text\n{}@127.0.0.1:{}\ncat\n",
            sshd.user, sshd.port
        ));
}

#[test]
fn values_are_in_no_process_argument_list_or_environment() {
    let secret = "argv-probe-7c1e9f";
    let yaml = runbook(
        "  pw: { secret: true, required: true }\n",
        &step("wait", "", "test -n \"{{ inputs.pw }}\"; sleep 301.61"),
    );
    let running = test(&yaml)
        .file("inputs.json", format!("{{\"pw\": \"{secret}\"}}"))
        .args(["run", "remote", "--inputs", "inputs.json"])
        .timeout(Duration::from_secs(30))
        .spawn();
    // The remote `sleep` runs once the script got its value.
    let until = std::time::Instant::now() + Duration::from_secs(15);
    while live_with_cmdline("sleep 301.61").is_empty() {
        assert!(
            std::time::Instant::now() < until,
            "the remote step never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut holders = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        for file in ["cmdline", "environ"] {
            let bytes = std::fs::read(entry.path().join(file)).unwrap_or_default();
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                holders.push(format!("{} {file}", entry.path().display()));
            }
        }
    }
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130);
    assert!(holders.is_empty(), "the secret is in {holders:?}");
    assert_none_left("sleep 301.61", Duration::from_secs(10));
}

#[test]
fn the_dry_run_shows_where_and_masks_secrets_and_runs_nothing() {
    let sshd = Sshd::shared();
    let marker = sshd.scratch("dry").join("ran");
    let yaml = runbook(
        "  pw: { secret: true, default: dry-secret }\n",
        &step(
            "hello",
            "",
            &format!("touch {}\necho \"{{{{ inputs.pw }}}}\"", marker.display()),
        ),
    );
    let output = test(&yaml).args(["run", "remote", "--dry-run"]).run();
    output
        .success()
        .stdout_contains(&format!(
            "1. hello [ssh]\n      {}@127.0.0.1:{}\n      touch ",
            sshd.user, sshd.port
        ))
        .stdout_contains("with {{ inputs.pw }} = ***")
        .stdout_not_contains("dry-secret");
    assert!(!marker.exists(), "the dry run ran the script");
}

#[test]
fn validate_refuses_bad_targets_at_their_line_and_column() {
    let yaml = "version: 1\nname: bad\ninputs:\n  x: { default: a }\nsteps:\n\
        \x20 - id: opt\n    ssh:\n      host: \"-oProxyCommand=touch PWNED\"\n      run: echo\n\
        \x20 - id: space\n    ssh:\n      host: \"db 1\"\n      run: echo\n\
        \x20 - id: user\n    ssh:\n      host: db\n      user: \"-lroot\"\n      run: echo\n\
        \x20 - id: port\n    ssh:\n      host: db\n      port: 70000\n      run: echo\n\
        \x20 - id: port-text\n    ssh:\n      host: db\n      port: \"22 -oX=y\"\n      run: echo\n\
        \x20 - id: key\n    ssh:\n      host: db\n      identity_file: \"/keys/my key\"\n      run: echo\n\
        \x20 - id: code\n    ssh:\n      host: db\n      run: eval {{ inputs.x }}\n\
        \x20 - id: status\n    ssh:\n      host: db\n      run: echo\n      expect: { status: 200 }\n\
        \x20 - id: unknown\n    ssh:\n      hostname: db\n      run: echo\n\
        \x20 - id: ref\n    ssh:\n      host: \"{{ inputs.nope }}\"\n      run: echo\n";
    let output = Test::new()
        .file("runbooks/bad.yaml", yaml)
        .args(["validate"])
        .run();
    output
        .code(2)
        .stderr_contains("error: the host `-oProxyCommand=touch PWNED` starts with `-`, so ssh would read it as an option\n  --> runbooks/bad.yaml:8:13")
        .stderr_contains("error: the host `db 1` holds a space, which no host name or address holds\n  --> runbooks/bad.yaml:12:13")
        .stderr_contains("error: the user `-lroot` starts with `-`")
        .stderr_contains("--> runbooks/bad.yaml:17:13")
        .stderr_contains("error: `70000` is not a port: use a number from 1 to 65535\n  --> runbooks/bad.yaml:22:13")
        .stderr_contains("error: `22 -oX=y` is not a port")
        .stderr_contains("error: the path `/keys/my key` holds a space")
        .stderr_contains("`eval`")
        .stderr_contains("`expect.status` applies to http steps only, not ssh")
        .stderr_contains("unknown key `hostname`")
        .stderr_contains("inputs.nope");
    assert!(!output.path().join("PWNED").exists());
}

#[test]
fn a_rendered_host_that_is_an_option_is_refused_before_ssh_runs() {
    let yaml = "version: 1\nname: remote\ninputs:\n  host: { required: true }\nsteps:\n  - id: hop\n    ssh:\n      host: \"{{ inputs.host }}\"\n      run: echo hi\n";
    for host in [
        "-oProxyCommand=touch PWNED",
        "127.0.0.1 -p 1",
        "a\nb",
        "x;touch PWNED",
    ] {
        let output = test(yaml)
            .file(
                "inputs.json",
                serde_json::json!({ "host": host }).to_string(),
            )
            .args(["run", "remote", "--inputs", "inputs.json"])
            .run();
        output
            .code(1)
            .stderr_contains("the rendered `host` is refused");
        assert!(!output.path().join("PWNED").exists(), "{host:?}");
    }
}

#[test]
fn each_connection_failure_is_said_in_words() {
    let sshd = Sshd::shared();
    let scratch = sshd.scratch("failures");
    // A known_hosts without the server, one with another key for it, and a
    // key the server does not know.
    let empty = scratch.join("empty_known_hosts");
    std::fs::write(&empty, "").expect("write");
    let changed = scratch.join("changed_known_hosts");
    let stranger = scratch.join("stranger");
    if !stranger.exists() {
        let status = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&stranger)
            .status()
            .expect("ssh-keygen");
        assert!(status.success());
    }
    let other_key = std::fs::read_to_string(scratch.join("stranger.pub")).expect("read");
    let other_key: Vec<&str> = other_key.split_whitespace().take(2).collect();
    std::fs::write(
        &changed,
        format!("[127.0.0.1]:{} {}\n", sshd.port, other_key.join(" ")),
    )
    .expect("write");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a port");
    let keys = sshd.keys();
    let with = |from: &str, to: &str| keys.replace(from, to);
    let step = |id: &str, keys: String, run: &str| {
        format!("  - id: {id}\n    continue_on_error: true\n    ssh:\n{keys}      run: {run}\n")
    };
    let yaml = runbook(
        "",
        &[
            step(
                "unreachable",
                with(&format!("port: {}", sshd.port), &format!("port: {closed}")),
                "echo",
            ),
            step(
                "refused",
                with(
                    &sshd.identity.display().to_string(),
                    &stranger.display().to_string(),
                ),
                "echo",
            ),
            step(
                "unknown",
                with(
                    &sshd.known_hosts.display().to_string(),
                    &empty.display().to_string(),
                ),
                "echo",
            ),
            step(
                "changed",
                with(
                    &sshd.known_hosts.display().to_string(),
                    &changed.display().to_string(),
                ),
                "echo",
            ),
            step("exit", keys.clone(), "echo failing >&2; exit 3"),
        ]
        .concat(),
    );
    let output = test(&yaml).args(["run", "remote"]).run();
    // Each failed with `continue_on_error`: the run goes on and succeeds.
    output.success();
    let dir = output.path();
    let target = format!("{}@127.0.0.1", sshd.user);
    let cases = [
        (
            "unreachable",
            format!(
                "cannot reach {target}:{closed} (ssh: connect to host 127.0.0.1 port {closed}: Connection refused)"
            ),
        ),
        (
            "refused",
            format!("{target}:{} refused the login (", sshd.port),
        ),
        (
            "unknown",
            format!(
                "the host key of {target}:{} is not in known_hosts, so drctl did not connect",
                sshd.port
            ),
        ),
        (
            "changed",
            format!(
                "the host key of {target}:{} is not the one recorded in known_hosts",
                sshd.port
            ),
        ),
        (
            "exit",
            format!("on {target}:{}: exit code 3: failing", sshd.port),
        ),
    ];
    for (id, words) in cases {
        let error = error_of(dir, id);
        assert!(
            error.contains(&words),
            "{id}: {error:?} does not say {words:?}"
        );
    }
    // The changed host key is not replaced or added to.
    assert_eq!(
        std::fs::read_to_string(&changed)
            .expect("read")
            .lines()
            .count(),
        1
    );
}

#[test]
fn a_loop_runs_the_script_on_each_host() {
    // Two names of the test server: `{{ item }}` is the host of each iteration.
    let keys = Sshd::shared()
        .keys()
        .replace("      host: 127.0.0.1\n", "      host: \"{{ item }}\"\n");
    let yaml = runbook(
        "  hosts: { type: list, default: \"127.0.0.1,localhost\" }\n",
        &format!(
            "  - id: each\n    for_each: \"{{{{ inputs.hosts }}}}\"\n    concurrency: 2\n    ssh:\n{keys}      run: echo \"on {{{{ item }}}} as $(id -un)\"\n"
        ),
    );
    let output = test(&yaml).args(["run", "remote"]).run();
    output
        .success()
        .stderr_contains("each[0] (127.0.0.1) succeeded")
        .stderr_contains("each[1] (localhost) succeeded");
    let user = &Sshd::shared().user;
    let journal = only_journal(output.path());
    // Each iteration's output is in its own record (`step_finished` lists
    // only their scalar fields).
    let mut records = events(&journal, "iteration_finished", Some("each"));
    records.sort_by_key(|r| r["index"].as_u64());
    let said: Vec<&str> = records
        .iter()
        .map(|r| r["result"]["stdout"].as_str().expect("stdout"))
        .collect();
    assert_eq!(
        said,
        [
            format!("on 127.0.0.1 as {user}\n"),
            format!("on localhost as {user}\n")
        ]
    );
}

#[test]
fn a_timeout_stops_the_remote_processes_too() {
    let yaml = runbook(
        "",
        &step(
            "slow",
            "    timeout: 2s\n",
            "sleep 301.62 &\n( sleep 301.62 & )\nsleep 301.62",
        ),
    );
    let output = test(&yaml).args(["run", "remote"]).run();
    output.code(1).stderr_contains("timed out after 2s");
    let journal = only_journal(output.path());
    assert_eq!(
        events(&journal, "step_finished", Some("slow"))[0]["status"],
        "timed_out"
    );
    assert_none_left("sleep 301.62", Duration::from_secs(5));
}

#[test]
fn ctrl_c_stops_the_remote_processes_and_the_run_says_interrupted() {
    let yaml = runbook("", &step("slow", "", "sleep 301.63 & sleep 301.63"));
    let running = test(&yaml).args(["run", "remote"]).spawn();
    let until = std::time::Instant::now() + Duration::from_secs(15);
    while live_with_cmdline("sleep 301.63").len() < 2 {
        assert!(
            std::time::Instant::now() < until,
            "the remote step never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    running.signal(Signal::INT);
    let output = running.wait();
    output.code(130).stderr_contains("interrupted");
    assert_none_left("sleep 301.63", Duration::from_secs(10));
}

#[test]
fn the_runbook_timeout_stops_the_remote_processes() {
    let yaml = runbook("", &step("slow", "", "sleep 301.64 & sleep 301.64"))
        .replace("name: remote\n", "name: remote\ntimeout: 2s\n");
    let output = test(&yaml).args(["run", "remote"]).run();
    output.code(1);
    assert_none_left("sleep 301.64", Duration::from_secs(10));
    let journal = only_journal(output.path());
    assert_eq!(
        events(&journal, "step_finished", Some("slow"))[0]["status"],
        "interrupted",
        "{journal:#?}"
    );
}

#[test]
fn output_is_bounded_and_json_is_read() {
    let yaml = runbook(
        "",
        &[
            step(
                "big",
                "",
                "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo end >&2",
            ),
            step(
                "json",
                "    outputs:\n      ok: \"{{ result.json.ok }}\"\n",
                "echo '{\"ok\": \"yes\"}'",
            ),
        ]
        .concat(),
    );
    let output = test(&yaml).args(["run", "remote"]).run();
    output.success();
    let journal = only_journal(output.path());
    let big = &events(&journal, "step_finished", Some("big"))[0]["result"];
    assert_eq!(big["stdout_truncated"], true, "{big:#}");
    assert_eq!(big["stdout_bytes"], 3_000_001);
    assert_eq!(big["stderr"], "end\n");
    let json = &events(&journal, "step_finished", Some("json"))[0];
    assert_eq!(json["outputs"]["ok"], "yes", "{json:#}");
}

#[test]
fn resume_runs_again_only_the_failed_remote_step() {
    let sshd = Sshd::shared();
    let flag = sshd.scratch("resume").join("fixed");
    let _ = std::fs::remove_file(&flag);
    let yaml = runbook(
        "",
        &[
            step("first", "", "echo once"),
            step(
                "second",
                "    needs: [first]\n",
                &format!("test -e {}", flag.display()),
            ),
        ]
        .concat(),
    );
    let output = test(&yaml).args(["run", "remote"]).run();
    output.code(1);
    let incident = only_incident(output.path());
    assert!(error_of(output.path(), "second").contains("exit code 1"));
    std::fs::write(&flag, "").expect("write the flag");
    let resumed = output.again().args(["resume", &incident]).run();
    resumed.success();
    let events_of = journal(output.path(), &incident);
    assert_eq!(events(&events_of, "step_started", Some("first")).len(), 1);
    assert_eq!(events(&events_of, "step_started", Some("second")).len(), 2);
}
