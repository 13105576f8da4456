//! Executing a runbook: inputs, the template context, events, the scheduler,
//! prompts and signals.

pub mod context;
pub mod emitter;
pub mod event;
pub mod expect;
pub mod inputs;
pub mod prompt;
pub mod scheduler;
pub mod signal;
