//! The step graph: topological order, cycle paths and ancestry.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A topological order of nodes given each node's dependencies, preferring the
/// lowest index among ready nodes (so independent steps keep file order).
/// On a cycle, returns the nodes of one cycle in dependency order, the first
/// repeated at the end.
pub fn topological_order(needs: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = needs.len();
    let mut pending: Vec<usize> = needs.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (node, deps) in needs.iter().enumerate() {
        for &dep in deps {
            dependents[dep].push(node);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| pending[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for &dependent in &dependents[node] {
            pending[dependent] -= 1;
            if pending[dependent] == 0 {
                ready.push(Reverse(dependent));
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err(find_cycle(needs, &pending))
    }
}

/// Walks dependencies from a node left in the cycle until one repeats.
fn find_cycle(needs: &[Vec<usize>], pending: &[usize]) -> Vec<usize> {
    let Some(start) = (0..needs.len()).find(|&i| pending[i] > 0) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut node = start;
    loop {
        // Every node left has a dependency that is also left.
        let Some(&next) = needs[node].iter().find(|&&d| pending[d] > 0) else {
            return path;
        };
        if let Some(position) = path.iter().position(|&p| p == next) {
            let mut cycle: Vec<usize> = path[position..].to_vec();
            // `path` follows "needs" edges; show it as "a → b" meaning a needs b reversed
            // into execution order: b runs before a.
            cycle.reverse();
            cycle.push(cycle[0]);
            return cycle;
        }
        path.push(next);
        node = next;
    }
}

/// For each node, the set of nodes it transitively depends on.
pub struct Ancestry {
    words: usize,
    bits: Vec<u64>,
}

impl Ancestry {
    pub fn new(needs: &[Vec<usize>], order: &[usize]) -> Self {
        let n = needs.len();
        let words = n.div_ceil(64);
        let mut bits = vec![0u64; n * words];
        for &node in order {
            for &dep in &needs[node] {
                let (dst, src) = (node * words, dep * words);
                for w in 0..words {
                    bits[dst + w] |= bits[src + w];
                }
                bits[dst + dep / 64] |= 1 << (dep % 64);
            }
        }
        Ancestry { words, bits }
    }

    pub fn is_ancestor(&self, node: usize, ancestor: usize) -> bool {
        self.bits[node * self.words + ancestor / 64] & (1 << (ancestor % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_a_diamond_in_file_order() {
        let needs = vec![vec![], vec![0], vec![0], vec![1, 2]];
        assert_eq!(topological_order(&needs), Ok(vec![0, 1, 2, 3]));
        let ancestry = Ancestry::new(&needs, &[0, 1, 2, 3]);
        assert!(ancestry.is_ancestor(3, 0));
        assert!(!ancestry.is_ancestor(1, 2));
    }

    #[test]
    fn reports_the_cycle() {
        // 0 needs 2, 1 needs 0, 2 needs 1: 0 → 1 → 2 → 0 in execution order.
        let needs = vec![vec![2], vec![0], vec![1], vec![]];
        let cycle = topological_order(&needs).unwrap_err();
        assert_eq!(cycle.len(), 4);
        assert_eq!(cycle.first(), cycle.last());
    }
}
