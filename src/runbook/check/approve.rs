//! `approve:` of a step: how many other people, for how long, and what they read.

use super::Checker;
use crate::runbook::model::{Approve, MAX_APPROVERS};
use crate::runbook::raw::{RawApprove, RawStep};
use crate::runbook::spanned::Spanned;
use crate::span::Span;

impl Checker {
    pub(super) fn approve(&mut self, raw: &RawStep) -> Option<Approve> {
        let Spanned { value, span } = raw.approve.as_ref()?;
        let detailed = match value {
            RawApprove::Flag(false) => return None,
            RawApprove::Flag(true) => None,
            RawApprove::Detailed(d) => Some(d),
        };
        if raw.manual.is_some() {
            self.problem(
                *span,
                "`approve` has no meaning on a manual step",
                "a manual step is done by a person already; put `approve:` on the step that changes something",
            );
        }
        let by = match detailed.and_then(|d| d.by.as_ref()) {
            None => 1,
            Some(by) => match u32::try_from(by.value) {
                Ok(n) if (1..=MAX_APPROVERS).contains(&n) => n,
                _ => {
                    self.problem(
                        by.span,
                        format!("`by: {}` is out of range", by.value),
                        format!(
                            "`by` counts the people, other than the run's operator, who must approve: 1 to {MAX_APPROVERS}"
                        ),
                    );
                    1
                }
            },
        };
        let timeout = self.duration(detailed.and_then(|d| d.timeout.as_ref()), true);
        let message = detailed.and_then(|d| d.message.as_ref()).map(|m| {
            if m.value.contains("{{") {
                self.problem(
                    m.span,
                    "an approval message is plain text: `{{ }}` is not rendered here",
                    "the approvers read the message as it is written; name the step's effect in words",
                );
            }
            m.value.clone()
        });
        Some(Approve {
            by,
            timeout,
            message,
            span: key_before(&self.source, *span, "approve"),
        })
    }
}

/// Where `key:` is written before its value at `value` (a mapping's span is
/// its first key's): messages about the whole key point at it. The value's
/// own position when the key is not found just before it.
fn key_before(source: &str, value: Span, key: &str) -> Span {
    let Some(before) = source.get(..value.offset) else {
        return value;
    };
    let Some(at) = before.rfind(key) else {
        return value;
    };
    let line_start = before[..at].rfind('\n').map_or(0, |n| n + 1);
    let line = u32::try_from(before[..at].matches('\n').count() + 1).unwrap_or(value.line);
    let column = u32::try_from(before[line_start..at].chars().count() + 1).unwrap_or(value.column);
    Span {
        line,
        column,
        offset: at,
    }
}
