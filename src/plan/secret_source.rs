//! Reading a secret input from its source: a file only its owner can read,
//! or what a command (argv, no shell) prints. Read when a run starts and
//! again on resume; the value is never journaled.
//!
//! Rules, documented in docs/security.md:
//! - A file is opened following symlinks (Kubernetes and Docker mount
//!   secrets through them); what is checked is the file read, on the opened
//!   descriptor: a regular file, no group or other permission bits at all
//!   (`chmod 600 FILE`), at most [`MAX_SECRET_BYTES`].
//! - A command runs in its own process group with stdin closed, is killed
//!   with its group at its timeout and once it has exited (nothing is left
//!   running), and its stdout is bounded. Its stderr is shown only when it
//!   fails, when there is no value to leak with it.
//! - The value loses one trailing line ending (`\n` or `\r\n`), as `echo`
//!   and `vault … -field` add one; nothing else is trimmed, since spaces may
//!   belong to a password. An empty value is an error.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::runbook::model::SecretSource;

/// The largest secret read from a file or a command: keys and certificates fit.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// The most stderr shown when a command fails.
const MAX_STDERR_SHOWN: usize = 2000;

/// Reads the value of input `name` from `source`.
pub fn read(name: &str, source: &SecretSource) -> Result<String, Error> {
    let bytes = match source {
        SecretSource::File(path) => read_file(name, path)?,
        SecretSource::Command { argv, timeout } => run_command(name, argv, *timeout)?,
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        fail(
            name,
            source,
            "it is not UTF-8 text",
            "a secret input holds text",
        )
    })?;
    let value = trim_line_ending(&text);
    if value.is_empty() {
        return Err(fail(
            name,
            source,
            "it is empty",
            "put the secret there, or pass it with --set",
        ));
    }
    Ok(value.to_owned())
}

/// Removes one trailing `\n` or `\r\n`.
fn trim_line_ending(text: &str) -> &str {
    text.strip_suffix('\n')
        .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t))
}

fn fail(name: &str, source: &SecretSource, what: &str, hint: impl Into<String>) -> Error {
    Error::usage(
        format!(
            "cannot read secret input `{name}` from {}: {what}",
            source.describe()
        ),
        hint,
    )
}

fn read_file(name: &str, path: &Path) -> Result<Vec<u8>, Error> {
    use rustix::fs::{FileType, Mode, OFlags};
    let source = SecretSource::File(path.to_path_buf());
    let unreadable = |e: &dyn std::fmt::Display| {
        fail(
            name,
            &source,
            &e.to_string(),
            "check the path and that drctl's user can read it",
        )
    };
    // Non-blocking: a FIFO must not hang the run (it is refused below).
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| unreadable(&e))?;
    let stat = rustix::fs::fstat(&fd).map_err(|e| unreadable(&e))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(fail(
            name,
            &source,
            "it is not a regular file",
            "point `file` at the file that holds the secret",
        ));
    }
    if let Some((what, hint)) = SecretSource::mode_refused(path, stat.st_mode) {
        return Err(fail(name, &source, &what, hint));
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(&e))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(fail(
            name,
            &source,
            &format!("it is over the limit of {MAX_SECRET_BYTES} bytes"),
            "a secret file holds one value",
        ));
    }
    Ok(bytes)
}

fn run_command(name: &str, argv: &[String], timeout: Duration) -> Result<Vec<u8>, Error> {
    use rustix::process::{WaitId, WaitIdOptions};
    use std::os::unix::process::CommandExt;
    let source = SecretSource::Command {
        argv: argv.to_vec(),
        timeout,
    };
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            fail(
                name,
                &source,
                &format!("cannot start `{}`: {e}", argv[0]),
                "check that the program is installed and on PATH",
            )
        })?;
    let group = rustix::process::Pid::from_child(&child);
    let stdout = child
        .stdout
        .take()
        .map(|out| bounded_reader(out, MAX_SECRET_BYTES + 1));
    let stderr = child
        .stderr
        .take()
        .map(|err| bounded_reader(err, MAX_STDERR_SHOWN as u64));
    let deadline = Instant::now() + timeout;
    // Waited for without reaping it (`WNOWAIT`): until it is reaped, its pid
    // (the group's id) cannot be reused, so the group killed below is its own.
    let finished = loop {
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        match rustix::process::waitid(WaitId::Pid(group), options) {
            Ok(Some(_)) => break true,
            Ok(None) if Instant::now() >= deadline => break false,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break false,
        }
    };
    // Whatever it started in its group goes too: nothing is left running,
    // and no one holds the pipes open.
    let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    let status = child.wait().ok().filter(|_| finished);
    let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    let Some(status) = status else {
        return Err(fail(
            name,
            &source,
            &format!(
                "it did not finish within {}",
                crate::runbook::duration::format(timeout)
            ),
            "check that it does not wait for input (stdin is closed), or give the input a longer `timeout`",
        ));
    };
    if !status.success() {
        let said = String::from_utf8_lossy(&stderr);
        let said = said.trim();
        let what = match status.code() {
            Some(code) => format!("it exited with status {code}"),
            None => "it was killed by a signal".to_owned(),
        };
        let what = if said.is_empty() {
            what
        } else {
            format!("{what}; it said: {said}")
        };
        return Err(fail(
            name,
            &source,
            &what,
            "run the command yourself to see why, or pass the value with --set",
        ));
    }
    if stdout.len() as u64 > MAX_SECRET_BYTES {
        return Err(fail(
            name,
            &source,
            &format!("it printed over the limit of {MAX_SECRET_BYTES} bytes"),
            "make it print the one value, e.g. `vault kv get -field=password …`",
        ));
    }
    Ok(stdout)
}

/// Reads up to `limit` bytes on a thread, then drains the rest, so that a
/// chatty command never blocks on a full pipe.
fn bounded_reader(
    mut from: impl Read + Send + 'static,
    limit: u64,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = (&mut from).take(limit).read_to_end(&mut bytes);
        let _ = std::io::copy(&mut from, &mut std::io::sink());
        bytes
    })
}

#[cfg(test)]
mod tests {
    use super::trim_line_ending;
    use crate::runbook::model::SecretSource;
    use std::os::unix::fs::PermissionsExt;

    /// The run's own check, on what it reads (`validate` checks earlier,
    /// but the file may change in between, or before a resume).
    #[test]
    fn the_run_refuses_a_file_others_may_read() {
        let dir = std::env::temp_dir().join(format!("drctl-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("pw");
        std::fs::write(&file, "a-secret\n").expect("write");
        let source = SecretSource::File(file.clone());
        for (mode, refused) in [(0o600, false), (0o400, false), (0o640, true), (0o604, true)] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
            match super::read("pw", &source) {
                Ok(value) => {
                    assert!(!refused, "{mode:o} accepted");
                    assert_eq!(value, "a-secret");
                }
                Err(e) => {
                    assert!(refused, "{mode:o} refused: {e}");
                    assert!(
                        e.to_string().contains(&format!("its mode is {mode:03o}")),
                        "{e}"
                    );
                }
            }
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn one_line_ending_goes() {
        assert_eq!(trim_line_ending("pw\n"), "pw");
        assert_eq!(trim_line_ending("pw\r\n"), "pw");
        assert_eq!(trim_line_ending("pw\n\n"), "pw\n");
        assert_eq!(trim_line_ending(" pw "), " pw ");
        assert_eq!(trim_line_ending("pw"), "pw");
    }
}
