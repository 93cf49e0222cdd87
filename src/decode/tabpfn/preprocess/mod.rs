//! TabPFN v2: the preprocessing around the model, as the official package 2.2.1 does it
//! (spec part B.2-B.3), in f64.
//!
//! One ensemble member's features go through [`MemberPipeline`], fitted on the train rows, in the
//! package's order:
//! 1. the ordinal codes of columns the package takes as categorical ([`categorical`]: more than
//!    100 train rows and fewer than 4 distinct values), moved to the front;
//! 2. the columns constant over the train rows dropped ([`constant`]);
//! 3. the distribution step of the `preprocess` setting ([`reshape`]): nothing, the quantile
//!    transform with the original columns and SVD features ([`quantile`], [`svd`]), or the
//!    Yeo-Johnson power transform ([`power`]), each with the package's "safe" standard scaler
//!    ([`scaler`]);
//! 4. the fingerprint column ([`fingerprint`]), when enabled;
//! 5. the column shuffle ([`shuffle`]), when enabled.
//!
//! The targets of a member go through a [`TargetTransform`] ([`target`]).
//!
//! A missing value (NaN) passes through every step as scikit-learn passes it (the scalers fill it
//! with the train mean, the other steps keep it); an infinite value is refused, as the package
//! refuses it.

pub mod brent;
pub mod categorical;
pub mod constant;
pub mod fingerprint;
pub mod power;
pub mod quantile;
pub mod reshape;
pub mod scaler;
pub mod shuffle;
pub mod svd;
pub mod target;

#[cfg(test)]
mod fixture;

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use categorical::CategoricalCodes;
use constant::KeptColumns;
use fingerprint::Fingerprint;
use reshape::{Reshape, hstack};
use shuffle::ColumnShuffle;
pub use target::{TargetTransform, TargetTransformKind};

/// The feature distribution step of a member (the setting `preprocess`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeaturePreprocess {
    /// The uniform quantile transform appended to the original columns, plus SVD features (the
    /// package's first regressor configuration, `quantile_uni` with `svd`).
    #[default]
    QuantileSvd,
    /// The Yeo-Johnson power transform, standardised (the package's `safepower`).
    Power,
    /// The columns as they are.
    None,
}

/// How a member orders its columns (the setting `feature_shift`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureShift {
    /// A random permutation per member.
    #[default]
    Shuffle,
    /// The columns in their order.
    None,
}

/// The settings of a member's feature pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineSettings {
    /// The feature distribution step.
    pub preprocess: FeaturePreprocess,
    /// Whether to append the fingerprint column.
    pub fingerprint_feature: bool,
    /// The column order.
    pub feature_shift: FeatureShift,
}

impl Default for PipelineSettings {
    /// The package's defaults: quantile + SVD, the fingerprint, the shuffle.
    fn default() -> Self {
        PipelineSettings {
            preprocess: FeaturePreprocess::QuantileSvd,
            fingerprint_feature: true,
            feature_shift: FeatureShift::Shuffle,
        }
    }
}

/// One ensemble member's feature pipeline, fitted on its train rows.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberPipeline {
    n_inputs: usize,
    codes: CategoricalCodes,
    kept: KeptColumns,
    reshape: Reshape,
    fingerprint: Option<Fingerprint>,
    shuffle: ColumnShuffle,
}

impl MemberPipeline {
    /// Fits on the train rows `x_train` (NaN = missing) and returns the transformed train rows.
    /// `seed` drives the random choices (the fingerprint's salt, the shuffle) through
    /// [`crate::rng`]. Refuses (an [`Error::Numerical`]) an infinite value, a column with no
    /// value in the train rows, and train rows on which every column is constant.
    pub fn fit(
        x_train: MatRef<'_, f64>,
        settings: &PipelineSettings,
        seed: u64,
    ) -> Result<(MemberPipeline, Mat<f64>)> {
        refuse_infinite(x_train, "train")?;
        if let Some(j) =
            (0..x_train.ncols()).find(|&j| (0..x_train.nrows()).all(|i| x_train[(i, j)].is_nan()))
        {
            return Err(Error::Numerical(format!(
                "TabPFN preprocessing: feature column {j} has no value in the {} train rows \
                 (all missing)",
                x_train.nrows()
            )));
        }
        let codes = CategoricalCodes::fit(x_train);
        let coded = codes.transform(x_train);
        let kept = KeptColumns::fit(coded.as_ref())?;
        let varying = kept.transform(coded.as_ref());
        let categorical = kept.remap(codes.positions());
        let (reshape, mut out) = Reshape::fit(settings.preprocess, varying.as_ref(), &categorical)?;
        let fingerprint = settings.fingerprint_feature.then(|| {
            Fingerprint::random(&mut crate::rng::stream(seed, "decode.tabpfn.fingerprint"))
        });
        if let Some(fingerprint) = &fingerprint {
            let column = fingerprint.train_column(out.as_ref());
            out = append_column(out.as_ref(), &column);
        }
        let shuffle = match settings.feature_shift {
            FeatureShift::Shuffle => ColumnShuffle::random(
                out.ncols(),
                &mut crate::rng::stream(seed, "decode.tabpfn.shuffle"),
            ),
            FeatureShift::None => ColumnShuffle::identity(out.ncols()),
        };
        let out = shuffle.apply(out.as_ref());
        let pipeline = MemberPipeline {
            n_inputs: x_train.ncols(),
            codes,
            kept,
            reshape,
            fingerprint,
            shuffle,
        };
        Ok((pipeline, out))
    }

