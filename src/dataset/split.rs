//! Train/test splits of the daily table (paper §1.4 "7:3", pitfall P1).
//!
//! A split works on the table's rows, given the day index of each row (ascending, distinct; the
//! table drops days, so rows and days differ). Distances are measured in days, never in rows.
//!
//! - [`SplitKind::Random`]: the paper's reading, a shuffle of the rows with the seed's
//!   `dataset.split` stream, the first `round(fraction·n)` rows train. Diagnostic only: daily rows
//!   are strongly autocorrelated, so most test days have a training neighbour.
//! - [`SplitKind::Chronological`]: the first `round(fraction·n)` rows train, the rest test; training
//!   rows closer than or equal to `embargo_days` to the first test day are purged.
//! - [`SplitKind::Blocked`]: k contiguous folds of rows; fold `fold` is the test set and every row
//!   more than `embargo_days` away from each test day trains (both sides of the block).
//!
//! Every [`Split`] is built by a checked constructor: train and test are disjoint, sorted, non-empty
//! and, for the embargoed kinds, `|day_train − day_test| > embargo_days` for every pair.

use rand::seq::SliceRandom;
use serde::Serialize;

use crate::{Result, rng};

/// How a split was made, with its settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SplitKind {
    /// A seeded shuffle, `fraction` of the rows to train.
    Random {
        /// Training fraction (the paper: 0.7).
        fraction: f64,
        /// The experiment seed (the stream is `dataset.split`).
        seed: u64,
    },
    /// The first `fraction` of the rows train, the rest test.
    Chronological {
        /// Training fraction.
        fraction: f64,
        /// Training days within this many days of the first test day are purged.
        embargo_days: usize,
    },
    /// Contiguous folds with an embargo gap on both sides of the test fold.
    Blocked {
        /// Number of folds k.
        folds: usize,
        /// The test fold, `0..folds`.
        fold: usize,
        /// No training day lies within this many days of a test day.
        embargo_days: usize,
    },
}

impl SplitKind {
    /// `random`, `chronological` or `blocked`.
    pub fn name(&self) -> &'static str {
        match self {
            SplitKind::Random { .. } => "random",
            SplitKind::Chronological { .. } => "chronological",
            SplitKind::Blocked { .. } => "blocked",
        }
    }

    /// The embargo in days (0 for the random split).
    pub fn embargo_days(&self) -> usize {
        match *self {
            SplitKind::Random { .. } => 0,
            SplitKind::Chronological { embargo_days, .. }
            | SplitKind::Blocked { embargo_days, .. } => embargo_days,
        }
    }
}

impl std::fmt::Display for SplitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            SplitKind::Random { fraction, seed } => {
                write!(f, "random(train={fraction}, seed={seed})")
            }
            SplitKind::Chronological {
                fraction,
                embargo_days,
            } => write!(
                f,
                "chronological(train={fraction}, embargo={embargo_days}d)"
            ),
            SplitKind::Blocked {
                folds,
                fold,
                embargo_days,
            } => write!(
                f,
                "blocked(k={folds}, fold={fold}, embargo={embargo_days}d)"
            ),
        }
    }
}

/// A checked train/test partition of table rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Split {
    kind: SplitKind,
    train: Vec<usize>,
    test: Vec<usize>,
    summary: SplitSummary,
}

/// What a metric row records about the split that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    /// `random`, `chronological` or `blocked`.
    pub kind: String,
    /// The kind with its settings, e.g. `blocked(k=5, fold=2, embargo=130d)`.
    pub description: String,
    /// The embargo in days.
    pub embargo_days: usize,
    /// Training rows.
    pub n_train: usize,
    /// Test rows.
    pub n_test: usize,
    /// Rows in neither set (purged by the embargo).
    pub n_purged: usize,
    /// First and last training day.
    pub train_days: (usize, usize),
    /// First and last test day.
    pub test_days: (usize, usize),
}

