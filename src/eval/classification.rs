//! Metrics of a classifier's predictions (the second method's evaluation, papers.md §B): the
//! confusion matrix in the paper's Table 5 layout, per-class precision and recall (Table 6),
//! accuracy, macro-F1 and balanced accuracy, their moving-block bootstrap intervals, and the
//! majority-class and class-prior baselines.
//!
//! Conventions (those of scikit-learn 1.6 with `labels=None`, checked against it by the
//! integration test `classification` on a fixture made by
//! `tools/parity/make_classification_metrics.py`):
//!
//! - The confusion matrix has the true class in rows and the predicted class in columns:
//!   `C[t][p]` counts the rows of truth `t` predicted as `p` (`sklearn.metrics.confusion_matrix`).
//! - Precision of class c is `C[c][c] / Σ_t C[t][c]`, `None` when nothing was predicted as c;
//!   recall is `C[c][c] / Σ_p C[c][p]`, `None` when no row is truly c. An undefined value is
//!   never reported as 0.
//! - F1 of class c is `2PR/(P + R)`; where P or R is undefined it counts as 0, and so does F1
//!   when `P + R = 0` (scikit-learn's `zero_division=0`). Macro-F1 is the mean F1 over the
//!   classes that occur in the truth or in the predictions; a class that occurs in neither
//!   enters no average.
//! - Balanced accuracy is the mean recall over the classes that occur in the truth.
//! - The bootstrap intervals resample the test rows in time order with the moving-block bootstrap
//!   of [`crate::eval::uncertainty`]; the three metrics are computed on the same resamples
//!   (resample i always draws from stream i of the same seed).
//! - The class-prior baseline predicts each test row by a draw from the training class
//!   frequencies `p_train(c)`. Its expected accuracy is `Σ_c p_train(c)·p_test(c)`, and its
//!   expected recall of class c is `p_train(c)`, so its expected balanced accuracy is the mean of
//!   `p_train(c)` over the classes in the test truth ([`prior_expectation`]).

use rand::Rng;
use serde::Serialize;

use crate::eval::uncertainty::{BootstrapSettings, Interval, block_length, bootstrap_interval};
use crate::{Error, Result};

/// The name of the random stream the class-prior baseline draws from (see [`crate::rng::stream`]).
pub const CLASS_PRIOR_STREAM: &str = "eval.class_prior";

