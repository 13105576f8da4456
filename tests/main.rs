//! drctl's integration tests: one test binary (so it links once), one topic a
//! module. Tests drive the real `drctl` executable in a fresh temporary
//! directory through [`support::Test`]; `http_adapter` and `pg_adapter` call
//! the adapters as a library against the same real servers.
//!
//! To add a topic, create `tests/TOPIC.rs` and declare it below.

mod support;

mod adapters;
mod architecture;
mod commands;
mod drill;
mod format;
mod http_adapter;
mod import;
mod incident;
mod incident_commands;
mod injection;
mod notify;
mod pg_adapter;
mod process_adapter;
mod run;
mod runbooks;
mod schema;
mod ssh;
mod supervisor_reuse;
mod team;
mod validate;
mod validate_meaning;
mod voice;
