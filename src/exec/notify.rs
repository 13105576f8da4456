//! `notify:` webhooks: told of the run's events (`run_started`,
//! `step_failed`, `confirmation_needed`, `run_finished`) as they are
//! recorded, each message sent on a task of its own with a bounded timeout
//! and a few tries, so that a webhook that hangs, refuses connections or
//! answers 500 never blocks, slows or fails the run.
//!
//! What became of each message is recorded in the journal as a
//! `notification` event (the [`super::emitter::Emitter`] records those that
//! ended before each event it emits): sent, failed after N tries, or
//! dropped. At the end of the run drctl waits at most [`EXIT_WAIT`] for the
//! messages still in flight, then drops them and records that it did.
//!
//! The body is JSON whose strings are templates: each value rendered stays
//! one JSON string (quotes, newlines and braces in a value are data). The
//! `event` fields come from the redacted event; what is journaled (the URL,
//! the body, the error) is redacted again, and headers are never recorded:
//! a token read from a secret input is sent to the server and written nowhere.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use minijinja::Value;
use tokio::task::{Id, JoinSet};

use super::event::{Event, NotificationOutcome, Record, Status};
use crate::adapter::http::{HttpBody, HttpRequest, HttpResponse, send};
use crate::runbook::model::Notify;
use crate::runbook::raw::NotifyEvent;
use crate::secret::Redactor;

/// How long drctl waits at exit for notifications still in flight.
pub const EXIT_WAIT: Duration = Duration::from_secs(5);

/// Messages in flight at once; past it, a message is dropped (and recorded):
/// a hanging webhook and a run with many failing steps must not pile up tasks.
pub const MAX_IN_FLIGHT: usize = 32;

/// How much of a body the journal keeps.
const BODY_KEPT: usize = 2000;

/// The wait before the second try; it doubles after each.
const FIRST_DELAY: Duration = Duration::from_secs(1);

/// Turns an event into the sentence people read (`event.text`), from the one phrasebook.
pub type Phrase = fn(&Event) -> String;

pub struct Notifier {
    hooks: Arc<[Notify]>,
    /// `inputs`, `run` and `env`, as the templates see them.
    base: BTreeMap<&'static str, Value>,
    redactor: Redactor,
    phrase: Phrase,
    tasks: JoinSet<Event>,
    /// What each task in flight is sending, to record it if it is dropped.
    in_flight: HashMap<Id, (usize, NotifyEvent, String)>,
    /// Outcomes known at once (a template that cannot render, a drop).
    ready: Vec<Event>,
}

impl Notifier {
    /// `inputs` and `run` as the steps' templates see them.
    pub fn new(
        hooks: Vec<Notify>,
        inputs: Value,
        run: Value,
        redactor: Redactor,
        phrase: Phrase,
    ) -> Self {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let base = BTreeMap::from([
            ("inputs", inputs),
            ("run", run),
            ("env", crate::template::to_value(&env)),
        ]);
        Notifier {
            hooks: hooks.into(),
            base,
            redactor,
            phrase,
            tasks: JoinSet::new(),
            in_flight: HashMap::new(),
            ready: Vec::new(),
        }
    }

    /// An event was recorded: each webhook told of its kind gets a message.
    pub fn observe(&mut self, record: &Record) {
        let Some((on, fields)) = self.fields(&record.event) else {
            return;
        };
        let mut context = self.base.clone();
        context.insert("event", crate::template::to_value(&fields));
        let context = Value::from(context);
        let hooks = Arc::clone(&self.hooks);
        for (index, hook) in hooks.iter().enumerate().filter(|(_, h)| h.on.contains(&on)) {
            let number = index + 1;
            let request = match self.request(hook, &context, &fields) {
                Ok(request) => request,
                Err((url, error)) => {
                    self.ready.push(outcome(
                        number,
                        on,
                        url,
                        NotificationOutcome::Failed,
                        0,
                        None,
                        Some(error),
                        String::new(),
                    ));
                    continue;
                }
            };
            let url = self.shown(&request.url);
            let body = match &request.body {
                Some(HttpBody::Json(json)) => clip(&self.redactor.redact(&json.to_string())),
                _ => String::new(),
            };
            if self.tasks.len() >= MAX_IN_FLIGHT {
                self.ready.push(outcome(
                    number,
                    on,
                    url,
                    NotificationOutcome::Dropped,
                    0,
                    None,
                    Some(format!(
                        "{MAX_IN_FLIGHT} notifications were in flight already"
                    )),
                    body,
                ));
                continue;
            }
            let redactor = self.redactor.clone();
            let (attempts, shown) = (hook.attempts, url.clone());
            let handle = self.tasks.spawn(async move {
                deliver(number, on, request, attempts, shown, body, &redactor).await
            });
            self.in_flight.insert(handle.id(), (number, on, url));
        }
    }

