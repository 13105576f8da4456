//! "Did you mean …?": the closest known name to a misspelt one.

use std::cell::Cell;

/// Candidates compared, over a whole file, before suggestions stop: a file
/// with thousands of misspelt names among thousands of steps must not spend
/// time quadratic in its size on hints nobody reads (only the first 100
/// problems are shown).
const BUDGET: usize = 200_000;

/// The candidate nearest to `word` by edit distance, if it is close enough
/// to be a typo (at most a third of the word's letters, at least one, and
/// never a complete rewrite).
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    Suggester::new().closest(word, candidates)
}

/// [`closest`] with a shared budget of comparisons for one file.
#[derive(Debug)]
pub struct Suggester {
    left: Cell<usize>,
}

impl Default for Suggester {
    fn default() -> Self {
        Suggester::new()
    }
}

impl Suggester {
    pub fn new() -> Self {
        Suggester {
            left: Cell::new(BUDGET),
        }
    }

    /// As [`closest`]; `None` once the budget is spent.
    pub fn closest<'a>(
        &self,
        word: &str,
        candidates: impl Iterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let length = word.chars().count();
        let limit = (word.len() / 3).max(1);
        let mut best: Option<(usize, &str)> = None;
        for candidate in candidates {
            let left = self.left.get().checked_sub(1)?;
            self.left.set(left);
            // Names whose lengths differ by more than the limit cannot be
            // within it; skip the costly distance for them.
            if candidate.len().abs_diff(word.len()) > 4 * limit
                || candidate.chars().count().abs_diff(length) > limit
            {
                continue;
            }
            let distance = strsim::damerau_levenshtein(word, candidate);
            if distance <= limit
                && distance < word.len()
                && best.is_none_or(|b| (distance, candidate) < b)
            {
                best = Some((distance, candidate));
            }
        }
        best.map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_within_a_third_and_stops_when_the_budget_is_spent() {
        let names = ["restore", "dump", "verify"];
        assert_eq!(closest("restroe", names.into_iter()), Some("restore"));
        assert_eq!(closest("dmp", names.into_iter()), Some("dump"));
        assert_eq!(closest("xyz", names.into_iter()), None);
        let suggester = Suggester::new();
        let many: Vec<String> = (0..BUDGET).map(|i| format!("step-{i}")).collect();
        assert_eq!(
            suggester.closest("step-17x", many.iter().map(String::as_str)),
            Some("step-17")
        );
        assert_eq!(
            suggester.closest("step-17x", names.into_iter()),
            None,
            "spent"
        );
    }
}
