//! The paper's Fig. 12, tested (issue 13 item 10): does the label rise before large events?
//!
//! A centred kernel of bandwidth h spreads each aftershock sequence about 3h days backwards in
//! time, so a centred label can climb before a mainshock only because it looks ahead. Here every
//! event at or above a magnitude gets the label series of all three kinds around it
//! ([`LabelKind::ALL`], each fitted on the whole period: the question is the shape), normalised
//! by its mean over the baseline window [`BASELINE_WINDOW`] (days before the event), and the
//! mean over the last [`PRE_EVENT_DAYS`] days before the event is compared with that baseline.
//!
//! Only label days strictly before the event day enter the comparison, and for a kind that does
//! not look ahead only days whose support ends before the event day (a count window of H days
//! ends H − 1 days after its label day, so its last usable label day is H days before the
//! event). The centred label is compared on the same days, but its value there already holds the
//! event and its aftershocks; it is reported for the contrast, flagged.
//!
//! The labels are region-wide, so the sequence of any earlier large event in the region shapes
//! the days before a later one. An event is *isolated* when no other event at or above the
//! magnitude occurred in the [`ISOLATION_DAYS`] before it; the verdicts are given for all events
//! and for the isolated ones, and rest on the isolated ones where there are any.

use std::path::Path;

use crate::catalog::Selection;
use crate::period::Period;
use crate::report::figure::{self, LinePanel};
use crate::report::table::{Cell, Table, number};
use crate::seismicity::kde::KdeParams;
use crate::seismicity::labels::{
    BoundaryCorrection, CountTransform, LabelKind, LabelParams, LabelSeries, label_series,
};
use crate::{Error, Result};

/// The baseline window, in days relative to the event day (both ends included).
pub const BASELINE_WINDOW: (i64, i64) = (-365, -180);

/// The pre-event window: the days `−PRE_EVENT_DAYS ..= −1` relative to the event day.
pub const PRE_EVENT_DAYS: i64 = 90;

/// An event with no other large event in this many days before it is isolated (module docs).
pub const ISOLATION_DAYS: f64 = 365.0;

/// A kind "rises before the events" when the median relative rise over the events exceeds this.
pub const RISE_THRESHOLD: f64 = 0.1;

/// What [`around_events`] computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AroundEventsSettings {
    /// Events at or above this magnitude are the large events (taken from the selection, so a
    /// value below the selection's Mc acts as Mc).
    pub min_magnitude: f64,
    /// Days drawn before each event.
    pub days_before: usize,
    /// Days drawn after each event.
    pub days_after: usize,
    /// Bandwidth and truncation of the KDE kinds (the scale is not applied: labels are
    /// normalised by their baseline).
    pub kde: KdeParams,
    /// The edge correction of the KDE kinds.
    pub boundary: BoundaryCorrection,
    /// H of `counts_ahead`, in days.
    pub count_window_days: usize,
}

/// One large event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LargeEvent {
    /// 1-based, in time order.
    pub id: usize,
    /// Days since the period start.
    pub time_days: f64,
    /// The event's day index.
    pub day: usize,
    /// The magnitude.
    pub magnitude: f64,
    /// No other large event in the [`ISOLATION_DAYS`] before it.
    pub isolated: bool,
}

/// One event's label of one kind before the event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rise {
    /// Index into [`AroundEvents::events`].
    pub event: usize,
    /// The label kind.
    pub kind: LabelKind,
    /// The mean label over [`BASELINE_WINDOW`]; None when part of it lies outside the period or
    /// is undefined.
    pub baseline: Option<f64>,
    /// The mean label over the pre-event days used; None when any is outside or undefined.
    pub pre_event: Option<f64>,
    /// The last label day used, relative to the event (−1, or −H for counts).
    pub last_offset: i64,
    /// `pre_event / baseline − 1`, when both exist and the baseline is positive.
    pub relative_rise: Option<f64>,
}

