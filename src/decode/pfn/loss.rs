//! The bar-distribution loss a PFN is pretrained with, and the borders it is measured on.
//!
//! The network's output is a distribution over K buckets between K + 1 borders, in
//! standardised-target units ([`crate::decode::tabpfn::bar`]): `p = softmax(logits)`. Its
//! negative log-likelihood at a standardised target `y` (tabpfn 2.2.1
//! `FullSupportBarDistribution.forward`) is, for `y` in bucket `b` (`b_k < y ≤ b_{k+1}`;
//! `y = b_0` in the first; targets beyond the end borders in the outer buckets):
//!
//! - an inner bucket, uniform density over the bucket: `−log p_b + log w_b`, `w_b` its width;
//! - an outer bucket, a half-normal tail whose median is the bucket's width (scale
//!   `s = w / Φ⁻¹(0.75)`) reaching out from the bucket's inner border:
//!   `−log p_b − log HalfNormal(s).pdf(max(d, 1e-8))`, `d` the distance from the inner border
//!   (`b_1 − y` for the first bucket, `y − b_{K−1}` for the last).
//!
//! The loss of a batch is the mean over its tasks' test rows, on the targets standardised
//! per task as [`TaskBatch`] says (the training rows' mean and population standard
//! deviation, as the decoder does). [`fit_borders`] places the borders at equal-mass quantiles
//! of standardised prior targets, as TabPFN does.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use crate::decode::pfn::model::TaskBatch;
use crate::decode::tabpfn::bar::{BarDistribution, HALF_NORMAL_MEDIAN};
use crate::{Error, Result};

/// The smallest distance from the inner border a tail's density is taken at (tabpfn 2.2.1's
/// clamp), so that a target on that border has a finite loss.
const MIN_TAIL_DISTANCE: f64 = 1e-8;

/// The bar-distribution negative log-likelihood on fixed borders (module docs).
#[derive(Debug, Clone)]
pub struct BarLoss {
    borders: Vec<f64>,
}

impl BarLoss {
    /// The loss on `borders` (`num_buckets + 1` values, standardised-target units).
    ///
    /// Refused as [`BarDistribution::new`] refuses: fewer than 2 buckets, a border that is not
    /// finite, borders that do not increase strictly.
    pub fn new(borders: Vec<f64>) -> Result<BarLoss> {
        let borders = BarDistribution::new(borders)?.borders().to_vec();
        Ok(BarLoss { borders })
    }

    /// The borders.
    pub fn borders(&self) -> &[f64] {
        &self.borders
    }

    /// The number of buckets K.
    pub fn n_buckets(&self) -> usize {
        self.borders.len() - 1
    }

    /// The bucket of `y`: `b_k < y ≤ b_{k+1}`, the first for `y ≤ b_1`, the last beyond
    /// `b_{K−1}`.
    pub fn bucket(&self, y: f64) -> usize {
        let below = self.borders.partition_point(|&b| b < y);
        below.saturating_sub(1).min(self.n_buckets() - 1)
    }

    /// The part of the loss at `y` that does not depend on the logits: `log w_b` for an inner
    /// bucket, `−log HalfNormal(s).pdf(d)` for an outer one (module docs).
    pub fn offset(&self, y: f64) -> f64 {
        let (b, k) = (&self.borders, self.n_buckets());
        let bucket = self.bucket(y);
        let tail = |width: f64, distance: f64| {
            let s = width / HALF_NORMAL_MEDIAN;
            let d = distance.max(MIN_TAIL_DISTANCE);
            // −log of the half-normal density √(2/π)/s · exp(−d²/2s²).
            -(0.5 * (2.0 / std::f64::consts::PI).ln() - s.ln() - d * d / (2.0 * s * s))
        };
        if bucket == 0 {
            tail(b[1] - b[0], b[1] - y)
        } else if bucket == k - 1 {
            tail(b[k] - b[k - 1], y - b[k - 1])
        } else {
            (b[bucket + 1] - b[bucket]).ln()
        }
    }

