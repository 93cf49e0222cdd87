//! Predictive distributions: what a decoder may return besides a point.
//!
//! A point-only decoder returns [`Prediction::Point`] (the default of
//! [`super::Regressor::predict_distribution`]). A decoder that knows its uncertainty (forest
//! quantiles, TabPFN's bar distribution, quantile losses) returns a
//! [`PredictiveDistribution`]: per row, a mean, a median and quantiles at the levels the
//! caller asked for.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Quantile levels: strictly increasing, each strictly between 0 and 1. May be empty (no
/// quantiles asked for).
///
/// Written as a list of numbers (`[0.05, 0.25, 0.5, 0.75, 0.95]`, the default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct QuantileLevels(Vec<f64>);

impl QuantileLevels {
    /// The levels, checked: each finite and in (0, 1), strictly increasing.
    pub fn new(levels: Vec<f64>) -> std::result::Result<Self, String> {
        if let Some(bad) = levels.iter().find(|&&l| !(l > 0.0 && l < 1.0)) {
            return Err(format!(
                "quantile level {bad} is not strictly between 0 and 1"
            ));
        }
        if let Some(pair) = levels.windows(2).find(|w| w[0] >= w[1]) {
            return Err(format!(
                "quantile levels must be strictly increasing, but {} is followed by {}",
                pair[0], pair[1]
            ));
        }
        Ok(QuantileLevels(levels))
    }

    /// The levels, increasing.
    pub fn levels(&self) -> &[f64] {
        &self.0
    }

    /// The number of levels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no quantiles are asked for.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The column name of `level` in tables: `q` and the level's shortest round-trip decimal
    /// (`q0.05`).
    pub fn column_name(level: f64) -> String {
        format!("q{level}")
    }
}

impl Default for QuantileLevels {
    /// 0.05, 0.25, 0.5, 0.75, 0.95: the median, the quartiles and a 90 % central interval.
    fn default() -> Self {
        QuantileLevels(vec![0.05, 0.25, 0.5, 0.75, 0.95])
    }
}

impl TryFrom<Vec<f64>> for QuantileLevels {
    type Error = String;

    fn try_from(levels: Vec<f64>) -> std::result::Result<Self, String> {
        QuantileLevels::new(levels)
    }
}

impl From<QuantileLevels> for Vec<f64> {
    fn from(levels: QuantileLevels) -> Self {
        levels.0
    }
}

/// Which summary of a distribution is its point prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointEstimate {
    /// The mean (the default: it minimises the squared error).
    #[default]
    Mean,
    /// The median (it minimises the absolute error).
    Median,
}

/// Per row: a mean, a median and one value per quantile level, and which of the mean and the
/// median is the point prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveDistribution {
    mean: Vec<f64>,
    median: Vec<f64>,
    levels: QuantileLevels,
    /// `quantiles[k][row]`: the quantile at `levels[k]` of row `row`.
    quantiles: Vec<Vec<f64>>,
    point: PointEstimate,
}

impl PredictiveDistribution {
    /// A distribution over `mean.len()` rows. An [`Error::Numerical`] unless `median` and each
    /// of the `quantiles` (one per level, `quantiles[k][row]`) have one value per row.
    pub fn new(
        mean: Vec<f64>,
        median: Vec<f64>,
        levels: QuantileLevels,
        quantiles: Vec<Vec<f64>>,
    ) -> Result<Self> {
        let n = mean.len();
        if median.len() != n
            || quantiles.len() != levels.len()
            || quantiles.iter().any(|q| q.len() != n)
        {
            return Err(Error::Numerical(format!(
                "a predictive distribution needs one mean, median and quantile per row and one \
                 quantile series per level: {n} means, {} medians, {} levels, {} quantile series",
                median.len(),
                levels.len(),
                quantiles.len()
            )));
        }
        Ok(PredictiveDistribution {
            mean,
            median,
            levels,
            quantiles,
            point: PointEstimate::Mean,
        })
    }

    /// The same distribution with `point` as its point prediction (the mean unless set).
    pub fn with_point(self, point: PointEstimate) -> Self {
        PredictiveDistribution { point, ..self }
    }

    /// The point prediction of each row: the mean or the median, as chosen.
    pub fn point(&self) -> &[f64] {
        match self.point {
            PointEstimate::Mean => &self.mean,
            PointEstimate::Median => &self.median,
        }
    }

    /// Which of the mean and the median is the point prediction.
    pub fn point_estimate(&self) -> PointEstimate {
        self.point
    }

    /// The predictive mean of each row.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The predictive median of each row.
    pub fn median(&self) -> &[f64] {
        &self.median
    }

    /// The quantile levels.
    pub fn levels(&self) -> &QuantileLevels {
        &self.levels
    }

    /// The quantiles at level `k` (an index into [`PredictiveDistribution::levels`]), one per row.
    pub fn quantile(&self, k: usize) -> &[f64] {
        &self.quantiles[k]
    }

    /// The quantiles of row `row`, one per level.
    pub fn row_quantiles(&self, row: usize) -> Vec<f64> {
        self.quantiles.iter().map(|q| q[row]).collect()
    }
}

/// What a decoder predicts for a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// One value per row, with nothing said about its uncertainty.
    Point(Vec<f64>),
    /// A distribution per row.
    Distribution(PredictiveDistribution),
}

