//! Controls that expose interpolation and unused modalities (pitfalls P1 and P7).
//!
//! - [`interpolation_baseline`]: predicts each test day from the labels of the training days
//!   around it. On a random split of a smooth daily label it scores close to any model; a model
//!   that does not beat it shows no forecasting skill.
//! - [`day_number_features`]: a feature set that is only the day index. A model that scores well
//!   from it is interpolating in time.
//! - [`shift_labels`]: the label series moved 30–365 days into the future, so features no longer
//!   line up with their physical label; skill that survives the shift is interpolation.
//! - [`permute_rows`]: one modality's columns permuted among training rows (seeded), the
//!   time-shuffled ablation of P7: if skill is unchanged, the modality is unused.

use std::ops::Range;

use faer::{Mat, MatRef};
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::dataset::split::Split;
use crate::{Error, Result, rng};

/// How the interpolation baseline combines the training days around a test day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// The mean of the labels of the nearest training day before and the nearest after.
    NeighbourMean,
    /// Linear interpolation in days between those two training days.
    Linear,
}

/// The interpolation baseline's prediction for each test row of `split`, in `split.test()`
/// order. `days` and `labels` are the table's. A test day with training days on one side only
/// gets the label of the nearest one.
pub fn interpolation_baseline(
    days: &[usize],
    labels: &[f64],
    split: &Split,
    method: Interpolation,
) -> Result<Vec<f64>> {
    if days.len() != labels.len() {
        return Err(Error::Numerical(format!(
            "interpolation baseline: {} days but {} labels",
            days.len(),
            labels.len()
        )));
    }
    let train = split.train();
    let in_range = |r: usize| r < days.len();
    if !train.iter().chain(split.test()).all(|&r| in_range(r)) {
        return Err(Error::Numerical(format!(
            "interpolation baseline: the split refers to rows beyond the table's {}",
            days.len()
        )));
    }
    // Training rows are ascending, and so are their days.
    let train_days: Vec<usize> = train.iter().map(|&r| days[r]).collect();
    let predict = |d: usize| -> f64 {
        let after = train_days.partition_point(|&td| td < d);
        let next = train.get(after).map(|&r| (days[r], labels[r]));
        let prev = after
            .checked_sub(1)
            .and_then(|i| train.get(i))
            .map(|&r| (days[r], labels[r]));
        match (prev, next) {
            (Some((d0, y0)), Some((d1, y1))) => match method {
                Interpolation::NeighbourMean => 0.5 * (y0 + y1),
                Interpolation::Linear if d1 == d0 => y0,
                Interpolation::Linear => {
                    let w = (d - d0) as f64 / (d1 - d0) as f64;
                    y0 + w * (y1 - y0)
                }
            },
            (Some((_, y)), None) | (None, Some((_, y))) => y,
            // The split guarantees a training row.
            (None, None) => f64::NAN,
        }
    };
    Ok(split.test().iter().map(|&r| predict(days[r])).collect())
}

/// The "day number only" feature set: one column holding each row's day index.
pub fn day_number_features(days: &[usize]) -> Mat<f64> {
    Mat::from_fn(days.len(), 1, |i, _| days[i] as f64)
}

/// The smallest and largest label shift the control accepts, in days.
pub const LABEL_SHIFT_RANGE_DAYS: (usize, usize) = (30, 365);

/// The daily labels moved `shift_days` into the future: day d gets the label of day
/// d + shift, and the last `shift_days` days get NaN (the table drops them as `label_missing`).
/// The shift must lie in [`LABEL_SHIFT_RANGE_DAYS`] and be shorter than the series
/// (key `dataset.controls.label_shift_days`).
pub fn shift_labels(values: &[f64], shift_days: usize) -> Result<Vec<f64>> {
    let (lo, hi) = LABEL_SHIFT_RANGE_DAYS;
    crate::ensure_config!(
        (lo..=hi).contains(&shift_days) && shift_days < values.len(),
        "dataset.controls.label_shift_days",
        "must lie in {lo}..={hi} days and be shorter than the {} label days, got {shift_days}",
        values.len()
    );
    Ok((0..values.len())
        .map(|d| values.get(d + shift_days).copied().unwrap_or(f64::NAN))
        .collect())
}

/// A copy of `x` in which the columns `columns` (one modality's block) are permuted among the
/// rows `rows` (the training rows) with the seed's `dataset.modality_shuffle` stream: row
/// `rows[i]` receives the block of row `rows[π(i)]`. Other rows and columns are unchanged.
pub fn permute_rows(
    x: MatRef<'_, f64>,
    rows: &[usize],
    columns: Range<usize>,
    seed: u64,
) -> Result<Mat<f64>> {
    if columns.end > x.ncols() || columns.start > columns.end {
        return Err(Error::Numerical(format!(
            "modality shuffle: columns {columns:?} out of range for {} columns",
            x.ncols()
        )));
    }
    if let Some(&r) = rows.iter().find(|&&r| r >= x.nrows()) {
        return Err(Error::Numerical(format!(
            "modality shuffle: row {r} out of range for {} rows",
            x.nrows()
        )));
    }
    let mut order: Vec<usize> = rows.to_vec();
    order.shuffle(&mut rng::stream(seed, "dataset.modality_shuffle"));
    let mut out = x.to_owned();
    for (&dst, &src) in rows.iter().zip(&order) {
        for j in columns.clone() {
            out[(dst, j)] = x[(src, j)];
        }
    }
    Ok(out)
}