    /// The loss of each of T targets `y` (standardised) under the logits `[T, K]`, `[T]`,
    /// differentiable in the logits.
    ///
    /// Refused (an [`Error::Numerical`]): logits of another bucket count or row count than
    /// the targets, and a target that is not finite.
    pub fn nll(&self, logits: Tensor<2>, targets: &[f32]) -> Result<Tensor<1>> {
        let [t, k] = logits.dims();
        if k != self.n_buckets() || t != targets.len() {
            return Err(Error::Numerical(format!(
                "bar-distribution loss: logits [{t}, {k}] for {} targets and {} buckets",
                targets.len(),
                self.n_buckets()
            )));
        }
        if let Some(i) = targets.iter().position(|v| !v.is_finite()) {
            return Err(Error::Numerical(format!(
                "bar-distribution loss: target {i} is {}, not a finite number",
                targets[i]
            )));
        }
        let device = logits.device();
        let buckets: Vec<i64> = targets
            .iter()
            .map(|&y| self.bucket(f64::from(y)) as i64)
            .collect();
        let offsets: Vec<f32> = targets
            .iter()
            .map(|&y| self.offset(f64::from(y)) as f32)
            .collect();
        let index = Tensor::<2, Int>::from_data(TensorData::new(buckets, [t, 1]), &device);
        let log_p = log_softmax(logits, 1).gather(1, index).reshape([t]);
        let offsets = Tensor::<1>::from_data(TensorData::new(offsets, [t]), &device);
        Ok(offsets - log_p)
    }

    /// The mean loss over the test rows of `batch` under its logits `[B, M, K]` (from
    /// [`crate::decode::pfn::model::PfnModel::forward`]), a one-value tensor, differentiable
    /// in the logits. Refused as [`BarLoss::nll`] refuses.
    pub fn mean_nll(&self, logits: Tensor<3>, batch: &TaskBatch) -> Result<Tensor<1>> {
        let [b, m, k] = logits.dims();
        if (b, m) != (batch.tasks(), batch.n_test()) {
            return Err(Error::Numerical(format!(
                "bar-distribution loss: logits for {b} tasks of {m} test rows, but the batch \
                 has {} tasks of {} test rows",
                batch.tasks(),
                batch.n_test()
            )));
        }
        Ok(self
            .nll(logits.reshape([b * m, k]), &batch.test_targets())?
            .mean())
    }
}

