//! One interrupt channel for the running steps, fed by the operator's
//! signals and by the runbook's `timeout`: a run that reaches its timeout
//! stops its steps exactly as Ctrl-C does (SIGTERM to each process tree,
//! SIGKILL after the grace period), so no step process outlives it.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::signal::Interrupt;

pub struct Stop {
    sender: Arc<watch::Sender<Interrupt>>,
    forwarder: JoinHandle<()>,
}

impl Stop {
    /// Forwards every signal: each one raises the level by one step, so
    /// after the timeout a single Ctrl-C kills at once, as a second one would.
    pub fn forward(mut signals: watch::Receiver<Interrupt>) -> Stop {
        let (sender, _) = watch::channel(*signals.borrow());
        let sender = Arc::new(sender);
        let forward = Arc::clone(&sender);
        let forwarder = tokio::spawn(async move {
            while signals.changed().await.is_ok() {
                signals.borrow_and_update();
                raise(&forward);
            }
        });
        Stop { sender, forwarder }
    }

    /// What the steps watch.
    pub fn receiver(&self) -> watch::Receiver<Interrupt> {
        self.sender.subscribe()
    }

    /// The timeout: running steps are asked to stop.
    pub fn time_out(&self) {
        raise(&self.sender);
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

fn raise(sender: &watch::Sender<Interrupt>) {
    sender.send_modify(|level| {
        *level = match *level {
            Interrupt::None => Interrupt::Graceful,
            Interrupt::Graceful | Interrupt::Immediate => Interrupt::Immediate,
        };
    });
}