    /// Transforms rows `x` (test rows; NaN = missing) as the train rows were. Refuses (an
    /// [`Error::Numerical`]) a different number of columns and an infinite value.
    pub fn transform(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if x.ncols() != self.n_inputs {
            return Err(Error::Numerical(format!(
                "TabPFN preprocessing: the rows to predict have {} feature columns, the train \
                 rows had {}",
                x.ncols(),
                self.n_inputs
            )));
        }
        refuse_infinite(x, "test")?;
        let coded = self.codes.transform(x);
        let varying = self.kept.transform(coded.as_ref());
        let mut out = self.reshape.transform(varying.as_ref());
        if let Some(fingerprint) = &self.fingerprint {
            let column = fingerprint.test_column(out.as_ref());
            out = append_column(out.as_ref(), &column);
        }
        Ok(self.shuffle.apply(out.as_ref()))
    }

    /// The number of output columns (the model's features).
    pub fn n_outputs(&self) -> usize {
        self.reshape.n_outputs() + usize::from(self.fingerprint.is_some())
    }
}

/// Refuses a ±inf in `x`, naming the first (row and column, in `which` rows).
fn refuse_infinite(x: MatRef<'_, f64>, which: &str) -> Result<()> {
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            if x[(i, j)].is_infinite() {
                return Err(Error::Numerical(format!(
                    "TabPFN preprocessing: {which} row {i}, feature column {j} is {}; a feature \
                     must be a finite number or missing",
                    x[(i, j)]
                )));
            }
        }
    }
    Ok(())
}

