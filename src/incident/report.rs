//! The post-mortem `drctl report` writes from an incident's journal, in the
//! shape on-call teams use: facts, summary, impact, roles, the clock (time
//! to detect, respond, recover), timeline, results, communications, notes,
//! what was run and how, decisions, failures, lessons and action items by
//! deadline. The parts only people can write are left as sections to fill
//! in, started from what the journal shows.
//!
//! Markdown is the report; [`html`] turns it into one self-contained page
//! with a chart of the steps against the RTO. Every section module writes
//! text it did not author through [`text`], which keeps it inert.

mod chart;
mod facts;
mod featured;
mod handlers;
mod html;
mod lessons;
mod notifications;
mod outcomes;
mod runs;
mod text;
mod timeline;
mod times;

pub use super::phrase::{Timeline, timeline, unfinished};
use super::replay;
use crate::exec::event::Record;
pub use html::HtmlError;

/// The post-mortem of an incident, in Markdown.
#[must_use]
pub fn markdown(incident_id: &str, records: &[Record]) -> String {
    let runs = replay::runs(records);
    let post_mortem = facts::merged(&runs);
    let mut out = String::new();
    facts::title(&mut out, incident_id, &runs);
    facts::table(&mut out, incident_id, &runs, &post_mortem);
    facts::summary(&mut out, &runs);
    facts::severity(&mut out, &runs);
    facts::impact(&mut out, &post_mortem);
    facts::roles(&mut out, &runs, &post_mortem);
    facts::clock(&mut out, &runs);
    timeline::table(&mut out, records);
    featured::results(&mut out, &runs, &post_mortem);
    featured::communications(&mut out, &runs, &post_mortem);
    featured::notes(&mut out, &runs);
    runs::what_was_run(&mut out, &runs);
    runs::commands(&mut out, &runs);
    outcomes::decisions(&mut out, &runs);
    outcomes::failed_steps(&mut out, &runs);
    lessons::lessons(&mut out, &runs);
    lessons::action_items(&mut out, &runs);
    out
}

/// The post-mortem as one HTML page: `markdown` (the [`markdown`] of the
/// same records, redacted by the caller: masking after HTML escaping could
/// miss a secret whose `&` or `<` was escaped), and a chart of the steps
/// against the RTO. No script, no external resource.
pub fn html(incident_id: &str, records: &[Record], markdown: &str) -> Result<String, HtmlError> {
    let chart = chart::Chart::of(&replay::runs(records));
    html::page(incident_id, markdown, &chart)
}

#[cfg(test)]
mod tests;
