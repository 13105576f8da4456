//! What a shell step's processes become: a daemon started on purpose keeps
//! running and is recorded (journal, progress, summary, log); nothing of a
//! step outlives a `kill -9` of drctl; a missing working directory is named.
//! Each test sleeps for a distinctive duration (`sleep 320.1`) to find its own
//! processes in `/proc` while other tests run.

use std::os::unix::process::ExitStatusExt as _;
use std::time::Duration;

use rustix::process::Signal;

use super::with_runbook;
use crate::support::pg::TempCluster;
use crate::support::procs::{assert_none_left, kill_all, live_with_cmdline};
use crate::support::state::{events, only_incident, only_journal, step_output, wait_for_file};

/// Nothing of a stopped step may be left after this.
const SURVIVORS: Duration = Duration::from_secs(1);

fn one_step(run: &str) -> String {
    format!("version: 1\nname: procs\nsteps:\n  - id: work\n    shell:\n      run: {run:?}\n")
}

#[test]
fn a_step_tree_does_not_outlive_drctl_killed_with_sigkill() {
    // A plain child, one in a new session, a double fork, and a loop in a
    // new session that ignores SIGTERM.
    let script = "sleep 320.1 & setsid sleep 320.1 & ( sleep 320.1 & ) ; \
                  ( setsid bash -c 'trap \"\" TERM; while true; do sleep 320.1; done' & ) ; \
                  touch started; sleep 320.1";
    let running = with_runbook("procs", &one_step(script))
        .args(["run", "procs"])
        .spawn();
    wait_for_file(&running.path().join("started"), Duration::from_secs(10));
    // Every one of them is running before drctl dies.
    let before = std::time::Instant::now();
    while live_with_cmdline("sleep 320.1").len() < 5 {
        assert!(
            before.elapsed() < Duration::from_secs(5),
            "{:?}",
            live_with_cmdline("sleep 320.1")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    running.signal(Signal::KILL);
    let output = running.wait();
    assert_eq!(output.status.signal(), Some(9), "{}", output.report());
    assert_none_left("sleep 320.1", SURVIVORS);
    // The journal's rule takes it from there: the step is interrupted.
    let incident = only_incident(output.path());
    output
        .again()
        .args(["resume", incident.as_str()])
        .run()
        .code(3)
        .stderr_contains("step `work`");
}

#[test]
fn a_daemon_a_step_starts_keeps_running_and_is_recorded() {
    let script = "setsid sleep 320.2 >/dev/null 2>&1 < /dev/null & echo started";
    let output = with_runbook("procs", &one_step(script))
        .args(["run", "procs"])
        .run();
    // It outlives drctl, not only the step.
    std::thread::sleep(Duration::from_millis(1500));
    let alive = live_with_cmdline("sleep 320.2");
    kill_all(&alive);
    output.success();
    assert_eq!(alive.len(), 1, "{alive:?}");
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("work"));
    let left = &finished[0]["left_running"];
    assert_eq!(left[0]["pid"], alive[0], "{journal:#?}");
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{journal:#?}");
    // As it was when the step ended: `setsid` may not have exec'd `sleep` yet.
    let command = left[0]["command"].as_str().unwrap_or_default();
    assert!(command.ends_with("sleep 320.2"), "{journal:#?}");
    // The progress line and the summary say it too.
    let said = format!("left running: {command} (pid {})", alive[0]);
    assert_eq!(
        output.stderr.matches(&said).count(),
        2,
        "{}",
        output.report()
    );
    let incident = only_incident(output.path());
    output
        .again()
        .args(["log", incident.as_str()])
        .run()
        .success()
        .stdout_contains(&said);
    // A step that leaves nothing says nothing about it.
    let quiet = with_runbook("procs", &one_step("sleep 0.01"))
        .args(["run", "procs"])
        .run();
    quiet.success().stderr_not_contains("left running");
    let journal = only_journal(quiet.path());
    let finished = events(&journal, "step_finished", Some("work"));
    assert!(finished[0].get("left_running").is_none(), "{journal:#?}");
}

#[test]
fn left_running_command_lines_are_redacted() {
    let yaml = r#"
version: 1
name: procs
inputs:
  token: { secret: true }
steps:
  - id: work
    shell:
      run: "setsid sleep 320.3 {{ inputs.token }} >/dev/null 2>&1 < /dev/null &"
"#;
    let output = with_runbook("procs", yaml)
        .args(["run", "procs", "--set", "token=77.5"])
        .run();
    let alive = live_with_cmdline("sleep 320.3");
    kill_all(&alive);
    output.success().stderr_contains("sleep 320.3 *** (pid");
    assert!(!output.stderr.contains("77.5"), "{}", output.report());
    let text = std::fs::read_to_string(
        crate::support::state::state_dir(output.path())
            .join("incidents")
            .join(only_incident(output.path()))
            .join("journal.jsonl"),
    )
    .expect("read the journal");
    assert!(text.contains("sleep 320.3 ***"), "{text}");
    assert!(!text.contains("77.5"), "{text}");
}

#[test]
fn pg_ctl_start_in_a_step_leaves_postgres_running_and_recorded() {
    let pg = TempCluster::start();
    pg.stop();
    let output = with_runbook("procs", &one_step(&pg.start_command()))
        .args(["run", "procs"])
        .run();
    output.success();
    // Still up after drctl and the step's supervisor are gone.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(pg.psql("SELECT 41 + 1"), "42");
    let data = pg.data_dir().display().to_string();
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("work"));
    let left = finished[0]["left_running"]
        .as_array()
        .unwrap_or_else(|| panic!("nothing recorded left running: {journal:#?}"));
    assert_eq!(left.len(), 1, "{left:#?}");
    let command = left[0]["command"].as_str().unwrap_or_default();
    assert!(
        command.contains("postgres") && command.contains(&data),
        "{command}"
    );
    let postmaster =
        std::fs::read_to_string(pg.data_dir().join("postmaster.pid")).expect("read postmaster.pid");
    assert_eq!(
        postmaster.lines().next(),
        Some(left[0]["pid"].to_string().as_str()),
        "the recorded pid is the postmaster's"
    );
    output.stderr_contains(&format!("left running: {command}"));
    // Dropping the cluster stops the server the step started.
}

#[test]
fn a_missing_working_directory_is_named() {
    let yaml = r#"
version: 1
name: procs
steps:
  - id: work
    shell: { run: "touch ran", cwd: "{{ run.dir }}/no/such/dir" }
"#;
    let output = with_runbook("procs", yaml).args(["run", "procs"]).run();
    output
        .code(1)
        .stderr_contains("cannot run the step in `")
        .stderr_contains("/no/such/dir` (its `cwd`): the directory does not exist")
        .stderr_not_contains("cannot start");
    assert!(!output.path().join("ran").exists());
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("work"));
    let error = finished[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("/no/such/dir` (its `cwd`)"), "{error}");
}

