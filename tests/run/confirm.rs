//! Confirmations: refused without a terminal unless a flag accepts them
//! (`--yes` for yes/no, `--confirm WORD` for typed ones), and asked on a
//! real terminal (a pty driven by rexpect).

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;

use super::with_runbook;
use crate::support::Test;

const YES_NO: &str = r"
version: 1
name: wipe
steps:
  - id: wipe
    confirm: true
    shell: { run: touch wiped }
";

const TYPED: &str = r"
version: 1
name: restore
steps:
  - id: restore
    confirm:
      message: This overwrites every table.
      type: restore
    shell: { run: touch restored }
";

#[test]
fn a_confirmation_without_a_terminal_or_yes_is_refused() {
    let output = with_runbook("wipe", YES_NO).args(["run", "wipe"]).run();
    output.code(3).stderr_contains("--yes");
    assert!(!output.path().join("wiped").exists(), "the step ran");
}

#[test]
fn yes_accepts_a_yes_no_confirmation() {
    let output = with_runbook("wipe", YES_NO)
        .args(["run", "wipe", "--yes"])
        .run();
    output.success();
    assert!(output.path().join("wiped").exists());
}

#[test]
fn piped_yes_does_not_confirm() {
    let output = with_runbook("wipe", YES_NO)
        .args(["run", "wipe"])
        .stdin("y\ny\n")
        .run();
    output.code(3);
    assert!(!output.path().join("wiped").exists(), "the step ran");
}

#[test]
fn yes_does_not_accept_a_typed_confirmation() {
    let output = with_runbook("restore", TYPED)
        .args(["run", "restore", "--yes"])
        .run();
    output.code(3).stderr_contains("--confirm");
    assert!(!output.path().join("restored").exists(), "the step ran");
}

#[test]
fn confirm_word_accepts_a_typed_confirmation() {
    let output = with_runbook("restore", TYPED)
        .args(["run", "restore", "--confirm", "restore"])
        .run();
    output.success();
    assert!(output.path().join("restored").exists());

    let output = with_runbook("restore", TYPED)
        .args(["run", "restore", "--confirm", "restor"])
        .run();
    output.code(3);
    assert!(!output.path().join("restored").exists(), "the step ran");
}

/// drctl on a pseudo-terminal, so that it asks.
fn on_a_pty(test: &Test) -> PtySession {
    rexpect::session::spawn_command(test.command(), Some(10_000))
        .unwrap_or_else(|e| panic!("cannot start drctl on a pty: {e}"))
}

/// Reads everything up to the end and returns drctl's exit code.
fn finish(mut session: PtySession) -> (i32, String) {
    let rest = session
        .exp_eof()
        .unwrap_or_else(|e| panic!("no end of output: {e}"));
    match session.process().wait() {
        Ok(WaitStatus::Exited(_, code)) => (code, rest),
        other => panic!("drctl did not exit normally: {other:?}\n{rest}"),
    }
}

#[test]
fn on_a_terminal_answering_y_runs_the_step() {
    let test = with_runbook("wipe", YES_NO).args(["run", "wipe"]);
    let mut session = on_a_pty(&test);
    session.exp_string("Run step `wipe`").expect("the question");
    session.exp_string("[y/N]").expect("the default");
    session.send("y").expect("answer");
    session.flush().expect("flush");
    let (code, rest) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(test.path().join("wiped").exists(), "{rest}");
}

#[test]
fn on_a_terminal_answering_n_refuses() {
    let test = with_runbook("wipe", YES_NO).args(["run", "wipe"]);
    let mut session = on_a_pty(&test);
    session.exp_string("[y/N]").expect("the question");
    session.send("n").expect("answer");
    session.flush().expect("flush");
    let (code, rest) = finish(session);
    assert_eq!(code, 3, "{rest}");
    assert!(!test.path().join("wiped").exists(), "{rest}");
}

#[test]
fn on_a_terminal_typing_the_word_runs_the_step() {
    let test = with_runbook("restore", TYPED).args(["run", "restore"]);
    let mut session = on_a_pty(&test);
    session
        .exp_string("This overwrites every table.")
        .expect("the message");
    session.exp_string("Type `restore`").expect("the word");
    session.send_line("restore").expect("answer");
    let (code, rest) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(test.path().join("restored").exists(), "{rest}");
}

#[test]
fn on_a_terminal_typing_another_word_refuses() {
    let test = with_runbook("restore", TYPED).args(["run", "restore"]);
    let mut session = on_a_pty(&test);
    session.exp_string("Type `restore`").expect("the word");
    session.send_line("yes").expect("answer");
    let (code, rest) = finish(session);
    assert_eq!(code, 3, "{rest}");
    assert!(!test.path().join("restored").exists(), "{rest}");
}
