//! The daily table: b/a values, GNSS images and labels joined on the day index (paper §1.4).
//!
//! Row t is a forecast issued at the end of day t (see [`crate::dataset::align`]). It holds each
//! feature column of data day `t − lag` and the target, the label of day t + h
//! (`dataset.horizon_days`), after [`Alignment::check`] proved the features known by the
//! forecast time ([`Timing::Forecast`]: lag = the column's availability, so the b/a windows end
//! on day t and the GNSS image is that of day t − 1) or flagged the table a nowcast
//! ([`Timing::Nowcast`]: lag 0). A day with a missing input is dropped, never zero-filled, and
//! counted under the first reason that applies, in this order:
//!
//! 1. `beyond_period`: day t + h is past the last label day;
//! 2. `label_missing`: the label of day t + h is not finite;
//! 3. b/a (when given): `ba_no_row` (no window ends on day t − lag, e.g. a step of several days,
//!    or t − lag precedes the period), or the window's
//!    [`Missing::reason`](crate::seismicity::bvalue::Missing::reason) (`incomplete`,
//!    `too_few_events`, `invalid_fit`), or `ba_not_finite`;
//! 4. images (when given): `image_absent` (the stack has no day t − lag), `image_empty` (all NaN:
//!    no station had a displacement), `image_partial` (some cells NaN).
//!
//! The image itself is not copied into the table: an encoder turns the images of
//! [`DailyTable::image_days`] into a matrix ([`crate::encode::ImageEncoder`]), fitted on training
//! rows only, and [`DailyTable::design`] joins it with the b/a columns for a modality.
//!
//! The table is built once, with one label series deciding which rows exist (a row needs a
//! finite target); each split then builds its own label columns from the series fitted on its
//! training events with [`DailyTable::label_columns`] and [`DailyTable::known_mean`].

use std::collections::BTreeMap;

use faer::{Mat, MatRef};
use serde::Serialize;

use crate::dataset::align::{Alignment, FeatureColumn, Support, Timing};
use crate::gnss::stack::ImageStack;
use crate::seismicity::bvalue::WindowRow;
use crate::{Error, Result};

/// Which features enter the model (the paper's ablation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// The encoded GNSS images only.
    Gnss,
    /// The b and a values only.
    Seismicity,
    /// `[encoded GNSS, b, a]`, the paper's fusion.
    Fusion,
}

impl Modality {
    /// `gnss`, `seismicity` or `fusion`.
    pub fn name(&self) -> &'static str {
        match self {
            Modality::Gnss => "gnss",
            Modality::Seismicity => "seismicity",
            Modality::Fusion => "fusion",
        }
    }
}

/// The b/a series and the support of its windows.
#[derive(Debug, Clone, Copy)]
pub struct BaInput<'a> {
    /// The sliding-window rows, as [`crate::seismicity::bvalue::sliding_b_values`] returns them.
    pub rows: &'a [WindowRow],
    /// The days each b/a value depends on (time windows: [`Support::trailing_window`]; event-count
    /// windows: [`Support::trailing_unbounded`]).
    pub support: Support,
}

/// The image stack and the support of one day's image.
#[derive(Debug, Clone, Copy)]
pub struct ImageInput<'a> {
    /// One image per day.
    pub stack: &'a ImageStack,
    /// The days an image depends on (centred displacements: [`Support::gnss_displacement`]).
    pub support: Support,
}

/// The daily label series.
#[derive(Debug, Clone, Copy)]
pub struct LabelInput<'a> {
    /// One label per day index.
    pub values: &'a [f64],
    /// The days a label depends on, relative to its day (a label series' `(first, last)`:
    /// [`Support::between`]).
    pub support: Support,
    /// Whether the label of a day depends on events after it (the centred KDE): flagged
    /// [`crate::dataset::LOOK_AHEAD_FLAG`].
    pub look_ahead: bool,
}

/// Everything the table joins.
#[derive(Debug, Clone, Copy)]
pub struct TableInputs<'a> {
    /// The b/a series, if the experiment uses it.
    pub ba: Option<BaInput<'a>>,
    /// The GNSS images, if the experiment uses them.
    pub images: Option<ImageInput<'a>>,
    /// The labels.
    pub labels: LabelInput<'a>,
    /// The horizon h: row t gets the label of day t + h.
    pub horizon: usize,
    /// Forecast (each column lagged by its availability) or nowcast (lag 0).
    pub timing: Timing,
}

/// A split's label columns, one value per table row t (NaN where the day is out of range or
/// the label undefined).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelColumns {
    /// The target L(t + h).
    pub target: Vec<f64>,
    /// The last label value known at the forecast time, L(t − last) (honest persistence).
    pub known: Vec<f64>,
    /// L(t), the label of the forecast day itself (oracle persistence, a diagnostic only).
    pub oracle: Vec<f64>,
}