    /// The outcomes known since the last call, for the journal.
    pub fn ended(&mut self) -> Vec<Event> {
        let mut ended = std::mem::take(&mut self.ready);
        while let Some(joined) = self.tasks.try_join_next_with_id() {
            if let Some(event) = self.joined(joined) {
                ended.push(event);
            }
        }
        ended
    }

    /// At the end of the run: what ends within [`EXIT_WAIT`], then the rest dropped.
    pub async fn finish(mut self) -> Vec<Event> {
        let mut ended = self.ended();
        let deadline = tokio::time::Instant::now() + EXIT_WAIT;
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, self.tasks.join_next_with_id()).await {
                Ok(Some(joined)) => ended.extend(self.joined(joined)),
                Ok(None) | Err(_) => break,
            }
        }
        self.tasks.abort_all();
        let wait = crate::runbook::duration::format(EXIT_WAIT);
        let mut dropped: Vec<_> = self.in_flight.drain().map(|(_, v)| v).collect();
        dropped.sort_by_key(|(number, _, _)| *number);
        for (number, on, url) in dropped {
            ended.push(outcome(
                number,
                on,
                url,
                NotificationOutcome::Dropped,
                0,
                None,
                Some(format!(
                    "still in flight {wait} after the run ended: not waited for"
                )),
                String::new(),
            ));
        }
        ended
    }

    fn joined(&mut self, joined: Result<(Id, Event), tokio::task::JoinError>) -> Option<Event> {
        match joined {
            Ok((id, event)) => {
                self.in_flight.remove(&id);
                Some(event)
            }
            // Aborted or panicked: recorded as dropped by `finish`, or here.
            Err(e) => {
                let (number, on, url) = self.in_flight.remove(&e.id())?;
                Some(outcome(
                    number,
                    on,
                    url,
                    NotificationOutcome::Dropped,
                    0,
                    None,
                    Some(format!("the sending task ended: {e}")),
                    String::new(),
                ))
            }
        }
    }

    /// The kind of an event for webhooks, and the `event` fields templates read.
    fn fields(&self, event: &Event) -> Option<(NotifyEvent, serde_json::Value)> {
        let redact = |text: &str| self.redactor.redact(text);
        // Every field is there, empty where the event has none (templates
        // are strict, and `none` would read as "None" in a message).
        let mut fields: serde_json::Value = crate::runbook::check::NOTIFY_EVENT_FIELDS
            .iter()
            .map(|&f| (f.to_owned(), serde_json::Value::from("")))
            .collect::<serde_json::Map<_, _>>()
            .into();
        fields["text"] = redact(&(self.phrase)(event)).into();
        let on = match event {
            Event::RunStarted {
                runbook,
                incident,
                run_id,
                ..
            } => {
                fields["runbook"] = runbook.as_str().into();
                fields["incident"] = incident.as_str().into();
                fields["run_id"] = run_id.as_str().into();
                NotifyEvent::RunStarted
            }
            Event::StepFinished {
                step,
                status,
                error,
                ..
            } if matches!(status, Status::Failed | Status::TimedOut) => {
                fields["step"] = step.as_str().into();
                fields["status"] = status.as_str().into();
                fields["error"] = error.as_deref().map(redact).unwrap_or_default().into();
                NotifyEvent::StepFailed
            }
            Event::ConfirmationAsked { step, message, .. } => {
                fields["step"] = step.as_str().into();
                fields["message"] = redact(message).into();
                NotifyEvent::ConfirmationNeeded
            }
            // Other operators are asked: the webhook is how they hear of it.
            Event::ApprovalRequested { step, message, .. } => {
                fields["step"] = step.as_str().into();
                fields["message"] = redact(message.as_deref().unwrap_or_default()).into();
                NotifyEvent::ConfirmationNeeded
            }
            Event::StepStarted {
                step,
                action,
                description,
                ..
            } if action == "manual" => {
                fields["step"] = step.as_str().into();
                fields["message"] = redact(description).into();
                NotifyEvent::ConfirmationNeeded
            }
            Event::RunFinished {
                status,
                failed_steps,
                ..
            } => {
                fields["status"] = status.as_str().into();
                fields["failed_steps"] = failed_steps.clone().into();
                NotifyEvent::RunFinished
            }
            _ => return None,
        };
        fields["kind"] = on.as_str().into();
        // The run's names, on every event (the templates' `run` has them too).
        for (key, name) in [
            ("runbook", "runbook"),
            ("incident", "incident"),
            ("run_id", "id"),
        ] {
            if fields[key] == ""
                && let Ok(value) = self.base["run"].get_attr(name)
            {
                fields[key] = value.as_str().unwrap_or_default().into();
            }
        }
        if fields["failed_steps"] == "" {
            fields["failed_steps"] = serde_json::json!([]);
        }
        Some((on, fields))
    }

    /// The request of one hook for one event; on a render error, the URL
    /// to record and why.
    fn request(
        &self,
        hook: &Notify,
        context: &Value,
        fields: &serde_json::Value,
    ) -> Result<HttpRequest, (String, String)> {
        let url = hook.url.render(context).map_err(|e| {
            (
                self.shown(&hook.url.source),
                format!("cannot render the url: {e}"),
            )
        })?;
        if hook.secret_url {
            // Whatever it was made of (`{{ inputs.tok | upper }}`), never written.
            self.redactor.add(&url);
        }
        let shown = self.shown(&url);
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            (
                shown.clone(),
                self.redactor.redact(&format!("cannot render {what}: {e}")),
            )
        };
        let mut headers = Vec::with_capacity(hook.headers.len());
        for (name, template) in &hook.headers {
            let value = template
                .render(context)
                .map_err(|e| failed(&format!("header `{name}`"), &e))?;
            headers.push((name.clone(), value));
        }
        let body = match &hook.body {
            Some(body) => render_json(body, context).map_err(|e| failed("the body", &e))?,
            None => generic(fields),
        };
        Ok(HttpRequest {
            method: "POST".to_owned(),
            url,
            headers,
            body: Some(HttpBody::Json(body)),
            timeout: hook.timeout,
            insecure: false,
            expect_status: Vec::new(),
            // Nothing of the answer is used: a few bytes for an error message.
            body_limit: 512,
            redactor: self.redactor.clone(),
        })
    }

    /// A URL as it may be written down.
    fn shown(&self, url: &str) -> String {
        self.redactor.redact(&crate::secret::mask_url(url))
    }
}

