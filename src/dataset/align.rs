//! Time supports and the causality proof (pitfall P7).
//!
//! Every feature column and the label declare the days of data they depend on, as offsets from
//! their row's day t. A [`Support`] is the closed day interval `[t + first, t + last]` (both ends
//! belong, [`Closed::Both`]); `None` on a side means unbounded on that side.
//!
//! The table's row t holds the features of day t and the label of day t + h (h = `dataset.horizon`).
//! The rule, checked by [`Alignment::check`]:
//!
//! - a feature whose support has no end (it depends on the whole future) is refused
//!   (key `dataset.features`);
//! - for a label with a bounded start, every feature must end strictly before the label begins:
//!   `t + feature.last < t + h + label.first` for every t, i.e. `h > feature.last − label.first`.
//!   A smaller horizon is refused with an [`Error::Config`] naming `dataset.horizon` and the
//!   smallest horizon that passes;
//! - for a label whose support has no start (the paper's centred KDE depends on every event of the
//!   catalog, past and future), no horizon can prove causality. Refusing would make the paper's
//!   experiment impossible, so the alignment is accepted and flagged
//!   [`NOWCAST_FLAG`] in the table metadata: every table built this way says that its label looks
//!   ahead and that its scores are a nowcast, not a forecast.

use serde::Serialize;

use crate::period::Closed;
use crate::{Error, Result};

/// The flag recorded when the label's support cannot be proven to follow the features'.
pub const NOWCAST_FLAG: &str = "nowcast/look-ahead label";

/// The days of data a column depends on, relative to its row's day t: the closed interval
/// `[t + first, t + last]`; `None` is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Support {
    /// The first day offset, or `None` when the column depends on all earlier data.
    pub first: Option<i64>,
    /// The last day offset, or `None` when the column depends on all later data.
    pub last: Option<i64>,
}

impl Support {
    /// The closure of a support: both end days belong to it.
    pub const CLOSED: Closed = Closed::Both;

    /// Exactly day t (e.g. an event count of day t, or the day number itself).
    pub const fn day() -> Support {
        Support {
            first: Some(0),
            last: Some(0),
        }
    }

    /// A window of `window_days` days ending with day t, `[t − W + 1, t]` (the b/a time windows).
    /// A zero-day window is treated as one day.
    pub const fn trailing_window(window_days: usize) -> Support {
        let w = if window_days == 0 { 1 } else { window_days };
        Support {
            first: Some(1 - w as i64),
            last: Some(0),
        }
    }

    /// Everything up to and including day t (e.g. event-count b/a windows of unknown length).
    pub const fn trailing_unbounded() -> Support {
        Support {
            first: None,
            last: Some(0),
        }
    }

    /// The GNSS centred displacement `V(t) = r(t+1) − r(t−1)`: `[t − 1, t + 1]`. It uses day t + 1.
    pub const fn gnss_displacement() -> Support {
        Support {
            first: Some(-1),
            last: Some(1),
        }
    }

    /// A label that depends on every day of the catalog (the paper's centred KDE).
    pub const fn unbounded() -> Support {
        Support {
            first: None,
            last: None,
        }
    }

    /// The number of days covered, if bounded on both sides.
    pub fn span_days(&self) -> Option<usize> {
        match (self.first, self.last) {
            (Some(a), Some(b)) if b >= a => Some((b - a + 1) as usize),
            _ => None,
        }
    }

    /// The support shifted by `days` (the label of row t is the label of day t + h).
    pub fn shifted(&self, days: i64) -> Support {
        Support {
            first: self.first.map(|a| a + days),
            last: self.last.map(|b| b + days),
        }
    }

    /// Whether day offset `offset` lies in the support.
    pub fn contains(&self, offset: i64) -> bool {
        let a = self.first.map_or(f64::NEG_INFINITY, |a| a as f64);
        let b = self.last.map_or(f64::INFINITY, |b| b as f64);
        Self::CLOSED.contains(a, b, offset as f64)
    }
}

