//! The event pairs of b-positive and b-more-positive, and their sums over sliding windows.
//!
//! b-positive pairs each analysed event with the next one; b-more-positive pairs event i with
//! `next(i)`, the first later event j with `M_j − M_i ≥ dmc`. A window `lo..hi` of analysed
//! events holds the pairs whose two events both lie in it (see the module documentation of
//! [`super`] for why that is the right set for b-more-positive too).

use super::{Estimator, Pairing, Prefix, Sums, from_fixed, to_fixed};
use crate::catalog::at_or_above;

/// The pairs `(first, second)` of `magnitudes` (in time order) whose difference
/// `M_second − M_first` is at least `dmc`, in the order of their first events.
pub(super) fn pairs(magnitudes: &[f64], pairing: Pairing, dmc: f64) -> Vec<(usize, usize)> {
    match pairing {
        Pairing::Consecutive => (1..magnitudes.len())
            .filter(|&j| at_or_above(magnitudes[j] - magnitudes[j - 1], dmc))
            .map(|j| (j - 1, j))
            .collect(),
        Pairing::NextLarger => next_larger(magnitudes, dmc)
            .into_iter()
            .enumerate()
            .filter_map(|(i, next)| next.map(|j| (i, j)))
            .collect(),
    }
}

/// For each event i, the first later event j with `M_j − M_i ≥ dmc` (within the magnitude
/// tolerance), or `None`.
///
/// Reading the sequence backwards, the candidates for event i are the records of the events
/// after it: those larger than every event between i and themselves. Kept on a stack, nearest on
/// top, their magnitudes fall from the bottom of the stack to its top, so the nearest one at
/// least dmc above `M_i` is found by bisection; then i enters the stack and every candidate no
/// larger than `M_i` leaves it for good. O(n log n).
pub(super) fn next_larger(magnitudes: &[f64], dmc: f64) -> Vec<Option<usize>> {
    let mut next = vec![None; magnitudes.len()];
    let mut records: Vec<usize> = Vec::new();
    for i in (0..magnitudes.len()).rev() {
        let m = magnitudes[i];
        // The difference is monotone in the later magnitude, so the predicate holds on a
        // prefix of the stack (its larger, farther records).
        let reach = records.partition_point(|&j| at_or_above(magnitudes[j] - m, dmc));
        if reach > 0 {
            next[i] = Some(records[reach - 1]);
        }
        while records.last().is_some_and(|&j| magnitudes[j] <= m) {
            records.pop();
        }
        records.push(i);
    }
    next
}

/// The sums of `difference − dmc` over the pairs inside each window, per estimator.
pub(super) enum DifferenceSums {
    /// The estimator uses magnitudes, not differences.
    None,
    /// b-positive: prefix sums, item j holding the pair `(j − 1, j)` when it is kept.
    Consecutive(Prefix),
    /// b-more-positive: a running sum over the window.
    NextLarger(SlidingPairs),
}

impl DifferenceSums {
    /// The sums for `estimator` over the analysed `magnitudes` (in time order).
    pub(super) fn new(magnitudes: &[f64], estimator: Estimator) -> Self {
        match estimator {
            Estimator::Magnitudes(_) => DifferenceSums::None,
            Estimator::Differences {
                pairing: Pairing::Consecutive,
                dmc,
                ..
            } => DifferenceSums::Consecutive(Prefix::from_values((0..magnitudes.len()).map(|j| {
                if j == 0 {
                    return None;
                }
                let d = magnitudes[j] - magnitudes[j - 1];
                at_or_above(d, dmc).then_some(d - dmc)
            }))),
            Estimator::Differences {
                pairing: Pairing::NextLarger,
                dmc,
                ..
            } => DifferenceSums::NextLarger(SlidingPairs::new(magnitudes, dmc)),
        }
    }

    /// The sums over the pairs inside analysed events `lo..hi` (both bounds never decrease
    /// between calls, `lo ≤ hi`); `None` for a magnitude estimator.
    pub(super) fn window(&mut self, lo: usize, hi: usize) -> Option<Sums> {
        match self {
            DifferenceSums::None => None,
            DifferenceSums::Consecutive(prefix) => Some(prefix.range((lo + 1).min(hi), hi)),
            DifferenceSums::NextLarger(sliding) => {
                sliding.move_to(lo, hi);
                Some(sliding.sums())
            }
        }
    }
}

/// The b-more-positive pairs inside a window that slides forward: each pair enters once and
/// leaves once, its value summed in fixed point so the running sums stay exact.
pub(super) struct SlidingPairs {
    /// `next(i)` for every event.
    next: Vec<Option<usize>>,
    /// `to_fixed(x)` and `to_fixed(x²)` of `x = M_next(i) − M_i − dmc` (zero without a pair).
    value1: Vec<i128>,
    value2: Vec<i128>,
    /// The first events of the pairs whose second event is j: `firsts[starts[j]..starts[j + 1]]`.
    starts: Vec<usize>,
    firsts: Vec<usize>,
    lo: usize,
    hi: usize,
    n: usize,
    s1: i128,
    s2: i128,
}

