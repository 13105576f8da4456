//! What a run records for its post-mortem besides its steps: the roles and
//! impact the runbook declares (`roles:`, `impact:`), replaced field by field
//! by `--set roles.…` and `--set impact.…` at run time, and which steps
//! (`comms: true`) and outputs (`report: true`) the report features.
//!
//! Input names cannot hold a dot, so a dotted `--set` key is one of these
//! fields and never an input.

use chrono::{DateTime, SubsecRound as _, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::runbook::Runbook;

/// What a run records for its post-mortem besides its steps: the roles and
/// impact (from the runbook's `roles:` and `impact:`, or `--set roles.…` and
/// `--set impact.…`), and which steps and outputs the report features.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostMortemFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commander: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    /// When the impact began (`--set impact.began=TIME`): the time to
    /// detect runs from it to `detected_at`.
    /// (RFC 3339, as given.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_began: Option<chrono::DateTime<chrono::Utc>>,
    /// Steps marked `comms: true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comms_steps: Vec<String>,
    /// Outputs marked `report: true`, as `STEP.OUTPUT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_outputs: Vec<String>,
}

/// The dotted `--set` keys, with what each takes (for the docs and the error).
pub const KEYS: [(&str, &str); 5] = [
    ("roles.commander", "NAME"),
    ("roles.approvers", "NAME,NAME"),
    ("impact.services", "SERVICE,SERVICE"),
    ("impact.summary", "TEXT"),
    ("impact.began", "RFC 3339 TIME"),
];

/// The longest a `--set roles.…`/`impact.…` value may be: a sentence, not a document.
const MAX_CHARS: usize = 1000;

/// `--set` pairs split in two: those for inputs (`NAME=VALUE`, passed on
/// as they are) and the post-mortem's fields, checked here.
pub fn split_set(set: &[String]) -> Result<(Vec<String>, PostMortemFacts), Error> {
    let mut inputs = Vec::new();
    let mut facts = PostMortemFacts::default();
    for pair in set {
        let Some((key, value)) = pair.split_once('=') else {
            inputs.push(pair.clone());
            continue;
        };
        let key = key.trim();
        if !key.contains('.') {
            inputs.push(pair.clone());
            continue;
        }
        let value = value.trim();
        if value.is_empty() || value.chars().count() > MAX_CHARS || value.contains('\0') {
            return Err(Error::usage(
                format!("`--set {key}=…` needs a value of 1 to {MAX_CHARS} characters"),
                "e.g. --set roles.commander=alice",
            ));
        }
        let list = || {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match key {
            "roles.commander" => facts.commander = Some(one_line(value)),
            "roles.approvers" => facts.approvers = list(),
            "impact.services" => facts.services = list(),
            "impact.summary" => facts.impact = Some(value.to_owned()),
            "impact.began" => facts.impact_began = Some(time(value)?),
            _ => {
                let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                return Err(Error::usage(
                    format!("`--set {key}=…`: there is no post-mortem field `{key}`"),
                    format!(
                        "the dotted keys are {} (input names have no dot)",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok((inputs, facts))
}

/// The facts a run records: the runbook's, each replaced by its `--set`.
pub fn facts(runbook: &Runbook, set: &PostMortemFacts) -> PostMortemFacts {
    let or = |given: &Vec<String>, declared: &Vec<String>| {
        if given.is_empty() {
            declared.clone()
        } else {
            given.clone()
        }
    };
    PostMortemFacts {
        commander: set
            .commander
            .clone()
            .or_else(|| runbook.roles.commander.clone()),
        approvers: or(&set.approvers, &runbook.roles.approvers),
        services: or(&set.services, &runbook.impact.services),
        impact: set
            .impact
            .clone()
            .or_else(|| runbook.impact.summary.clone()),
        impact_began: set.impact_began,
        comms_steps: runbook
            .order
            .iter()
            .map(|&i| &runbook.steps[i])
            // Handlers too: an `always` that posts to chat is a communication.
            .chain(runbook.handlers.iter().map(|h| &h.step))
            .filter(|s| s.comms)
            .map(|s| s.id.clone())
            .collect(),
        report_outputs: runbook
            .order
            .iter()
            .map(|&i| &runbook.steps[i])
            .flat_map(|s| {
                s.outputs
                    .iter()
                    .filter(|o| o.report)
                    .map(move |o| format!("{}.{}", s.id, o.name))
            })
            .collect(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `impact.began`: RFC 3339, not in the future (as `--detected-at`).
fn time(text: &str) -> Result<DateTime<Utc>, Error> {
    let hint =
        "give an RFC 3339 time with its offset, e.g. --set impact.began=2026-11-21T23:10:00Z";
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|e| {
            Error::usage(
                format!("`--set impact.began={text}` is not a time: {e}"),
                hint,
            )
        })?
        .with_timezone(&Utc)
        // Milliseconds, as every time in the journal.
        .trunc_subsecs(3);
    if at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(Error::usage(
            format!("`--set impact.began={text}` is in the future"),
            hint,
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_are_fields_and_the_rest_inputs() {
        let set = [
            "backup_file=/b.dump".to_owned(),
            "roles.commander= alice  smith ".to_owned(),
            "roles.approvers=bob, carol,".to_owned(),
            "impact.services=api,db".to_owned(),
            "url=http://x/?a=b.c".to_owned(),
        ];
        let (inputs, facts) = split_set(&set).unwrap();
        assert_eq!(inputs, ["backup_file=/b.dump", "url=http://x/?a=b.c"]);
        assert_eq!(facts.commander.as_deref(), Some("alice smith"));
        assert_eq!(facts.approvers, ["bob", "carol"]);
        assert_eq!(facts.services, ["api", "db"]);
        for bad in [
            "roles.comander=x",
            "impact.began=yesterday",
            "impact.began=2999-01-01T00:00:00Z",
            "roles.commander=",
        ] {
            assert!(split_set(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