/// A named feature column with its declared time support.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureColumn {
    /// The column name (e.g. `b_value`, `gnss_pc_001`).
    pub name: String,
    /// The days of data it depends on, relative to its row's day.
    pub support: Support,
}

impl FeatureColumn {
    /// A column named `name` with support `support`.
    pub fn new(name: impl Into<String>, support: Support) -> Self {
        FeatureColumn {
            name: name.into(),
            support,
        }
    }
}

/// A checked alignment of features to the label `h` days later.
///
/// Built only by [`Alignment::check`], so holding one means the causality rule of the module
/// docs was applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alignment {
    horizon: usize,
    features: Vec<FeatureColumn>,
    label: Support,
    min_horizon: Option<usize>,
    flags: Vec<String>,
}

impl Alignment {
    /// Checks that `features` end before the label of day t + `horizon` begins (see the module
    /// docs). Refuses an empty feature list (`dataset.features`), a feature without an end
    /// (`dataset.features`) and a horizon too small for the supports (`dataset.horizon`).
    pub fn check(features: Vec<FeatureColumn>, label: Support, horizon: usize) -> Result<Self> {
        crate::ensure_config!(
            !features.is_empty(),
            "dataset.features",
            "no feature columns were declared"
        );
        let mut latest_end = i64::MIN;
        for f in &features {
            let Some(last) = f.support.last else {
                return Err(Error::config(
                    "dataset.features",
                    format!(
                        "feature `{}` depends on all later days (its support has no end); no horizon makes it causal",
                        f.name
                    ),
                ));
            };
            latest_end = latest_end.max(last);
        }
        let mut flags = Vec::new();
        let min_horizon = match label.first {
            Some(label_first) => {
                // h > latest_end − label_first, and h ≥ 0.
                let needed = (latest_end - label_first + 1).max(0) as usize;
                if horizon < needed {
                    let culprit = features
                        .iter()
                        .filter(|f| f.support.last == Some(latest_end))
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(Error::config(
                        "dataset.horizon",
                        format!(
                            "horizon {horizon} lets features see the label's days: `{culprit}` ends at day t{latest_end:+} \
                             and the label of day t+{horizon} starts at day t{:+}; the smallest causal horizon is {needed}",
                            horizon as i64 + label_first
                        ),
                    ));
                }
                Some(needed)
            }
            None => {
                flags.push(format!(
                    "{NOWCAST_FLAG}: the label depends on every day of the catalog (its support has no start), \
                     so features of day t cannot be proven to precede the label of day t+{horizon}"
                ));
                None
            }
        };
        Ok(Alignment {
            horizon,
            features,
            label,
            min_horizon,
            flags,
        })
    }

    /// The horizon h: row t holds the label of day t + h.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// The feature columns and their supports.
    pub fn features(&self) -> &[FeatureColumn] {
        &self.features
    }

    /// The label's support relative to its own day.
    pub fn label(&self) -> Support {
        self.label
    }

    /// The smallest horizon that passes, or `None` when causality could not be proven (flagged).
    pub fn min_horizon(&self) -> Option<usize> {
        self.min_horizon
    }

    /// Whether `feature.support_end < label.support_start` was proven for every column.
    pub fn is_proven_causal(&self) -> bool {
        self.min_horizon.is_some()
    }

    /// Assumptions recorded instead of a proof (e.g. [`NOWCAST_FLAG`]).
    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    /// The longest feature support in days (an unbounded start counts as `None`).
    pub fn feature_window_days(&self) -> Option<usize> {
        self.features
            .iter()
            .map(|f| f.support.span_days())
            .try_fold(0, |acc, s| s.map(|s| acc.max(s)))
    }

    /// The smallest embargo that keeps the feature windows of test rows apart from training
    /// rows: the longest feature window plus the horizon. `None` when a feature's support has no
    /// start.
    pub fn minimum_embargo_days(&self) -> Option<usize> {
        Some(self.feature_window_days()? + self.horizon)
    }

