//! What can go wrong importing a playbook. Bad input is exit 2, nothing is
//! written; each message says where (`file:line:column`) and what to do.

use std::path::PathBuf;

use crate::exit_code;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { file: String, size: u64, limit: u64 },
    #[error("{file}:{line}:{column}: not valid UTF-8")]
    NotUtf8 {
        file: String,
        line: usize,
        column: usize,
    },
    #[error("{file}:{line}:{column}: a NUL byte: this is a binary file, not Markdown")]
    Binary {
        file: String,
        line: usize,
        column: usize,
    },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}:{line}: Markdown nested deeper than {limit} levels")]
    TooDeep {
        file: String,
        line: usize,
        limit: usize,
    },
    #[error(
        "{file}: no scenario found: no heading holds a shell or SQL code block or a numbered list"
    )]
    NoScenario { file: String },
    #[error("{file}: {count} scenarios; choose one or all")]
    Ambiguous {
        file: String,
        count: usize,
        titles: Vec<String>,
    },
    #[error("{file}: {count} scenarios, over the limit of {limit} in one import")]
    TooManyScenarios {
        file: String,
        count: usize,
        limit: usize,
    },
    #[error("{file}: no scenario `{wanted}`")]
    UnknownScenario {
        file: String,
        wanted: String,
        titles: Vec<String>,
    },
    #[error(
        "{file}:{line}: the scenario `{title}` makes a runbook of {what}, over the limit of {limit}"
    )]
    OutputTooLarge {
        file: String,
        line: usize,
        title: String,
        what: String,
        limit: String,
    },
}

impl ImportError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ImportError::Read { .. } => exit_code::RUN_FAILED,
            _ => exit_code::INVALID_INPUT,
        }
    }

    pub fn hint(&self) -> Option<String> {
        let list = |titles: &[String]| {
            titles
                .iter()
                .map(|t| format!("  {t}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        match self {
            ImportError::TooLarge { .. } => Some(
                "a playbook is a document people read; split it into one file per system".to_owned(),
            ),
            ImportError::NotUtf8 { .. } => {
                Some("convert the file to UTF-8 (e.g. `iconv -f latin1 -t utf-8`)".to_owned())
            }
            ImportError::Binary { .. } | ImportError::Empty { .. } => {
                Some("pass the Markdown playbook (a .md file)".to_owned())
            }
            ImportError::TooDeep { .. } => {
                Some("flatten the nested lists or quotes around that line".to_owned())
            }
            ImportError::NoScenario { .. } => Some(
                "a scenario is a heading followed by steps: a ```bash or ```sql block, or a numbered list (see docs/import.md)"
                    .to_owned(),
            ),
            ImportError::Ambiguous { titles, .. } => Some(format!(
                "pass --all, or --scenario with one of:\n{}",
                list(titles)
            )),
            ImportError::UnknownScenario { titles, .. } => {
                Some(format!("the scenarios are:\n{}", list(titles)))
            }
            ImportError::TooManyScenarios { .. } => Some(
                "import them a few at a time with --scenario, or split the playbook".to_owned(),
            ),
            ImportError::OutputTooLarge { .. } => Some(
                "split the section under more headings, one scenario each".to_owned(),
            ),
            ImportError::Read { .. } => None,
        }
    }
}
