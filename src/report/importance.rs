//! Feature importances: what the decoders that report them ([`crate::decode::Regressor::
//! feature_importance`], the boosters' total gain) say each column contributed.
//!
//! A run writes every fit's importances to `feature_importance.csv` (one row per split ×
//! feature set × decoder × seed × column). The report draws, per decoder, the 20 columns with
//! the largest mean share of the gain (`figures/importance_<decoder>.png`) on the model feature
//! set with the most columns (the fusion set when it is there): each fit's gains are divided by
//! their sum first, so that fits of different sizes weigh the same, then averaged over the
//! splits and seeds.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::report::figure;
use crate::report::results::{read_csv, write_csv};

/// The run file that holds the importances.
pub const IMPORTANCE_FILE: &str = "feature_importance.csv";

/// How many columns an importance figure shows.
pub const TOP_FEATURES: usize = 20;

/// One column's importance in one fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceRow {
    /// The split's description.
    pub split: String,
    /// The feature set.
    pub features: String,
    /// The decoder.
    pub decoder: String,
    /// The seed's index among the decoder's fits (0 for the experiment seed).
    pub seed: usize,
    /// The column.
    pub feature: String,
    /// The decoder's importance of the column (the boosters: total gain).
    pub importance: f64,
}

/// Writes `rows` to the run's `feature_importance.csv`; nothing when there are none.
pub fn write_importances(run_dir: &Path, rows: &[ImportanceRow]) -> Result<Vec<(String, PathBuf)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let path = run_dir.join(IMPORTANCE_FILE);
    write_csv(&path, rows)?;
    Ok(vec![(IMPORTANCE_FILE.to_string(), path)])
}

/// Draws `figures/importance_<decoder>.png` for each decoder in the run's
/// `feature_importance.csv` (see the module docs); nothing when the run has no such file.
pub fn render_importances(run_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !run_dir.join(IMPORTANCE_FILE).is_file() {
        return Ok(Vec::new());
    }
    let rows: Vec<ImportanceRow> = read_csv(run_dir, IMPORTANCE_FILE)?;
    let mut written = Vec::new();
    for decoder in unique(rows.iter().map(|r| r.decoder.as_str())) {
        let of_decoder: Vec<&ImportanceRow> =
            rows.iter().filter(|r| r.decoder == decoder).collect();
        let Some(features) = widest_set(&of_decoder) else {
            continue;
        };
        let bars = top_shares(
            of_decoder
                .iter()
                .copied()
                .filter(|r| r.features == features),
            TOP_FEATURES,
        );
        if bars.is_empty() {
            continue;
        }
        let name = format!("figures/importance_{decoder}.png");
        let path = run_dir.join(&name);
        figure::importance_bars(
            &path,
            &format!(
                "{decoder}: share of the total gain, top {} ({features})",
                bars.len()
            ),
            &bars,
        )?;
        written.push((name, path));
    }
    Ok(written)
}

/// The distinct values of `items`, in order of first appearance.
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The feature set with the most distinct columns among `rows`, preferring sets that are not
/// controls (`control_…`, `…_null`, `…_shuffled`); the first such set on a tie.
fn widest_set(rows: &[&ImportanceRow]) -> Option<String> {
    let is_control = |set: &str| {
        set.starts_with("control_") || set.ends_with("_null") || set.ends_with("_shuffled")
    };
    let sets = unique(rows.iter().map(|r| r.features.as_str()));
    let width = |set: &str| {
        unique(
            rows.iter()
                .filter(|r| r.features == set)
                .map(|r| r.feature.as_str()),
        )
        .len()
    };
    let mut best: Option<(&str, (bool, usize))> = None;
    for set in sets {
        let key = (!is_control(set), width(set));
        if best.is_none_or(|(_, k)| key > k) {
            best = Some((set, key));
        }
    }
    best.map(|(set, _)| set.to_string())
}

/// The `top` columns with the largest mean share of their fit's total importance, largest
/// first: each fit (split × seed) is normalised to sum to 1 (a fit whose importances sum to
/// zero counts as zero for every column), then the shares are averaged over the fits.
fn top_shares<'a>(rows: impl Iterator<Item = &'a ImportanceRow>, top: usize) -> Vec<(String, f64)> {
    let rows: Vec<&ImportanceRow> = rows.collect();
    let fits = unique_pairs(&rows);
    let columns = unique(rows.iter().map(|r| r.feature.as_str()));
    let mut shares = vec![0.0; columns.len()];
    for (split, seed) in &fits {
        let fit: Vec<&&ImportanceRow> = rows
            .iter()
            .filter(|r| r.split == *split && r.seed == *seed)
            .collect();
        let total: f64 = fit.iter().map(|r| r.importance).sum();
        if total > 0.0 {
            for r in fit {
                if let Some(k) = columns.iter().position(|c| *c == r.feature) {
                    shares[k] += r.importance / total;
                }
            }
        }
    }
    let n = fits.len().max(1) as f64;
    let mut bars: Vec<(String, f64)> = columns
        .iter()
        .zip(shares)
        .map(|(c, s)| (c.to_string(), s / n))
        .collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    bars.truncate(top);
    bars
}

/// The distinct (split, seed) pairs of `rows`, in order of first appearance.
fn unique_pairs(rows: &[&ImportanceRow]) -> Vec<(String, usize)> {
    let mut pairs: Vec<(String, usize)> = Vec::new();
    for r in rows {
        if !pairs.iter().any(|(s, k)| *s == r.split && *k == r.seed) {
            pairs.push((r.split.clone(), r.seed));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        split: &str,
        features: &str,
        seed: usize,
        feature: &str,
        importance: f64,
    ) -> ImportanceRow {
        ImportanceRow {
            split: split.into(),
            features: features.into(),
            decoder: "xgboost".into(),
            seed,
            feature: feature.into(),
            importance,
        }
    }

    #[test]
    fn shares_are_normalised_per_fit_then_averaged_by_hand() {
        // Fit 1: a = 3, b = 1 → shares 0.75, 0.25. Fit 2: a = 10, b = 30 → 0.25, 0.75.
        // Fit 3 (another seed): a = 0, b = 5 → 0, 1. Means: a = 1/3, b = 2/3.
        let rows = [
            row("s1", "fusion", 0, "a", 3.0),
            row("s1", "fusion", 0, "b", 1.0),
            row("s2", "fusion", 0, "a", 10.0),
            row("s2", "fusion", 0, "b", 30.0),
            row("s2", "fusion", 1, "a", 0.0),
            row("s2", "fusion", 1, "b", 5.0),
        ];
        let bars = top_shares(rows.iter(), 20);
        assert_eq!(bars[0].0, "b");
        assert!((bars[0].1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((bars[1].1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(top_shares(rows.iter(), 1).len(), 1);
    }

    #[test]
    fn the_widest_model_set_is_drawn_before_any_control() {
        let rows = [
            row("s", "seismicity", 0, "b", 1.0),
            row("s", "seismicity", 0, "a", 1.0),
            row("s", "fusion", 0, "gnss_pc1", 1.0),
            row("s", "fusion", 0, "b", 1.0),
            row("s", "fusion", 0, "a", 1.0),
            row("s", "fusion_null", 0, "gnss_pc1", 1.0),
            row("s", "fusion_null", 0, "gnss_pc2", 1.0),
            row("s", "fusion_null", 0, "b", 1.0),
            row("s", "fusion_null", 0, "a", 1.0),
        ];
        let refs: Vec<&ImportanceRow> = rows.iter().collect();
        assert_eq!(widest_set(&refs).as_deref(), Some("fusion"));
    }
}
