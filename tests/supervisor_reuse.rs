//! One supervisor serves many steps: a step that ended leaving nothing
//! running hands its supervisor to the next step, and every promise holds
//! across the hand-over (each step's own environment, working directory,
//! stdin and pipes; nothing left running after `kill -9`, a timeout or
//! Ctrl-C; a supervisor holding a daemon is never reused; one killed while
//! idle is replaced). Steps print `$PPID`, their supervisor's pid, to show
//! who ran them. Each test sleeps for a distinctive duration (`sleep 324.1`)
//! to find its own processes in `/proc` while other tests run.

use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drctl::adapter::process::{Exit, Interrupt, ProcessSpec, Stdin, run};
use rustix::process::Signal;

use crate::support::Test;
use crate::support::procs::{assert_none_left, kill_all, live_stat_fields, live_with_cmdline};
use crate::support::state::{events, only_journal, step_output, wait_for_file};

/// Nothing of a stopped step may be left after this.
const SURVIVORS: Duration = Duration::from_secs(2);

/// A chain: each step needs the one before it.
fn chain(steps: &[(&str, &str)]) -> String {
    let mut yaml = String::from("version: 1\nname: chain\nsteps:\n");
    let mut previous: Option<&str> = None;
    for (id, body) in steps {
        yaml.push_str(&format!("  - id: {id}\n"));
        if let Some(previous) = previous {
            yaml.push_str(&format!("    needs: [{previous}]\n"));
        }
        yaml.push_str(body);
        previous = Some(id);
    }
    yaml
}

/// A step body running `script`.
fn shell(script: &str) -> String {
    format!("    shell:\n      run: {script:?}\n")
}

fn with_chain(steps: &[(&str, &str)]) -> Test {
    Test::new().file("runbooks/chain.yaml", chain(steps))
}

