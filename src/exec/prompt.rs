//! Asking the operator: confirmations before destructive steps and rollbacks,
//! and "done?" for manual steps.
//!
//! On a terminal the question is asked with dialoguer. Without one, nothing is
//! asked: `--yes` accepts yes/no questions and manual steps, `--confirm WORD`
//! accepts a typed confirmation for that word, and anything else is refused
//! (exit 3), because `echo y | drctl` must never confirm a restore.

use std::io::IsTerminal;

use super::event::AnswerSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub accepted: bool,
    pub source: AnswerSource,
}

/// Something that can answer questions (the terminal, or a test double that
/// reads a script — tests use a real pty instead).
pub trait Prompter: Send + Sync {
    /// Ask before running. `word` is the word to type, for typed confirmations.
    fn confirm(&self, question: &str, word: Option<&str>) -> Answer;
    /// Show a manual step's instructions and ask whether it was done.
    fn manual(&self, step: &str, instructions: &str) -> Answer;
}

pub struct TerminalPrompter {
    interactive: bool,
    yes: bool,
    words: Vec<String>,
    progress: Option<indicatif::MultiProgress>,
    redactor: crate::secret::Redactor,
}

impl TerminalPrompter {
    pub fn new(
        yes: bool,
        words: Vec<String>,
        progress: Option<indicatif::MultiProgress>,
        redactor: crate::secret::Redactor,
    ) -> Self {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        TerminalPrompter {
            interactive,
            yes,
            words,
            progress,
            redactor,
        }
    }

    fn suspended<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.progress {
            Some(progress) => progress.suspend(f),
            None => f(),
        }
    }
}

impl Prompter for TerminalPrompter {
    fn confirm(&self, question: &str, word: Option<&str>) -> Answer {
        match word {
            Some(word) if self.words.iter().any(|w| w == word) => Answer {
                accepted: true,
                source: AnswerSource::ConfirmFlag,
            },
            None if self.yes => Answer {
                accepted: true,
                source: AnswerSource::YesFlag,
            },
            _ if !self.interactive => Answer {
                accepted: false,
                source: AnswerSource::NoTerminal,
            },
            Some(word) => {
                let question = self.redactor.redact(question);
                let typed = self.suspended(|| {
                    let theme = dialoguer::theme::SimpleTheme;
                    let prompt =
                        format!("{question}\nType `{word}` to go on (anything else stops the run)");
                    let answer = dialoguer::Input::<String>::with_theme(&theme)
                        .with_prompt(prompt)
                        .allow_empty(true)
                        .interact_text();
                    restore_cursor();
                    answer
                });
                Answer {
                    accepted: typed.is_ok_and(|t| t.trim() == word),
                    source: AnswerSource::Prompt,
                }
            }
            None => {
                let question = self.redactor.redact(question);
                let accepted = self.suspended(|| {
                    let theme = dialoguer::theme::SimpleTheme;
                    let answer = dialoguer::Confirm::with_theme(&theme)
                        .with_prompt(question)
                        .default(false)
                        .interact();
                    restore_cursor();
                    answer
                });
                Answer {
                    accepted: accepted.unwrap_or(false),
                    source: AnswerSource::Prompt,
                }
            }
        }
    }

    fn manual(&self, step: &str, instructions: &str) -> Answer {
        if self.yes {
            return Answer {
                accepted: true,
                source: AnswerSource::YesFlag,
            };
        }
        if !self.interactive {
            return Answer {
                accepted: false,
                source: AnswerSource::NoTerminal,
            };
        }
        let text = self.redactor.redact(instructions);
        let done = self.suspended(|| {
            eprintln!("\nManual step `{step}`:\n{}\n", indent(text.trim_end()));
            let theme = dialoguer::theme::SimpleTheme;
            let answer = dialoguer::Confirm::with_theme(&theme)
                .with_prompt("Done? (no marks the step failed)")
                .default(false)
                .interact();
            restore_cursor();
            answer
        });
        Answer {
            accepted: done.unwrap_or(false),
            source: AnswerSource::Prompt,
        }
    }
}

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