/// Counts of true (rows) against predicted (columns) classes, the paper's Table 5 layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    n_classes: usize,
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// The matrix of `predicted` against `truth` (one entry per row, classes `0..n_classes`).
    ///
    /// Refuses no class, no rows, vectors of different lengths and a class index beyond
    /// `n_classes`, naming the row.
    pub fn new(n_classes: usize, truth: &[usize], predicted: &[usize]) -> Result<Self> {
        check_labels(n_classes, truth, predicted)?;
        let mut counts = vec![0; n_classes * n_classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            counts[t * n_classes + p] += 1;
        }
        Ok(ConfusionMatrix { n_classes, counts })
    }

    /// The number of classes (rows and columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Every count, truth-major: `counts()[t * n_classes + p]`.
    pub fn counts(&self) -> &[usize] {
        &self.counts
    }

    /// Rows of truth `truth` predicted as `predicted`. Panics past the classes.
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.n_classes + predicted]
    }

    /// Rows whose truth is `class` (a row total of Table 5).
    pub fn true_total(&self, class: usize) -> usize {
        (0..self.n_classes).map(|p| self.count(class, p)).sum()
    }

    /// Rows predicted as `class` (a column total of Table 5).
    pub fn predicted_total(&self, class: usize) -> usize {
        (0..self.n_classes).map(|t| self.count(t, class)).sum()
    }

    /// All rows.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Precision of `class`, `C[c][c] / Σ_t C[t][c]`; `None` when nothing was predicted as it.
    pub fn precision(&self, class: usize) -> Option<f64> {
        ratio(self.count(class, class), self.predicted_total(class))
    }

    /// Recall of `class`, `C[c][c] / Σ_p C[c][p]`; `None` when no row is truly of it.
    pub fn recall(&self, class: usize) -> Option<f64> {
        ratio(self.count(class, class), self.true_total(class))
    }

    /// F1 of `class`, `2PR/(P + R)`, with an undefined P or R and `P + R = 0` counting as 0
    /// (scikit-learn's `zero_division=0`).
    pub fn f1(&self, class: usize) -> f64 {
        let p = self.precision(class).unwrap_or(0.0);
        let r = self.recall(class).unwrap_or(0.0);
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }

    /// The share of rows on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let diagonal: usize = (0..self.n_classes).map(|c| self.count(c, c)).sum();
        diagonal as f64 / self.total() as f64
    }

    /// The mean [`f1`](Self::f1) over the classes that occur in the truth or the predictions.
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..self.n_classes)
            .filter(|&c| self.true_total(c) > 0 || self.predicted_total(c) > 0)
            .collect();
        present.iter().map(|&c| self.f1(c)).sum::<f64>() / present.len() as f64
    }

    /// The mean recall over the classes that occur in the truth.
    pub fn balanced_accuracy(&self) -> f64 {
        let recalls: Vec<f64> = (0..self.n_classes).filter_map(|c| self.recall(c)).collect();
        recalls.iter().sum::<f64>() / recalls.len() as f64
    }
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn check_labels(n_classes: usize, truth: &[usize], predicted: &[usize]) -> Result<()> {
    if n_classes == 0 {
        return Err(Error::Numerical(
            "a confusion matrix needs at least one class, got 0".into(),
        ));
    }
    if truth.len() != predicted.len() {
        return Err(Error::Numerical(format!(
            "classification metrics need one prediction per label, got {} labels and {} \
             predictions",
            truth.len(),
            predicted.len()
        )));
    }
    if truth.is_empty() {
        return Err(Error::Numerical(
            "classification metrics need at least one row, got none".into(),
        ));
    }
    for (what, labels) in [("true", truth), ("predicted", predicted)] {
        if let Some(row) = labels.iter().position(|&c| c >= n_classes) {
            return Err(Error::Numerical(format!(
                "row {row} has the {what} class {}, but there are only {n_classes} classes \
                 (0 to {})",
                labels[row],
                n_classes - 1
            )));
        }
    }
    Ok(())
}

/// Bootstrap intervals of the classification metrics of one set of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassificationIntervals {
    /// Accuracy.
    pub accuracy: Interval,
    /// Macro-F1.
    pub macro_f1: Interval,
    /// Balanced accuracy.
    pub balanced_accuracy: Interval,
}

/// Moving-block bootstrap intervals of accuracy, macro-F1 and balanced accuracy of `predicted`
/// against `truth` (test rows in time order), each metric recomputed on the same resamples.
///
/// Refuses what [`ConfusionMatrix::new`] refuses and settings the bootstrap refuses (a block
/// longer than half the rows included).
pub fn bootstrap_classification(
    truth: &[usize],
    predicted: &[usize],
    n_classes: usize,
    settings: &BootstrapSettings,
) -> Result<ClassificationIntervals> {
    check_labels(n_classes, truth, predicted)?;
    let metric = |f: fn(&ConfusionMatrix) -> f64| {
        bootstrap_interval(truth.len(), settings, |rows| {
            let mut counts = vec![0; n_classes * n_classes];
            for &r in rows {
                counts[truth[r] * n_classes + predicted[r]] += 1;
            }
            f(&ConfusionMatrix { n_classes, counts })
        })
    };
    Ok(ClassificationIntervals {
        accuracy: metric(ConfusionMatrix::accuracy)?,
        macro_f1: metric(ConfusionMatrix::macro_f1)?,
        balanced_accuracy: metric(ConfusionMatrix::balanced_accuracy)?,
    })
}

/// A bootstrap block length from the serial dependence of the truth: the largest
/// [`block_length`] of the indicator series `1[truth_t = c]` over the classes whose indicator is
/// not constant, at most half the rows. Refuses fewer than 3 rows and a truth of one class only
/// (its dependence cannot be measured).
pub fn label_block_length(truth: &[usize]) -> Result<usize> {
    let n = truth.len();
    if n < 3 {
        return Err(Error::Numerical(format!(
            "the dependence of the test labels needs at least 3 rows, got {n}"
        )));
    }
    let n_classes = truth.iter().max().map_or(0, |&m| m + 1);
    let mut longest = None;
    for class in 0..n_classes {
        let indicator: Vec<f64> = truth
            .iter()
            .map(|&t| if t == class { 1.0 } else { 0.0 })
            .collect();
        let count = indicator.iter().filter(|&&v| v > 0.0).count();
        if count == 0 || count == n {
            continue;
        }
        let length = block_length(&indicator)?;
        longest = Some(longest.map_or(length, |l: usize| l.max(length)));
    }
    longest.map(|l| l.min(n / 2)).ok_or_else(|| {
        Error::Numerical(format!(
            "the {n} test labels are all class {}: their dependence cannot be measured; give \
             the block length",
            truth[0]
        ))
    })
}

