//! Hands each event, stamped with time and sequence number, to every listener.

use chrono::Utc;

use super::event::{Event, Listener, ListenerError, Record};

#[derive(Default)]
pub struct Emitter {
    listeners: Vec<Box<dyn Listener>>,
    seq: u64,
    failpoint: Option<Failpoint>,
    /// `notify:` webhooks: told of each event, their outcomes recorded.
    notifier: Option<super::notify::Notifier>,
    /// Events were delivered since the last commit.
    uncommitted: bool,
}

impl Emitter {
    pub fn new(listeners: Vec<Box<dyn Listener>>) -> Self {
        Emitter {
            listeners,
            seq: 0,
            failpoint: Failpoint::from_env(),
            notifier: None,
            uncommitted: false,
        }
    }

    /// Tells the runbook's webhooks of the run's events (see [`super::notify`]).
    #[must_use]
    pub fn with_notifier(mut self, notifier: super::notify::Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// After `run_finished`: waits a bounded time for the notifications
    /// still in flight, and records what became of every one.
    pub async fn finish_notifications(&mut self) -> Result<(), ListenerError> {
        let Some(notifier) = self.notifier.take() else {
            return Ok(());
        };
        for event in notifier.finish().await {
            self.deliver(event)?;
        }
        Ok(())
    }

    /// Delivers the event to every listener in order. The first error stops
    /// delivery and is returned: the caller must not start another side effect.
    pub fn emit(&mut self, event: Event) -> Result<(), ListenerError> {
        // Notifications that ended since the last event are recorded first.
        let ended = self
            .notifier
            .as_mut()
            .map(super::notify::Notifier::ended)
            .unwrap_or_default();
        for outcome in ended {
            self.deliver(outcome)?;
        }
        let record = self.deliver(event)?;
        if let Some(notifier) = &mut self.notifier {
            notifier.observe(&record);
        }
        Ok(())
    }

    fn deliver(&mut self, event: Event) -> Result<Record, ListenerError> {
        self.crash_if(Moment::Before, &event);
        self.seq += 1;
        self.uncommitted = true;
        let record = Record {
            seq: self.seq,
            ts: Utc::now(),
            event,
        };
        for listener in &mut self.listeners {
            listener.on_event(&record)?;
        }
        self.crash_if(Moment::After, &record.event);
        Ok(record)
    }

    /// Makes every event emitted so far durable (group commit): one
    /// `fdatasync` for all the step boundaries that were waiting for it.
    pub fn commit(&mut self) -> Result<(), ListenerError> {
        for listener in &mut self.listeners {
            listener.commit()?;
        }
        self.uncommitted = false;
        Ok(())
    }

    /// Whether [`Self::commit`] may wait for another machine: a remote
    /// listener ([`Listener::remote`]) has what was delivered since the
    /// last commit to make durable, or a store that is away to try.
    pub fn commit_may_wait(&self) -> bool {
        (self.uncommitted || self.unreachable().is_some())
            && self.listeners.iter().any(|l| l.remote())
    }

    /// Why a listener keeps events it cannot write now ([`Listener::unreachable`]).
    pub fn unreachable(&self) -> Option<String> {
        self.listeners.iter().find_map(|l| l.unreachable())
    }

    /// Every listener writes what it kept: `Ok(true)` once all have.
    pub fn reconnect(&mut self) -> Result<bool, ListenerError> {
        let mut all = true;
        for listener in &mut self.listeners {
            all &= listener.reconnect()?;
        }
        Ok(all)
    }

    fn crash_if(&self, moment: Moment, event: &Event) {
        if let Some(failpoint) = &self.failpoint
            && failpoint.moment == moment
            && failpoint.kind == event.kind()
            && failpoint
                .step
                .as_deref()
                .is_none_or(|s| Some(s) == event.step())
        {
            // A crash as abrupt as `kill -9`: no destructor, no flush.
            let _ = rustix::process::kill_process(
                rustix::process::getpid(),
                rustix::process::Signal::KILL,
            );
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    Before,
    After,
}

/// A crash point for durability tests: `DRCTL_FAILPOINT=before:step_started:STEP`
/// (or `after:`, any event kind, the step optional) kills drctl with SIGKILL
/// right before or after that event is recorded. Documented in docs/incident-log.md.
#[derive(Debug)]
struct Failpoint {
    moment: Moment,
    kind: String,
    step: Option<String>,
}

impl Failpoint {
    fn from_env() -> Option<Failpoint> {
        let text = std::env::var("DRCTL_FAILPOINT").ok()?;
        let mut parts = text.splitn(3, ':');
        let moment = match parts.next()? {
            "before" => Moment::Before,
            "after" => Moment::After,
            _ => return None,
        };
        Some(Failpoint {
            moment,
            kind: parts.next()?.to_owned(),
            step: parts.next().map(str::to_owned),
        })
    }
}
