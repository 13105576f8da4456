//! `notify:` webhooks in the dry run and `show`: where each would post,
//! about which events, with which headers (names only) and body.

use std::fmt::Write as _;

use crate::runbook::model::{Notify, Runbook};
use crate::style::Style;
use crate::template::context::Context;

fn events(hook: &Notify) -> String {
    hook.on
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The dry run's section; `context` renders what is known now (the URL).
pub fn dry_run(out: &mut String, runbook: &Runbook, context: &Context, style: Style) {
    if runbook.notify.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{} (POSTed in the background, retried, never blocking or failing the run; none is sent by a dry run)",
        style.bold("Notifications")
    );
    for (index, hook) in runbook.notify.iter().enumerate() {
        let url = context.render(&hook.url, None).map_or_else(
            |_| hook.url.source.clone(),
            |url| context.redactor().redact(&crate::secret::mask_url(&url)),
        );
        let _ = writeln!(out, "\n  {:>2}. POST {url}", index + 1);
        let _ = writeln!(out, "      on: {}", events(hook));
        if !hook.headers.is_empty() {
            let names: Vec<&str> = hook.headers.iter().map(|(n, _)| n.as_str()).collect();
            let _ = writeln!(
                out,
                "      headers: {} (values never shown)",
                names.join(", ")
            );
        }
        let body = hook.body.as_ref().map_or_else(
            || {
                "the generic JSON body (event, runbook, incident, run, step, status, error, text)"
                    .to_owned()
            },
            std::string::ToString::to_string,
        );
        let _ = writeln!(out, "      body: {body}");
        let _ = writeln!(
            out,
            "      {} tries of at most {} each",
            hook.attempts,
            crate::runbook::duration::format(hook.timeout)
        );
    }
}

/// `show`'s section.
pub fn show(out: &mut String, runbook: &Runbook, style: Style) {
    if runbook.notify.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", style.bold("Notifications"));
    for (index, hook) in runbook.notify.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>2}. POST {} on {}",
            index + 1,
            hook.url.source,
            events(hook)
        );
    }
}
