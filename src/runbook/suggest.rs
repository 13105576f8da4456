//! "Did you mean …?": the closest known name to a misspelt one.

/// The candidate nearest to `word` by edit distance, if it is close enough
/// to be a typo (at most a third of the word's letters, at least one, and
/// never a complete rewrite).
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= (word.len() / 3).max(1) && *d < word.len())
        .min()
        .map(|(_, c)| c)
}
