//! Time supports, availability times and the forecast-time check (pitfall P7).
//!
//! Day index d counts days since the period start; day d covers `[d, d + 1)`. Row t of the table
//! is a forecast issued at the end of day t (its *forecast time*): everything known by then may
//! be used, nothing later.
//!
//! Every feature column and the label declare the days of data they depend on, as offsets from
//! their own day. A [`Support`] is the closed day interval `[d + first, d + last]` (both ends
//! belong, [`Closed::Both`]); `None` on a side means unbounded on that side.
//!
//! A feature column also declares when its value for data day d becomes known: at the end of
//! day `d + available` ([`FeatureColumn::available`]; a b/a window ending on d: 0; the GNSS
//! displacement `V(d) = r(d+1) − r(d−1)`: 1). Row t takes each column with a lag: the value of
//! data day `t − lag`, known at the end of day `t − lag + available`. The rules, checked by
//! [`Alignment::check`]:
//!
//! - a feature whose support has no end is refused (key `dataset.features`), and so is one that
//!   claims to be known before its last data day (`available < last`);
//! - [`Timing::Forecast`] (the default): every column must be known by the forecast time,
//!   `lag ≥ available`; a smaller lag is refused with an [`Error::Config`] on `dataset.timing`
//!   naming the column and both times. [`crate::dataset::DailyTable::build`] uses
//!   `lag = available`, so row t holds the b/a values of day t and the GNSS image of day t − 1;
//! - [`Timing::Nowcast`] (the paper's setting: the image of day t beside the label of day t + 1)
//!   uses lag 0 for every column; it is accepted and flagged [`NOWCAST_FLAG`];
//! - the target of row t is the label of day t + h, which depends on the days
//!   `[t + h + first, t + h + last]`; it must hold something after the forecast time,
//!   `h + last ≥ 1`, otherwise it is already known and the row forecasts nothing (refused, key
//!   `dataset.horizon_days`);
//! - a label whose value for day d depends on events after day d (the paper's centred KDE) is
//!   accepted and flagged [`LOOK_AHEAD_FLAG`]: its training labels hold events of later days.

use serde::{Deserialize, Serialize};

use crate::period::Closed;
use crate::{Error, Result};

/// The flag recorded for [`Timing::Nowcast`]: features of the label's own time are used.
pub const NOWCAST_FLAG: &str = "nowcast";

/// The flag recorded when the label of a day depends on events after that day.
pub const LOOK_AHEAD_FLAG: &str = "look-ahead label";

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

    /// The days `[t + first, t + last]` (e.g. a label's support `(first, last)`).
    ///
    pub const fn between(first: i64, last: i64) -> Support {
        Support {
            first: Some(first),
            last: Some(last),
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

/// When row t's features are taken (`dataset.timing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// A true forecast: every feature of row t is known by the end of day t (each column lagged
    /// by its availability).
    #[default]
    Forecast,
    /// The paper's setting: the features of day t (lag 0), even those known only later.
    Nowcast,
}

impl Timing {
    /// `forecast` or `nowcast`.
    pub fn name(&self) -> &'static str {
        match self {
            Timing::Forecast => "forecast",
            Timing::Nowcast => "nowcast",
        }
    }

    /// The lag row t takes a column with: its availability for a forecast (never negative),
    /// 0 for a nowcast.
    pub fn lag(&self, available: i64) -> usize {
        match self {
            Timing::Forecast => available.max(0) as usize,
            Timing::Nowcast => 0,
        }
    }
}

/// A named feature column with its declared time support, availability and lag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureColumn {
    /// The column name (e.g. `b_value`, `gnss_image`).
    pub name: String,
    /// The days of data it depends on, relative to its data day d.
    pub support: Support,
    /// Its value for data day d is known at the end of day `d + available`.
    pub available: i64,
    /// Row t uses the value of data day `t − lag`.
    pub lag: usize,
}

impl FeatureColumn {
    /// A column known at the end of the last day of its support (a b/a window ending on d: 0;
    /// the GNSS displacement: 1), taken with lag 0. A support without an end gets availability
    /// 0 here and is refused by [`Alignment::check`].
    pub fn new(name: impl Into<String>, support: Support) -> Self {
        let available = support.last.unwrap_or(0);
        FeatureColumn::available_at(name, support, available)
    }

    /// A column whose value for data day d is known at the end of day `d + available`, taken
    /// with lag 0.
    pub fn available_at(name: impl Into<String>, support: Support, available: i64) -> Self {
        FeatureColumn {
            name: name.into(),
            support,
            available,
            lag: 0,
        }
    }

    /// The same column taken with lag `lag` (row t uses data day `t − lag`).
    pub fn lagged(self, lag: usize) -> Self {
        FeatureColumn { lag, ..self }
    }

    /// The days row t's value depends on, relative to t: the support shifted back by the lag.
    pub fn row_support(&self) -> Support {
        self.support.shifted(-(self.lag as i64))
    }
}

