//! The plan of a run, as a value: built from the runbook, the resolved
//! inputs and, for a resume, what the incident's journal says each step did
//! before. It holds the order, each step's prior outcome, which decisions
//! must be made again, the prompts the run may ask, and each step's
//! description. The dry run renders it ([`render`]); the scheduler executes it.
//!
//! A step done in an earlier run is *kept* (not run again, its values read
//! back) only while every step it reads is kept too. A step that reads a
//! step running again is *undecided*: its `when` is evaluated again once
//! that step has finished in this run, and until then nothing that reads
//! it is evaluated either. A step skipped before runs through the whole
//! decision again; a step that succeeded before keeps its outcome unless
//! its `when` is now false (it is then recorded as skipped).

pub mod call_inputs;
pub mod handlers;
pub mod inputs;
pub mod items;
pub mod notify;
pub mod post_mortem;
pub mod render;
pub mod secret_source;

use indexmap::IndexMap;

use crate::outcome::Status;
use crate::plan::inputs::Resolved;
use crate::runbook::model::{Action, Runbook, Step};
use crate::template::context::StepValues;

/// A step done in an earlier run, as the resume found it.
#[derive(Debug, Clone)]
pub struct Done {
    pub status: Status,
    pub values: StepValues,
}

/// Steps done in earlier runs, by id, in the order they completed: a failed
/// resumed run offers their rollbacks too, after its own.
pub type Prior = IndexMap<String, Done>;

/// An iteration of a `for_each` step that succeeded in an earlier run:
/// a resume keeps it while the same item is still in the list.
#[derive(Debug, Clone)]
pub struct KeptIteration {
    /// Its position in the earlier run's list.
    pub index: usize,
    pub item: String,
    pub result: Option<serde_json::Value>,
    pub outputs: IndexMap<String, String>,
}

/// What the run does with a step, given its prior outcome.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Runs in this run: never run, failed, rolled back, skipped before
    /// with a re-running ancestor, or chosen with `--rerun`.
    Run,
    /// Done before and nothing it reads runs again: its outcome stands.
    Kept(Done),
    /// Done before, but a step it reads runs again: decided again once
    /// that step has finished.
    Undecided(Done),
}

/// A question the run may put to the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// A yes/no confirmation (`--yes` answers it).
    YesNo,
    /// A typed confirmation (`--confirm WORD` answers it).
    Typed,
    /// A manual step's "done?" (`--yes` answers it).
    Manual,
}

pub struct Plan<'a> {
    pub runbook: &'a Runbook,
    pub inputs: Resolved,
    /// By the runbook's step index.
    pub decisions: Vec<Decision>,
    /// Steps that succeeded before and are kept, in the order they completed.
    pub completed_before: Vec<usize>,
    /// Of the `for_each` steps done before: the iterations that succeeded,
    /// by step id (set by a resume). A loop that runs again keeps them; a
    /// kept loop offers their rollbacks.
    pub iterations: IndexMap<String, Vec<KeptIteration>>,
}

impl<'a> Plan<'a> {
    /// A plan for a first run: every step runs.
    pub fn new(runbook: &'a Runbook, inputs: Resolved) -> Self {
        Plan::resumed(runbook, inputs, &Prior::new())
    }

    /// A plan that continues from what earlier runs did.
    pub fn resumed(runbook: &'a Runbook, inputs: Resolved, prior: &Prior) -> Self {
        let mut decisions = vec![Decision::Run; runbook.steps.len()];
        // In execution order, so a step's needs are decided before it.
        for &index in &runbook.order {
            let step = &runbook.steps[index];
            let Some(done) = prior.get(&step.id) else {
                continue;
            };
            let ancestor_runs = step
                .needs
                .iter()
                .any(|&need| !matches!(decisions[need], Decision::Kept(_)));
            decisions[index] = match (ancestor_runs, done.status) {
                (false, _) => Decision::Kept(done.clone()),
                // Skipped, so nothing was done: decided again in full.
                (true, Status::Skipped) => Decision::Run,
                (true, _) => Decision::Undecided(done.clone()),
            };
        }
        let completed_before = prior
            .iter()
            .filter_map(|(id, done)| {
                let index = runbook.step_index(id)?;
                (done.status == Status::Succeeded && matches!(decisions[index], Decision::Kept(_)))
                    .then_some(index)
            })
            .collect();
        Plan {
            runbook,
            inputs,
            decisions,
            completed_before,
            iterations: IndexMap::new(),
        }
    }

    /// Ids of the steps kept from earlier runs, in execution order.
    pub fn kept(&self) -> Vec<String> {
        self.runbook
            .order
            .iter()
            .filter(|&&i| matches!(self.decisions[i], Decision::Kept(_)))
            .map(|&i| self.runbook.steps[i].id.clone())
            .collect()
    }

    /// Ids of the steps whose earlier outcome is decided again, in execution order.
    pub fn undecided(&self) -> Vec<String> {
        self.runbook
            .order
            .iter()
            .filter(|&&i| matches!(self.decisions[i], Decision::Undecided(_)))
            .map(|&i| self.runbook.steps[i].id.clone())
            .collect()
    }

    /// The questions the steps still to run may ask, in execution order.
    pub fn prompts(&self) -> Vec<(&'a Step, Prompt)> {
        let runbook = self.runbook;
        runbook
            .order
            .iter()
            .filter(|&&i| !matches!(self.decisions[i], Decision::Kept(_)))
            .map(|&i| &runbook.steps[i])
            .flat_map(|step| {
                let confirm = step.confirm.as_ref().map(|c| {
                    let prompt = if c.word.is_some() {
                        Prompt::Typed
                    } else {
                        Prompt::YesNo
                    };
                    (step, prompt)
                });
                let manual =
                    matches!(step.action, Action::Manual(_)).then_some((step, Prompt::Manual));
                confirm.into_iter().chain(manual)
            })
            .collect()
    }
}

/// One line saying what an action does, from its source (before rendering):
/// used by `show` and by the dry run when a template cannot be rendered yet.
pub fn describe_action(action: &Action) -> String {
    match action {
        Action::Shell(a) => {
            let first = a.source.lines().next().unwrap_or("");
            let more = if a.source.trim_end().lines().count() > 1 {
                " …"
            } else {
                ""
            };
            format!("shell: {first}{more}")
        }
        Action::Http(a) => format!("http: {} {}", a.method, a.url.source),
        Action::Postgres(a) => {
            let first = a.source.lines().next().unwrap_or("");
            let more = if a.source.trim_end().lines().count() > 1 {
                " …"
            } else {
                ""
            };
            format!("postgres: {first}{more}")
        }
        Action::Manual(a) => format!(
            "manual: {}",
            a.instructions.source.lines().next().unwrap_or("")
        ),
        Action::Ssh(a) => {
            let first = a.script.source.lines().next().unwrap_or("");
            let more = if a.script.source.trim_end().lines().count() > 1 {
                " …"
            } else {
                ""
            };
            format!("ssh {}: {first}{more}", a.host.source)
        }
        Action::Call(call) => format!("runbook: {} (the steps above, ids `ID/STEP`)", call.name),
    }
}
