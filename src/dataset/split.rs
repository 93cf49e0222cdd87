//! Train/test splits of the daily table (paper §1.4 "7:3", pitfalls P1, P2).
//!
//! A split works on the table's rows, given the day index of each row (ascending, distinct; the
//! table drops days, so rows and days differ). Distances are measured in days, never in rows.
//! The embargo of a time-ordered split comes from [`crate::dataset::Embargo`]; the manifest holds
//! a placeholder until the runner knows the label's reach and sets it with
//! [`SplitKind::with_embargo`].
//!
//! - [`SplitKind::Random`]: the paper's reading, a shuffle of the rows with the seed's
//!   `dataset.split` stream, the first `round(fraction·n)` rows train. Diagnostic only: daily rows
//!   are strongly autocorrelated, so most test days have a training neighbour.
//! - [`SplitKind::Chronological`]: the first `round(fraction·n)` rows train, the rest test; a
//!   training row trains only if its day + `embargo_days` < the first test day.
//! - [`SplitKind::Rolling`]: an expanding-window rolling origin. The rows after the first
//!   `round(initial_fraction·n)` are cut into `origins` test blocks of equal size (block i: rows
//!   `n₀ + i·m/k .. n₀ + (i+1)·m/k`, m = n − n₀); origin i tests block i and trains on every earlier
//!   row whose day + `embargo_days` < the block's first day.
//! - [`SplitKind::Blocked`]: k contiguous folds of rows (fold i: rows `i·n/k .. (i+1)·n/k`), fold
//!   `fold` tests. With `past_only` (the default) only rows before the block train (day +
//!   `embargo_days` < the block's first day), so fold 0 has no training rows and the manifest
//!   lists folds 1..k; without it, every row more than `embargo_days` away from each test day
//!   trains (both sides of the block).
//!
//! Every [`Split`] is built by a checked constructor: train and test are disjoint, sorted and
//! non-empty; for the past-only kinds every training day + `embargo_days` < every test day, and
//! for the two-sided blocked split `|day_train − day_test| > embargo_days` for every pair.

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
    /// An expanding-window rolling origin: origin `origin` tests the next block and trains on
    /// the past.
    Rolling {
        /// The number of origins (test blocks) k.
        origins: usize,
        /// This origin, `0..origins`.
        origin: usize,
        /// The fraction of the rows before the first test block.
        initial_fraction: f64,
        /// Training days within this many days of the block's first day are purged.
        embargo_days: usize,
    },
    /// Contiguous folds with an embargo gap before (and, unless `past_only`, after) the test
    /// fold.
    Blocked {
        /// Number of folds k.
        folds: usize,
        /// The test fold, `0..folds`.
        fold: usize,
        /// No training day lies within this many days of a test day.
        embargo_days: usize,
        /// Train only on rows before the test fold (`split.blocked_past_only`).
        past_only: bool,
    },
}

impl SplitKind {
    /// `random`, `chronological`, `rolling` or `blocked`.
    pub fn name(&self) -> &'static str {
        match self {
            SplitKind::Random { .. } => "random",
            SplitKind::Chronological { .. } => "chronological",
            SplitKind::Rolling { .. } => "rolling",
            SplitKind::Blocked { .. } => "blocked",
        }
    }

    /// The embargo in days (0 for the random split).
    pub fn embargo_days(&self) -> usize {
        match *self {
            SplitKind::Random { .. } => 0,
            SplitKind::Chronological { embargo_days, .. }
            | SplitKind::Rolling { embargo_days, .. }
            | SplitKind::Blocked { embargo_days, .. } => embargo_days,
        }
    }

    /// The same split with embargo `days` (the random split has none and is returned as is).
    pub fn with_embargo(self, days: usize) -> SplitKind {
        match self {
            SplitKind::Random { .. } => self,
            SplitKind::Chronological { fraction, .. } => SplitKind::Chronological {
                fraction,
                embargo_days: days,
            },
            SplitKind::Rolling {
                origins,
                origin,
                initial_fraction,
                ..
            } => SplitKind::Rolling {
                origins,
                origin,
                initial_fraction,
                embargo_days: days,
            },
            SplitKind::Blocked {
                folds,
                fold,
                past_only,
                ..
            } => SplitKind::Blocked {
                folds,
                fold,
                embargo_days: days,
                past_only,
            },
        }
    }

    /// Whether training rows all precede the test rows (every kind but the random split and
    /// the two-sided blocked split).
    pub fn is_past_only(&self) -> bool {
        match *self {
            SplitKind::Random { .. } => false,
            SplitKind::Chronological { .. } | SplitKind::Rolling { .. } => true,
            SplitKind::Blocked { past_only, .. } => past_only,
        }
    }

    /// The first test day over rows of days `days` (ascending), `None` for the random split:
    /// labels may be fitted on the events before it. Refuses what [`Split::new`] refuses about
    /// the settings (fractions, folds, origins).
    pub fn test_start_day(&self, days: &[usize]) -> Result<Option<usize>> {
        Ok(match self.test_rows(days.len())? {
            TestRows::Shuffled { .. } => None,
            TestRows::Block(lo, _) => days.get(lo).copied(),
        })
    }

    /// The test rows of this kind over `n` rows, the settings checked.
    fn test_rows(&self, n: usize) -> Result<TestRows> {
        Ok(match *self {
            SplitKind::Random { fraction, seed } => TestRows::Shuffled { fraction, seed },
            SplitKind::Chronological { fraction, .. } => {
                TestRows::Block(train_count(fraction, n)?, n)
            }
            SplitKind::Rolling {
                origins,
                origin,
                initial_fraction,
                ..
            } => {
                crate::ensure_config!(
                    origins >= 1,
                    "split.rolling_origins",
                    "need at least 1 origin, got 0"
                );
                crate::ensure_config!(
                    origin < origins,
                    "split.rolling_origins",
                    "origin {origin} is out of range for {origins} origins"
                );
                let n0 = train_count(initial_fraction, n)?;
                let m = n - n0;
                crate::ensure_config!(
                    m >= origins,
                    "split.rolling_origins",
                    "{origins} origins need at least {origins} rows after the first {n0}, the table has {m}"
                );
                TestRows::Block(n0 + origin * m / origins, n0 + (origin + 1) * m / origins)
            }
            SplitKind::Blocked { folds, fold, .. } => {
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
                TestRows::Block(fold * n / folds, (fold + 1) * n / folds)
            }
        })
    }
}

