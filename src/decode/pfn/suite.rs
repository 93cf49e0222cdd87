//! Standard regression functions that `quakelab pfn eval` scores a pretrained network on, next to
//! the held-out prior tasks: Friedman's (1991) three test functions, as scikit-learn's
//! `make_friedman1`, `make_friedman2` and `make_friedman3` define them (Breiman 1996 used #2 and
//! #3 for bagging).
//!
//! - **#1**: `y = 10 sin(π x₀ x₁) + 20 (x₂ − ½)² + 10 x₃ + 5 x₄`, inputs uniform on [0, 1]; only
//!   the first five of the (at least five) inputs matter.
//! - **#2**: `y = √(x₀² + (x₁ x₂ − 1/(x₁ x₃))²)`, with x₀ ∈ [0, 100], x₁ ∈ [40π, 560π],
//!   x₂ ∈ [0, 1], x₃ ∈ [1, 11], each uniform.
//! - **#3**: `y = atan((x₁ x₂ − 1/(x₁ x₃)) / x₀)`, inputs as in #2.
//!
//! Each target gets `noise · N(0, 1)` added; rows are drawn from a named random stream, so a
//! seed gives the same table every time.

use std::f64::consts::PI;

use rand::Rng;
use rand_distr::StandardNormal;

use crate::{Result, ensure_config};

/// One of Friedman's three test functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Friedman {
    /// #1: a sine of an interaction, a parabola and two linear terms, plus inert inputs.
    One,
    /// #2: the impedance of an RLC circuit.
    Two,
    /// #3: the phase of the same circuit.
    Three,
}

/// A regression table: features row-major, one target per row.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionTable {
    /// `n_rows · n_features` values, row after row.
    pub x: Vec<f64>,
    /// Features per row.
    pub n_features: usize,
    /// One target per row.
    pub y: Vec<f64>,
}

impl Friedman {
    /// The three functions, in order.
    pub const ALL: [Friedman; 3] = [Friedman::One, Friedman::Two, Friedman::Three];

    /// The name in tables: `friedman1`, `friedman2`, `friedman3`.
    pub fn name(self) -> &'static str {
        match self {
            Friedman::One => "friedman1",
            Friedman::Two => "friedman2",
            Friedman::Three => "friedman3",
        }
    }

    /// The fewest inputs the function reads: 5 for #1, 4 for #2 and #3.
    pub fn min_features(self) -> usize {
        match self {
            Friedman::One => 5,
            Friedman::Two | Friedman::Three => 4,
        }
    }

    /// The noise-free target of one row of inputs (see the module docs). `x` holds at least
    /// [`Friedman::min_features`] values; #1 ignores those after the fifth.
    pub fn target(self, x: &[f64]) -> f64 {
        match self {
            Friedman::One => {
                10.0 * (PI * x[0] * x[1]).sin()
                    + 20.0 * (x[2] - 0.5).powi(2)
                    + 10.0 * x[3]
                    + 5.0 * x[4]
            }
            Friedman::Two => (x[0].powi(2) + reactance(x).powi(2)).sqrt(),
            Friedman::Three => (reactance(x) / x[0]).atan(),
        }
    }

    /// The range input `j` is drawn from, uniformly.
    pub fn input_range(self, j: usize) -> (f64, f64) {
        match (self, j) {
            (Friedman::One, _) | (_, 2) => (0.0, 1.0),
            (_, 0) => (0.0, 100.0),
            (_, 1) => (40.0 * PI, 560.0 * PI),
            _ => (1.0, 11.0),
        }
    }

    /// `n_rows` rows of `n_features` inputs (#2 and #3 take exactly 4) and their targets plus
    /// `noise · N(0, 1)`, drawn from the stream `pfn.suite.<name>` of `seed`.
    ///
    /// Refuses too few or (for #2 and #3) too many features, no rows, and a noise level that
    /// is negative or not finite, naming the setting.
    pub fn table(
        self,
        n_rows: usize,
        n_features: usize,
        noise: f64,
        seed: u64,
    ) -> Result<RegressionTable> {
        let fixed = self != Friedman::One;
        ensure_config!(
            n_features >= self.min_features() && (!fixed || n_features == 4),
            "pfn.suite.features",
            "{} takes {} features, got {n_features}",
            self.name(),
            if fixed { "exactly 4" } else { "at least 5" }
        );
        ensure_config!(
            n_rows >= 1,
            "pfn.suite.rows",
            "a table needs at least one row"
        );
        ensure_config!(
            noise.is_finite() && noise >= 0.0,
            "pfn.suite.noise",
            "must be a finite standard deviation of at least 0, got {noise}"
        );
        let mut rng = crate::rng::stream(seed, &format!("pfn.suite.{}", self.name()));
        let mut x = Vec::with_capacity(n_rows * n_features);
        let mut y = Vec::with_capacity(n_rows);
        for _ in 0..n_rows {
            let row: Vec<f64> = (0..n_features)
                .map(|j| {
                    let (low, high) = self.input_range(j);
                    rng.random_range(low..high)
                })
                .collect();
            let draw: f64 = rng.sample(StandardNormal);
            y.push(self.target(&row) + noise * draw);
            x.extend(row);
        }
        Ok(RegressionTable { x, n_features, y })
    }
}

