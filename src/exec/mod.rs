//! Executing a runbook: events, the scheduler, confirmations, signals.

pub mod event;
