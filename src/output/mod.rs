//! Terminal output: styling decisions and the single printer.

pub mod printer;
pub mod progress;

pub use crate::style::{self, Style};
pub use printer::Printer;
