//! The ssh adapter: a step's script run on another machine through the
//! system OpenSSH client, under the same supervisor, bounds and redaction as
//! a shell step (see `process`).
//!
//! How a value stays data on the way (docs/security.md says the same):
//!
//! - `ssh`'s arguments are fixed options, the checked `user`, `port`, paths
//!   and host (after `--`), and one fixed remote command, [`BOOTSTRAP`]. No
//!   value of the step is in any argument, here or on the remote host.
//! - Everything else goes on ssh's stdin: the fixed [`WRAPPER`] program, then
//!   the step's program: each placeholder's value as a single-quoted
//!   assignment (`DRCTL_T0='…'`), the script (rewritten by the shell
//!   template policy exactly as for a shell step) as one more, and `eval` of
//!   it. Single quotes carry every byte but NUL, which is refused.
//! - The wrapper reads the program whole before any of it runs, so a command
//!   of the script that reads stdin reads nothing of it; it runs the script
//!   in a process group of its own and stops that group when the connection
//!   closes (drctl stopped the step, or died), since sshd sends no signal
//!   then.

mod failure;

pub use failure::result;

use std::time::Duration;

use super::process::{ProcessSpec, Stdin};
use crate::runbook::model::SshAction;
use crate::runbook::ssh_target;
use crate::template::context::Context;
use crate::template::{TemplateError, value_to_text};

/// The remote command ssh sends, which the remote user's login shell
/// parses: fixed text, POSIX `sh` reading the wrapper's length and the
/// wrapper itself from stdin.
pub const BOOTSTRAP: &str = r#"exec /bin/sh -c 'IFS= read -r n && eval "$(head -c "$n")"'"#;

/// Runs the step's program on the remote host and stops it when the
/// connection closes (see the file for why each line is there).
pub const WRAPPER: &str = include_str!("ssh/wrapper.sh");

/// How long ssh may take to set up the connection.
const CONNECT_TIMEOUT_S: u32 = 10;

/// A rendered ssh step: the local `ssh` process to run, and what to say.
#[derive(Debug, Clone)]
pub struct SshRequest {
    pub spec: ProcessSpec,
    /// The exit codes that count as success (empty: 0).
    pub expect_exit: Vec<i32>,
    /// `user@host:port` as far as the step says (for messages and the dry run).
    pub target: String,
    /// Each placeholder's variable and rendered value, in order.
    pub values: Vec<(String, String)>,
}

