//! Ctrl-C and SIGTERM, and the [`Interrupt`] level they reach (read by
//! the adapters that stop running steps and by the scheduler). Child steps run in their own process groups, so the
//! terminal's Ctrl-C reaches only drctl: the first signal asks running steps
//! to stop (SIGTERM, grace, SIGKILL) and starts nothing new; a second one
//! kills them at once.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// A request from the operator to stop the running step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    None,
    /// SIGTERM to the tree, then SIGKILL after the grace period.
    Graceful,
    /// SIGKILL to the tree at once.
    Immediate,
}

/// Starts listening for signals; the returned receiver reports the level reached.
pub fn install() -> std::io::Result<(watch::Receiver<Interrupt>, tokio::task::JoinHandle<()>)> {
    let (sender, receiver) = watch::channel(Interrupt::None);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let handle = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            let next = match *sender.borrow() {
                Interrupt::None => Interrupt::Graceful,
                Interrupt::Graceful | Interrupt::Immediate => Interrupt::Immediate,
            };
            if sender.send(next).is_err() {
                return;
            }
        }
    });
    Ok((receiver, handle))
}