/// The share of each class `0..n_classes` in `labels`.
fn class_frequencies(labels: &[usize], n_classes: usize, what: &str) -> Result<Vec<f64>> {
    if labels.is_empty() {
        return Err(Error::Numerical(format!(
            "the {what} labels are empty: a baseline needs at least one"
        )));
    }
    let mut counts = vec![0usize; n_classes];
    for (row, &c) in labels.iter().enumerate() {
        if c >= n_classes {
            return Err(Error::Numerical(format!(
                "{what} row {row} has the class {c}, but there are only {n_classes} classes"
            )));
        }
        counts[c] += 1;
    }
    Ok(counts
        .iter()
        .map(|&k| k as f64 / labels.len() as f64)
        .collect())
}

/// The majority-class baseline: the most frequent class of the training labels (the smallest
/// index among equally frequent ones). Refuses empty labels.
pub fn majority_class(train_truth: &[usize]) -> Result<usize> {
    let n_classes = train_truth.iter().max().map_or(0, |&m| m + 1);
    let shares = class_frequencies(train_truth, n_classes, "training")?;
    let mut best = 0;
    for (c, &share) in shares.iter().enumerate() {
        if share > shares[best] {
            best = c;
        }
    }
    Ok(best)
}

/// The class-prior baseline: `n_test` classes drawn independently from the training class
/// frequencies, from the stream [`CLASS_PRIOR_STREAM`] of `seed`. Refuses empty training labels.
pub fn class_prior_predictions(
    train_truth: &[usize],
    n_test: usize,
    seed: u64,
) -> Result<Vec<usize>> {
    if train_truth.is_empty() {
        return Err(Error::Numerical(
            "the training labels are empty: a baseline needs at least one".into(),
        ));
    }
    let mut rng = crate::rng::stream(seed, CLASS_PRIOR_STREAM);
    // A uniformly drawn training row's class has exactly the training frequencies.
    Ok((0..n_test)
        .map(|_| train_truth[rng.random_range(0..train_truth.len())])
        .collect())
}

/// The closed-form expected metrics of the class-prior baseline on a test set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PriorExpectation {
    /// `Σ_c p_train(c)·p_test(c)`.
    pub accuracy: f64,
    /// The mean of `p_train(c)` over the classes that occur in the test truth.
    pub balanced_accuracy: f64,
}

