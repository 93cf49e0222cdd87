//! Study periods and the day-index convention.
//!
//! A [`Period`] is the half-open range of UTC calendar days `[start, end)`. Day index 0 is
//! `start`; an event's time in days is the fractional number of days since `start` 00:00 UTC.
//! Every stage (b/a windows, KDE labels, GNSS images, the dataset) indexes days this way, so
//! their outputs join on the day index without conversion.

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};

use crate::{Error, Result};

/// Seconds in one day, the unit of event times.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// The default limit on the days a per-day computation materialises: 100 years (36,525 days).
/// Every stage keeps arrays over the period's days (b/a rows, labels, counts, the daily table),
/// and the KDE labels cost time in proportion to the days; a mistyped period (0001–9999) would
/// exhaust memory or run for hours. [`Period::check_days`] refuses longer periods; the command
/// line raises the limit with `--max-days`.
pub const MAX_DAYS: usize = 36_525;

/// A rough size of one day's share of the per-day arrays (a b/a window row, a label, a count
/// and a daily-table row), for the estimate in [`Period::check_days`]'s message.
pub const BYTES_PER_DAY: usize = 128;

/// Which ends of an interval belong to it.
///
/// Windows carry their closure as a value rather than as an off-by-one hidden in an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// `[a, b)`: the start belongs, the end does not.
    Left,
    /// `(a, b]`: the end belongs, the start does not.
    Right,
    /// `[a, b]`: both ends belong.
    Both,
}

impl Closed {
    /// Whether `x` lies in the interval from `a` to `b` with this closure.
    pub fn contains(self, a: f64, b: f64, x: f64) -> bool {
        match self {
            Closed::Left => a <= x && x < b,
            Closed::Right => a < x && x <= b,
            Closed::Both => a <= x && x <= b,
        }
    }
}

/// The half-open range of UTC calendar days `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    start: Date,
    end: Date,
    n_days: usize,
}

impl Period {
    /// A period from `start` (inclusive) to `end` (exclusive). Fails unless `start < end`.
    pub fn new(start: Date, end: Date) -> Result<Self> {
        if start >= end {
            return Err(Error::config(
                "period",
                format!("start {start} must be before end {end}"),
            ));
        }
        let n_days = start
            .until(end)
            // Civil days relative to `start`: jiff refuses a bare day total (days need not be 24 h).
            .and_then(|span| span.total((jiff::Unit::Day, start)))
            .map_err(|e| Error::config("period", e.to_string()))?;
        Ok(Period {
            start,
            end,
            n_days: n_days.round() as usize,
        })
    }

    /// Parses `YYYY-MM-DD` dates, naming `start`/`end` in the error.
    pub fn parse(start: &str, end: &str) -> Result<Self> {
        let start = parse_date("start", start)?;
        let end = parse_date("end", end)?;
        Period::new(start, end)
    }

    /// The first day (day index 0).
    pub fn start(&self) -> Date {
        self.start
    }

    /// The first day after the period.
    pub fn end(&self) -> Date {
        self.end
    }

    /// The number of days in the period.
    pub fn n_days(&self) -> usize {
        self.n_days
    }

    /// Refuses a period of more than `max_days` days before anything is allocated per day; the
    /// error (key `period`) gives the day count and the memory the per-day arrays would take.
    pub fn check_days(&self, max_days: usize) -> Result<()> {
        if self.n_days <= max_days {
            return Ok(());
        }
        let megabytes = (self.n_days as f64) * BYTES_PER_DAY as f64 / 1e6;
        Err(Error::config(
            "period",
            format!(
                "{self} has {} days, more than the limit of {max_days} days for day-by-day work \
                 (its per-day arrays would take about {megabytes:.0} MB, and the KDE labels time \
                 in proportion); shorten the period or raise the limit (--max-days)",
                self.n_days
            ),
        ))
    }

    /// The calendar date of day index `day`.
    pub fn date(&self, day: usize) -> Date {
        // A period is at most a few centuries long, so the day count fits a span.
        self.start
            .checked_add(jiff::Span::new().days(day as i64))
            .unwrap_or(self.end)
    }