/// A checked alignment of lagged features to the label `h` days later.
///
/// Built only by [`Alignment::check`], so holding one means the rules of the module docs were
/// applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alignment {
    horizon: usize,
    timing: Timing,
    features: Vec<FeatureColumn>,
    label: Support,
    look_ahead: bool,
    flags: Vec<String>,
}

impl Alignment {
    /// Checks the lagged `features` and the label of day t + `horizon` under `timing` (see the
    /// module docs). Refuses an empty feature list, a feature without an end or known before
    /// its last data day (`dataset.features`), a feature known after the forecast time in
    /// forecast timing (`dataset.timing`) and a target known at the forecast time
    /// (`dataset.horizon_days`).
    pub fn check(
        features: Vec<FeatureColumn>,
        label: Support,
        horizon: usize,
        timing: Timing,
    ) -> Result<Self> {
        crate::ensure_config!(
            !features.is_empty(),
            "dataset.features",
            "no feature columns were declared"
        );
        for f in &features {
            let Some(last) = f.support.last else {
                return Err(Error::config(
                    "dataset.features",
                    format!(
                        "feature `{}` depends on all later days (its support has no end); it is never known",
                        f.name
                    ),
                ));
            };
            crate::ensure_config!(
                f.available >= last,
                "dataset.features",
                "feature `{}` is declared known at the end of day d{:+}, before its last data day d{last:+}",
                f.name,
                f.available
            );
            if timing == Timing::Forecast && (f.lag as i64) < f.available {
                return Err(Error::config(
                    "dataset.timing",
                    format!(
                        "feature `{}` of row t is taken from day t{:+} and known at the end of day t{:+}, \
                         after the forecast time (the end of day t); a forecast needs a lag of at least {} \
                         (or set dataset.timing = \"nowcast\", the paper's setting)",
                        f.name,
                        -(f.lag as i64),
                        f.available - f.lag as i64,
                        f.available
                    ),
                ));
            }
        }
        if let Some(last) = label.last {
            crate::ensure_config!(
                horizon as i64 + last >= 1,
                "dataset.horizon_days",
                "the target of row t, the label of day t+{horizon}, depends on days up to t{:+} and is \
                 known at the forecast time (the end of day t); the smallest horizon that forecasts is {}",
                horizon as i64 + last,
                1 - last
            );
        }
        let mut flags = Vec::new();
        if timing == Timing::Nowcast {
            let late: Vec<String> = features
                .iter()
                .filter(|f| (f.lag as i64) < f.available)
                .map(|f| format!("`{}` (known at t{:+})", f.name, f.available - f.lag as i64))
                .collect();
            flags.push(if late.is_empty() {
                format!("{NOWCAST_FLAG}: dataset.timing = \"nowcast\", every feature taken on its own day")
            } else {
                format!(
                    "{NOWCAST_FLAG}: dataset.timing = \"nowcast\", features known after the forecast time: {}",
                    late.join(", ")
                )
            });
        }
        Ok(Alignment {
            horizon,
            timing,
            features,
            label,
            look_ahead: false,
            flags,
        })
    }

    /// Records that the label of a day depends on events after that day (the centred KDE):
    /// flagged [`LOOK_AHEAD_FLAG`]. `false` leaves the alignment as it is.
    pub fn with_look_ahead(mut self, look_ahead: bool) -> Self {
        if look_ahead && !self.look_ahead {
            self.look_ahead = true;
            self.flags.push(format!(
                "{LOOK_AHEAD_FLAG}: the label of a day depends on events after that day, so training \
                 labels hold later events"
            ));
        }
        self
    }

    /// The horizon h: row t holds the label of day t + h.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// Forecast or nowcast.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// The feature columns, with their supports, availabilities and lags.
    pub fn features(&self) -> &[FeatureColumn] {
        &self.features
    }

    /// The label's support relative to its own day.
    pub fn label(&self) -> Support {
        self.label
    }

    /// The smallest horizon whose target holds a day after the forecast time: `1 − last`
    /// (at least 0); 0 for a label without an end.
    pub fn min_horizon(&self) -> usize {
        self.label.last.map_or(0, |last| (1 - last).max(0) as usize)
    }

    /// Whether every feature of row t was proven known by the end of day t
    /// ([`Timing::Forecast`]).
    pub fn is_forecast(&self) -> bool {
        self.timing == Timing::Forecast
    }

    /// Whether the label was flagged [`LOOK_AHEAD_FLAG`].
    pub fn looks_ahead(&self) -> bool {
        self.look_ahead
    }