/// The body when a hook gives none.
fn generic(fields: &serde_json::Value) -> serde_json::Value {
    let field = |key: &str| match fields.get(key) {
        Some(serde_json::Value::String(s)) if s.is_empty() => serde_json::Value::Null,
        Some(value) => value.clone(),
        None => serde_json::Value::Null,
    };
    serde_json::json!({
        "event": field("kind"),
        "runbook": field("runbook"),
        "incident": field("incident"),
        "run": field("run_id"),
        "step": field("step"),
        "status": field("status"),
        "error": field("error"),
        "text": field("text"),
    })
}

/// Every string of a JSON document rendered as a template; the result is a
/// JSON string whatever the values hold.
fn render_json(
    value: &serde_json::Value,
    context: &Value,
) -> Result<serde_json::Value, crate::template::TemplateError> {
    Ok(match value {
        serde_json::Value::String(s) if crate::template::is_template(s) => {
            let template = crate::template::Template::compile(s, crate::span::Span::default())?;
            serde_json::Value::String(template.render(context)?)
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|i| render_json(i, context))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_json(v, context)?)))
                .collect::<Result<_, crate::template::TemplateError>>()?,
        ),
        other => other.clone(),
    })
}

/// Sends one message, trying again on any failure, 1s then 2s … apart.
async fn deliver(
    hook: usize,
    on: NotifyEvent,
    request: HttpRequest,
    attempts: u32,
    url: String,
    body: String,
    redactor: &Redactor,
) -> Event {
    let mut delay = FIRST_DELAY;
    let mut last: (Option<u16>, String) = (None, String::new());
    for attempt in 1..=attempts {
        match send(&request).await {
            Ok(HttpResponse { status, .. }) => {
                return outcome(
                    hook,
                    on,
                    url,
                    NotificationOutcome::Sent,
                    attempt,
                    Some(status),
                    None,
                    body,
                );
            }
            Err(e) => {
                last = (
                    e.response().map(|r| r.status),
                    redactor.redact(&e.to_string()),
                );
            }
        }
        if attempt < attempts {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    outcome(
        hook,
        on,
        url,
        NotificationOutcome::Failed,
        attempts,
        last.0,
        Some(last.1),
        body,
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "the fields of one event, named at each call"
)]
fn outcome(
    hook: usize,
    on: NotifyEvent,
    url: String,
    outcome: NotificationOutcome,
    tries: u32,
    status: Option<u16>,
    error: Option<String>,
    body: String,
) -> Event {
    Event::Notification {
        hook,
        on,
        url,
        outcome,
        tries,
        status,
        error,
        body,
    }
}

fn clip(text: &str) -> String {
    if text.len() <= BODY_KEPT {
        return text.to_owned();
    }
    let mut end = BODY_KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
