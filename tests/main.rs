//! drctl's integration tests: one test binary (so it links once), one topic a
//! module. Every test drives the real `drctl` executable in a fresh temporary
//! directory through [`support::Test`].
//!
//! To add a topic, create `tests/TOPIC.rs` and declare it below.

mod support;

mod commands;
mod incident;
mod incident_commands;
mod run;
mod schema;
mod validate;