/// `x₁ x₂ − 1/(x₁ x₃)`: the reactance of Friedman #2 and #3's circuit.
fn reactance(x: &[f64]) -> f64 {
    x[1] * x[2] - 1.0 / (x[1] * x[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixture of `tools/parity/make_friedman.py`: the rows of inputs and scikit-learn's
    /// noise-free targets.
    fn fixture(name: &str) -> Vec<(Vec<f64>, f64)> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/friedman")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .skip(1)
            .map(|line| {
                let mut values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
                let y = values.pop().unwrap();
                (values, y)
            })
            .collect()
    }

    #[test]
    fn the_targets_equal_scikit_learns_make_friedman() {
        for (f, name) in
            Friedman::ALL
                .iter()
                .zip(["friedman1.csv", "friedman2.csv", "friedman3.csv"])
        {
            let rows = fixture(name);
            assert_eq!(rows.len(), 20);
            for (x, y) in rows {
                let found = f.target(&x);
                assert!(
                    (found - y).abs() <= 1e-12 * y.abs().max(1.0),
                    "{name}: {found} vs {y}"
                );
            }
        }
    }

    #[test]
    fn tables_draw_inside_the_ranges_and_repeat_from_their_seed() {
        for f in Friedman::ALL {
            let p = if f == Friedman::One { 10 } else { 4 };
            let table = f.table(500, p, 0.0, 9).unwrap();
            assert_eq!((table.x.len(), table.y.len()), (500 * p, 500));
            for (i, row) in table.x.chunks(p).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    let (low, high) = f.input_range(j);
                    assert!((low..high).contains(&v), "{} row {i} x{j} = {v}", f.name());
                }
                // Without noise the target is the function itself.
                assert_eq!(table.y[i], f.target(row));
            }
            assert_eq!(f.table(500, p, 0.0, 9).unwrap(), table);
            assert_ne!(f.table(500, p, 0.0, 10).unwrap(), table);
        }
    }

    #[test]
    fn the_noise_has_the_stated_standard_deviation() {
        // The residuals y − f(x) are σ·N(0, 1): over n = 20,000 rows their sample standard
        // deviation lies within σ·(1 ± 4/√(2n)) (its standard error is σ/√(2n)).
        let (n, sigma) = (20_000, 1.5);
        let table = Friedman::One.table(n, 5, sigma, 3).unwrap();
        let residuals: Vec<f64> = table
            .x
            .chunks(5)
            .zip(&table.y)
            .map(|(row, y)| y - Friedman::One.target(row))
            .collect();
        let mean = residuals.iter().sum::<f64>() / n as f64;
        let sd =
            (residuals.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let tolerance = 4.0 * sigma / (2.0 * n as f64).sqrt();
        assert!(
            (sd - sigma).abs() < tolerance,
            "sd {sd}, tolerance {tolerance}"
        );
    }

    #[test]
    fn a_friedman_table_with_the_wrong_feature_count_is_refused() {
        for (f, p) in [(Friedman::One, 4), (Friedman::Two, 5), (Friedman::Three, 3)] {
            match f.table(10, p, 0.0, 1) {
                Err(crate::Error::Config { key, .. }) => assert_eq!(key, "pfn.suite.features"),
                other => panic!("{} with {p}: {other:?}", f.name()),
            }
        }
    }

    #[test]
    fn a_table_without_rows_is_refused() {
        match Friedman::Three.table(0, 4, 0.0, 1) {
            Err(crate::Error::Config { key, .. }) => assert_eq!(key, "pfn.suite.rows"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_negative_noise_is_refused() {
        match Friedman::Two.table(10, 4, -1.0, 1) {
            Err(crate::Error::Config { key, .. }) => assert_eq!(key, "pfn.suite.noise"),
            other => panic!("{other:?}"),
        }
    }
}
