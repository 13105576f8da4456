//! Executing a [`crate::plan::Plan`]: the scheduler, the events it emits
//! and the emitter that hands them to listeners, expectations, and the
//! questions put to the operator.

pub mod approval;
pub mod emitter;
pub mod event;
pub mod expect;
pub mod iterations;
pub mod notify;
pub mod poll;
pub mod prompt;
mod ready;
pub mod scheduler;
pub mod stop;
