//! The embargo between training and test rows, derived from the supports (pitfall P1).
//!
//! Row t's features depend on the days `[t − W + 1, t]` (W: the feature window, lags included)
//! and its target, the label of day t + h, on the days `[t + h + first, t + h + last]`. A
//! training row t and a test row t' > t share no day of data when
//!
//! - the training target ends before the test features begin: `t + h + last < t' − W + 1`, and
//! - the two targets share no event day: `t + h + last < t' + h + first`.
//!
//! With an embargo E, every training day satisfies `t + E < t'`. The derived embargo is
//! `E = W + R + h` with the label reach R ([`embargo_reach_days`]): `t' − t ≥ E + 1` makes the
//! first rule hold whenever `R ≥ last` and the second whenever `W + R + h + 1 > last − first`.
//! A configured embargo shorter than the derived one is refused (`split.embargo_days`) unless
//! `split.allow_short_embargo = true`, which is then flagged ([`Embargo::is_short`]).

use crate::{Error, Result};

/// The ingredients of a split's embargo and the configured value, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embargo {
    /// The feature window W in days ([`crate::dataset::Alignment::feature_window_days`]).
    pub feature_window_days: usize,
    /// The label reach R in days ([`embargo_reach_days`] of the label's support).
    pub label_reach_days: usize,
    /// The horizon h (`dataset.horizon_days`).
    pub horizon_days: usize,
    /// `split.embargo_days`, when configured.
    pub configured_days: Option<usize>,
    /// `split.allow_short_embargo`: accept a configured embargo shorter than the derived one.
    pub allow_short: bool,
}

impl Embargo {
    /// The derived embargo `W + R + h` (see the module docs).
    pub fn derived_days(&self) -> usize {
        self.feature_window_days + self.label_reach_days + self.horizon_days
    }

    /// The embargo a split uses: the configured one if given, else the derived one. A
    /// configured embargo shorter than the derived one is refused (key `split.embargo_days`)
    /// unless [`Embargo::allow_short`].
    pub fn days(&self) -> Result<usize> {
        match self.configured_days {
            None => Ok(self.derived_days()),
            Some(days) if days >= self.derived_days() || self.allow_short => Ok(days),
            Some(days) => Err(Error::config(
                "split.embargo_days",
                format!(
                    "{days} d is shorter than the derived embargo {}; training labels would share days \
                     with test rows (set split.allow_short_embargo = true to run it anyway, flagged)",
                    self.describe_derived()
                ),
            )),
        }
    }

    /// Whether a configured embargo is shorter than the derived one (allowed only with
    /// [`Embargo::allow_short`], and then flagged).
    pub fn is_short(&self) -> bool {
        self.configured_days
            .is_some_and(|days| days < self.derived_days())
    }

    /// The embargo and where it comes from, e.g.
    /// `263 d = feature window 128 + label reach 134 + horizon 1`, or
    /// `100 d configured (short: derived 263 d = …)`.
    pub fn describe(&self) -> String {
        match self.configured_days {
            None => self.describe_derived(),
            Some(days) if self.is_short() => {
                format!(
                    "{days} d configured (short: derived {})",
                    self.describe_derived()
                )
            }
            Some(days) => format!("{days} d configured (derived {})", self.describe_derived()),
        }
    }

    fn describe_derived(&self) -> String {
        format!(
            "{} d = feature window {} + label reach {} + horizon {}",
            self.derived_days(),
            self.feature_window_days,
            self.label_reach_days,
            self.horizon_days
        )
    }
}

/// The label reach R the embargo needs for a label of support `(first, last)`: two labels of
/// days d₁ < d₂ share no event day when `d₂ − d₁ > last − first`, and a training target ends
/// before a later test row's features when `R ≥ last`; so `R = max(last − first, last, 0)`.
///
/// For the causal KDE `(−R₀, 0)` this is R₀ (`ceil(3h)`), for counts over H days `(0, H − 1)` it
/// is H − 1, and for the centred KDE `(−R₀, R₀)` it is 2R₀: a centred label reaches R₀ days both
/// ways, so a training label and a test label R₀ + 1 days apart still share events.
pub fn embargo_reach_days(support: (i64, i64)) -> usize {
    let (first, last) = support;
    (last - first).max(last).max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embargo(window: usize, reach: usize, horizon: usize) -> Embargo {
        Embargo {
            feature_window_days: window,
            label_reach_days: reach,
            horizon_days: horizon,
            configured_days: None,
            allow_short: false,
        }
    }

    #[test]
    fn the_embargo_adds_window_reach_and_horizon() {
        // h = 134 d: ceil(3 · 134) = 402 days of causal reach.
        let e = embargo(128, 402, 1);
        assert_eq!(e.derived_days(), 531);
        assert_eq!(e.days().unwrap(), 531);
        assert!(!e.is_short());
        assert_eq!(
            e.describe(),
            "531 d = feature window 128 + label reach 402 + horizon 1"
        );
        // Counts over 7 days (reach 6), a 30-day window, h = 1: 37.
        assert_eq!(embargo(30, 6, 1).days().unwrap(), 37);
        // A 3-day GNSS window, h = 5 d → ceil(15) = 15 reach, horizon 2: 20.
        assert_eq!(embargo(3, 15, 2).days().unwrap(), 20);
    }

    #[test]
    fn a_longer_configured_embargo_is_kept() {
        let e = Embargo {
            configured_days: Some(600),
            ..embargo(128, 402, 1)
        };
        assert_eq!(e.days().unwrap(), 600);
        assert!(!e.is_short());
        assert_eq!(
            e.describe(),
            "600 d configured (derived 531 d = feature window 128 + label reach 402 + horizon 1)"
        );
    }

    #[test]
    fn a_short_configured_embargo_is_refused() {
        let e = Embargo {
            configured_days: Some(129),
            ..embargo(128, 402, 1)
        };
        let err = e.days().unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "split.embargo_days"));
        assert!(
            err.to_string()
                .contains("129 d is shorter than the derived embargo 531 d"),
            "{err}"
        );
        let allowed = Embargo {
            allow_short: true,
            ..e
        };
        assert_eq!(allowed.days().unwrap(), 129);
        assert!(allowed.is_short());
        assert!(
            allowed
                .describe()
                .starts_with("129 d configured (short: derived 531 d")
        );
    }

    #[test]
    fn the_reach_of_each_label_kind() {
        assert_eq!(embargo_reach_days((-402, 0)), 402);
        assert_eq!(embargo_reach_days((0, 6)), 6);
        assert_eq!(embargo_reach_days((-402, 402)), 804);
        assert_eq!(embargo_reach_days((0, 0)), 0);
        assert_eq!(embargo_reach_days((2, 5)), 5);
    }
}
