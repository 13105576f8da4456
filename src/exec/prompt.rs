//! Asking the operator: confirmations before destructive steps and rollbacks,
//! and "done?" for manual steps.
//!
//! On a terminal the question names its step, stands out (bold, unless
//! `NO_COLOR`), and is answered with a line and Enter: what was typed before
//! the question appeared is discarded first (`tcflush`), so an Enter meant
//! for one question never answers the next. A typed confirmation forgives a
//! typo: three tries, each wrong answer shown back; an empty answer or Ctrl-D
//! declines. Without a terminal, nothing is
//! asked: `--yes` accepts yes/no questions and manual steps, `--confirm WORD`
//! accepts a typed confirmation for that word, and anything else is refused
//! (exit 3), because `echo y | drctl` must never confirm a restore.
//!
//! Rollbacks are `--rollback`'s (`ask`, `yes`, `no`), never `--yes`'s: the
//! default is `ask` on a terminal and `no` without one.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};

use super::event::AnswerSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub accepted: bool,
    pub source: AnswerSource,
}

/// Whether rollbacks run when a run stops (`--rollback`): never decided by `--yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RollbackChoice {
    /// Ask for each rollback on a terminal; without one, run none.
    #[default]
    Ask,
    /// Run every rollback without asking.
    Yes,
    /// Run no rollback.
    No,
}

/// Something that can answer questions: the terminal, or the flags that
/// answer for it. Tests use a real pty rather than another implementation.
///
/// The `*_unasked` methods say what a flag (or the lack of a terminal)
/// answers, at once; only when they return `None` does the scheduler put
/// the question to a person, off its own thread, so that the rest of the
/// graph goes on while the question waits.
pub trait Prompter: Send + Sync {
    /// The answer to a confirmation without asking, if there is one.
    /// `word` is the word to type, for typed confirmations.
    fn confirm_unasked(&self, word: Option<&str>) -> Option<Answer>;
    /// The answer to a manual step without asking, if there is one.
    fn manual_unasked(&self) -> Option<Answer>;
    /// The answer to "roll back this step?" without asking, if there is one.
    fn rollback_unasked(&self) -> Option<Answer>;
    /// Asks before running (or rolling back). `running`: the steps still
    /// running while the question waits, said above it.
    fn ask_confirm(
        &self,
        step: &str,
        question: &str,
        word: Option<&str>,
        running: &[String],
    ) -> Answer;
    /// Shows a manual step's instructions and asks whether it was done.
    fn ask_manual(&self, step: &str, instructions: &str, running: &[String]) -> Answer;
    /// After Ctrl-C: one question for every rollback the run could run.
    fn ask_rollbacks(&self, question: &str) -> Answer;
}

/// While a question is on the terminal, progress lines wait here rather
/// than break into it; they are printed when it is answered. The journal
/// records the events when they happen either way.
#[derive(Clone, Default)]
pub struct Hold {
    held: Arc<Mutex<Option<Vec<String>>>>,
    progress: Option<indicatif::MultiProgress>,
}

impl Hold {
    /// A hold over these progress bars (hidden while a question is shown).
    pub fn new(progress: Option<indicatif::MultiProgress>) -> Self {
        Hold {
            held: Arc::default(),
            progress,
        }
    }

