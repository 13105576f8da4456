//! Confirmations: refused without a terminal unless a flag accepts them
//! (`--yes` for yes/no, `--confirm WORD` for typed ones), and asked on a
//! real terminal (a pty driven by rexpect).

use super::{finish, on_a_pty, with_runbook};

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

#[test]
fn on_a_terminal_answering_y_runs_the_step() {
    let test = with_runbook("wipe", YES_NO).args(["run", "wipe"]);
    let mut session = on_a_pty(&test);
    session.exp_string("Run step `wipe`").expect("the question");
    session.exp_string("[y/N]").expect("the default");
    session.send_line("y").expect("answer");
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
    session.send_line("n").expect("answer");
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

/// A typo asks again, showing what was typed; the right word then runs the step.
#[test]
fn on_a_terminal_a_typo_asks_again() {
    let test = with_runbook("restore", TYPED).args(["run", "restore"]);
    let mut session = on_a_pty(&test);
    session
        .exp_string("Step `restore` asks")
        .expect("the step named");
    session.exp_string("Type `restore`").expect("the word");
    session.send_line("restor").expect("answer");
    session
        .exp_string("`restor` is not `restore` (2 tries left)")
        .expect("the typo shown");
    session.exp_string("Type `restore`").expect("asked again");
    session.send_line("restore").expect("answer");
    let (code, rest) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(test.path().join("restored").exists(), "{rest}");
}

/// Three wrong answers decline, and so does an empty answer or Ctrl-D at
/// once; each is recorded as declined by the operator, not as a refusal.
#[test]
fn on_a_terminal_three_wrong_words_an_empty_answer_or_ctrl_d_decline() {
    for answers in [&["yes", "restre", "RESTORE"][..], &[""][..], &["\x04"][..]] {
        let test = with_runbook("restore", TYPED).args(["run", "restore", "--operator", "dana"]);
        let mut session = on_a_pty(&test);
        for answer in answers {
            session.exp_string("Type `restore`").expect("the word");
            if *answer == "\x04" {
                session.send_control('d').expect("ctrl-d");
            } else {
                session.send_line(answer).expect("answer");
            }
            if *answer == "restre" {
                session
                    .exp_string("`restre` is not `restore` (1 try left)")
                    .expect("the second typo shown");
            }
        }
        let (code, rest) = finish(session);
        assert_eq!(code, 3, "{answers:?}: {rest}");
        assert!(rest.contains("declined by dana"), "{answers:?}: {rest}");
        assert!(!rest.contains("no terminal"), "{answers:?}: {rest}");
        if answers.len() == 3 {
            assert!(rest.contains("declined after 3 tries"), "{rest}");
        }
        assert!(
            !test.path().join("restored").exists(),
            "{answers:?}: {rest}"
        );
    }
}

const TWO_YES_NO: &str = r"
version: 1
name: two
steps:
  - id: first
    confirm: true
    shell: { run: touch first }
  - id: second
    needs: [first]
    confirm: true
    shell: { run: touch second }
";

/// A `y` alone answers nothing: the step waits for Enter. An Enter typed
/// ahead (here right after the first answer) is discarded before the next
/// question, so it cannot answer it "no".
#[test]
fn on_a_terminal_yes_no_needs_enter_and_typed_ahead_input_is_discarded() {
    let test = with_runbook("two", TWO_YES_NO).args(["run", "two"]);
    let mut session = on_a_pty(&test);
    session
        .exp_string("Step `first` asks")
        .expect("the step named");
    session.exp_string("[y/N]").expect("the question");
    session.send("y").expect("a y without Enter");
    session.flush().expect("flush");
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(!test.path().join("first").exists(), "a single key answered");
    session
        .send("\r\r\r")
        .expect("Enter, and two more typed ahead");
    session.flush().expect("flush");
    session
        .exp_string("Step `second` asks")
        .expect("the second question");
    session.exp_string("[y/N]").expect("the second question");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !test.path().join("second").exists(),
        "typed-ahead Enter answered"
    );
    session.send_line("y").expect("answer");
    let (code, rest) = finish(session);
    assert_eq!(code, 0, "{rest}");
    assert!(test.path().join("second").exists(), "{rest}");
}