#[test]
fn the_supervisor_subcommand_is_internal() {
    let test = crate::support::Test::new();
    let help = test.again().arg("--help").run();
    help.success().stdout_not_contains("supervise");
    for shell in ["bash", "zsh", "fish"] {
        test.again()
            .args(["completions", shell])
            .run()
            .success()
            .stdout_not_contains("supervise");
    }
    // Run by hand (stdin is not drctl's control socket), it refuses and
    // starts nothing.
    let by_hand = test.again().args(["__supervise", "--parent", "1"]).run();
    by_hand
        .code(2)
        .stderr_contains("`drctl __supervise` needs drctl's control socket on stdin")
        .stderr_contains("not by hand");
    // A step never comes on its command line: a command there is refused.
    let with_a_command = test
        .again()
        .args(["__supervise", "--parent", "1", "--", "touch", "ran"])
        .run();
    with_a_command
        .code(2)
        .stderr_contains("unexpected argument");
    assert!(!by_hand.path().join("ran").exists());
}

/// The program a step's supervisor runs as: what `/proc/$PPID/exe` names
/// for the step's shell, printed by the step.
const SUPERVISOR_EXE: &str = "readlink /proc/$PPID/exe";

#[test]
fn steps_are_supervised_by_the_small_supervisor_beside_drctl() {
    let out = with_runbook("procs", &one_step(SUPERVISOR_EXE))
        .args(["run", "procs"])
        .run();
    out.success();
    let beside = crate::support::drctl_bin().with_file_name("drctl-supervise");
    let said = crate::support::state::step_output(out.path(), "work", "stdout");
    assert_eq!(
        said.trim_end(),
        beside.to_string_lossy(),
        "{}",
        out.report()
    );
}

#[test]
fn without_the_small_supervisor_drctl_supervises_with_itself() {
    let (_alone, drctl) = crate::support::drctl_alone();
    let test = with_runbook("procs", &one_step(SUPERVISOR_EXE));
    let output = crate::support::run_binary(&drctl, test.path(), &["run", "procs"]);
    assert!(output.status.success(), "{output:?}");
    let said = crate::support::state::step_output(test.path(), "work", "stdout");
    assert_eq!(said.trim_end(), drctl.to_string_lossy());
}