/// The expected accuracy and balanced accuracy of [`class_prior_predictions`] (module docs).
/// Refuses empty label sets and a class beyond `n_classes`.
pub fn prior_expectation(
    train_truth: &[usize],
    test_truth: &[usize],
    n_classes: usize,
) -> Result<PriorExpectation> {
    let train = class_frequencies(train_truth, n_classes, "training")?;
    let test = class_frequencies(test_truth, n_classes, "test")?;
    let accuracy = train.iter().zip(&test).map(|(a, b)| a * b).sum();
    let present: Vec<f64> = (0..n_classes)
        .filter(|&c| test[c] > 0.0)
        .map(|c| train[c])
        .collect();
    Ok(PriorExpectation {
        accuracy,
        balanced_accuracy: present.iter().sum::<f64>() / present.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_counted_matrix_and_its_metrics() {
        // truth  0 0 0 1 1 2
        // pred   0 0 1 1 2 2
        // C = [[2,1,0],[0,1,1],[0,0,1]]
        let m = ConfusionMatrix::new(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]).unwrap();
        assert_eq!(m.counts(), &[2, 1, 0, 0, 1, 1, 0, 0, 1]);
        assert_eq!(m.precision(0), Some(1.0));
        assert_eq!(m.precision(1), Some(0.5));
        assert_eq!(m.precision(2), Some(0.5));
        assert_eq!(m.recall(0), Some(2.0 / 3.0));
        assert_eq!(m.recall(1), Some(0.5));
        assert_eq!(m.recall(2), Some(1.0));
        assert_eq!(m.accuracy(), 4.0 / 6.0);
        // F1: 2·1·(2/3)/(5/3) = 0.8; 0.5; 2·0.5·1/1.5 = 2/3.
        let f1 = (0.8 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!((m.macro_f1() - f1).abs() < 1e-15);
        assert!((m.balanced_accuracy() - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn undefined_precision_and_recall_are_none_and_count_as_zero_in_f1() {
        // Class 2 never predicted, class 3 never true, class 4 neither.
        // truth 0 1 2 2 ; pred 0 1 3 0
        let m = ConfusionMatrix::new(5, &[0, 1, 2, 2], &[0, 1, 3, 0]).unwrap();
        assert_eq!(m.precision(2), None);
        assert_eq!(m.recall(3), None);
        assert_eq!(m.precision(4), None);
        assert_eq!(m.recall(4), None);
        assert_eq!(m.recall(2), Some(0.0));
        // F1: class 0 P = 1/2, R = 1 → 2/3; class 1 → 1; classes 2, 3 → 0; class 4 left out.
        assert!((m.macro_f1() - (2.0 / 3.0 + 1.0) / 4.0).abs() < 1e-15);
        // Recalls of the true classes 0, 1, 2: 1, 1, 0.
        assert!((m.balanced_accuracy() - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn a_class_beyond_the_classes_is_refused() {
        let err = ConfusionMatrix::new(2, &[0, 1], &[0, 2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 1 has the predicted class 2, but there are only 2 classes (0 to 1)"
        );
    }

    #[test]
    fn labels_and_predictions_of_different_lengths_are_refused() {
        let err = ConfusionMatrix::new(2, &[0, 1], &[0]).unwrap_err();
        assert!(
            err.to_string().contains("2 labels and 1 predictions"),
            "{err}"
        );
    }

    #[test]
    fn classification_metrics_without_rows_are_refused() {
        let err = ConfusionMatrix::new(2, &[], &[]).unwrap_err();
        assert!(err.to_string().contains("at least one row"), "{err}");
    }

    #[test]
    fn a_confusion_matrix_without_classes_is_refused() {
        let err = ConfusionMatrix::new(0, &[], &[]).unwrap_err();
        assert!(err.to_string().contains("at least one class"), "{err}");
    }

    #[test]
    fn the_majority_class_takes_the_smallest_index_on_a_tie() {
        assert_eq!(majority_class(&[2, 2, 1, 0, 1]).unwrap(), 1);
        assert_eq!(majority_class(&[3, 3, 3, 0]).unwrap(), 3);
    }

    #[test]
    fn a_baseline_of_empty_training_labels_is_refused() {
        let err = majority_class(&[]).unwrap_err();
        assert!(
            err.to_string().contains("training labels are empty"),
            "{err}"
        );
    }

    #[test]
    fn the_prior_expectation_by_hand() {
        // p_train = (1/2, 1/4, 1/4, 0); p_test = (1/4, 0, 1/4, 1/2).
        let e = prior_expectation(&[0, 0, 1, 2], &[0, 2, 3, 3], 4).unwrap();
        assert!((e.accuracy - (0.5 * 0.25 + 0.25 * 0.25)).abs() < 1e-15);
        // Test classes 0, 2, 3: (1/2 + 1/4 + 0) / 3.
        assert!((e.balanced_accuracy - 0.25).abs() < 1e-15);
    }

    #[test]
    fn prior_predictions_are_seeded_and_only_use_training_classes() {
        let train = [0, 0, 0, 3];
        let a = class_prior_predictions(&train, 2000, 7).unwrap();
        assert_eq!(a, class_prior_predictions(&train, 2000, 7).unwrap());
        assert_ne!(a, class_prior_predictions(&train, 2000, 8).unwrap());
        assert!(a.iter().all(|&c| c == 0 || c == 3));
        // 3 appears with probability 1/4: 500 expected, sd √(2000·3/16) ≈ 19.4.
        let threes = a.iter().filter(|&&c| c == 3).count();
        assert!((400..600).contains(&threes), "{threes}");
    }

    #[test]
    fn the_block_length_of_a_constant_truth_is_refused() {
        let err = label_block_length(&[1, 1, 1, 1]).unwrap_err();
        assert!(err.to_string().contains("all class 1"), "{err}");
    }
}