/// The prompt stands out in bold on a terminal, and never under `NO_COLOR`.
#[test]
fn on_a_terminal_the_prompt_is_bold_unless_no_color() {
    for no_color in [false, true] {
        let mut test = with_runbook("wipe", YES_NO)
            .args(["run", "wipe"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm");
        if no_color {
            test = test.env("NO_COLOR", "1");
        }
        let mut session = on_a_pty(&test);
        let before = session.exp_string("[y/N]").expect("the question");
        session.send_line("n").expect("answer");
        let (code, rest) = finish(session);
        assert_eq!(code, 3, "{rest}");
        let bold = "\x1b[1mStep `wipe` asks for a confirmation";
        if no_color {
            assert!(!before.contains("\x1b[1"), "{before:?}");
            assert!(before.contains("Step `wipe` asks"), "{before:?}");
        } else {
            assert!(before.contains(bold), "{before:?}");
        }
    }
}

/// The three ways a confirmation is not accepted are never confused, and
/// each says the same in the progress, the summary, `log` and the report:
/// who declined, or why it was refused and which flag would accept it.
#[test]
fn declined_refused_without_a_terminal_and_refused_by_yes_are_three_wordings() {
    let cases: [(&str, &str, &[&str], &str); 3] = [
        ("wipe", YES_NO, &[], "refused: no terminal (pass `--yes`)"),
        (
            "restore",
            TYPED,
            &[],
            "refused: no terminal (pass `--confirm restore`)",
        ),
        (
            "restore",
            TYPED,
            &["--yes"],
            "refused: `--yes` does not accept typed confirmations (pass `--confirm restore`)",
        ),
    ];
    for (name, runbook, flags, wording) in cases {
        let test = with_runbook(name, runbook);
        let output = test.again().args(["run", name]).args(flags).run();
        output
            .code(3)
            .stderr_contains(wording)
            .stderr_not_contains("declined");
        // One progress line for the refusal, then its row in the summary:
        // never a second line that the step was not run.
        let lines: Vec<&str> = output
            .stderr
            .lines()
            .filter(|l| l.contains(wording))
            .collect();
        assert_eq!(lines.len(), 2, "{}", output.stderr);
        assert!(
            lines[0].ends_with(&format!("✗ Confirmation for {name} {wording}")),
            "{lines:?}"
        );
        assert!(
            lines[1].trim_start().starts_with(&format!("✗ {name}")),
            "{lines:?}"
        );
        let id = crate::support::state::only_incident(test.path());
        test.again()
            .args(["log", &id])
            .run()
            .success()
            .stdout_contains(wording)
            .stdout_not_contains("declined");
        test.again()
            .args(["report", &id])
            .run()
            .success()
            .stdout_contains(wording)
            .stdout_not_contains("declined");
    }
    // Declined at the prompt: by whom, in the log and the report too.
    let test = with_runbook("wipe", YES_NO).args(["run", "wipe", "--operator", "dana"]);
    let mut session = on_a_pty(&test);
    session.exp_string("[y/N]").expect("the question");
    session.send_line("n").expect("answer");
    let (code, rest) = finish(session);
    assert_eq!(code, 3, "{rest}");
    assert!(
        rest.contains("Confirmation for wipe declined by dana"),
        "{rest}"
    );
    assert!(!rest.contains("refused:"), "{rest}");
    let id = crate::support::state::only_incident(test.path());
    for command in ["log", "report"] {
        test.again()
            .args([command, &id])
            .run()
            .success()
            .stdout_contains("declined by dana")
            .stdout_not_contains("refused:")
            .stdout_not_contains("no terminal");
    }
}

const MAINTENANCE_THEN_RESTORE: &str = r"
version: 1
name: restore
steps:
  - id: maintenance-on
    title: Maintenance mode on
    shell: { run: touch maintenance }
    rollback:
      shell: { run: rm maintenance }
  - id: restore
    needs: [maintenance-on]
    confirm:
      message: This overwrites every table.
      type: restore
    shell: { run: touch restored }
";

/// A refused run says what it leaves changed, offers its rollbacks under
/// `--rollback`, and prints a resume command that works when pasted, with
/// `--state-dir` when the state directory is not the default.
#[test]
fn a_stopped_run_says_what_is_left_changed_and_how_to_resume() {
    for (state_dir, by_env) in [
        (None, false),
        (Some("elsewhere/state"), false),
        (Some("st"), true),
    ] {
        let mut test = with_runbook("restore", MAINTENANCE_THEN_RESTORE);
        let mut args = vec!["run", "restore", "--rollback", "no"];
        if let Some(dir) = state_dir {
            if by_env {
                test = test.env("DRCTL_STATE_DIR", dir);
            } else {
                args.splice(0..0, ["--state-dir", dir]);
            }
        }
        let output = test.again().args(&args).run();
        output
            .code(3)
            .stderr_contains("Left changed (succeeded, with a rollback):")
            .stderr_contains("  maintenance-on (Maintenance mode on): its rollback not run");
        assert!(test.path().join("maintenance").exists());
        let stderr = output.stderr.clone();
        let command = stderr
            .lines()
            .find_map(|l| l.strip_prefix("Continue the run with: "))
            .unwrap_or_else(|| panic!("no resume command\n{stderr}"));
        let expected_dir = state_dir
            .map(|d| format!("--state-dir {d} "))
            .unwrap_or_default();
        assert!(
            command.starts_with(&format!("drctl {expected_dir}resume INC-")),
            "{command}"
        );
        // Pasted as printed (in a shell without DRCTL_STATE_DIR), it continues the run.
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        test.again()
            .env_remove("DRCTL_STATE_DIR")
            .args(&words)
            .args(["--confirm", "restore"])
            .run()
            .success();
        assert!(test.path().join("restored").exists());
        // So does the post-mortem command printed at the end.
        let report = stderr
            .lines()
            .find_map(|l| l.split_once("post-mortem: ").map(|(_, c)| c))
            .unwrap_or_else(|| panic!("no report command\n{stderr}"));
        assert!(
            report.starts_with(&format!("drctl {expected_dir}report INC-")),
            "{report}"
        );
        let words: Vec<&str> = report.split_whitespace().skip(1).collect();
        test.again()
            .env_remove("DRCTL_STATE_DIR")
            .args(&words)
            .run()
            .success()
            .stdout_contains("# Post-mortem: INC-");
    }

    // Under `--rollback yes` the refusal runs the rollback: nothing is left changed.
    let output = with_runbook("restore", MAINTENANCE_THEN_RESTORE)
        .args(["run", "restore", "--rollback", "yes"])
        .run();
    output
        .code(3)
        .stderr_contains("No step with a rollback is left changed.")
        .stderr_contains("Continue the run with: drctl resume INC-");
    assert!(
        !output.path().join("maintenance").exists(),
        "{}",
        output.report()
    );
}