/// Where a split's test rows lie.
enum TestRows {
    /// A seeded shuffle (the random split).
    Shuffled { fraction: f64, seed: u64 },
    /// The contiguous rows `lo..hi`.
    Block(usize, usize),
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
            SplitKind::Rolling {
                origins,
                origin,
                initial_fraction,
                embargo_days,
            } => write!(
                f,
                "rolling(k={origins}, origin={origin}, initial={initial_fraction}, embargo={embargo_days}d)"
            ),
            SplitKind::Blocked {
                folds,
                fold,
                embargo_days,
                past_only,
            } => write!(
                f,
                "blocked(k={folds}, fold={fold}, embargo={embargo_days}d, {})",
                if past_only { "past only" } else { "both sides" }
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
    /// `random`, `chronological`, `rolling` or `blocked`.
    pub kind: String,
    /// The kind with its settings, e.g. `blocked(k=5, fold=2, embargo=130d, past only)`.
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
    /// two folds or a fold out of range (`dataset.split.folds`, `dataset.split.fold`), no origin,
    /// an origin out of range or fewer rows than origins (`split.rolling_origins`), unsorted days
    /// (`dataset.days`), and any split that would leave the train or test set empty
    /// (`dataset.split`; e.g. fold 0 of a past-only blocked split).
    pub fn new(kind: SplitKind, days: &[usize]) -> Result<Split> {
        crate::ensure_config!(
            days.windows(2).all(|w| w[0] < w[1]),
            "dataset.days",
            "row days must be strictly ascending"
        );
        let n = days.len();
        let (train, test) = match kind.test_rows(n)? {
            TestRows::Shuffled { fraction, seed } => {
                let n_train = train_count(fraction, n)?;
                let mut rows: Vec<usize> = (0..n).collect();
                rows.shuffle(&mut rng::stream(seed, "dataset.split"));
                let (a, b) = rows.split_at(n_train);
                let (mut train, mut test) = (a.to_vec(), b.to_vec());
                train.sort_unstable();
                test.sort_unstable();
                (train, test)
            }
            TestRows::Block(lo, hi) => {
                let embargo = kind.embargo_days();
                let (day_lo, day_hi) = (days[lo], days[hi - 1]);
                let train: Vec<usize> = if kind.is_past_only() {
                    (0..lo).filter(|&r| days[r] + embargo < day_lo).collect()
                } else {
                    (0..n)
                        .filter(|&r| days[r] + embargo < day_lo || days[r] > day_hi + embargo)
                        .collect()
                };
                (train, (lo..hi).collect())
            }
        };
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

    /// The blocked folds over `days`, each with the same embargo: all k of them, or folds
    /// 1..k when `past_only` (fold 0 has no past to train on).
    pub fn blocked_folds(
        days: &[usize],
        folds: usize,
        embargo_days: usize,
        past_only: bool,
    ) -> Result<Vec<Split>> {
        (usize::from(past_only)..folds)
            .map(|fold| {
                Split::new(
                    SplitKind::Blocked {
                        folds,
                        fold,
                        embargo_days,
                        past_only,
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
