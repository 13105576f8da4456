//! The shell adapter: a step's script run as a child process (see `process`).

use std::sync::LazyLock;
use std::time::Duration;

use super::process::{Exit, ProcessOutcome, ProcessSpec};
use super::{Failure, FailureKind};
use crate::runbook::model::ShellAction;
use crate::template::context::Context;
use crate::template::{TemplateError, value_to_text};

/// Bytes kept of each of stdout and stderr (head and tail).
pub const CAPTURE_LIMIT: usize = 256 * 1024;
/// Between SIGTERM and SIGKILL on timeout or interrupt.
pub const GRACE: Duration = Duration::from_secs(5);

/// `bash -euo pipefail -c` where bash exists, else `sh -c`, with the shell's
/// absolute path: resolving it once saves a failed `execve` per `PATH` entry
/// on every step.
static DEFAULT_SHELL: LazyLock<Vec<String>> = LazyLock::new(|| {
    let (program, args): (&str, &[&str]) = match find_in_path("bash") {
        Some(_) => ("bash", &["-euo", "pipefail", "-c"]),
        None => ("sh", &["-c"]),
    };
    let mut words = vec![find_in_path(program).unwrap_or_else(|| program.to_owned())];
    words.extend(args.iter().map(|a| (*a).to_owned()));
    words
});

/// The absolute path of a program found in `PATH`.
fn find_in_path(program: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .map(|p| p.to_string_lossy().into_owned())
}

pub fn spec(
    action: &ShellAction,
    context: &Context,
    timeout: Option<Duration>,
    grace: Duration,
) -> Result<ProcessSpec, TemplateError> {
    let mut words = if action.shell.is_empty() {
        DEFAULT_SHELL.clone()
    } else {
        action.shell.clone()
    };
    let program = words.remove(0);
    let mut args = words;
    args.push(action.script.clone());
    let mut env = Vec::with_capacity(action.env.len() + action.placeholders.len());
    for (name, template) in &action.env {
        env.push((name.clone(), context.render(template, None)?));
    }
    for (var, expr) in &action.placeholders {
        env.push((var.clone(), value_to_text(&context.eval_placeholder(expr)?)));
    }
    let cwd = match &action.cwd {
        Some(t) => Some(context.render(t, None)?.into()),
        None => None,
    };
    Ok(ProcessSpec {
        program,
        args,
        env,
        cwd,
        capture_limit: CAPTURE_LIMIT,
        timeout,
        grace,
        leak_grace: Duration::from_millis(100),
        redactor: context.redactor().clone(),
        supervisor: super::process::supervisor(),
        stdin: None,
    })
}

/// The step result (`exit_code`, `stdout`, `stderr`, `json`) and, if it failed, why.
/// `expect_exit` lists the exit codes that count as success (empty: 0 only).
pub fn result(
    outcome: &ProcessOutcome,
    timeout: Option<Duration>,
    expect_exit: &[i32],
) -> (serde_json::Value, Option<Failure>) {
    let json = serde_json::from_str::<serde_json::Value>(outcome.stdout.text.trim()).ok();
    let exit_code = match outcome.exit {
        Exit::Code(code) => Some(code),
        _ => None,
    };
    let result = serde_json::json!({
        "exit_code": exit_code,
        "stdout": outcome.stdout.text,
        "stderr": outcome.stderr.text,
        "json": json,
        "stdout_truncated": outcome.stdout.truncated,
        "stderr_truncated": outcome.stderr.truncated,
        "stdout_bytes": outcome.stdout.total_bytes,
    });
    let failure = match &outcome.exit {
        Exit::Code(0) if expect_exit.is_empty() => None,
        Exit::Code(code) if expect_exit.contains(code) => None,
        Exit::Code(code) if expect_exit.is_empty() => Some(Failure::new(
            FailureKind::Failed,
            format!("exit code {code}{}", last_line(&outcome.stderr.text)),
        )),
        Exit::Code(code) => Some(Failure::new(
            FailureKind::Failed,
            format!(
                "exit code {code}, expected {}{}",
                expected_codes(expect_exit),
                last_line(&outcome.stderr.text)
            ),
        )),
        Exit::Signal(signal) => Some(Failure::new(
            FailureKind::Failed,
            format!(
                "killed by signal {signal}{}",
                last_line(&outcome.stderr.text)
            ),
        )),
        Exit::TimedOut => Some(Failure::new(
            FailureKind::TimedOut,
            format!(
                "timed out after {}; its process tree was stopped",
                timeout.map_or_else(
                    || "its timeout".to_owned(),
                    crate::runbook::duration::format
                )
            ),
        )),
        Exit::Interrupted => Some(Failure::new(
            FailureKind::Interrupted,
            "interrupted".to_owned(),
        )),
    };
    (result, failure)
}

/// `1`, `1 or 2`, `1, 2 or 3`.
pub fn expected_codes(codes: &[i32]) -> String {
    let words: Vec<String> = codes.iter().map(ToString::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

/// The last non-empty line of stderr, as context for a failure message.
fn last_line(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            let short: String = l.chars().take(200).collect();
            format!(": {short}")
        })
        .unwrap_or_default()
}
