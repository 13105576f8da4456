//! Terminal output: styling decisions and the single printer.

pub mod printer;
pub mod progress;
pub mod style;

pub use printer::Printer;
pub use style::Style;