impl SlidingPairs {
    fn new(magnitudes: &[f64], dmc: f64) -> Self {
        let next = next_larger(magnitudes, dmc);
        let n_events = magnitudes.len();
        let mut value1 = vec![0; n_events];
        let mut value2 = vec![0; n_events];
        let mut starts = vec![0usize; n_events + 1];
        for (i, j) in next.iter().enumerate() {
            if let Some(j) = *j {
                let x = magnitudes[j] - magnitudes[i] - dmc;
                value1[i] = to_fixed(x);
                value2[i] = to_fixed(x * x);
                starts[j + 1] += 1;
            }
        }
        for j in 0..n_events {
            starts[j + 1] += starts[j];
        }
        let mut filled = starts.clone();
        let mut firsts = vec![0; starts[n_events]];
        for (i, j) in next.iter().enumerate() {
            if let Some(j) = *j {
                firsts[filled[j]] = i;
                filled[j] += 1;
            }
        }
        SlidingPairs {
            next,
            value1,
            value2,
            starts,
            firsts,
            lo: 0,
            hi: 0,
            n: 0,
            s1: 0,
            s2: 0,
        }
    }

    /// Moves the window to events `lo..hi`: first its end (adding the pairs completed inside
    /// it), then its start (removing the pairs whose first event leaves).
    fn move_to(&mut self, lo: usize, hi: usize) {
        while self.hi < hi {
            let j = self.hi;
            for k in self.starts[j]..self.starts[j + 1] {
                let i = self.firsts[k];
                if i >= self.lo {
                    self.n += 1;
                    self.s1 += self.value1[i];
                    self.s2 += self.value2[i];
                }
            }
            self.hi += 1;
        }
        while self.lo < lo {
            let i = self.lo;
            if self.next[i].is_some_and(|j| j < self.hi) {
                self.n -= 1;
                self.s1 -= self.value1[i];
                self.s2 -= self.value2[i];
            }
            self.lo += 1;
        }
    }

    fn sums(&self) -> Sums {
        Sums {
            n: self.n,
            s1: from_fixed(self.s1),
            s2: from_fixed(self.s2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quadratic scan SeismoStats' `find_next_larger` does.
    fn next_larger_by_scan(m: &[f64], dmc: f64) -> Vec<Option<usize>> {
        (0..m.len())
            .map(|i| (i + 1..m.len()).find(|&j| at_or_above(m[j] - m[i], dmc)))
            .collect()
    }

    #[test]
    fn next_larger_by_hand() {
        // SeismoStats' docstring example [10, 4, 3, 9] (dmc 1): 10 has none, 4 → 9, 3 → 9.
        let m = [10.0, 4.0, 3.0, 9.0];
        assert_eq!(next_larger(&m, 1.0), vec![None, Some(3), Some(3), None]);
        // dmc 0.2: 3.0 → 3.2 (index 2, skipping 3.1), 3.1 → 3.3, 3.2 → 3.5, 3.3 → 3.5.
        let m = [3.0, 3.1, 3.2, 3.3, 3.0, 3.5];
        assert_eq!(
            next_larger(&m, 0.2),
            vec![Some(2), Some(3), Some(5), Some(5), Some(5), None]
        );
    }

    #[test]
    fn next_larger_agrees_with_the_quadratic_scan() {
        let mut state = 12345u64;
        for n in [0, 1, 2, 7, 50, 400] {
            let m: Vec<f64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 33) % 25) as f64 / 10.0 + 2.0
                })
                .collect();
            for dmc in [0.1, 0.2, 0.5] {
                assert_eq!(next_larger(&m, dmc), next_larger_by_scan(&m, dmc), "{m:?}");
            }
        }
    }

    #[test]
    fn sliding_pairs_hold_the_pairs_inside_each_window() {
        let m = [3.0, 3.4, 3.1, 3.0, 3.6, 3.2, 3.3, 3.0, 3.9, 3.1];
        let dmc = 0.1;
        let next = next_larger_by_scan(&m, dmc);
        let mut sliding = SlidingPairs::new(&m, dmc);
        for (lo, hi) in [
            (0, 0),
            (0, 3),
            (1, 5),
            (1, 7),
            (4, 7),
            (6, 10),
            (9, 10),
            (10, 10),
        ] {
            sliding.move_to(lo, hi);
            let inside: Vec<f64> = (lo..hi)
                .filter_map(|i| next[i].filter(|&j| j < hi).map(|j| m[j] - m[i] - dmc))
                .collect();
            let got = sliding.sums();
            assert_eq!(got.n, inside.len(), "{lo}..{hi}");
            let s1: f64 = inside.iter().sum();
            assert!(
                (got.s1 - s1).abs() < 1e-12,
                "{lo}..{hi}: {} vs {s1}",
                got.s1
            );
        }
    }
}