/// The first line a step printed: its supervisor's pid, in these tests.
fn first_line(dir: &Path, step: &str) -> String {
    let out = step_output(dir, step, "stdout");
    out.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn a_chain_shares_one_supervisor_until_a_step_leaves_a_daemon() {
    // Its pid, and how many descriptors it holds.
    let ppid = shell("echo $PPID; ls /proc/$PPID/fd | wc -l");
    let daemon = shell("setsid sleep 324.1 >/dev/null 2>&1 < /dev/null & echo $PPID");
    let steps = [
        ("a", ppid.as_str()),
        ("b", ppid.as_str()),
        ("c", ppid.as_str()),
        ("d", daemon.as_str()),
        ("e", ppid.as_str()),
    ];
    let output = with_chain(&steps).args(["run", "chain"]).run();
    let alive = live_with_cmdline("sleep 324.1");
    kill_all(&alive);
    output.success();
    let dir = output.path();
    let ppids = ["a", "b", "c", "d", "e"].map(|s| first_line(dir, s));
    assert!(!ppids[0].is_empty(), "{}", output.report());
    // Reuse happens: the daemon's step too got the idle supervisor.
    assert!(
        ppids[1..4].iter().all(|p| *p == ppids[0]),
        "{ppids:?}\n{}",
        output.report()
    );
    // It keeps no descriptor of an earlier step.
    let fds: Vec<String> = ["a", "b", "c"]
        .map(|s| step_output(dir, s, "stdout"))
        .into_iter()
        .collect();
    assert!(fds.iter().all(|f| *f == fds[0]), "{fds:?}");
    // A supervisor holding a daemon is not reused.
    assert_ne!(ppids[4], ppids[3], "{}", output.report());
    // And the daemon is reported left running, as always.
    assert_eq!(alive.len(), 1, "{alive:?}");
    let journal = only_journal(dir);
    let finished = events(&journal, "step_finished", Some("d"));
    assert_eq!(
        finished[0]["left_running"][0]["pid"], alive[0],
        "{journal:#?}"
    );
    for step in ["a", "b", "c", "e"] {
        let finished = events(&journal, "step_finished", Some(step));
        assert!(finished[0].get("left_running").is_none(), "{journal:#?}");
    }
}

#[test]
fn each_step_gets_its_own_environment_working_directory_and_stdin() {
    // The supervisor's command line and environment show nothing of a
    // step: neither its script nor its environment (which may hold secrets).
    let first = "echo $PPID; echo \"A=$A\"; \
                 tr '\\0' ' ' < /proc/$PPID/cmdline; echo; \
                 if tr '\\0' '\\n' < /proc/$PPID/environ | grep -q hush-324; then echo env-leaked; fi";
    let first = format!("{}      env: {{A: x, TOKEN: hush-324}}\n", shell(first));
    let second = format!(
        "{}      cwd: sub\n",
        shell(
            "echo $PPID; echo \"A=${A-unset} TOKEN=${TOKEN-unset}\"; pwd; readlink /proc/self/fd/0"
        )
    );
    let third = shell("echo $PPID; pwd; env | grep -c '^A=' || true");
    let steps = [
        ("first", first.as_str()),
        ("second", second.as_str()),
        ("third", third.as_str()),
    ];
    let output = with_chain(&steps).dir("sub").args(["run", "chain"]).run();
    output.success();
    let dir = output.path();
    let lines = |step| -> Vec<String> {
        step_output(dir, step, "stdout")
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let (first, second, third) = (lines("first"), lines("second"), lines("third"));
    assert_eq!(first[1], "A=x", "{first:?}");
    let cmdline = &first[2];
    assert!(cmdline.contains("__supervise --parent"), "{cmdline}");
    for word in ["bash", "PPID", "hush-324", "echo"] {
        assert!(!cmdline.contains(word), "{cmdline}");
    }
    assert!(!first.iter().any(|l| l == "env-leaked"), "{first:?}");
    // The same supervisor, and nothing of the first step's environment.
    assert_eq!(second[0], first[0], "{second:?}");
    assert_eq!(second[1], "A=unset TOKEN=unset", "{second:?}");
    let sub = std::fs::canonicalize(dir.join("sub")).unwrap();
    assert_eq!(second[2], sub.to_string_lossy(), "{second:?}");
    assert_eq!(second[3], "/dev/null", "{second:?}");
    // The working directory was the second step's alone.
    assert_eq!(third[0], first[0], "{third:?}");
    let top = std::fs::canonicalize(dir).unwrap();
    assert_eq!(third[1], top.to_string_lossy(), "{third:?}");
    assert_eq!(third[2], "0", "{third:?}");
}

/// drctl's binary under a name of this test's own, as the supervisor: its
/// supervisors are pooled apart from every other test's.
fn own_supervisor() -> (tempfile::TempDir, PathBuf) {
    crate::support::drctl_alone()
}

fn bash(script: &str, supervisor: &Path) -> ProcessSpec {
    crate::support::procs::bash_under(script, supervisor)
}

async fn stdout_of(spec: &ProcessSpec) -> String {
    let (_tx, rx) = tokio::sync::watch::channel(Interrupt::None);
    let outcome = run(spec, rx).await.unwrap();
    assert_eq!(outcome.exit, Exit::Code(0), "{outcome:?}");
    outcome.stdout.text
}

#[tokio::test]
async fn each_step_reads_its_own_stdin_on_a_reused_supervisor() {
    let (_dir, supervisor) = own_supervisor();
    let reading = |bytes: &[u8]| ProcessSpec {
        stdin: Some(Stdin(bytes.to_vec())),
        ..bash("echo $PPID; head -c 4", &supervisor)
    };
    let one = stdout_of(&reading(b"one\n")).await;
    // More than a socket buffer holds, and bytes that are no text.
    let mut big: Vec<u8> = (0..=255u8).cycle().take(600_000).collect();
    big.push(b'\n');
    let two = stdout_of(&ProcessSpec {
        stdin: Some(Stdin(big.clone())),
        ..bash(
            &format!("echo $PPID; head -c {} | wc -c; echo end", big.len()),
            &supervisor,
        )
    })
    .await;
    let none = stdout_of(&bash("echo $PPID; readlink /proc/self/fd/0", &supervisor)).await;
    let ppid = one.lines().next().unwrap();
    assert_eq!(one, format!("{ppid}\none\n"));
    assert_eq!(two, format!("{ppid}\n{}\nend\n", big.len()));
    assert_eq!(none, format!("{ppid}\n/dev/null\n"));
}

/// Whether `pid` is gone or a zombie (this test's unreaped child).
fn dead(pid: i32) -> bool {
    live_stat_fields(pid).is_none()
}

#[tokio::test]
async fn an_idle_supervisor_killed_by_someone_is_replaced() {
    let (_dir, supervisor) = own_supervisor();
    let spec = bash("echo $PPID", &supervisor);
    let first: i32 = stdout_of(&spec).await.trim().parse().unwrap();
    let again: i32 = stdout_of(&spec).await.trim().parse().unwrap();
    assert_eq!(again, first, "the idle supervisor was not reused");
    let pid = rustix::process::Pid::from_raw(first).unwrap();
    rustix::process::kill_process(pid, Signal::KILL).unwrap();
    let killed = Instant::now();
    while !dead(first) {
        assert!(killed.elapsed() < Duration::from_secs(5), "{first} lives");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The next step is not failed: a new supervisor runs it.
    let next: i32 = stdout_of(&spec).await.trim().parse().unwrap();
    assert_ne!(next, first);
}

/// Polls the journal of the test's one incident until it holds a `kind`
/// event (of `step`).
#[track_caller]
fn wait_for_event(dir: &Path, kind: &str, step: Option<&str>) {
    let waiting = Instant::now();
    while crate::support::state::incident_ids(dir).is_empty()
        || events(&only_journal(dir), kind, step).is_empty()
    {
        assert!(waiting.elapsed() < Duration::from_secs(10), "no {kind}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Live supervisors of the drctl whose pid is `parent`.
fn supervisors_of(parent: i32) -> Vec<i32> {
    live_with_cmdline(&format!("__supervise --parent {parent}"))
}

#[test]
fn kill_9_of_drctl_leaves_no_supervisor_idle_or_busy() {
    // Two steps at once: `idle` ends once `busy` has started, leaving its
    // supervisor idle while `busy`'s runs.
    let yaml = "version: 1\nname: pair\nsteps:\n  \
                - id: busy\n    shell:\n      run: touch started; sleep 324.2\n  \
                - id: idle\n    shell:\n      run: until [ -e started ]; do sleep 0.01; done\n";
    let running = Test::new()
        .file("runbooks/pair.yaml", yaml)
        .args(["run", "pair"])
        .spawn();
    let dir = running.path().to_owned();
    wait_for_file(&dir.join("started"), Duration::from_secs(10));
    let drctl = running.pid();
    // `idle` finished: its supervisor is back in the pool before the
    // journal says so.
    wait_for_event(&dir, "step_finished", Some("idle"));
    let before = supervisors_of(drctl);
    assert_eq!(before.len(), 2, "one idle, one busy: {before:?}");
    running.signal(Signal::KILL);
    let output = running.wait();
    assert_eq!(output.status.signal(), Some(9), "{}", output.report());
    assert_none_left("sleep 324.2", SURVIVORS);
    assert_none_left(&format!("__supervise --parent {drctl}"), SURVIVORS);
}

#[test]
fn a_timeout_after_a_reused_supervisor_stops_the_tree() {
    let slow = format!(
        "    timeout: 1s\n{}",
        shell("echo $PPID; sleep 324.3 & setsid sleep 324.3 & sleep 324.3")
    );
    let ppid = shell("echo $PPID");
    let output = with_chain(&[("quick", ppid.as_str()), ("slow", slow.as_str())])
        .args(["run", "chain"])
        .run();
    output.code(1).stderr_contains("timed out after 1s");
    assert_none_left("sleep 324.3", SURVIVORS);
    let dir = output.path();
    assert_eq!(first_line(dir, "slow"), first_line(dir, "quick"));
    let journal = only_journal(dir);
    let finished = events(&journal, "step_finished", Some("slow"));
    assert_eq!(finished[0]["status"], "timed_out", "{journal:#?}");
}

#[test]
fn ctrl_c_after_a_reused_supervisor_stops_the_tree() {
    for (needle, immediate) in [("324.4", false), ("324.5", true)] {
        // Ignoring SIGTERM: only the second Ctrl-C's SIGKILL stops it in time.
        let trap = if immediate { "trap '' TERM; " } else { "" };
        let slow = shell(&format!(
            "{trap}echo $PPID; setsid sleep {needle} & touch started; sleep {needle}"
        ));
        let ppid = shell("echo $PPID");
        // `slow` starts once both others ended: it takes one of their two
        // supervisors, and the other stays idle through the Ctrl-C.
        let yaml = format!(
            "version: 1\nname: three\nsteps:\n  - id: quick\n{ppid}  - id: side\n{ppid}  \
             - id: slow\n    needs: [quick, side]\n{slow}"
        );
        let running = Test::new()
            .file("runbooks/three.yaml", yaml)
            .args(["run", "three"])
            .spawn();
        wait_for_file(&running.path().join("started"), Duration::from_secs(10));
        let drctl = running.pid();
        assert_eq!(supervisors_of(drctl).len(), 2, "one busy, one idle");
        running.signal(Signal::INT);
        if immediate {
            // Once drctl took the first (two at once would be one signal).
            wait_for_event(running.path(), "interrupt_received", None);
            running.signal(Signal::INT);
        }
        let output = running.wait();
        output.code(130);
        assert_none_left(&format!("sleep {needle}"), SURVIVORS);
        assert_none_left(&format!("__supervise --parent {drctl}"), SURVIVORS);
        let dir = output.path();
        let earlier = [first_line(dir, "quick"), first_line(dir, "side")];
        assert!(earlier.contains(&first_line(dir, "slow")), "{earlier:?}");
        let journal = only_journal(dir);
        let finished = events(&journal, "step_finished", Some("slow"));
        assert_eq!(finished[0]["status"], "interrupted", "{journal:#?}");
        let interrupts = events(&journal, "interrupt_received", None);
        assert_eq!(interrupts.len(), 1 + usize::from(immediate), "{journal:#?}");
    }
}

#[test]
fn drctl_supervising_with_itself_reuses_too() {
    // drctl alone in a directory (a hard link: its own name, no copy).
    let (_alone, drctl) = own_supervisor();
    let step = shell("echo $PPID; readlink /proc/$PPID/exe");
    let test = with_chain(&[
        ("a", step.as_str()),
        ("b", step.as_str()),
        ("c", step.as_str()),
    ]);
    let output = crate::support::run_binary(&drctl, test.path(), &["run", "chain"]);
    assert!(output.status.success(), "{output:?}");
    let said: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|s| step_output(test.path(), s, "stdout"))
        .collect();
    assert_eq!(said[1], said[0]);
    assert_eq!(said[2], said[0]);
    assert!(
        said[0].ends_with(&format!("\n{}\n", drctl.display())),
        "{said:?}"
    );
}

#[tokio::test]
async fn hostile_environment_values_and_working_directories_arrive_whole() {
    let (_dir, supervisor) = own_supervisor();
    let value = "line\nnext \"quoted\" \\back {\"json\": 1} ü \u{1} term\nkill\n";
    let spec = ProcessSpec {
        env: vec![("B".into(), value.into()), ("C".into(), String::new())],
        ..bash(
            "echo $PPID; printf %s \"$B\"; printf '[%s]' \"${C-unset}\"",
            &supervisor,
        )
    };
    let first = stdout_of(&spec).await;
    let ppid = first.lines().next().unwrap().to_owned();
    assert_eq!(first, format!("{ppid}\n{value}[]"));
    // A directory whose name is no text cannot be sent: refused, named.
    let odd = tempfile::tempdir().unwrap();
    let not_utf8 = odd
        .path()
        .join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xff"));
    std::fs::create_dir(&not_utf8).unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(Interrupt::None);
    let error = run(
        &ProcessSpec {
            cwd: Some(not_utf8.clone()),
            ..bash("touch ran", &supervisor)
        },
        rx,
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("the directory has a name that is not UTF-8"),
        "{error}"
    );
    assert!(!not_utf8.join("ran").exists());
    // The supervisor is still the same, and still serves.
    let after = stdout_of(&bash("echo $PPID", &supervisor)).await;
    assert_eq!(after.trim(), ppid);
}

#[tokio::test]
async fn a_stopped_step_or_one_that_could_not_start_ends_its_supervisor() {
    let (_dir, supervisor) = own_supervisor();
    let ppid = bash("echo $PPID", &supervisor);
    let first = stdout_of(&ppid).await;
    // Its program missing: the supervisor that could not start it exits.
    let (_tx, rx) = tokio::sync::watch::channel(Interrupt::None);
    let missing = ProcessSpec {
        program: "/nonexistent/drctl-324".into(),
        ..bash("", &supervisor)
    };
    let error = run(&missing, rx.clone()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot start `/nonexistent/drctl-324`")
    );
    let second = stdout_of(&ppid).await;
    assert_ne!(second, first);
    // Timed out: stopped, so never reused.
    let slow = ProcessSpec {
        timeout: Some(Duration::from_millis(300)),
        ..bash("echo $PPID; sleep 324.6", &supervisor)
    };
    let outcome = run(&slow, rx).await.unwrap();
    assert_eq!(outcome.exit, Exit::TimedOut);
    assert_eq!(outcome.stdout.text, second, "it was given the idle one");
    assert_none_left("sleep 324.6", SURVIVORS);
    let third = stdout_of(&ppid).await;
    assert_ne!(third, second);
}

// What attackers found against reused supervisors, and before them.

/// A program whose main thread exits (`pthread_exit`) while another runs
/// on for a minute: `/proc` shows it as a zombie. It writes its pid to
/// `zthread.pid` first. Built with the C compiler the Rust toolchain needs.
fn zombie_leader(dir: &Path) -> PathBuf {
    let source = dir.join("zthread.c");
    std::fs::write(
        &source,
        "#include <pthread.h>\n#include <stdio.h>\n#include <unistd.h>\n\
         static void *run(void *a) { (void)a; sleep(60); return 0; }\n\
         int main(void) { pthread_t t; FILE *f = fopen(\"zthread.pid\", \"w\");\n\
         fprintf(f, \"%d\", getpid()); fclose(f);\n\
         pthread_create(&t, 0, run, 0); pthread_exit(0); }\n",
    )
    .expect("write zthread.c");
    let program = dir.join("zthread");
    let built = std::process::Command::new("cc")
        .args(["-pthread", "-o"])
        .arg(&program)
        .arg(&source)
        .status()
        .expect("run cc");
    assert!(built.success(), "cc failed");
    program
}

/// Whether the process is gone, or a zombie with no thread left running.
fn finished(pid: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return true;
    };
    status.contains("State:\tZ") && status.contains("Threads:\t1\n")
}

#[track_caller]
fn wait_until_finished(pid: i32) {
    let waiting = Instant::now();
    while !finished(pid) {
        assert!(waiting.elapsed() < SURVIVORS, "{pid} still runs");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pid_in(dir: &Path) -> i32 {
    let waiting = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(dir.join("zthread.pid"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "no zthread.pid"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_process_whose_main_thread_exited_is_stopped_and_reported() {
    let test = Test::new();
    let program = zombie_leader(test.path());
    // Timed out: stopped with its tree.
    let held = format!(
        "    timeout: 1s\n{}",
        shell(&format!("exec {}", program.display()))
    );
    let out = test
        .again()
        .file("runbooks/chain.yaml", chain(&[("held", held.as_str())]))
        .args(["run", "chain"])
        .run();
    out.code(1).stderr_contains("timed out after 1s");
    wait_until_finished(pid_in(test.path()));
    // Left behind: reported, and its supervisor serves nobody else.
    let bg = shell(&format!(
        "{} >/dev/null 2>&1 & sleep 0.2; echo $PPID",
        program.display()
    ));
    let next = shell("echo $PPID");
    let out = with_chain(&[("bg", bg.as_str()), ("next", next.as_str())])
        .args(["run", "chain"])
        .run();
    let pid = pid_in(out.path());
    kill_all(&[pid]);
    out.success();
    let journal = only_journal(out.path());
    let finished = events(&journal, "step_finished", Some("bg"));
    assert_eq!(finished[0]["left_running"][0]["pid"], pid, "{journal:#?}");
    assert_ne!(first_line(out.path(), "next"), first_line(out.path(), "bg"));
}

#[test]
fn a_step_that_changes_its_supervisors_limits_or_priority_leaves_it_to_nobody() {
    let read = "echo $PPID; nice; cat /proc/self/oom_score_adj; ulimit -c; ulimit -n";
    let change = "echo $PPID; renice -n 7 -p $PPID >/dev/null; \
        echo 600 > /proc/$PPID/oom_score_adj; prlimit --pid $PPID --nofile=200:200";
    let (base, changer) = (shell(read), shell(change));
    let output = with_chain(&[
        ("base", base.as_str()),
        ("change", changer.as_str()),
        ("after", base.as_str()),
    ])
    .args(["run", "chain"])
    .run();
    output.success();
    let dir = output.path();
    assert_eq!(first_line(dir, "change"), first_line(dir, "base"), "reused");
    assert_ne!(first_line(dir, "after"), first_line(dir, "change"));
    let rest = |step: &str| {
        step_output(dir, step, "stdout")
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(rest("after"), rest("base"), "{}", output.report());
}

#[test]
fn a_stopped_idle_supervisor_does_not_hold_the_next_step_past_its_timeout() {
    // `a1` and `a2` leave two supervisors idle; `b` gets one and stops the
    // other, and keeps its own from the pool (it leaves a sleep); `c` is
    // handed to the stopped one.
    let yaml = r#"version: 1
name: idle
steps:
  - id: a1
    shell: { run: "echo $PPID" }
  - id: a2
    shell: { run: "echo $PPID" }
  - id: b
    needs: [a1, a2]
    shell:
      run: |
        drctl=$(ps -o ppid= $PPID | tr -d ' ')
        for p in $(pgrep -P $drctl -f __supervise); do [ $p != $PPID ] && kill -STOP $p; done
        sleep 0.5 >/dev/null 2>&1 &
  - id: c
    needs: [b]
    timeout: 2s
    shell: { run: "echo c" }
"#;
    let running = Test::new()
        .file("runbooks/idle.yaml", yaml)
        .args(["run", "idle"])
        .spawn();
    let drctl = running.pid();
    let output = running.wait();
    output.code(1);
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("c"));
    assert_eq!(finished[0]["status"], "timed_out", "{journal:#?}");
    assert_none_left(&format!("__supervise --parent {drctl}"), SURVIVORS);
}

#[test]
fn a_step_that_stops_its_own_supervisor_is_still_timed_out() {
    let stopped = format!(
        "    timeout: 1s\n{}",
        shell("sleep 324.5 & kill -STOP $PPID; sleep 324.5")
    );
    let output = with_chain(&[("stopped", stopped.as_str())])
        .args(["run", "chain"])
        .run();
    output.code(1).stderr_contains("timed out after 1s");
    assert_none_left("sleep 324.5", SURVIVORS);
}

#[test]
fn a_daemon_handed_on_while_its_parent_settles_is_reported() {
    // The subshell, still showing the step's command line, forks the
    // daemon and exits: the daemon becomes the root left running.
    let handed = shell("( sleep 0.1; exec sleep 324.6 & ) >/dev/null 2>&1 & echo started");
    let output = with_chain(&[("handed", handed.as_str())])
        .args(["run", "chain"])
        .run();
    let alive = live_with_cmdline("sleep 324.6");
    kill_all(&alive);
    output.success();
    assert_eq!(alive.len(), 1, "{alive:?}");
    let journal = only_journal(output.path());
    let finished = events(&journal, "step_finished", Some("handed"));
    assert_eq!(
        finished[0]["left_running"][0]["pid"], alive[0],
        "{journal:#?}"
    );
}