    /// `start` 00:00 UTC as a timestamp.
    pub fn start_timestamp(&self) -> Timestamp {
        midnight_utc(self.start)
    }

    /// `end` 00:00 UTC as a timestamp.
    pub fn end_timestamp(&self) -> Timestamp {
        midnight_utc(self.end)
    }

    /// Fractional days from `start` 00:00 UTC to `t` (negative before the period).
    pub fn days_since_start(&self, t: Timestamp) -> f64 {
        days_between(self.start_timestamp(), t)
    }

    /// Whether `t` falls inside `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start_timestamp() <= t && t < self.end_timestamp()
    }

    /// The day index of `date`, if it lies inside the period.
    pub fn day_index(&self, date: Date) -> Option<usize> {
        if date < self.start || date >= self.end {
            return None;
        }
        let days = self
            .start
            .until(date)
            .ok()?
            .total((jiff::Unit::Day, self.start))
            .ok()?;
        Some(days.round() as usize)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

/// Fractional days from `from` to `to` (negative when `to` comes first).
pub fn days_between(from: Timestamp, to: Timestamp) -> f64 {
    let secs = to.as_second() - from.as_second();
    let nanos = to.subsec_nanosecond() - from.subsec_nanosecond();
    (secs as f64 + nanos as f64 * 1e-9) / SECONDS_PER_DAY
}

/// 00:00 UTC of a calendar date.
pub fn midnight_utc(date: Date) -> Timestamp {
    // Every civil date in jiff's range has a UTC midnight.
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Parses a `YYYY-MM-DD` date; `what` names the setting in the error.
pub fn parse_date(what: &str, text: &str) -> Result<Date> {
    text.trim()
        .parse::<Date>()
        .map_err(|e| Error::config(what, format!("`{text}` is not a YYYY-MM-DD date: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_count_spans_leap_years() {
        // 2009-01-01 .. 2024-01-01: 15 years, of which 2012, 2016 and 2020 are leap years.
        let p = Period::parse("2009-01-01", "2024-01-01").unwrap();
        assert_eq!(p.n_days(), 15 * 365 + 3);
        assert_eq!(p.date(0).to_string(), "2009-01-01");
        assert_eq!(p.date(365).to_string(), "2010-01-01");
        assert_eq!(
            p.day_index("2012-03-01".parse().unwrap()),
            Some(365 * 3 + 31 + 29)
        );
        assert_eq!(p.day_index("2024-01-01".parse().unwrap()), None);
    }

    #[test]
    fn fractional_days_since_start() {
        let p = Period::parse("2020-01-01", "2020-02-01").unwrap();
        let t: Timestamp = "2020-01-03T06:00:00Z".parse().unwrap();
        assert_eq!(p.days_since_start(t), 2.25);
        assert!(p.contains(t));
        let before: Timestamp = "2019-12-31T12:00:00Z".parse().unwrap();
        assert_eq!(p.days_since_start(before), -0.5);
        assert!(!p.contains(before));
    }

    #[test]
    fn empty_or_reversed_period_is_refused() {
        assert!(Period::parse("2020-01-01", "2020-01-01").is_err());
        assert!(Period::parse("2020-01-02", "2020-01-01").is_err());
        let err = Period::parse("2020-13-01", "2021-01-01").unwrap_err();
        assert!(err.to_string().contains("start"), "{err}");
    }

    #[test]
    fn check_days_refuses_a_period_beyond_the_limit() {
        let p = Period::parse("2020-01-01", "2020-01-11").unwrap();
        assert!(p.check_days(10).is_ok());
        let err = p.check_days(9).unwrap_err().to_string();
        assert!(
            err.contains("has 10 days") && err.contains("limit of 9"),
            "{err}"
        );
    }

    #[test]
    fn closure_decides_the_ends() {
        assert!(Closed::Left.contains(0.0, 1.0, 0.0));
        assert!(!Closed::Left.contains(0.0, 1.0, 1.0));
        assert!(Closed::Right.contains(0.0, 1.0, 1.0));
        assert!(!Closed::Right.contains(0.0, 1.0, 0.0));
        assert!(Closed::Both.contains(0.0, 1.0, 0.0) && Closed::Both.contains(0.0, 1.0, 1.0));
    }
}
