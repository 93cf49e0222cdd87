//! Events per calendar day: the daily counts the KDE labels are drawn over (the paper's Fig. 3).

/// Events per day index, and the events that fall on no day of the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCounts {
    /// Events on day index `d`, i.e. with a time in `[d, d + 1)`, for `d` in `0..n_days`.
    pub counts: Vec<usize>,
    /// Events before day 0.
    pub before: usize,
    /// Events at or after day `n_days`.
    pub after: usize,
}

impl DailyCounts {
    /// Events that fall outside the period, before or after it.
    pub fn outside(&self) -> usize {
        self.before + self.after
    }
}

/// Counts event `times` (days since the period start) per day of an `n_days` period. An event
/// outside the period is counted in [`DailyCounts::before`] or [`DailyCounts::after`], never
/// moved onto the first or last day.
pub fn daily_counts(times: &[f64], n_days: usize) -> DailyCounts {
    let mut counts = DailyCounts {
        counts: vec![0; n_days],
        before: 0,
        after: 0,
    };
    for &t in times {
        if t < 0.0 {
            counts.before += 1;
        } else if t < n_days as f64 {
            // `t < n_days`, so the floor is a valid index.
            counts.counts[t.floor() as usize] += 1;
        } else {
            counts.after += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_on_their_day_and_outsiders_are_counted_apart() {
        // Day 0: 0.0 and 0.999; day 2: 2.5; before: -0.001; after: 3.0 and 7.2.
        let c = daily_counts(&[-0.001, 0.0, 0.999, 2.5, 3.0, 7.2], 3);
        assert_eq!(c.counts, vec![2, 0, 1]);
        assert_eq!((c.before, c.after, c.outside()), (1, 2, 3));
    }
}