    /// The default embargo of a blocked or chronological split: [`Alignment::minimum_embargo_days`]
    /// plus the label's own span, so that no test row's feature days touch a training row's label
    /// days. A label without bounded support (the centred KDE) reaches as far as
    /// `unbounded_label_reach_days` instead (for a Gaussian kernel, about three bandwidths).
    /// `None` when a feature's support has no start.
    pub fn default_embargo_days(&self, unbounded_label_reach_days: usize) -> Option<usize> {
        let label = self.label.span_days().unwrap_or(unbounded_label_reach_days);
        Some(self.minimum_embargo_days()? + label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supports_cover_the_declared_days() {
        let w = Support::trailing_window(128);
        assert_eq!((w.first, w.last), (Some(-127), Some(0)));
        assert_eq!(w.span_days(), Some(128));
        assert!(w.contains(-127) && w.contains(0) && !w.contains(1) && !w.contains(-128));
        let g = Support::gnss_displacement();
        assert!(g.contains(1) && g.contains(-1) && !g.contains(2));
        assert_eq!(Support::unbounded().span_days(), None);
        assert!(Support::unbounded().contains(-100_000));
    }

    #[test]
    fn gnss_needs_two_days_with_a_one_day_label() {
        let f = vec![FeatureColumn::new("gnss", Support::gnss_displacement())];
        // Features end at t+1; the label of day t+h covers day t+h, so h must exceed 1.
        for h in 0..2 {
            let err = Alignment::check(f.clone(), Support::day(), h).unwrap_err();
            assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.horizon"));
            assert!(
                err.to_string().contains("smallest causal horizon is 2"),
                "{err}"
            );
        }
        let a = Alignment::check(f, Support::day(), 2).unwrap();
        assert!(a.is_proven_causal());
        assert_eq!(a.min_horizon(), Some(2));
        assert!(a.flags().is_empty());
    }

    #[test]
    fn trailing_windows_need_one_day() {
        let f = vec![
            FeatureColumn::new("b_value", Support::trailing_window(128)),
            FeatureColumn::new("a_value", Support::trailing_window(128)),
        ];
        assert!(Alignment::check(f.clone(), Support::day(), 0).is_err());
        let a = Alignment::check(f, Support::day(), 1).unwrap();
        assert_eq!(a.min_horizon(), Some(1));
        // 128 feature days + horizon 1, plus 1 label day.
        assert_eq!(a.minimum_embargo_days(), Some(129));
        assert_eq!(a.default_embargo_days(0), Some(130));
    }

    #[test]
    fn a_label_over_future_days_raises_the_horizon() {
        // A label of the events in (t, t + 7]: offsets 1..=7.
        let label = Support {
            first: Some(1),
            last: Some(7),
        };
        let f = vec![FeatureColumn::new("gnss", Support::gnss_displacement())];
        // Needs t + 1 < t + h + 1, i.e. h ≥ 1.
        assert!(Alignment::check(f.clone(), label, 0).is_err());
        assert_eq!(
            Alignment::check(f, label, 1).unwrap().min_horizon(),
            Some(1)
        );
    }

    #[test]
    fn centred_kde_label_is_flagged_not_refused() {
        let f = vec![FeatureColumn::new("b_value", Support::trailing_window(128))];
        let a = Alignment::check(f, Support::unbounded(), 1).unwrap();
        assert!(!a.is_proven_causal());
        assert_eq!(a.flags().len(), 1);
        assert!(a.flags()[0].starts_with(NOWCAST_FLAG));
        // 128 feature days + horizon 1 + the 90-day reach the caller gives the kernel.
        assert_eq!(a.default_embargo_days(90), Some(219));
        let events = vec![FeatureColumn::new("b_value", Support::trailing_unbounded())];
        let a = Alignment::check(events, Support::unbounded(), 1).unwrap();
        assert_eq!(a.default_embargo_days(90), None);
    }

    #[test]
    fn features_without_an_end_or_none_at_all_are_refused() {
        let f = vec![FeatureColumn::new("future", Support::unbounded())];
        let err = Alignment::check(f, Support::day(), 5).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.features"));
        assert!(Alignment::check(Vec::new(), Support::day(), 1).is_err());
    }
}