/// `x` with `column` appended.
fn append_column(x: MatRef<'_, f64>, column: &[f64]) -> Mat<f64> {
    let column = Mat::from_fn(column.len(), 1, |i, _| column[i]);
    hstack(x, column.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(preprocess: FeaturePreprocess) -> PipelineSettings {
        PipelineSettings {
            preprocess,
            fingerprint_feature: false,
            feature_shift: FeatureShift::None,
        }
    }

    /// Fits on `<case>_train`, compares train and test outputs with the package's
    /// `<case>_pipeline_<name>_{train,test}`: the first `exact` columns to 1e-12, the rest to
    /// `rest_tol` (relative, or absolute below 1). SVD features get 1e-10: scikit-learn's come
    /// from ARPACK, an iterative solver (run to `tol=0`, it agrees with the exact SVD to about
    /// 1e-11 here).
    fn compare(case: &str, name: &str, preprocess: FeaturePreprocess, exact: usize, rest_tol: f64) {
        let train = fixture::matrix(&format!("{case}_train"));
        let test = fixture::matrix(&format!("{case}_test"));
        let (pipeline, out) = MemberPipeline::fit(train.as_ref(), &plain(preprocess), 0).unwrap();
        let test_out = pipeline.transform(test.as_ref()).unwrap();
        for (got, which) in [(out, "train"), (test_out, "test")] {
            let want = fixture::matrix(&format!("{case}_pipeline_{name}_{which}"));
            assert_eq!(pipeline.n_outputs(), want.ncols());
            let (g, w) = (got.as_ref(), want.as_ref());
            let what = format!("{case} {name} {which}");
            let head = exact.min(w.ncols());
            fixture::assert_close(
                &g.subcols(0, head).to_owned(),
                &w.subcols(0, head).to_owned(),
                1e-12,
                &what,
            );
            fixture::assert_close(
                &g.subcols(head, w.ncols() - head).to_owned(),
                &w.subcols(head, w.ncols() - head).to_owned(),
                rest_tol,
                &what,
            );
        }
    }

    #[test]
    fn quantile_svd_matches_the_package() {
        // 4 varying columns: 4 original, 4 quantile, then 2 SVD features.
        compare(
            "small",
            "quantile_svd",
            FeaturePreprocess::QuantileSvd,
            8,
            1e-10,
        );
    }

    #[test]
    fn power_matches_the_package() {
        // λ comes from the same Brent steps, so only round-off separates the outputs.
        compare("small", "power", FeaturePreprocess::Power, 0, 1e-12);
        let train = fixture::matrix("small_train");
        let kept = train.as_ref().subcols(0, 4);
        let lambdas = power::YeoJohnson::fit(kept);
        let want = fixture::scalars()["power_lambdas"].clone();
        for (j, got) in lambdas.lambdas().iter().enumerate() {
            let want = want[j].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-12 * want.abs().max(1.0),
                "λ{j}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn categorical_columns_pass_through_as_in_the_package() {
        // Encoded: the codes of raw columns 1 and 3 first; positions 1 and 3 of that passed
        // through. Quantile: 4 original + 2 quantile + 2 SVD; power: 2 passed + 2 transformed.
        compare(
            "cat",
            "quantile_svd",
            FeaturePreprocess::QuantileSvd,
            6,
            1e-10,
        );
        compare("cat", "power", FeaturePreprocess::Power, 0, 1e-12);
    }

    #[test]
    fn none_drops_constant_columns_and_keeps_the_rest_as_they_are() {
        let train = fixture::matrix("small_train");
        let (pipeline, out) =
            MemberPipeline::fit(train.as_ref(), &plain(FeaturePreprocess::None), 0).unwrap();
        assert_eq!(pipeline.n_outputs(), 4);
        let want = train.as_ref().subcols(0, 4).to_owned();
        fixture::assert_close(&out, &want, 0.0, "none");
    }

    #[test]
    fn the_fingerprint_and_the_shuffle_follow_the_seed() {
        let train = fixture::matrix("small_train");
        let test = fixture::matrix("small_test");
        let settings = PipelineSettings::default();
        let (plain_pipeline, plain_out) =
            MemberPipeline::fit(train.as_ref(), &plain(FeaturePreprocess::QuantileSvd), 0).unwrap();
        let (pipeline, out) = MemberPipeline::fit(train.as_ref(), &settings, 7).unwrap();
        assert_eq!(pipeline.n_outputs(), plain_pipeline.n_outputs() + 1);
        assert_eq!(out.ncols(), pipeline.n_outputs());
        // Every plain column is somewhere in the shuffled output, and the extra one is the
        // fingerprint, in [0, 1).
        let order = pipeline.shuffle.order();
        for (c, &source) in order.iter().enumerate() {
            for i in 0..out.nrows() {
                let v = out[(i, c)];
                if source < plain_out.ncols() {
                    let w = plain_out[(i, source)];
                    assert!(v.to_bits() == w.to_bits(), "column {c} row {i}: {v} vs {w}");
                } else {
                    assert!((0.0..1.0).contains(&v));
                }
            }
        }
        let (again, again_out) = MemberPipeline::fit(train.as_ref(), &settings, 7).unwrap();
        assert_eq!(again.shuffle, pipeline.shuffle);
        assert_eq!(again.fingerprint, pipeline.fingerprint);
        // Bit for bit (the missing value in row 3 is NaN, which `==` never equals).
        assert!((0..out.ncols()).all(|j| {
            (0..out.nrows()).all(|i| again_out[(i, j)].to_bits() == out[(i, j)].to_bits())
        }));
        let (other, _) = MemberPipeline::fit(train.as_ref(), &settings, 8).unwrap();
        assert_ne!(other.shuffle, pipeline.shuffle);
        let test_out = pipeline.transform(test.as_ref()).unwrap();
        assert_eq!(test_out.ncols(), pipeline.n_outputs());
    }

    #[test]
    fn an_infinite_feature_value_is_refused() {
        let x = faer::mat![[1.0, 2.0], [f64::NEG_INFINITY, 3.0], [0.5, 1.0]];
        let err = MemberPipeline::fit(x.as_ref(), &PipelineSettings::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train row 1, feature column 0 is -inf"),
            "{err}"
        );
    }

    #[test]
    fn a_feature_with_no_train_value_is_refused() {
        let nan = f64::NAN;
        let x = faer::mat![[1.0, nan], [2.0, nan], [0.5, nan]];
        let err = MemberPipeline::fit(x.as_ref(), &PipelineSettings::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("feature column 1 has no value in the 3 train rows"),
            "{err}"
        );
    }

    #[test]
    fn test_rows_with_another_column_count_are_refused() {
        let x = faer::mat![[1.0, 2.0], [3.0, 1.0], [0.5, 1.0]];
        let (pipeline, _) =
            MemberPipeline::fit(x.as_ref(), &PipelineSettings::default(), 0).unwrap();
        let err = pipeline
            .transform(faer::mat![[1.0, 2.0, 3.0]].as_ref())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("have 3 feature columns, the train rows had 2"),
            "{err}"
        );
    }

    #[test]
    fn settings_read_their_snake_case_names() {
        let p: FeaturePreprocess = serde_json::from_str("\"quantile_svd\"").unwrap();
        assert_eq!(p, FeaturePreprocess::QuantileSvd);
        let p: FeaturePreprocess = serde_json::from_str("\"none\"").unwrap();
        assert_eq!(p, FeaturePreprocess::None);
        let s: FeatureShift = serde_json::from_str("\"shuffle\"").unwrap();
        assert_eq!(s, FeatureShift::Shuffle);
        let t: TargetTransformKind = serde_json::from_str("\"safepower\"").unwrap();
        assert_eq!(t, TargetTransformKind::Safepower);
        assert_eq!(FeaturePreprocess::default(), FeaturePreprocess::QuantileSvd);
        assert_eq!(FeatureShift::default(), FeatureShift::Shuffle);
        assert_eq!(TargetTransformKind::default(), TargetTransformKind::None);
    }
}
