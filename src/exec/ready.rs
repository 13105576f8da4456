//! Where each step of a run stands, and which may start next.
//!
//! A step may start once every step it needs is done and released it (see
//! [`released`]). Each step counts its needs not yet released, and the steps
//! whose count is zero wait in order of the runbook's `order`; finding the
//! next one is a look at the front, not a scan of the runbook, so a run of
//! 10,000 steps costs 10,000 small updates, not 10,000 scans.

use std::collections::BTreeSet;

use super::event::Status;
use crate::runbook::model::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Pending,
    /// Done before; decided again when its needs are (see [`crate::plan::Decision::Undecided`]).
    Undecided,
    /// Waiting for an answer (queued, or asked).
    Asking,
    Running,
    Done(Status),
}

/// Whether a step that ended with `status` lets the steps that need it start.
pub(super) fn released(step: &Step, status: Status) -> bool {
    status.releases_dependents()
        || (step.continue_on_error && matches!(status, Status::Failed | Status::TimedOut))
}

/// Every step's [`State`], with the steps free to start kept apart.
pub(super) struct States<'r> {
    steps: &'r [Step],
    order: &'r [usize],
    state_of: Vec<State>,
    /// Per step: its needs that have not released it yet.
    unreleased: Vec<usize>,
    /// Per step: the steps that need it (once for each time they name it).
    dependents: Vec<Vec<usize>>,
    /// Per step: where it stands in `order`.
    position: Vec<usize>,
    /// Positions in `order` of the free steps that are `Pending`…
    free_pending: BTreeSet<usize>,
    /// …and of those that are `Undecided`.
    free_undecided: BTreeSet<usize>,
}

impl<'r> States<'r> {
    /// Every step `Pending`; `order` holds each index of `steps` once.
    pub(super) fn new(steps: &'r [Step], order: &'r [usize]) -> Self {
        let mut dependents = vec![Vec::new(); steps.len()];
        for (index, step) in steps.iter().enumerate() {
            for &need in &step.needs {
                dependents[need].push(index);
            }
        }
        let mut position = vec![0; steps.len()];
        for (at, &index) in order.iter().enumerate() {
            position[index] = at;
        }
        let unreleased: Vec<usize> = steps.iter().map(|s| s.needs.len()).collect();
        let free_pending = order
            .iter()
            .enumerate()
            .filter(|&(_, &index)| unreleased[index] == 0)
            .map(|(at, _)| at)
            .collect();
        Self {
            steps,
            order,
            state_of: vec![State::Pending; steps.len()],
            unreleased,
            dependents,
            position,
            free_pending,
            free_undecided: BTreeSet::new(),
        }
    }

    pub(super) fn get(&self, index: usize) -> State {
        self.state_of[index]
    }

    /// The steps' states, in the runbook's step order.
    pub(super) fn all(&self) -> &[State] {
        &self.state_of
    }

    pub(super) fn set(&mut self, index: usize, state: State) {
        let before = std::mem::replace(&mut self.state_of[index], state);
        if self.unreleased[index] == 0 {
            let at = self.position[index];
            if let Some(free) = self.free(before) {
                free.remove(&at);
            }
            if let Some(free) = self.free(state) {
                free.insert(at);
            }
        }
        if let State::Done(status) = state
            && !matches!(before, State::Done(_))
            && released(&self.steps[index], status)
        {
            for dependent in std::mem::take(&mut self.dependents[index]) {
                self.unreleased[dependent] -= 1;
                if self.unreleased[dependent] == 0 {
                    let at = self.position[dependent];
                    if let Some(free) = self.free(self.state_of[dependent]) {
                        free.insert(at);
                    }
                }
            }
        }
    }

    /// The first step in `order` that may start: an undecided one at any
    /// time (deciding again starts nothing), a pending one only while fewer
    /// than `concurrency` actions run.
    pub(super) fn next_ready(&self, running: usize, concurrency: usize) -> Option<usize> {
        let undecided = self.free_undecided.first();
        let pending = self.free_pending.first().filter(|_| running < concurrency);
        let at = match (undecided, pending) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(self.order[*at])
    }

    /// The set that holds the free steps in `state`: none for a step asking,
    /// running or done.
    fn free(&mut self, state: State) -> Option<&mut BTreeSet<usize>> {
        match state {
            State::Pending => Some(&mut self.free_pending),
            State::Undecided => Some(&mut self.free_undecided),
            State::Asking | State::Running | State::Done(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::model::Runbook;

    /// The scan this module replaces: the first step in `order` that is free.
    fn scan(
        runbook: &Runbook,
        states: &[State],
        running: usize,
        concurrency: usize,
    ) -> Option<usize> {
        runbook.order.iter().copied().find(|&index| {
            let free = match states[index] {
                State::Undecided => true,
                State::Pending => running < concurrency,
                _ => false,
            };
            free && runbook.steps[index]
                .needs
                .iter()
                .all(|&need| match states[need] {
                    State::Done(status) => released(&runbook.steps[need], status),
                    _ => false,
                })
        })
    }

    /// xorshift: the same graphs and moves on every run, no crate needed.
    struct Dice(u64);
    impl Dice {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A runbook of `n` steps, each needing some that come before it in a
    /// shuffled ranking, so `order` is not the step order.
    fn graph(dice: &mut Dice, n: usize) -> Runbook {
        let mut rank: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            rank.swap(i, dice.below(i + 1));
        }
        let mut yaml = String::from("version: 1\nname: g\nsteps:\n");
        for i in 0..n {
            yaml.push_str(&format!("  - id: s{i}\n    shell: {{ run: 'true' }}\n"));
            if dice.below(3) == 0 {
                yaml.push_str("    continue_on_error: true\n");
            }
            let needs: Vec<String> = (0..n)
                .filter(|&j| rank[j] < rank[i] && dice.below(4) == 0)
                .map(|j| format!("s{j}"))
                .collect();
            if !needs.is_empty() {
                yaml.push_str(&format!("    needs: [{}]\n", needs.join(", ")));
            }
        }
        crate::runbook::load_text(std::path::Path::new("g.yaml"), "g.yaml", &yaml)
            .unwrap_or_else(|d| panic!("{d:?}\n{yaml}"))
    }

    #[test]
    fn the_next_ready_step_is_the_one_a_scan_of_the_order_finds() {
        const STATUSES: [Status; 6] = [
            Status::Succeeded,
            Status::Failed,
            Status::Skipped,
            Status::TimedOut,
            Status::Interrupted,
            Status::Refused,
        ];
        let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
        let mut moves = 0;
        for _ in 0..200 {
            let n = 1 + dice.below(24);
            let runbook = graph(&mut dice, n);
            let mut states = States::new(&runbook.steps, &runbook.order);
            for _ in 0..(n * 6) {
                let running = dice.below(4);
                let concurrency = 1 + dice.below(3);
                assert_eq!(
                    states.next_ready(running, concurrency),
                    scan(&runbook, states.all(), running, concurrency),
                    "{:?}",
                    states.all()
                );
                // Any move a run makes: a done step stays done.
                let index = dice.below(n);
                if !matches!(states.get(index), State::Done(_)) {
                    let state = match dice.below(5) {
                        0 => State::Pending,
                        1 => State::Undecided,
                        2 => State::Asking,
                        3 => State::Running,
                        _ => State::Done(STATUSES[dice.below(STATUSES.len())]),
                    };
                    states.set(index, state);
                    moves += 1;
                }
            }
        }
        assert!(moves > 5_000, "only {moves} moves were tried");
    }
}