impl Prediction {
    /// The point prediction of each row: the value, or the distribution's point (its mean
    /// unless the decoder chose the median).
    pub fn point(&self) -> &[f64] {
        match self {
            Prediction::Point(values) => values,
            Prediction::Distribution(d) => d.point(),
        }
    }

    /// The distribution, when the decoder gave one.
    pub fn distribution(&self) -> Option<&PredictiveDistribution> {
        match self {
            Prediction::Point(_) => None,
            Prediction::Distribution(d) => Some(d),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.point().len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.point().is_empty()
    }

    /// The same prediction over `n` rows, row `i` of this one placed at `rows[i]` and NaN
    /// elsewhere (predictions made for a subset of a table, spread back over the table).
    pub fn spread(&self, rows: &[usize], n: usize) -> Result<Prediction> {
        if rows.len() != self.len() || rows.iter().any(|&r| r >= n) {
            return Err(Error::Numerical(format!(
                "cannot spread {} predictions over {} row indices into {n} rows",
                self.len(),
                rows.len()
            )));
        }
        let spread = |values: &[f64]| {
            let mut all = vec![f64::NAN; n];
            for (&r, &v) in rows.iter().zip(values) {
                all[r] = v;
            }
            all
        };
        Ok(match self {
            Prediction::Point(values) => Prediction::Point(spread(values)),
            Prediction::Distribution(d) => Prediction::Distribution(PredictiveDistribution {
                mean: spread(&d.mean),
                median: spread(&d.median),
                levels: d.levels.clone(),
                quantiles: d.quantiles.iter().map(|q| spread(q)).collect(),
                point: d.point,
            }),
        })
    }
}

/// The empirical quantile at `level` of `sorted` (increasing, not empty), by linear
/// interpolation between order statistics: with h = (n − 1)·level, the value
/// `sorted[⌊h⌋] + (h − ⌊h⌋)·(sorted[⌊h⌋ + 1] − sorted[⌊h⌋])` (Hyndman & Fan's type 7,
/// numpy's default).
pub fn empirical_quantile(sorted: &[f64], level: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let h = last as f64 * level;
    let lower = (h.floor() as usize).min(last);
    let upper = (lower + 1).min(last);
    sorted[lower] + (h - lower as f64) * (sorted[upper] - sorted[lower])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_checked() {
        assert_eq!(
            QuantileLevels::default().levels(),
            [0.05, 0.25, 0.5, 0.75, 0.95]
        );
        assert!(QuantileLevels::new(vec![]).unwrap().is_empty());
        for bad in [
            vec![0.0, 0.5],
            vec![0.5, 1.0],
            vec![f64::NAN],
            vec![0.5, 0.25],
            vec![0.5, 0.5],
        ] {
            assert!(QuantileLevels::new(bad.clone()).is_err(), "{bad:?}");
        }
        assert_eq!(QuantileLevels::column_name(0.05), "q0.05");
        assert_eq!(QuantileLevels::column_name(0.5), "q0.5");
    }

    #[test]
    fn empirical_quantiles_by_hand() {
        let sorted = [1.0, 2.0, 4.0, 8.0];
        // h = 3·level: 0 → 1; 0.25 → h = 0.75, 1 + 0.75·1 = 1.75; 0.5 → h = 1.5, 2 + 0.5·2 = 3;
        // 0.9 → h = 2.7, 4 + 0.7·4 = 6.8; 1 → 8.
        for (level, want) in [(0.0, 1.0), (0.25, 1.75), (0.5, 3.0), (0.9, 6.8), (1.0, 8.0)] {
            let got = empirical_quantile(&sorted, level);
            assert!((got - want).abs() < 1e-12, "{level}: {got} vs {want}");
        }
        assert_eq!(empirical_quantile(&[3.0], 0.3), 3.0);
        assert!(empirical_quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn spread_places_rows_and_fills_nan() {
        let levels = QuantileLevels::new(vec![0.1, 0.9]).unwrap();
        let d = PredictiveDistribution::new(
            vec![1.0, 2.0],
            vec![1.5, 2.5],
            levels.clone(),
            vec![vec![0.0, 1.0], vec![3.0, 4.0]],
        )
        .unwrap();
        let spread = Prediction::Distribution(d).spread(&[2, 0], 3).unwrap();
        let d = spread.distribution().unwrap();
        assert_eq!(d.mean()[0], 2.0);
        assert!(d.mean()[1].is_nan());
        assert_eq!((d.mean()[2], d.median()[0]), (1.0, 2.5));
        assert_eq!(d.row_quantiles(0), [1.0, 4.0]);
        assert_eq!(d.row_quantiles(2), [0.0, 3.0]);
        assert!(
            PredictiveDistribution::new(vec![1.0], vec![], levels, vec![vec![1.0]; 2]).is_err()
        );
        assert!(Prediction::Point(vec![1.0]).spread(&[3], 3).is_err());
    }

    #[test]
    fn the_point_is_the_mean_unless_the_median_is_chosen() {
        let d = PredictiveDistribution::new(
            vec![1.0, 2.0],
            vec![1.5, 2.5],
            QuantileLevels::new(vec![]).unwrap(),
            vec![],
        )
        .unwrap();
        assert_eq!(d.point(), [1.0, 2.0]);
        let median = Prediction::Distribution(d.with_point(PointEstimate::Median));
        assert_eq!(median.point(), [1.5, 2.5]);
        let spread = median.spread(&[1, 0], 3).unwrap();
        assert_eq!(spread.point()[..2], [2.5, 1.5]);
        assert!(spread.point()[2].is_nan());
    }
}
