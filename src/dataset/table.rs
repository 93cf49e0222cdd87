//! The daily table: b/a values, GNSS images and labels joined on the day index (paper §1.4).
//!
//! Row t holds the features of day t and the label of day t + h (`dataset.horizon`), after the
//! supports passed [`Alignment::check`]. A day with a missing input is dropped, never zero-filled,
//! and counted under the first reason that applies, in this order:
//!
//! 1. `beyond_period`: day t + h is past the last label day;
//! 2. `label_missing`: the label of day t + h is not finite;
//! 3. b/a (when given): `ba_no_row` (no window ends on day t, e.g. a step of several days), or the
//!    window's [`Missing::reason`](crate::seismicity::bvalue::Missing::reason) (`incomplete`,
//!    `too_few_events`, `invalid_fit`), or `ba_not_finite`;
//! 4. images (when given): `image_absent` (the stack has no day t), `image_empty` (all NaN: no
//!    station had a displacement), `image_partial` (some cells NaN).
//!
//! The image itself is not copied into the table: an encoder turns the images of
//! [`DailyTable::days`] into a matrix ([`crate::encode::ImageEncoder`]), fitted on training rows
//! only, and [`DailyTable::design`] joins it with the b/a columns for a modality.

use std::collections::BTreeMap;

use faer::{Mat, MatRef};
use serde::Serialize;

use crate::dataset::align::{Alignment, FeatureColumn, Support};
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
    /// The days a label depends on (the centred KDE: [`Support::unbounded`]).
    pub support: Support,
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
}

/// The joined daily table.
#[derive(Debug, Clone)]
pub struct DailyTable {
    days: Vec<usize>,
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
    /// Joins the inputs on the day index, checking causality first (see
    /// [`Alignment::check`]: an [`Error::Config`] on `dataset.horizon` if h is too small for the
    /// supports). Fails if neither b/a nor images are given (`dataset.features`) or if no row
    /// survives (`dataset`).
    pub fn build(inputs: TableInputs<'_>) -> Result<DailyTable> {
        let mut features = Vec::new();
        if let Some(img) = &inputs.images {
            features.push(FeatureColumn::new(GNSS_COLUMN, img.support));
        }
        if let Some(ba) = &inputs.ba {
            for name in BA_COLUMNS {
                features.push(FeatureColumn::new(name, ba.support));
            }
        }
        let h = inputs.horizon;
        let alignment = Alignment::check(features, inputs.labels.support, h)?;

        // The last window ending on each day (event-count windows may end several times a day).
        let ba_by_day: Option<BTreeMap<usize, &WindowRow>> = inputs
            .ba
            .map(|ba| ba.rows.iter().map(|r| (r.day, r)).collect());

        let n_days = inputs.labels.values.len();
        let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
        let mut days = Vec::new();
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
                match map.get(&t) {
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
                if t >= img.stack.n_days() {
                    return Some("image_absent");
                }
                let image = img.stack.day(t);
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
            labels.push(inputs.labels.values[t + h]);
            if let Some(Ok(v)) = ba_by_day.as_ref().and_then(|m| m.get(&t)).map(|r| r.value) {
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

    /// The feature day t of each row, ascending.
    pub fn days(&self) -> &[usize] {
        &self.days
    }

    /// The label of each row: the label of day t + h.
    pub fn labels(&self) -> &[f64] {
        &self.labels
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
