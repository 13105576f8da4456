//! The `notify:` webhooks' messages in the report's Communications: when,
//! to which webhook, about what, and whether it arrived.

use super::super::phrase::push_line;
use super::super::replay::RunView;
use super::text::{cell, code_cell};
use crate::exec::event::{Event, NotificationOutcome};
use crate::output::words::clip;

pub(super) fn table(out: &mut String, runs: &[RunView]) {
    let rows: Vec<_> = runs.iter().flat_map(|r| &r.notifications).collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "Notifications sent by `notify:` webhooks (bodies in the journal):\n\n\
         | Time | Webhook | Event | Outcome | To |\n|---|---|---|---|---|\n",
    );
    for (at, event) in rows {
        let Event::Notification {
            hook,
            on,
            url,
            outcome,
            tries,
            status,
            error,
            ..
        } = event
        else {
            continue;
        };
        let tries = if *tries == 1 {
            "1 try".to_owned()
        } else {
            format!("{tries} tries")
        };
        let outcome = match outcome {
            NotificationOutcome::Sent => format!(
                "sent ({}, {tries})",
                status.map_or_else(String::new, |s| s.to_string())
            ),
            NotificationOutcome::Failed => format!(
                "**failed** after {tries}: {}",
                clip(error.as_deref().unwrap_or_default())
            ),
            NotificationOutcome::Dropped => format!(
                "**dropped**: {}",
                clip(error.as_deref().unwrap_or_default())
            ),
        };
        push_line(
            out,
            &format!(
                "| {} | {hook} | {} | {} | {} |",
                at.format("%H:%M:%S"),
                on.as_str(),
                cell(&outcome),
                code_cell(url)
            ),
        );
    }
    out.push('\n');
}