/// The labels of every kind around every large event.
#[derive(Debug, Clone, PartialEq)]
pub struct AroundEvents {
    /// The large events, in time order.
    pub events: Vec<LargeEvent>,
    /// One series per kind, in [`LabelKind::ALL`] order.
    pub series: Vec<LabelSeries>,
    /// One per event and kind.
    pub rises: Vec<Rise>,
    /// What produced them.
    pub settings: AroundEventsSettings,
}

/// The labels of all three kinds around each event of `selection` at or above
/// `settings.min_magnitude`, fitted on every event of the selection. Fails when no event
/// reaches the magnitude, and as [`label_series`] does.
pub fn around_events(
    selection: &Selection,
    n_days: usize,
    settings: &AroundEventsSettings,
) -> Result<AroundEvents> {
    let large: Vec<(f64, f64)> = selection
        .times()
        .iter()
        .zip(selection.magnitudes())
        .filter(|&(&t, &m)| m >= settings.min_magnitude && t >= 0.0 && t < n_days as f64)
        .map(|(&t, &m)| (t, m))
        .collect();
    let events: Vec<LargeEvent> = large
        .iter()
        .enumerate()
        .map(|(i, &(t, m))| LargeEvent {
            id: i + 1,
            time_days: t,
            day: t.floor() as usize,
            magnitude: m,
            isolated: !large[..i]
                .iter()
                .any(|&(earlier, _)| t - earlier <= ISOLATION_DAYS),
        })
        .collect();
    if events.is_empty() {
        return Err(Error::Numerical(format!(
            "no event of magnitude ≥ {} among the {} selected events of the period",
            settings.min_magnitude,
            selection.len()
        )));
    }
    let series = LabelKind::ALL
        .iter()
        .map(|&kind| {
            let params = LabelParams {
                kind,
                kde: settings.kde,
                boundary: settings.boundary,
                window_days: settings.count_window_days,
                transform: CountTransform::Count,
            };
            label_series(selection.times(), selection.times(), n_days, &params)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut rises = Vec::new();
    for (e, event) in events.iter().enumerate() {
        for s in &series {
            rises.push(rise(e, event, s));
        }
    }
    Ok(AroundEvents {
        events,
        series,
        rises,
        settings: *settings,
    })
}

/// The mean of `values` over the days `day + from ..= day + to`, None when any lies outside or
/// is undefined.
fn window_mean(values: &[f64], day: usize, from: i64, to: i64) -> Option<f64> {
    let mut sum = 0.0;
    for offset in from..=to {
        let d = day as i64 + offset;
        let y = *values.get(usize::try_from(d).ok()?)?;
        if !y.is_finite() {
            return None;
        }
        sum += y;
    }
    Some(sum / (to - from + 1) as f64)
}

fn rise(e: usize, event: &LargeEvent, series: &LabelSeries) -> Rise {
    let (from, to) = BASELINE_WINDOW;
    let baseline = window_mean(&series.values, event.day, from, to);
    // A causal label of day d is known at the end of day d + last: keep d + last < event day.
    let last_offset = if series.look_ahead() {
        -1
    } else {
        -1 - series.support.1.max(0)
    };
    let pre_event = window_mean(&series.values, event.day, -PRE_EVENT_DAYS, last_offset);
    let relative_rise = match (baseline, pre_event) {
        (Some(b), Some(p)) if b > 0.0 => Some(p / b - 1.0),
        _ => None,
    };
    Rise {
        event: e,
        kind: series.kind,
        baseline,
        pre_event,
        last_offset,
        relative_rise,
    }
}

impl AroundEvents {
    /// The baseline of `event` (index) under the series `k` (index into [`AroundEvents::series`]).
    fn baseline(&self, event: usize, k: usize) -> Option<f64> {
        self.rises[event * self.series.len() + k].baseline
    }

    /// The long table `around_events.csv`: `event_id,event_date,event_time_days,magnitude,kind,
    /// offset_days,label,label_normalised`, one row per event, kind and day of
    /// `−days_before ..= days_after` inside the period; `label_normalised` is the label divided
    /// by its baseline mean (empty without one).
    pub fn table(&self, period: &Period) -> Table {
        let mut table = Table::new([
            "event_id",
            "event_date",
            "event_time_days",
            "magnitude",
            "kind",
            "offset_days",
            "label",
            "label_normalised",
        ]);
        let before = self.settings.days_before as i64;
        let after = self.settings.days_after as i64;
        for (e, event) in self.events.iter().enumerate() {
            for (k, s) in self.series.iter().enumerate() {
                let baseline = self.baseline(e, k).filter(|b| *b > 0.0);
                for offset in -before..=after {
                    let Ok(d) = usize::try_from(event.day as i64 + offset) else {
                        continue;
                    };
                    let Some(&y) = s.values.get(d) else {
                        continue;
                    };
                    table.push(vec![
                        event.id.to_string().into(),
                        period.date(event.day).to_string().into(),
                        number(event.time_days, 10),
                        number(event.magnitude, 3),
                        s.kind.name().into(),
                        offset.to_string().into(),
                        number(y, 12),
                        baseline.map_or(Cell::Missing, |b| number(y / b, 12)),
                    ]);
                }
            }
        }
        table
    }

    /// The short table: per event and kind the baseline mean, the pre-event mean and the
    /// relative rise in percent.
    pub fn rise_table(&self, period: &Period) -> Table {
        let mut table = Table::new([
            "event",
            "date",
            "M",
            "isolated",
            "kind",
            "days",
            "baseline",
            "pre_event",
            "rise_%",
        ]);
        for r in &self.rises {
            let event = &self.events[r.event];
            table.push(vec![
                event.id.to_string().into(),
                period.date(event.day).to_string().into(),
                number(event.magnitude, 3),
                if event.isolated { "yes" } else { "no" }.into(),
                r.kind.name().into(),
                format!("{}..{}", -PRE_EVENT_DAYS, r.last_offset).into(),
                r.baseline.map_or(Cell::Missing, |b| number(b, 4)),
                r.pre_event.map_or(Cell::Missing, |p| number(p, 4)),
                r.relative_rise
                    .map_or(Cell::Missing, |x| number(100.0 * x, 3)),
            ]);
        }
        table
    }

    /// One plain sentence per kind: for how many events (all, and the isolated ones) the
    /// pre-event mean exceeds the baseline by more than [`RISE_THRESHOLD`], the median change,
    /// and whether a rise precedes the events (the median above the threshold, over the isolated
    /// events where any has both windows, else over all).
    pub fn verdicts(&self) -> Vec<String> {
        self.series
            .iter()
            .map(|s| {
                let of_kind = || self.rises.iter().filter(|r| r.kind == s.kind);
                let all = RiseSummary::of(of_kind().filter_map(|r| r.relative_rise));
                let isolated = RiseSummary::of(
                    of_kind()
                        .filter(|r| self.events[r.event].isolated)
                        .filter_map(|r| r.relative_rise),
                );
                let last = if s.look_ahead() {
                    -1
                } else {
                    -1 - s.support.1.max(0)
                };
                let head = format!(
                    "{}: mean over days {}..{} more than {:.0}% above the mean over [{}, {}] \
                     for {} of all events and {} of the isolated ones",
                    s.kind,
                    -PRE_EVENT_DAYS,
                    last,
                    100.0 * RISE_THRESHOLD,
                    BASELINE_WINDOW.0,
                    BASELINE_WINDOW.1,
                    all.describe(),
                    isolated.describe(),
                );
                let (basis, rises) = match (isolated.median, all.median) {
                    (Some(m), _) => ("the isolated events", m > RISE_THRESHOLD),
                    (None, Some(m)) => ("the events", m > RISE_THRESHOLD),
                    (None, None) => {
                        return format!(
                            "{head}: no event has both windows inside the period, so nothing \
                             can be said."
                        );
                    }
                };
                let all_rise = all.median.is_some_and(|m| m > RISE_THRESHOLD);
                let verdict = match (s.look_ahead(), rises) {
                    (true, true) => format!(
                        "it rises before {basis}, but this label looks ahead {} days, so the \
                         rise holds the events themselves.",
                        s.reach_days()
                    ),
                    (true, false) => format!(
                        "it does not rise before {basis}, although it looks ahead {} days.",
                        s.reach_days()
                    ),
                    (false, true) => format!("a rise precedes {basis} in this causal label."),
                    (false, false) if all_rise => format!(
                        "no rise precedes {basis} in this causal label; the rise over all events \
                         comes from earlier large events' sequences in the region."
                    ),
                    (false, false) => format!("no rise precedes {basis} in this causal label."),
                };
                format!("{head}: {verdict}")
            })
            .collect()
    }

    /// Writes `around_events.csv` and `around_events.png` (one panel per kind, one line per
    /// event, the normalised label against the day offset) into `out`.
    pub fn write(&self, period: &Period, out: &Path) -> Result<()> {
        let figure_path = out.join("around_events.png");
        figure::check_image_path(&figure_path)?;
        self.table(period)
            .write_csv(&out.join("around_events.csv"))?;
        let before = self.settings.days_before as i64;
        let after = self.settings.days_after as i64;
        let panels: Vec<LinePanel> = self
            .series
            .iter()
            .enumerate()
            .map(|(k, s)| LinePanel {
                title: match s.bandwidth_days {
                    Some(h) => format!(
                        "{} (bandwidth {h:.1} days, look-ahead {})",
                        s.kind,
                        s.look_ahead()
                    ),
                    None => format!("{} (H = {} days)", s.kind, s.support.1 + 1),
                },
                lines: self
                    .events
                    .iter()
                    .enumerate()
                    .filter_map(|(e, event)| {
                        let b = self.baseline(e, k).filter(|b| *b > 0.0)?;
                        let points = (-before..=after)
                            .filter_map(|offset| {
                                let d = usize::try_from(event.day as i64 + offset).ok()?;
                                s.values.get(d).map(|y| (offset as f64, y / b))
                            })
                            .collect();
                        Some((
                            format!("{} M{:.1}", period.date(event.day), event.magnitude),
                            points,
                        ))
                    })
                    .collect(),
            })
            .collect();
        figure::line_panels(
            &figure_path,
            &format!(
                "Labels around M ≥ {} events, normalised by days [{}, {}]",
                self.settings.min_magnitude, BASELINE_WINDOW.0, BASELINE_WINDOW.1
            ),
            "days from the event",
            "label / baseline",
            &panels,
        )
    }
}

/// How many relative rises exceed [`RISE_THRESHOLD`], of how many, and their median.
struct RiseSummary {
    above: usize,
    n: usize,
    median: Option<f64>,
}

impl RiseSummary {
    fn of(rises: impl Iterator<Item = f64>) -> Self {
        let mut rises: Vec<f64> = rises.collect();
        rises.sort_by(f64::total_cmp);
        let n = rises.len();
        let median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(rises[n / 2]),
            _ => Some(0.5 * (rises[n / 2 - 1] + rises[n / 2])),
        };
        RiseSummary {
            above: rises.iter().filter(|&&x| x > RISE_THRESHOLD).count(),
            n,
            median,
        }
    }

    /// `"3 of 5 (median +12.3%)"`, or `"none of 0"` without any.
    fn describe(&self) -> String {
        match self.median {
            Some(m) => format!("{} of {} (median {:+.1}%)", self.above, self.n, 100.0 * m),
            None => "none of 0".to_string(),
        }
    }
}
