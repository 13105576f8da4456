//! The one owner of terminal output. Everything printed goes through the
//! redactor first; `--quiet` silences informational lines, not errors.

use std::fmt::Write as _;
use std::io::Write;

use super::Style;
use crate::secret::Redactor;

#[derive(Debug, Clone)]
pub struct Printer {
    pub style: Style,
    pub quiet: bool,
    redactor: Redactor,
}

impl Printer {
    pub fn new(style: Style, quiet: bool, redactor: Redactor) -> Self {
        Printer {
            style,
            quiet,
            redactor,
        }
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Command output (stdout): what a user pipes somewhere.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(self.redactor.redact(text).as_bytes());
        let _ = stdout.flush();
    }

    /// A line of command output.
    pub fn outln(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    /// Progress and information (stderr), silenced by `--quiet`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            self.err(text);
        }
    }

    /// Errors and warnings (stderr), always shown.
    pub fn err(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let mut text = self.redactor.redact(text);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }

    pub fn error(&self, message: &str, hint: Option<&str>) {
        let mut text = format!("{}: {message}", self.style.error("error"));
        if let Some(hint) = hint {
            let _ = write!(text, "\n  {} {hint}", self.style.hint("hint:"));
        }
        self.err(&text);
    }

    pub fn warn(&self, message: &str) {
        self.err(&format!("{}: {message}", self.style.warn("warning")));
    }
}

/// Stderr through the redactor, for tracing's diagnostics (`-v`): each event
/// arrives in one `write` call, so a secret is never split between calls.
pub struct RedactingStderr {
    redactor: Redactor,
}

impl RedactingStderr {
    pub fn maker(redactor: Redactor) -> impl Fn() -> RedactingStderr + Send + Sync + 'static {
        move || RedactingStderr {
            redactor: redactor.clone(),
        }
    }
}

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = self.redactor.redact(&String::from_utf8_lossy(buf));
        std::io::stderr().lock().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