/// The joined daily table.
#[derive(Debug, Clone)]
pub struct DailyTable {
    days: Vec<usize>,
    image_days: Vec<usize>,
    labels: Vec<f64>,
    ba: Option<Mat<f64>>,
    has_images: bool,
    meta: TableMeta,
}

/// What the table records about itself (part of every run's model info sheet).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableMeta {
    /// The checked alignment: horizon, supports, the smallest causal horizon, flags.
    pub alignment: Alignment,
    /// Candidate days (the label series' length).
    pub n_days: usize,
    /// Rows kept.
    pub n_rows: usize,
    /// Dropped days by reason (see the module docs).
    pub dropped: BTreeMap<String, usize>,
}

/// The names of the two b/a columns.
pub const BA_COLUMNS: [&str; 2] = ["b_value", "a_value"];

/// The name of the image features' column family in the alignment.
pub const GNSS_COLUMN: &str = "gnss_image";

impl DailyTable {
    /// Joins the inputs on the day index, lagging each column as `inputs.timing` asks and
    /// checking it first (see [`Alignment::check`]: an [`Error::Config`] on `dataset.timing` for
    /// a feature known after the forecast time, on `dataset.horizon_days` for a target known at
    /// it). Fails if neither b/a nor images are given (`dataset.features`) or if no row survives
    /// (`dataset`).
    pub fn build(inputs: TableInputs<'_>) -> Result<DailyTable> {
        let timing = inputs.timing;
        let image_column = inputs.images.map(|img| {
            let c = FeatureColumn::new(GNSS_COLUMN, img.support);
            let lag = timing.lag(c.available);
            c.lagged(lag)
        });
        let ba_columns: Vec<FeatureColumn> = inputs.ba.map_or_else(Vec::new, |ba| {
            BA_COLUMNS
                .iter()
                .map(|name| {
                    let c = FeatureColumn::new(*name, ba.support);
                    let lag = timing.lag(c.available);
                    c.lagged(lag)
                })
                .collect()
        });
        let image_lag = image_column.as_ref().map_or(0, |c| c.lag);
        let ba_lag = ba_columns.first().map_or(0, |c| c.lag);
        let features: Vec<FeatureColumn> = image_column.into_iter().chain(ba_columns).collect();
        let h = inputs.horizon;
        let alignment = Alignment::check(features, inputs.labels.support, h, timing)?
            .with_look_ahead(inputs.labels.look_ahead);

        // The last window ending on each day (event-count windows may end several times a day).
        let ba_by_day: Option<BTreeMap<usize, &WindowRow>> = inputs
            .ba
            .map(|ba| ba.rows.iter().map(|r| (r.day, r)).collect());

        let n_days = inputs.labels.values.len();
        let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
        let mut days = Vec::new();
        let mut image_days = Vec::new();
        let mut labels = Vec::new();
        let mut ba_values = Vec::new();
        for t in 0..n_days {
            let reason = match inputs.labels.values.get(t + h) {
                None => Some("beyond_period"),
                Some(y) if !y.is_finite() => Some("label_missing"),
                Some(_) => None,
            };
            let reason = reason.or_else(|| {
                let map = ba_by_day.as_ref()?;
                match t.checked_sub(ba_lag).and_then(|d| map.get(&d)) {
                    None => Some("ba_no_row"),
                    Some(row) => match &row.value {
                        Err(missing) => Some(missing.reason()),
                        Ok(v) if !(v.b.is_finite() && v.a.is_finite()) => Some("ba_not_finite"),
                        Ok(_) => None,
                    },
                }
            });
            let reason = reason.or_else(|| {
                let img = inputs.images?;
                let Some(d) = t.checked_sub(image_lag).filter(|&d| d < img.stack.n_days()) else {
                    return Some("image_absent");
                };
                let image = img.stack.day(d);
                let n_nan = image.iter().filter(|v| v.is_nan()).count();
                if n_nan == image.len() {
                    Some("image_empty")
                } else if n_nan > 0 {
                    Some("image_partial")
                } else {
                    None
                }
            });
            if let Some(reason) = reason {
                *dropped.entry(reason.to_string()).or_default() += 1;
                continue;
            }
            days.push(t);
            // Without images the lag is 0; with them, `image_absent` dropped every t < lag.
            image_days.push(t - image_lag);
            labels.push(inputs.labels.values[t + h]);
            let ba_day = t.checked_sub(ba_lag);
            if let Some(Ok(v)) = ba_by_day
                .as_ref()
                .zip(ba_day)
                .and_then(|(m, d)| m.get(&d))
                .map(|r| r.value)
            {
                ba_values.push([v.b, v.a]);
            }
        }
        crate::ensure_config!(
            !days.is_empty(),
            "dataset",
            "no day has every input (dropped: {dropped:?})"
        );
        let ba = inputs
            .ba
            .map(|_| Mat::from_fn(ba_values.len(), 2, |i, j| ba_values[i][j]));
        let meta = TableMeta {
            alignment,
            n_days,
            n_rows: days.len(),
            dropped,
        };
        Ok(DailyTable {
            days,
            image_days,
            labels,
            ba,
            has_images: inputs.images.is_some(),
            meta,
        })
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.days.len()
    }