    /// Prints the line now, or keeps it for after the question.
    pub fn print(&self, line: String, print: impl FnOnce(&str)) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lines) = held.as_mut() {
            lines.push(line);
            return;
        }
        drop(held);
        match &self.progress {
            Some(progress) => progress.suspend(|| print(&line)),
            None => print(&line),
        }
    }

    /// Runs `ask` with progress lines held and the bars hidden, then prints what was held.
    fn during<R>(&self, ask: impl FnOnce() -> R) -> R {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(Vec::new());
        if let Some(progress) = &self.progress {
            progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let answer = ask();
        restore_cursor();
        let lines = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        for line in lines {
            eprintln!("{line}");
        }
        if let Some(progress) = &self.progress {
            progress.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        answer
    }
}

pub struct TerminalPrompter {
    interactive: bool,
    yes: bool,
    words: Vec<String>,
    rollback: RollbackChoice,
    hold: Hold,
    redactor: crate::secret::Redactor,
    style: crate::style::Style,
}

impl TerminalPrompter {
    /// `rollback`: `None` is the default, `ask` on a terminal and `no` without one.
    pub fn new(
        yes: bool,
        words: Vec<String>,
        rollback: Option<RollbackChoice>,
        hold: Hold,
        redactor: crate::secret::Redactor,
        style: crate::style::Style,
    ) -> Self {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let rollback = rollback.unwrap_or(if interactive {
            RollbackChoice::Ask
        } else {
            RollbackChoice::No
        });
        TerminalPrompter {
            interactive,
            yes,
            words,
            rollback,
            hold,
            redactor,
            style,
        }
    }

    fn still_running(running: &[String]) {
        if !running.is_empty() {
            eprintln!("(still running while this waits: {})", running.join(", "));
        }
    }
}

impl Prompter for TerminalPrompter {
    fn confirm_unasked(&self, word: Option<&str>) -> Option<Answer> {
        match word {
            Some(word) if self.words.iter().any(|w| w == word) => Some(Answer {
                accepted: true,
                source: AnswerSource::ConfirmFlag,
            }),
            None if self.yes => Some(Answer {
                accepted: true,
                source: AnswerSource::YesFlag,
            }),
            Some(_) if self.yes && !self.interactive => Some(Answer {
                accepted: false,
                source: AnswerSource::YesNotTyped,
            }),
            _ if !self.interactive => Some(Answer {
                accepted: false,
                source: AnswerSource::NoTerminal,
            }),
            _ => None,
        }
    }

    fn manual_unasked(&self) -> Option<Answer> {
        if self.yes {
            return Some(Answer {
                accepted: true,
                source: AnswerSource::YesFlag,
            });
        }
        (!self.interactive).then_some(Answer {
            accepted: false,
            source: AnswerSource::NoTerminal,
        })
    }

    fn rollback_unasked(&self) -> Option<Answer> {
        match self.rollback {
            RollbackChoice::Yes | RollbackChoice::No => Some(Answer {
                accepted: self.rollback == RollbackChoice::Yes,
                source: AnswerSource::RollbackFlag,
            }),
            RollbackChoice::Ask if !self.interactive => Some(Answer {
                accepted: false,
                source: AnswerSource::NoTerminal,
            }),
            RollbackChoice::Ask => None,
        }
    }

    fn ask_confirm(
        &self,
        step: &str,
        question: &str,
        word: Option<&str>,
        running: &[String],
    ) -> Answer {
        let question = self.redactor.redact(question);
        let accepted = self.hold.during(|| {
            eprintln!(
                "\n{} {}",
                self.style.warn("?"),
                self.style
                    .bold(&format!("Step `{step}` asks for a confirmation"))
            );
            eprintln!("{}", indent(question.trim_end()));
            Self::still_running(running);
            match word {
                Some(word) => self.typed(word),
                None => self.yes_no("Go on? [y/N] (Enter to answer)"),
            }
        });
        Answer {
            accepted,
            source: AnswerSource::Prompt,
        }
    }

    fn ask_manual(&self, step: &str, instructions: &str, running: &[String]) -> Answer {
        let text = self.redactor.redact(instructions);
        let done = self.hold.during(|| {
            eprintln!(
                "\n{} {}",
                self.style.warn("?"),
                self.style.bold(&format!("Manual step `{step}`"))
            );
            eprintln!("{}", indent(text.trim_end()));
            Self::still_running(running);
            self.yes_no("Done? [y/N] (no marks the step failed)")
        });
        Answer {
            accepted: done,
            source: AnswerSource::Prompt,
        }
    }

    fn ask_rollbacks(&self, question: &str) -> Answer {
        Answer {
            accepted: self.ask_rollbacks_now(question),
            source: AnswerSource::Prompt,
        }
    }
}

impl TerminalPrompter {
    fn ask_rollbacks_now(&self, question: &str) -> bool {
        let question = self.redactor.redact(question);
        self.hold.during(|| {
            eprintln!(
                "\n{} {}",
                self.style.warn("?"),
                self.style.bold("The run was interrupted")
            );
            eprintln!("{}", indent(question.trim_end()));
            self.yes_no("Roll them back? [y/N] (Enter to answer; Ctrl-C or Ctrl-D is no)")
        })
    }

    /// A typed confirmation: [`TYPED_TRIES`] tries, each wrong answer shown
    /// back; an empty answer, Ctrl-D or Ctrl-C declines at once.
    fn typed(&self, word: &str) -> bool {
        for left in (0..TYPED_TRIES).rev() {
            let Some(answer) = self.read_answer(&format!(
                "Type `{word}` to go on (empty or Ctrl-D declines)"
            )) else {
                return false;
            };
            let answer = answer.trim();
            if answer.is_empty() {
                return false;
            }
            if answer == word {
                return true;
            }
            let shown = self.redactor.redact(answer);
            if left == 0 {
                eprintln!(
                    "{}",
                    self.style.error(&format!(
                        "`{shown}` is not `{word}`: declined after {TYPED_TRIES} tries"
                    ))
                );
            } else {
                eprintln!(
                    "{}",
                    self.style.warn(&format!(
                        "`{shown}` is not `{word}` ({left} {} left)",
                        if left == 1 { "try" } else { "tries" }
                    ))
                );
            }
        }
        false
    }

    /// A yes/no question, answered with Enter: `y`/`yes` accepts; empty,
    /// `n`/`no`, Ctrl-D or Ctrl-C declines; anything else asks again.
    fn yes_no(&self, prompt: &str) -> bool {
        for _ in 0..TYPED_TRIES {
            let Some(answer) = self.read_answer(prompt) else {
                return false;
            };
            match answer.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return true,
                "" | "n" | "no" => return false,
                _ => eprintln!("{}", self.style.warn("answer y or n, then Enter")),
            }
        }
        false
    }

    /// Reads one line from the terminal, after discarding whatever was typed
    /// before the question was shown (an Enter meant for an earlier question
    /// must not answer this one). `None`: Ctrl-D, Ctrl-C, or the terminal went away.
    fn read_answer(&self, prompt: &str) -> Option<String> {
        let _ = rustix::termios::tcflush(std::io::stdin(), rustix::termios::QueueSelector::IFlush);
        let term = console::Term::stderr();
        eprint!("{} ", self.style.bold(&format!("{prompt}:")));
        let mut line = String::new();
        loop {
            match term.read_key().ok()? {
                console::Key::Enter => {
                    eprintln!();
                    return Some(line);
                }
                console::Key::Char('\x04') => {
                    eprintln!();
                    return None;
                }
                console::Key::Char(c) if !c.is_control() => {
                    line.push(c);
                    eprint!("{c}");
                }
                console::Key::Backspace if line.pop().is_some() => {
                    let _ = term.clear_chars(1);
                }
                _ => {}
            }
        }
    }
}

/// How many answers a typed confirmation (or an unclear yes/no) gets.
const TYPED_TRIES: usize = 3;

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Ctrl-C inside a prompt can leave the cursor hidden.
fn restore_cursor() {
    let _ = console::Term::stderr().show_cursor();
}