#[test]
fn a_fifo_in_the_small_supervisors_place_is_passed_over() {
    // Opening a FIFO blocks until a writer comes: drctl must not wait for one.
    let (dir, drctl) = crate::support::drctl_alone();
    let fifo = dir.path().join("drctl-supervise");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let test = with_runbook("procs", &one_step(SUPERVISOR_EXE));
    let mut child = std::process::Command::new(&drctl)
        .args(["run", "procs"])
        .current_dir(test.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", test.path())
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("drctl hung on a FIFO in the supervisor's place");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let said = crate::support::state::step_output(test.path(), "work", "stdout");
    assert_eq!(said.trim_end(), drctl.to_string_lossy());
}

#[test]
fn a_small_supervisor_of_another_version_is_passed_over_for_drctl_itself() {
    // Beside drctl, a `drctl-supervise` that does not speak this drctl's
    // protocol (an older one exits at its arguments, as this one does).
    let (dir, drctl) = crate::support::drctl_alone();
    let stale = dir.path().join("drctl-supervise");
    std::fs::write(
        &stale,
        "#!/bin/sh\necho 'error: unexpected argument' >&2\nexit 2\n",
    )
    .unwrap();
    std::fs::set_permissions(&stale, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let two = format!(
        "version: 1\nname: procs\nsteps:\n  - id: work\n    shell: {{ run: '{SUPERVISOR_EXE}' }}\n  - id: next\n    needs: [work]\n    shell: {{ run: '{SUPERVISOR_EXE}' }}\n"
    );
    let test = crate::support::Test::new().file("runbooks/procs.yaml", two);
    let output = crate::support::run_binary(&drctl, test.path(), &["run", "procs"]);
    assert!(output.status.success(), "{output:?}");
    for step in ["work", "next"] {
        let said = crate::support::state::step_output(test.path(), step, "stdout");
        assert_eq!(said.trim_end(), drctl.to_string_lossy(), "{step}");
    }
}

#[test]
fn steps_do_not_get_the_shared_stores_url() {
    let out = with_runbook("procs", &one_step("echo \"${DRCTL_STORE-unset}\""))
        .env("DRCTL_STORE", "file")
        .args(["run", "procs"])
        .run();
    out.success();
    assert_eq!(
        crate::support::state::step_output(out.path(), "work", "stdout"),
        "unset\n",
        "{}",
        out.report()
    );
}

#[test]
fn the_small_supervisor_refuses_to_run_by_hand() {
    let test = crate::support::Test::new();
    let supervisor = crate::support::drctl_bin().with_file_name("drctl-supervise");
    let run = |args: &[&str]| {
        std::process::Command::new(&supervisor)
            .args(args)
            .current_dir(test.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let bare = run(&["touch", "ran"]);
    assert_eq!(bare.status.code(), Some(2), "{bare:?}");
    assert!(String::from_utf8_lossy(&bare.stderr).contains("not by hand"));
    let as_drctl = run(&["__supervise", "--parent", "1"]);
    assert_eq!(as_drctl.status.code(), Some(2), "{as_drctl:?}");
    assert!(
        String::from_utf8_lossy(&as_drctl.stderr).contains("needs drctl's control socket on stdin"),
        "{as_drctl:?}"
    );
    assert!(!test.path().join("ran").exists());
}

#[test]
fn a_stream_without_output_gets_no_file() {
    let out = with_runbook("procs", &one_step("echo said"))
        .args(["run", "procs"])
        .run();
    out.success();
    assert_eq!(
        crate::support::state::step_output(out.path(), "work", "stdout"),
        "said\n"
    );
    let files = crate::support::state::files_under(&crate::support::state::state_dir(out.path()));
    assert!(
        files.iter().any(|f| f.ends_with("output/work.stdout")),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|f| f.ends_with("output/work.stderr")),
        "{files:?}"
    );
}

/// Descriptors drctl inherited without close-on-exec (`7<file 8>>file`, as
/// a shell redirection or a CI runner leaves them) reach no step; drctl
/// itself still reads one (`--inputs /dev/fd/7`).
#[test]
fn descriptors_drctl_inherited_reach_no_step() {
    let runbook = "version: 1\nname: fds\ninputs:\n  who: { required: true }\nsteps:\n  \
                   - id: look\n    shell: { run: 'echo {{ inputs.who }}; ls /proc/self/fd' }\n  \
                   - id: after\n    needs: [look]\n    shell: { run: 'ls /proc/self/fd' }\n";
    let test = with_runbook("fds", runbook)
        .file("inputs.yaml", "who: read-through-fd-7\n")
        .args(["run", "fds", "--inputs", "/dev/fd/7"]);
    let drctl = test.command();
    let mut bash = std::process::Command::new("bash");
    bash.args([
        "-c",
        "exec 7<inputs.yaml 8>>held.log 9<inputs.yaml; exec \"$@\"",
        "bash",
    ])
    .arg(drctl.get_program())
    .args(drctl.get_args())
    .current_dir(drctl.get_current_dir().expect("the test's directory"))
    .env_clear()
    .envs(drctl.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let out = bash.output().expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = drctl.get_current_dir().unwrap();
    for step in ["look", "after"] {
        let listed = step_output(dir, step, "stdout");
        let fds: Vec<&str> = listed
            .lines()
            .filter(|l| l.parse::<u32>().is_ok())
            .collect();
        // 0-2, and the directory `ls` itself opened.
        assert_eq!(fds, ["0", "1", "2", "3"], "{step}: {listed}");
        if step == "look" {
            assert!(listed.starts_with("read-through-fd-7\n"), "{listed}");
        }
    }
}
