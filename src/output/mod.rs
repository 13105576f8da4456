//! Terminal output: styling decisions, the single printer, and the words
//! every view of a run shares.

pub mod printer;
pub mod progress;
pub mod words;

pub use crate::style::{self, Style};
pub use printer::Printer;
