//! `until`: a step's action polled until a condition over its result holds,
//! for at most the step's `timeout`.
//!
//! A poll is not a retry: whatever a poll came to (a failed action, a false
//! `expect`, a false condition) it is "not yet", and the journal gets one
//! `step_polled` record for them all, not one per poll. The next poll starts
//! `interval` after the last one ended; none starts that would begin after
//! the deadline, and each poll's own timeout is cut to the time left, so the
//! step never outlives its `timeout`. An interrupt stops the wait at once.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use super::event::Event;
use super::expect::{check_condition, check_expectations};
use super::scheduler::millis;
use crate::adapter::{self, Failure, FailureKind, Outcome, Prepared};
use crate::runbook::duration;
use crate::runbook::model::Until;
use crate::secret::Redactor;
use crate::signal::Interrupt;
use crate::template::Expression;

/// The pieces of a step a poll needs.
pub struct Poll<'a> {
    pub step: &'a str,
    pub until: &'a Until,
    pub timeout: Duration,
    pub expect: &'a [Expression],
    pub context: &'a minijinja::Value,
    pub redactor: &'a Redactor,
}

impl Poll<'_> {
    /// Polls until the condition holds, the deadline comes, or an interrupt;
    /// sends one `step_polled` event before returning the last poll's
    /// outcome (whose failure, when the condition never held, says so with
    /// the last result).
    pub async fn run(
        &self,
        prepared: &Prepared,
        mut interrupt: watch::Receiver<Interrupt>,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Outcome {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut left_running = Vec::new();
        let mut polls = 0;
        // Why the previous poll was not enough: the one to show when the
        // last poll was only cut short by the deadline.
        let mut previous: Option<String> = None;
        loop {
            polls += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let cut = prepared.timeout().is_none_or(|own| left < own);
            let mut outcome =
                adapter::execute(&prepared.with_timeout_at_most(left), interrupt.clone()).await;
            let cut_short =
                cut && matches!(&outcome.failure, Some(f) if f.kind == FailureKind::TimedOut);
            left_running.append(&mut outcome.left_running);
            let not_yet = match &outcome.failure {
                Some(failure) => Some(failure.message.clone()),
                None => check_expectations(
                    self.expect,
                    self.context,
                    outcome.result.as_ref(),
                    self.redactor,
                )
                .or_else(|| {
                    check_condition(
                        &self.until.condition,
                        self.context,
                        outcome.result.as_ref(),
                        self.redactor,
                    )
                }),
            };
            let interrupted = matches!(&outcome.failure, Some(f) if f.kind == FailureKind::Interrupted)
                || *interrupt.borrow() != Interrupt::None;
            let Some(why) = not_yet else {
                self.polled(events, polls, started, None);
                outcome.left_running = left_running;
                return outcome;
            };
            let next = Instant::now() + self.until.interval;
            let why = match previous.take() {
                Some(previous) if cut_short => {
                    format!("{previous} (the poll after it was cut off by the deadline)")
                }
                _ => why,
            };
            if interrupted || next >= deadline {
                self.polled(events, polls, started, Some(why.clone()));
                outcome.failure = Some(if interrupted {
                    Failure::new(
                        FailureKind::Interrupted,
                        format!(
                            "interrupted while polling ({})",
                            polls_words(polls, millis(started.elapsed()))
                        ),
                    )
                } else {
                    Failure::new(
                        FailureKind::Failed,
                        format!(
                            "`until: {}` did not hold within {} ({}); last result: {why}",
                            self.until.condition.source,
                            duration::format(self.timeout),
                            polls_words(polls, millis(started.elapsed())),
                        ),
                    )
                });
                outcome.left_running = left_running;
                return outcome;
            }
            previous = Some(why.clone());
            tokio::select! {
                () = tokio::time::sleep(self.until.interval) => {}
                () = adapter::interrupted(&mut interrupt) => {
                    self.polled(events, polls, started, Some(why));
                    outcome.failure = Some(Failure::new(
                        FailureKind::Interrupted,
                        format!(
                            "interrupted while waiting to poll again ({})",
                            polls_words(polls, millis(started.elapsed()))
                        ),
                    ));
                    outcome.left_running = left_running;
                    return outcome;
                }
            }
        }
    }

    fn polled(
        &self,
        events: &mpsc::UnboundedSender<Event>,
        polls: u32,
        started: Instant,
        last: Option<String>,
    ) {
        let _ = events.send(Event::StepPolled {
            step: self.step.to_owned(),
            polls,
            over_ms: millis(started.elapsed()),
            until: self.until.condition.source.clone(),
            met: last.is_none(),
            last,
        });
    }
}

/// `polled 12 times over 58s`, `polled once`.
pub fn polls_words(polls: u32, over_ms: u64) -> String {
    if polls == 1 {
        "polled once".to_owned()
    } else {
        format!("polled {polls} times over {}", duration::format_ms(over_ms))
    }
}