/// `num_buckets + 1` borders at equal-mass quantiles of `samples` (standardised prior targets),
/// as tabpfn 2.2.1 `get_bucket_limits`: with the samples sorted `s_0 ≤ … ≤ s_{n−1}`, the
/// end borders are `s_0` and `s_{n−1}`, and inner border k is `(s_{i−1} + s_i) / 2` with
/// `i = ⌊k n / K⌋` (the package's rule when K divides n; it drops the last `n mod K`
/// samples otherwise, this keeps them). Each border is rounded to f32, as a checkpoint stores
/// it.
///
/// Refused (an [`Error::Numerical`]): fewer than 2 buckets, no more samples than buckets, a
/// sample that is not finite, and samples with so many equal values that two borders
/// coincide.
pub fn fit_borders(samples: &[f32], num_buckets: usize) -> Result<Vec<f64>> {
    let refuse = |message: String| Err(Error::Numerical(format!("PFN borders: {message}")));
    if num_buckets < 2 || samples.len() <= num_buckets {
        return refuse(format!(
            "{} samples for {num_buckets} buckets: need at least 2 buckets and more samples \
             than buckets",
            samples.len()
        ));
    }
    if let Some(i) = samples.iter().position(|v| !v.is_finite()) {
        return refuse(format!("sample {i} is {}, not a finite number", samples[i]));
    }
    let mut sorted: Vec<f64> = samples.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let (n, k) = (sorted.len(), num_buckets);
    let mut borders = Vec::with_capacity(k + 1);
    borders.push(sorted[0]);
    for j in 1..k {
        let i = j * n / k;
        borders.push((sorted[i - 1] + sorted[i]) / 2.0);
    }
    borders.push(sorted[n - 1]);
    let borders: Vec<f64> = borders.into_iter().map(|b| f64::from(b as f32)).collect();
    if let Some(j) = (1..borders.len()).find(|&j| borders[j] <= borders[j - 1]) {
        return refuse(format!(
            "border {j} equals border {} ({}): the samples hold too many equal values for \
             {k} equal-mass buckets",
            j - 1,
            borders[j]
        ));
    }
    Ok(borders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn cpu() -> burn::tensor::Device {
        crate::device::Device::Cpu.burn().unwrap()
    }

    /// `tests/fixtures/pfn_bar_loss/cases.json`, made by `tools/parity/make_pfn_bar_loss.py`
    /// with tabpfn 2.2.1's own `FullSupportBarDistribution` and `get_bucket_limits`.
    fn fixture() -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pfn_bar_loss/cases.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    #[test]
    fn the_loss_is_tabpfns_full_support_bar_distribution() {
        let case = &fixture()["loss"];
        let loss = BarLoss::new(floats(&case["borders"])).unwrap();
        let rows: Vec<Vec<f64>> = case["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        let (t, k) = (rows.len(), rows[0].len());
        let logits: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
        let targets: Vec<f32> = floats(&case["targets"]).iter().map(|&v| v as f32).collect();
        let want = floats(&case["nll"]);
        let logits = Tensor::<2>::from_data(TensorData::new(logits.clone(), [t, k]), &cpu());
        let got = loss
            .nll(logits.clone(), &targets)
            .unwrap()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        // The package computed in f64; this in f32 (log-softmax) with f64 offsets.
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((f64::from(*g) - w).abs() < 1e-5, "target {i}: {g} vs {w}");
        }
        // The fixture covers both tails, inner buckets and borders.
        let buckets: Vec<usize> = targets.iter().map(|&y| loss.bucket(f64::from(y))).collect();
        assert!(buckets.contains(&0) && buckets.contains(&(k - 1)) && buckets.contains(&2));
        let mean = want.iter().sum::<f64>() / t as f64;
        let got_mean = f64::from(
            loss.nll(logits, &targets)
                .unwrap()
                .mean()
                .into_scalar::<f32>(),
        );
        assert!((got_mean - mean).abs() < 1e-5, "{got_mean} vs {mean}");
    }

    #[test]
    fn buckets_hold_their_upper_border() {
        // b_k < y ≤ b_{k+1}; the first border belongs to the first bucket; beyond the ends,
        // the outer buckets.
        let loss = BarLoss::new(vec![-1.0, 0.0, 1.0, 2.0]).unwrap();
        let found: Vec<usize> = [-5.0, -1.0, -0.5, 0.0, 0.1, 1.0, 2.0, 9.0]
            .iter()
            .map(|&y| loss.bucket(y))
            .collect();
        assert_eq!(found, vec![0, 0, 0, 0, 1, 1, 2, 2]);
        // An inner bucket of width 1: the offset is log 1 = 0.
        assert_eq!(loss.offset(0.5), 0.0);
    }

    #[test]
    fn borders_are_tabpfns_equal_mass_bucket_limits() {
        let case = &fixture()["borders"];
        let samples: Vec<f32> = floats(&case["samples"]).iter().map(|&v| v as f32).collect();
        let k = case["num_buckets"].as_u64().unwrap() as usize;
        let found = fit_borders(&samples, k).unwrap();
        let want = floats(&case["borders"]);
        assert_eq!(found.len(), want.len());
        for (f, w) in found.iter().zip(&want) {
            // Rounded to f32 here, f64 in the package.
            assert!(
                (f - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{found:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn samples_with_too_many_equal_values_for_the_buckets_are_refused() {
        let err = fit_borders(&[1.0, 1.0, 1.0, 1.0, 2.0], 4).unwrap_err();
        assert!(
            err.to_string().contains("too many equal values for 4"),
            "{err}"
        );
    }

    #[test]
    fn fewer_samples_than_buckets_are_refused() {
        let err = fit_borders(&[1.0, 2.0, 3.0], 3).unwrap_err();
        assert!(err.to_string().contains("3 samples for 3 buckets"), "{err}");
    }

    #[test]
    fn a_sample_that_is_not_finite_is_refused() {
        let err = fit_borders(&[1.0, f32::INFINITY, 3.0, 4.0], 2).unwrap_err();
        assert!(err.to_string().contains("sample 1 is inf"), "{err}");
    }

    #[test]
    fn logits_of_another_bucket_count_are_refused() {
        let loss = BarLoss::new(vec![-1.0, 0.0, 1.0]).unwrap();
        let logits = Tensor::<2>::zeros([2, 3], &cpu());
        let err = loss.nll(logits, &[0.0, 0.5]).unwrap_err();
        assert!(
            err.to_string()
                .contains("logits [2, 3] for 2 targets and 2 buckets"),
            "{err}"
        );
    }

    #[test]
    fn a_loss_target_that_is_not_finite_is_refused() {
        let loss = BarLoss::new(vec![-1.0, 0.0, 1.0]).unwrap();
        let logits = Tensor::<2>::zeros([1, 2], &cpu());
        let err = loss.nll(logits, &[f32::NAN]).unwrap_err();
        assert!(err.to_string().contains("target 0 is NaN"), "{err}");
    }

    #[test]
    fn logits_for_another_batch_are_refused() {
        let loss = BarLoss::new(vec![-1.0, 0.0, 1.0]).unwrap();
        let batch =
            crate::decode::pfn::model::TaskBatch::new(1, 3, 2, 1, vec![0.0; 3], &[0.0, 1.0, 0.5])
                .unwrap();
        let logits = Tensor::<3>::zeros([1, 2, 2], &cpu());
        let err = loss.mean_nll(logits, &batch).unwrap_err();
        assert!(
            err.to_string()
                .contains("1 tasks of 2 test rows, but the batch has 1 tasks of 1"),
            "{err}"
        );
    }
}