    /// The forecast day t of each row, ascending.
    pub fn days(&self) -> &[usize] {
        &self.days
    }

    /// The day of the GNSS image each row uses, `t − lag` (t − 1 for a forecast, t for a
    /// nowcast): the days to encode. Equal to [`DailyTable::days`] when the table has no images.
    pub fn image_days(&self) -> &[usize] {
        &self.image_days
    }

    /// The target of each row under the series the table was built with: the label of day
    /// t + h.
    pub fn labels(&self) -> &[f64] {
        &self.labels
    }

    /// The label columns of a split from its own label series `series_values` (one value per
    /// day index, NaN where undefined) whose support ends `last` days after its day: for row t,
    /// the target L(t + h), the value known at the forecast time L(t − last), and the oracle
    /// L(t). NaN where the day falls outside the series.
    pub fn label_columns(&self, series_values: &[f64], last: i64) -> LabelColumns {
        let h = self.meta.alignment.horizon() as i64;
        let column = |offset: i64| -> Vec<f64> {
            self.days
                .iter()
                .map(|&t| label_at(series_values, t as i64 + offset))
                .collect()
        };
        LabelColumns {
            target: column(h),
            known: column(-last),
            oracle: column(0),
        }
    }

    /// The mean of the last `window_days` known values of `values`, L(t − last − k) for
    /// k = 0..window_days, for each row t (the moving-average baseline); NaN when any of them
    /// is missing or undefined, or when `window_days` is 0.
    pub fn known_mean(&self, values: &[f64], last: i64, window_days: usize) -> Vec<f64> {
        self.days
            .iter()
            .map(|&t| {
                if window_days == 0 {
                    return f64::NAN;
                }
                let newest = t as i64 - last;
                let sum: f64 = (0..window_days as i64)
                    .map(|k| label_at(values, newest - k))
                    .sum();
                sum / window_days as f64
            })
            .collect()
    }

    /// The b and a columns (rows × 2), if the table has them.
    pub fn ba(&self) -> Option<MatRef<'_, f64>> {
        self.ba.as_ref().map(|m| m.as_ref())
    }

    /// Metadata: alignment, flags, dropped-day counts.
    pub fn meta(&self) -> &TableMeta {
        &self.meta
    }

    /// The feature matrix of a modality: `gnss` is the encoded images of [`DailyTable::days`]
    /// (rows × k, already fitted on training rows only), `seismicity` the b/a columns, `fusion`
    /// `[gnss, b, a]` (the paper's order). Fails (key `experiment.modality`) when the table or the
    /// caller lacks what the modality needs, or when `gnss` has the wrong number of rows.
    pub fn design(&self, modality: Modality, gnss: Option<MatRef<'_, f64>>) -> Result<Mat<f64>> {
        let key = "experiment.modality";
        let need_gnss = matches!(modality, Modality::Gnss | Modality::Fusion);
        let need_ba = matches!(modality, Modality::Seismicity | Modality::Fusion);
        let gnss = if need_gnss {
            crate::ensure_config!(
                self.has_images,
                key,
                "`{}` needs GNSS images, the table has none",
                modality.name()
            );
            let g = gnss.ok_or_else(|| {
                Error::config(
                    key,
                    format!("`{}` needs the encoded GNSS features", modality.name()),
                )
            })?;
            crate::ensure_config!(
                g.nrows() == self.n_rows(),
                key,
                "encoded GNSS features have {} rows, the table {}",
                g.nrows(),
                self.n_rows()
            );
            Some(g)
        } else {
            None
        };
        let ba = if need_ba {
            Some(self.ba().ok_or_else(|| {
                Error::config(
                    key,
                    format!("`{}` needs b/a values, the table has none", modality.name()),
                )
            })?)
        } else {
            None
        };
        let n = self.n_rows();
        let k = gnss.map_or(0, |g| g.ncols());
        let p = k + ba.map_or(0, |b| b.ncols());
        let mut x = Mat::zeros(n, p);
        if let Some(g) = gnss {
            x.as_mut().submatrix_mut(0, 0, n, k).copy_from(g);
        }
        if let Some(b) = ba {
            x.as_mut().submatrix_mut(0, k, n, p - k).copy_from(b);
        }
        Ok(x)
    }
}

/// `values[day]`, NaN outside the series.
fn label_at(values: &[f64], day: i64) -> f64 {
    usize::try_from(day)
        .ok()
        .and_then(|d| values.get(d))
        .copied()
        .unwrap_or(f64::NAN)
}