    /// Assumptions recorded instead of a proof ([`NOWCAST_FLAG`], [`LOOK_AHEAD_FLAG`]).
    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    /// The feature window W: the number of days from the earliest data day a feature of row t
    /// depends on to day t, `max(lag − first + 1)` over the columns (for the b/a windows of 128
    /// days: 128; for the GNSS image of day t − 1: 3). `None` when a feature's support has no
    /// start.
    pub fn feature_window_days(&self) -> Option<usize> {
        self.features.iter().try_fold(0, |acc, f| {
            let first = f.row_support().first?;
            Some(acc.max((1 - first).max(1) as usize))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gnss() -> FeatureColumn {
        FeatureColumn::new("gnss_image", Support::gnss_displacement())
    }

    fn ba(window: usize) -> Vec<FeatureColumn> {
        vec![
            FeatureColumn::new("b_value", Support::trailing_window(window)),
            FeatureColumn::new("a_value", Support::trailing_window(window)),
        ]
    }

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
        assert_eq!(Support::between(-3, 2).span_days(), Some(6));
    }

    #[test]
    fn availability_defaults_to_the_last_data_day() {
        // V(d) = r(d+1) − r(d−1) is known at the end of day d + 1; a window ending on d at d.
        assert_eq!(gnss().available, 1);
        assert!(ba(128).iter().all(|f| f.available == 0));
        assert_eq!(Timing::Forecast.lag(1), 1);
        assert_eq!(Timing::Forecast.lag(0), 0);
        assert_eq!(Timing::Nowcast.lag(1), 0);
    }

    #[test]
    fn forecast_timing_takes_the_image_of_the_day_before() {
        let mut f = ba(128);
        f.push(gnss().lagged(Timing::Forecast.lag(1)));
        let a = Alignment::check(f, Support::between(-402, 0), 1, Timing::Forecast).unwrap();
        assert!(a.is_forecast());
        assert!(a.flags().is_empty());
        // The image of day t − 1 covers [t − 2, t]; the b/a windows [t − 127, t].
        assert_eq!(a.features()[2].row_support(), Support::between(-2, 0));
        assert_eq!(a.feature_window_days(), Some(128));
        let only_gnss = vec![gnss().lagged(1)];
        let a = Alignment::check(only_gnss, Support::between(-10, 0), 1, Timing::Forecast).unwrap();
        assert_eq!(a.feature_window_days(), Some(3));
    }

    #[test]
    fn a_feature_known_after_its_forecast_time_is_refused() {
        // The GNSS image of day t (lag 0) is known at the end of day t + 1.
        let err = Alignment::check(vec![gnss()], Support::between(-402, 0), 1, Timing::Forecast)
            .unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.timing"));
        let text = err.to_string();
        assert!(text.contains("`gnss_image`"), "{text}");
        assert!(text.contains("taken from day t+0"), "{text}");
        assert!(text.contains("known at the end of day t+1"), "{text}");
    }

    #[test]
    fn nowcast_is_accepted_and_flagged() {
        let mut f = ba(128);
        f.push(gnss());
        let a = Alignment::check(f, Support::between(-402, 0), 1, Timing::Nowcast).unwrap();
        assert!(!a.is_forecast());
        assert_eq!(a.flags().len(), 1);
        assert!(a.flags()[0].starts_with(NOWCAST_FLAG), "{}", a.flags()[0]);
        assert!(
            a.flags()[0].contains("`gnss_image` (known at t+1)"),
            "{}",
            a.flags()[0]
        );
    }

    #[test]
    fn a_centred_label_is_flagged_as_looking_ahead() {
        let a = Alignment::check(ba(128), Support::between(-402, 402), 1, Timing::Forecast)
            .unwrap()
            .with_look_ahead(true)
            .with_look_ahead(true);
        assert!(a.looks_ahead() && a.is_forecast());
        assert_eq!(a.flags().len(), 1);
        assert!(a.flags()[0].starts_with(LOOK_AHEAD_FLAG));
        let causal = Alignment::check(ba(128), Support::between(-402, 0), 1, Timing::Forecast)
            .unwrap()
            .with_look_ahead(false);
        assert!(!causal.looks_ahead() && causal.flags().is_empty());
    }

    #[test]
    fn a_target_known_at_its_forecast_time_is_refused() {
        // A causal label of day t + 0 depends on days up to t: known at the forecast time.
        let err =
            Alignment::check(ba(128), Support::between(-402, 0), 0, Timing::Forecast).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.horizon_days"));
        assert!(
            err.to_string()
                .contains("smallest horizon that forecasts is 1"),
            "{err}"
        );
        // A count over days t + h .. t + h + 6 forecasts already at h = 0 (1 − last = −5 → 0).
        let counts = Alignment::check(ba(128), Support::between(0, 6), 0, Timing::Forecast);
        assert_eq!(counts.unwrap().min_horizon(), 0);
        let causal = Alignment::check(ba(128), Support::between(-5, 0), 1, Timing::Forecast);
        assert_eq!(causal.unwrap().min_horizon(), 1);
    }

    #[test]
    fn a_feature_known_before_its_last_data_day_is_refused() {
        let early = FeatureColumn::available_at("gnss_image", Support::gnss_displacement(), 0);
        let err = Alignment::check(vec![early], Support::day(), 1, Timing::Forecast).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.features"));
        assert!(
            err.to_string().contains("before its last data day d+1"),
            "{err}"
        );
    }

    #[test]
    fn features_without_an_end_or_none_at_all_are_refused() {
        let f = vec![FeatureColumn::new("future", Support::unbounded())];
        let err = Alignment::check(f, Support::day(), 5, Timing::Forecast).unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "dataset.features"));
        assert!(Alignment::check(Vec::new(), Support::day(), 1, Timing::Forecast).is_err());
    }
}