impl Split {
    /// Makes the split of `kind` over rows whose day indices are `days` (ascending, distinct).
    ///
    /// Refuses (naming the key) a fraction outside (0, 1) (`dataset.split.fraction`), fewer than
    /// two folds or a fold out of range (`dataset.split.folds`, `dataset.split.fold`), unsorted
    /// days (`dataset.days`), and any split that would leave the train or test set empty
    /// (`dataset.split`).
    pub fn new(kind: SplitKind, days: &[usize]) -> Result<Split> {
        crate::ensure_config!(
            days.windows(2).all(|w| w[0] < w[1]),
            "dataset.days",
            "row days must be strictly ascending"
        );
        let n = days.len();
        let (train, test) = match kind {
            SplitKind::Random { fraction, seed } => {
                let n_train = train_count(fraction, n)?;
                let mut rows: Vec<usize> = (0..n).collect();
                rows.shuffle(&mut rng::stream(seed, "dataset.split"));
                let (a, b) = rows.split_at(n_train);
                let (mut train, mut test) = (a.to_vec(), b.to_vec());
                train.sort_unstable();
                test.sort_unstable();
                (train, test)
            }
            SplitKind::Chronological {
                fraction,
                embargo_days,
            } => {
                let n_train = train_count(fraction, n)?;
                let first_test_day = days[n_train];
                let train = (0..n_train)
                    .filter(|&r| days[r] + embargo_days < first_test_day)
                    .collect();
                (train, (n_train..n).collect())
            }
            SplitKind::Blocked {
                folds,
                fold,
                embargo_days,
            } => {
                crate::ensure_config!(
                    folds >= 2,
                    "dataset.split.folds",
                    "need at least 2 folds, got {folds}"
                );
                crate::ensure_config!(
                    fold < folds,
                    "dataset.split.fold",
                    "fold {fold} is out of range for {folds} folds"
                );
                crate::ensure_config!(
                    n >= folds,
                    "dataset.split.folds",
                    "{folds} folds need at least {folds} rows, the table has {n}"
                );
                let lo = fold * n / folds;
                let hi = (fold + 1) * n / folds;
                let (day_lo, day_hi) = (days[lo], days[hi - 1]);
                let train = (0..n)
                    .filter(|&r| days[r] + embargo_days < day_lo || days[r] > day_hi + embargo_days)
                    .collect();
                (train, (lo..hi).collect())
            }
        };
        let train: Vec<usize> = train;
        let test: Vec<usize> = test;
        crate::ensure_config!(
            !train.is_empty() && !test.is_empty(),
            "dataset.split",
            "{kind} over {n} rows leaves {} training and {} test rows; both must be non-empty",
            train.len(),
            test.len()
        );
        let bounds = |rows: &[usize]| (days[rows[0]], days[rows[rows.len() - 1]]);
        let summary = SplitSummary {
            kind: kind.name().to_string(),
            description: kind.to_string(),
            embargo_days: kind.embargo_days(),
            n_train: train.len(),
            n_test: test.len(),
            n_purged: n - train.len() - test.len(),
            train_days: bounds(&train),
            test_days: bounds(&test),
        };
        Ok(Split {
            kind,
            train,
            test,
            summary,
        })
    }

    /// All k blocked folds over `days`, each with the same embargo.
    pub fn blocked_folds(days: &[usize], folds: usize, embargo_days: usize) -> Result<Vec<Split>> {
        (0..folds)
            .map(|fold| {
                Split::new(
                    SplitKind::Blocked {
                        folds,
                        fold,
                        embargo_days,
                    },
                    days,
                )
            })
            .collect()
    }

    /// How the split was made.
    pub fn kind(&self) -> SplitKind {
        self.kind
    }

    /// Training rows, ascending.
    pub fn train(&self) -> &[usize] {
        &self.train
    }

    /// Test rows, ascending.
    pub fn test(&self) -> &[usize] {
        &self.test
    }

    /// The embargo in days (0 for the random split).
    pub fn embargo_days(&self) -> usize {
        self.kind.embargo_days()
    }

    /// The record every metric row carries.
    pub fn summary(&self) -> &SplitSummary {
        &self.summary
    }
}

/// `round(fraction·n)`, refused unless it leaves both sides non-empty.
fn train_count(fraction: f64, n: usize) -> Result<usize> {
    crate::ensure_config!(
        fraction.is_finite() && fraction > 0.0 && fraction < 1.0,
        "dataset.split.fraction",
        "must lie strictly between 0 and 1, got {fraction}"
    );
    let n_train = (fraction * n as f64).round() as usize;
    crate::ensure_config!(
        n_train >= 1 && n_train < n,
        "dataset.split.fraction",
        "a training fraction of {fraction} over {n} rows leaves an empty side"
    );
    Ok(n_train)
}
