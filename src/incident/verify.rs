//! Checks an incident's journal end to end (`drctl verify`): every line
//! intact and in order, the hash chain unbroken from the first line to the
//! last (and to `journal.head`), and each run's `runbook_hash` that of its
//! frozen runbook, so the chain is anchored in the exact text that ran; and
//! no event where drctl could not have written it ([`super::replay::impossible`]).

use super::IncidentError;
use super::store::Incident;
use crate::exec::event::Event;

/// What an intact journal holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub lines: usize,
    pub runs: usize,
    /// A torn last line (a crash while writing) is not tampering: said, not failed.
    pub warnings: Vec<String>,
}

/// The first problem is the error: damage or a broken chain names its line.
pub fn verify(incident: &Incident) -> Result<Verified, IncidentError> {
    let path = incident.journal_label();
    let contents = incident.read_journal()?;
    contents.trusted(&path)?;
    let mut runs = 0;
    for (index, record) in contents.records.iter().enumerate() {
        let Event::RunStarted {
            run_id,
            runbook_hash,
            ..
        } = &record.event
        else {
            continue;
        };
        runs += 1;
        let (_, frozen_hash) = incident.frozen_runbook(run_id)?;
        if &frozen_hash != runbook_hash {
            return Err(IncidentError::ChainBroken {
                path,
                line: index + 1,
                message: format!(
                    "run {run_id} records runbook hash {runbook_hash}, but its frozen runbook hashes to {frozen_hash}"
                ),
            });
        }
    }
    Ok(Verified {
        lines: contents.records.len(),
        runs,
        warnings: contents.warnings,
    })
}
