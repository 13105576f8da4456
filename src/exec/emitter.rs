//! Hands each event, stamped with time and sequence number, to every listener.

use chrono::Utc;

use super::event::{Event, Listener, ListenerError, Record};

pub struct Emitter {
    listeners: Vec<Box<dyn Listener>>,
    seq: u64,
}

impl Emitter {
    pub fn new(listeners: Vec<Box<dyn Listener>>) -> Self {
        Emitter { listeners, seq: 0 }
    }

    /// Delivers the event to every listener in order. The first error stops
    /// delivery and is returned: the caller must not start another side effect.
    pub fn emit(&mut self, event: Event) -> Result<(), ListenerError> {
        self.seq += 1;
        let record = Record {
            seq: self.seq,
            ts: Utc::now(),
            event,
        };
        for listener in &mut self.listeners {
            listener.on_event(&record)?;
        }
        Ok(())
    }
}
