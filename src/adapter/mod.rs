//! Adapters: how each kind of action is carried out.

pub mod process;
pub mod http;