/// Renders `action` into the `ssh` command and its stdin, checking each
/// rendered `host`, `user`, `port` and path as `validate` checks written ones.
pub fn request(
    action: &SshAction,
    context: &Context,
    timeout: Option<Duration>,
    grace: Duration,
) -> Result<SshRequest, TemplateError> {
    let rendered = |template, what: &str, problem: &dyn Fn(&str) -> Option<String>| {
        let value = context.render(template, None)?;
        match problem(&value) {
            Some(message) => Err(TemplateError {
                message: format!("the rendered `{what}` is refused: {message}"),
                hint: Some(format!(
                    "`{what}` renders to `{}`; an ssh step's {what} must be one plain word",
                    value.escape_debug()
                )),
            }),
            None => Ok(value),
        }
    };
    let host = rendered(&action.host, "host", &ssh_target::host_problem)?;
    let user = match &action.user {
        Some(t) => Some(rendered(t, "user", &ssh_target::user_problem)?),
        None => None,
    };
    let port = match &action.port {
        Some(t) => {
            let text = rendered(t, "port", &|t| ssh_target::port(t).err())?;
            Some(ssh_target::port(&text).unwrap_or_default())
        }
        None => None,
    };
    let identity_file = match &action.identity_file {
        Some(t) => Some(rendered(t, "identity_file", &ssh_target::path_problem)?),
        None => None,
    };
    let known_hosts = match &action.known_hosts {
        Some(t) => Some(rendered(t, "known_hosts", &ssh_target::path_problem)?),
        None => None,
    };

    let mut values = Vec::with_capacity(action.script.placeholders.len());
    for (var, expr) in &action.script.placeholders {
        let value = value_to_text(&context.eval_placeholder(expr)?);
        if value.contains('\0') {
            return Err(TemplateError {
                message: format!("the value of `{{{{ {expr} }}}}` holds a NUL byte"),
                hint: Some("no shell can hold a NUL byte in a value; remove it".to_owned()),
            });
        }
        values.push((var.clone(), value));
    }

    let mut args: Vec<String> = [
        "-T",
        // Never a question, a password prompt, a new host key accepted, or
        // anything the user's configuration would run or forward.
        "-oBatchMode=yes",
        "-oStrictHostKeyChecking=yes",
        "-oUpdateHostKeys=no",
        "-oPermitLocalCommand=no",
        "-oRemoteCommand=none",
        "-oClearAllForwardings=yes",
        "-oForwardAgent=no",
        "-oForwardX11=no",
        // One connection per step, and nothing left running after it: a
        // master from the user's ControlPersist would outlive the step, and
        // a step stopped on timeout would take other steps' sessions with it.
        "-oControlMaster=no",
        "-oControlPath=none",
        // A dead host or network ends the step in about 30 s, not never.
        "-oServerAliveInterval=10",
        "-oServerAliveCountMax=3",
    ]
    .map(str::to_owned)
    .into();
    args.push(format!("-oConnectTimeout={CONNECT_TIMEOUT_S}"));
    if let Some(user) = &user {
        args.extend(["-l".to_owned(), user.clone()]);
    }
    if let Some(port) = port {
        args.extend(["-p".to_owned(), port.to_string()]);
    }
    if let Some(identity) = &identity_file {
        args.extend([
            "-i".to_owned(),
            identity.clone(),
            "-oIdentitiesOnly=yes".to_owned(),
        ]);
    }
    if let Some(known) = &known_hosts {
        args.push(format!("-oUserKnownHostsFile={known}"));
        args.push("-oGlobalKnownHostsFile=/dev/null".to_owned());
    }
    args.extend(["--".to_owned(), host.clone(), BOOTSTRAP.to_owned()]);

    let target = format!(
        "{}{host}{}",
        user.as_ref().map_or_else(String::new, |u| format!("{u}@")),
        port.map_or_else(String::new, |p| format!(":{p}"))
    );
    Ok(SshRequest {
        spec: ProcessSpec {
            program: "ssh".to_owned(),
            args,
            env: Vec::new(),
            cwd: None,
            capture_limit: super::shell::CAPTURE_LIMIT,
            timeout,
            grace,
            leak_grace: Duration::from_millis(100),
            redactor: context.redactor().clone(),
            supervisor: super::process::supervisor(),
            stdin: Some(Stdin(payload(&values, &action.script.script))),
        },
        expect_exit: action.script.expect_exit.clone(),
        target,
        values,
    })
}

/// What ssh's stdin carries: the wrapper and the step's program, each after
/// a line with its length in bytes.
fn payload(values: &[(String, String)], script: &str) -> Vec<u8> {
    let mut program = String::new();
    for (var, value) in values {
        program.push_str(&format!("{var}={}\n", quote(value)));
    }
    program.push_str(&format!("drctl_script={}\n", quote(script)));
    program.push_str("eval \"$drctl_script\"\n");
    let mut out = String::with_capacity(WRAPPER.len() + program.len() + 24);
    for part in [WRAPPER, &program] {
        out.push_str(&format!("{}\n{part}", part.len()));
    }
    out.into_bytes()
}

/// `text` as one POSIX single-quoted word: inside single quotes every byte
/// is literal but `'` itself, written as `'\''`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_is_one_word_for_any_text() {
        assert_eq!(quote("a'b"), r"'a'\''b'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(x)\n`y`"), "'$(x)\n`y`'");
    }

    #[test]
    fn payload_is_the_wrapper_then_the_program_each_with_its_length() {
        let bytes = payload(
            &[("DRCTL_T0".into(), "it's".into())],
            "echo \"${DRCTL_T0}\"",
        );
        let text = String::from_utf8(bytes).unwrap();
        let (len, rest) = text.split_once('\n').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), WRAPPER.len());
        let rest = &rest[WRAPPER.len()..];
        let (len, program) = rest.split_once('\n').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), program.len());
        assert_eq!(
            program,
            "DRCTL_T0='it'\\''s'\ndrctl_script='echo \"${DRCTL_T0}\"'\neval \"$drctl_script\"\n"
        );
    }

    #[test]
    fn the_fixed_texts_hold_no_single_quote_the_bootstrap_would_break_on() {
        let inner = BOOTSTRAP
            .strip_prefix("exec /bin/sh -c '")
            .and_then(|b| b.strip_suffix('\''))
            .unwrap();
        assert!(!inner.contains('\''));
    }
}
