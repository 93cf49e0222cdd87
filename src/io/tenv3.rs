//! Nevada Geodetic Laboratory `.tenv3` daily position series, one file per station.
//!
//! # The format
//!
//! One whitespace-separated line per day, after an optional header line that begins with
//! `site YYMMMDD`. NGL's own description of the columns (its `README_tenv3.txt`):
//!
//! | # | header | meaning |
//! |---|---|---|
//! | 1 | `site` | station name |
//! | 2 | `YYMMMDD` | date, e.g. `10JUL28` |
//! | 3 | `yyyy.yyyy` | decimal year |
//! | 4 | `__MJD` | modified Julian day |
//! | 5, 6 | `week d` | GPS week and day of the week |
//! | 7 | `reflon` | longitude of the reference meridian, a multiple of 0.1° |
//! | 8, 9 | `_e0(m) __east(m)` | easting from the reference meridian: integer and fractional part |
//! | 10, 11 | `____n0(m) _north(m)` | northing from the equator: integer and fractional part |
//! | 12, 13 | `u0(m) ____up(m)` | height: integer and fractional part |
//! | 14 | `_ant(m)` | antenna height |
//! | 15–17 | `sig_e(m) sig_n(m) sig_u(m)` | standard deviations |
//! | 18–20 | `__corr_en __corr_eu __corr_nu` | correlation coefficients |
//! | 21–23 | `_latitude(deg) _longitude(deg) __height(m)` | the day's geodetic position |
//!
//! Older files stop after column 20; their station position must come from NGL's station list
//! ([`crate::io::stations`]), passed in [`Tenv3Options::station_list`].
//!
//! # What the reader does
//!
//! - The date comes from the MJD column. The `YYMMMDD` text must agree with it; a disagreement
//!   is a parse error, since the line is then corrupt and there is no telling which is right.
//!   The decimal year and GPS week and day must be numbers but are not compared (NGL's own
//!   README example has a GPS day that is off by one).
//! - Each component is the integer part plus the fractional part, in metres. NGL keeps the
//!   integer part fixed while a station drifts (the fraction may then exceed ±1 m) and
//!   re-initialises it only after a jump or drift of more than 10 m; either way the sum is the
//!   absolute easting, northing or height, so differences between days stay right across a
//!   change of the integer part.
//! - The station's position is that of the first data line (columns 21–23). NGL's daily
//!   latitude and longitude move by millimetres, far below anything the gridding can resolve, so
//!   one fixed position per station is enough. The longitude is normalised to `[-180, 180)`: NGL
//!   stores LHAS (Lhasa) as −268.896, which is 91.104°E. When a 23-column file's station is also
//!   in the station list, the file's own position wins.
//! - A bad line is an [`Error::Parse`] naming the file, the 1-based line (the header is line 1)
//!   and the column. With [`Tenv3Options::lenient`] it is skipped instead and counted in the
//!   [`Tenv3Report`] per column and problem. Blank lines are counted, not read.
//!
//! # Writing
//!
//! [`write_tenv3`] writes the 23-column layout with NGL's header, so a synthetic station reads
//! back like a real one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::civil::{Date, date};
use rayon::prelude::*;

use crate::geo::normalize_longitude;
use crate::gnss::{Station, StationSeries, StationSet};
use crate::io::catalog::{
    RowProblem, SAMPLE_LINES, SkipReason, SkippedRows, civil_from_days, is_finite_number, parse_f64,
};
use crate::io::stations::{StationEntry, find_station};
use crate::io::write_atomic;
use crate::{Error, Result};

/// NGL's header line for the 23-column layout, exactly as NGL writes it.
pub const TENV3_HEADER: &str = "site YYMMMDD yyyy.yyyy __MJD week d reflon _e0(m) __east(m) ____n0(m) _north(m) u0(m) ____up(m) _ant(m) sig_e(m) sig_n(m) sig_u(m) __corr_en __corr_eu __corr_nu _latitude(deg) _longitude(deg) __height(m)";

/// The column names used in error messages and skip reports: the header's names without NGL's
/// padding underscores and unit suffixes.
const COLUMNS: [&str; 23] = [
    "site",
    "YYMMMDD",
    "yyyy.yyyy",
    "MJD",
    "week",
    "d",
    "reflon",
    "e0",
    "east",
    "n0",
    "north",
    "u0",
    "up",
    "ant",
    "sig_e",
    "sig_n",
    "sig_u",
    "corr_en",
    "corr_eu",
    "corr_nu",
    "latitude",
    "longitude",
    "height",
];

/// Columns in the full layout, with the station's latitude, longitude and height.
const FULL_COLUMNS: usize = 23;
/// Columns in the older layout that stops after the correlations.
const SHORT_COLUMNS: usize = 20;

/// Modified Julian day 0.
const MJD_EPOCH: Date = date(1858, 11, 17);
/// The MJD of the GPS epoch, 1980-01-06, where GPS week 0 begins.
const GPS_EPOCH_MJD: i64 = 44244;
/// The MJD of 2000-01-01. NGL's decimal year is `2000 + (MJD - 51544) / 365.25`: the day's noon
/// counted from J2000.0 (2000-01-01 12:00, MJD 51544.5) in Julian years. This reproduces every
/// line of the real LHAS, CHAN and IRKJ files.
const J2000_MJD: i64 = 51544;

/// The month abbreviations of the `YYMMMDD` column.
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// The standard deviations [`write_tenv3`] writes (east, north, up, metres): typical daily
/// values for a good NGL station, the vertical about four times the horizontal.
const WRITTEN_SIGMAS_M: [f64; 3] = [0.001, 0.001, 0.004];

/// NGL re-initialises a component's integer part once the fraction passes this many metres
/// (README note 5); [`write_tenv3`] does the same, so its fraction column keeps NGL's width.
const FRACTION_LIMIT_M: f64 = 10.0;

/// The modified Julian day of `date` (days since 1858-11-17).
pub fn mjd_from_date(date: Date) -> i64 {
    // Any two jiff dates are less than 7.3 million days apart, which a span holds.
    i64::from((date - MJD_EPOCH).get_days())
}

/// The MJD of 1970-01-01.
const UNIX_EPOCH_MJD: i64 = 40_587;

/// The date of modified Julian day `mjd`, or `None` outside jiff's years −9999 to 9999.
pub fn date_from_mjd(mjd: i64) -> Option<Date> {
    // Jiff's dates span less than 7.3 million days; beyond ten million the answer is `None`
    // whatever the calendar says, and the arithmetic below cannot overflow.
    if mjd.unsigned_abs() > 10_000_000 {
        return None;
    }
    let (year, month, day) = civil_from_days(mjd - UNIX_EPOCH_MJD);
    let year = i16::try_from(year).ok()?;
    // Month and day are in range by construction; jiff checks the year.
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// Whether `text` is the `YYMMMDD` of `date` (any case), as [`yymmmdd`] writes it.
fn is_yymmmdd(text: &str, date: Date) -> bool {
    let b = text.as_bytes();
    let two_digits = |at: usize, value: i32| {
        b[at].is_ascii_digit()
            && b[at + 1].is_ascii_digit()
            && i32::from(b[at] - b'0') * 10 + i32::from(b[at + 1] - b'0') == value
    };
    let month = MONTHS[usize::from(date.month().unsigned_abs()) - 1];
    b.len() == 7
        && two_digits(0, i32::from(date.year()).rem_euclid(100))
        && b[2..5].eq_ignore_ascii_case(month.as_bytes())
        && two_digits(5, i32::from(date.day()))
}

/// The `YYMMMDD` text NGL writes for `date`, e.g. `10JUL28` for 2010-07-28.
pub fn yymmmdd(date: Date) -> String {
    format!(
        "{:02}{}{:02}",
        i32::from(date.year()).rem_euclid(100),
        MONTHS[usize::from(date.month().unsigned_abs()) - 1],
        date.day()
    )
}

/// NGL's decimal year of the day with modified Julian day `mjd`.
pub fn decimal_year(mjd: i64) -> f64 {
    2000.0 + (mjd - J2000_MJD) as f64 / 365.25
}

/// The GPS week and day of the week (0 = Sunday) of the day with modified Julian day `mjd`.
pub fn gps_week_day(mjd: i64) -> (i64, i64) {
    let days = mjd - GPS_EPOCH_MJD;
    (days.div_euclid(7), days.rem_euclid(7))
}

/// Writes `series` as a 23-column `.tenv3` file with NGL's header, atomically.
///
/// Each component is split into an integer part and a fraction written with six decimals (a
/// micrometre), so reading the file back gives the series to within 5e-7 m. As NGL does, a
/// component's integer part is that of the first day and is re-initialised only when its
/// fraction would pass ±10 m. The reference longitude is the station's longitude rounded to
/// 0.1°; the antenna height is 0, the standard deviations 0.001, 0.001 and 0.004 m, and the
/// correlations 0. The last three columns repeat the station's latitude, longitude and height on
/// every line.
///
/// Fails if the station name is empty or contains whitespace, or its position is not finite
/// (the file could not be read back), or if a position is so large (1e12 m) that its integer
/// part would not fit the format.
pub fn write_tenv3(path: &Path, series: &StationSeries) -> Result<()> {
    let station = series.station();
    if station.name.is_empty() || station.name.chars().any(char::is_whitespace) {
        return Err(Error::Numerical(format!(
            "station name `{}` cannot be written to {}: a tenv3 site name must be one word",
            station.name,
            path.display()
        )));
    }
    let place = [station.latitude, station.longitude, station.height_m];
    if place.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "station {}: position {place:?} is not finite",
            station.name
        )));
    }
    if let Some(bad) = series
        .positions()
        .iter()
        .flatten()
        .find(|v| v.abs() >= 1e12)
    {
        return Err(Error::Numerical(format!(
            "station {}: position component {bad} m is too large for a tenv3 file",
            station.name
        )));
    }
    let reflon = (station.longitude * 10.0).round() / 10.0;
    // Each component's integer part, carried from day to day as NGL does.
    let mut integer: Option<[i64; 3]> = None;
    let mut lines = Vec::with_capacity(series.len());
    for (day, position) in series.dates().iter().zip(series.positions()) {
        // The magnitude check above keeps every value well inside i64.
        let base = [0, 1, 2].map(|k| match integer {
            Some(kept) if (position[k] - kept[k] as f64).abs() < FRACTION_LIMIT_M => kept[k],
            _ => position[k].trunc() as i64,
        });
        integer = Some(base);
        let mjd = mjd_from_date(*day);
        let (week, weekday) = gps_week_day(mjd);
        let [e, n, u] = [0, 1, 2].map(|k| (base[k], position[k] - base[k] as f64));
        lines.push(format!(
            "{} {} {:.4} {mjd:5} {week:4} {weekday} {reflon:6.1} {:6} {:9.6} {:9} {:9.6} {:5} {:9.6} {:7.4} {:8.6} {:8.6} {:8.6} {:9.6} {:9.6} {:9.6} {:14.10} {:15.10} {:11.5}",
            station.name,
            yymmmdd(*day),
            decimal_year(mjd),
            e.0,
            e.1,
            n.0,
            n.1,
            u.0,
            u.1,
            0.0,
            WRITTEN_SIGMAS_M[0],
            WRITTEN_SIGMAS_M[1],
            WRITTEN_SIGMAS_M[2],
            0.0,
            0.0,
            0.0,
            station.latitude,
            station.longitude,
            station.height_m,
        ));
    }
    write_atomic(path, |w| {
        writeln!(w, "{TENV3_HEADER}")?;
        for line in &lines {
            writeln!(w, "{line}")?;
        }
        Ok(())
    })
}

/// How [`read_tenv3`] treats the files it reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tenv3Options<'a> {
    /// Skip bad lines (and count them in the report) instead of failing on the first one.
    pub lenient: bool,
    /// NGL's station list, where the position of a station in a 20-column file (which has no
    /// latitude, longitude or height) is looked up by name. A 23-column file's own position is
    /// used even when the station is listed.
    pub station_list: Option<&'a [StationEntry]>,
}

/// What [`read_tenv3_with_report`] did with each line of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tenv3Report {
    /// The file read.
    pub path: PathBuf,
    /// The station the file holds.
    pub station: String,
    /// Data lines read: every line but the header and blank lines.
    pub lines: usize,
    /// Days in the returned series.
    pub days: usize,
    /// Blank lines passed over.
    pub blank_lines: usize,
    /// Bad lines skipped in lenient mode, per column and problem.
    pub skipped: BTreeMap<SkipReason, SkippedRows>,
}

impl Tenv3Report {
    /// All bad lines skipped, whatever the reason.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().map(|s| s.count).sum()
    }

    fn skip(&mut self, line: u64, bad: BadField) {
        let tally = self
            .skipped
            .entry(SkipReason {
                field: bad.field.to_string(),
                problem: bad.problem,
            })
            .or_default();
        if tally.count == 0 {
            tally.first_message = bad.message;
        }
        tally.count += 1;
        if tally.first_lines.len() < SAMPLE_LINES {
            tally.first_lines.push(line);
        }
    }
}

impl fmt::Display for Tenv3Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: station {}, {} data lines, {} days",
            self.path.display(),
            self.station,
            self.lines,
            self.days
        )?;
        if self.blank_lines > 0 {
            write!(f, ", {} blank lines", self.blank_lines)?;
        }
        if self.skipped.is_empty() {
            return write!(f, ", no bad lines");
        }
        write!(f, ", skipped {} bad lines (", self.skipped_total())?;
        for (i, (reason, rows)) in self.skipped.iter().enumerate() {
            let lines: Vec<String> = rows.first_lines.iter().map(u64::to_string).collect();
            let more = if rows.count > rows.first_lines.len() {
                ", ..."
            } else {
                ""
            };
            let sep = if i == 0 { "" } else { "; " };
            write!(
                f,
                "{sep}{reason}: {} at lines {}{more}",
                rows.count,
                lines.join(", ")
            )?;
        }
        write!(f, ")")
    }
}

/// What [`read_tenv3_dir`] read: one report per file, in file-name order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tenv3DirReport {
    /// The directory read.
    pub dir: PathBuf,
    /// The report of each `.tenv3` file.
    pub files: Vec<Tenv3Report>,
}

impl Tenv3DirReport {
    /// Days read over all stations.
    pub fn days(&self) -> usize {
        self.files.iter().map(|r| r.days).sum()
    }

    /// Bad lines skipped over all files.
    pub fn skipped_total(&self) -> usize {
        self.files.iter().map(Tenv3Report::skipped_total).sum()
    }
}

impl fmt::Display for Tenv3DirReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} tenv3 files, {} station-days, {} bad lines skipped",
            self.dir.display(),
            self.files.len(),
            self.days(),
            self.skipped_total()
        )
    }
}

/// Reads one `.tenv3` file into a station series.
///
/// In lenient mode any skipped lines are logged as a warning; use [`read_tenv3_with_report`]
/// to get the counts.
pub fn read_tenv3(path: &Path, options: &Tenv3Options) -> Result<StationSeries> {
    let (series, report) = read_tenv3_with_report(path, options)?;
    if report.skipped_total() > 0 {
        tracing::warn!("{report}");
    }
    Ok(series)
}

/// Reads one `.tenv3` file into a station series, with an account of every line.
///
/// Fails on the first bad line unless [`Tenv3Options::lenient`]; fails in any mode if the file
/// has no good data line (there is then no station), if its lines name more than one site, or if
/// it has the 20-column layout and its station is not in [`Tenv3Options::station_list`].
pub fn read_tenv3_with_report(
    path: &Path,
    options: &Tenv3Options,
) -> Result<(StationSeries, Tenv3Report)> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut report = Tenv3Report {
        path: path.to_path_buf(),
        ..Tenv3Report::default()
    };
    let mut layout: Option<usize> = None;
    // The first good line's site and position, and its line number.
    let mut first: Option<(u64, Row<'_>)> = None;
    let mut seen = SeenDays::default();
    let mut samples = Vec::new();
    let mut line_number = 0u64;
    let mut fields: Vec<&str> = Vec::with_capacity(FULL_COLUMNS + 1);
    let mut from = 0;
    while from < data.len() {
        // A line runs to its line feed, or to the end of a file without a final one.
        let end = memchr::memchr(b'\n', &data[from..]).map_or(data.len(), |i| from + i + 1);
        let bytes = &data[from..end];
        from = end;
        line_number += 1;
        let Ok(text) = std::str::from_utf8(bytes) else {
            let bad = BadField::new("line", RowProblem::Malformed, "not valid UTF-8".into());
            report.lines += 1;
            fail_or_skip(path, line_number, bad, options, &mut report)?;
            continue;
        };
        split_fields(text, &mut fields);
        if fields.is_empty() {
            report.blank_lines += 1;
            continue;
        }
        if line_number == 1 && fields[0] == "site" {
            layout = Some(header_layout(path, &fields)?);
            continue;
        }
        report.lines += 1;
        let columns = *layout.get_or_insert(match fields.len() {
            SHORT_COLUMNS => SHORT_COLUMNS,
            _ => FULL_COLUMNS,
        });
        let parsed = parse_line(&fields, columns).and_then(|row| {
            check_against_first(&row, first.as_ref().map(|(_, r)| r))?;
            match seen.line_of(row.date) {
                Some(earlier) => Err(BadField::new(
                    "MJD",
                    RowProblem::Malformed,
                    format!("{} was already given on line {earlier}", row.date),
                )),
                None => Ok(row),
            }
        });
        match parsed {
            Ok(row) => {
                seen.insert(row.date, line_number);
                samples.push((row.date, row.enu_m));
                if first.is_none() {
                    first = Some((line_number, row));
                }
            }
            Err(bad) => fail_or_skip(path, line_number, bad, options, &mut report)?,
        }
    }
    let Some((first_line, first_row)) = first else {
        return Err(Error::parse(
            path,
            line_number.max(1),
            "site",
            "no good data line, so no station to read",
        ));
    };
    let station = match first_row.position {
        Some([latitude, longitude, height_m]) => Station {
            name: first_row.site.to_string(),
            latitude,
            longitude: normalize_longitude(longitude),
            height_m,
        },
        None => options
            .station_list
            .and_then(|list| find_station(list, first_row.site))
            .map(|entry| entry.station.clone())
            .ok_or_else(|| {
                Error::parse(
                    path,
                    first_line,
                    "site",
                    format!(
                        "station {} has no position in this 20-column file and {}",
                        first_row.site,
                        if options.station_list.is_some() {
                            "is not in the station list"
                        } else {
                            "no station list was given to look it up in"
                        }
                    ),
                )
            })?,
    };
    report.station = station.name.clone();
    report.days = samples.len();
    let series = StationSeries::new(station, samples)?;
    Ok((series, report))
}

/// Reads every `*.tenv3` file in `dir` (not its subdirectories) into one station set.
///
/// Files are read in parallel, each as [`read_tenv3_with_report`] does, and taken in name
/// order: the stations, the reports and the first error are those of reading them one by one in
/// that order. Fails if the directory holds no `.tenv3` file, or if two files hold the same
/// station.
pub fn read_tenv3_dir(dir: &Path, options: &Tenv3Options) -> Result<(StationSet, Tenv3DirReport)> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|ext| ext == "tenv3") && path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no *.tenv3 file in directory"),
        ));
    }
    paths.sort();
    let mut report = Tenv3DirReport {
        dir: dir.to_path_buf(),
        files: Vec::with_capacity(paths.len()),
    };
    let mut series: Vec<StationSeries> = Vec::with_capacity(paths.len());
    // Read on all cores, then judged in name order: the first failure in that order is the one
    // reported, as if the files were read one after another.
    let read: Vec<_> = paths
        .par_iter()
        .map(|path| read_tenv3_with_report(path, options))
        .collect();
    for (path, result) in paths.iter().zip(read) {
        let (one, file_report) = result?;
        if let Some(other) = report
            .files
            .iter()
            .find(|r| r.station == file_report.station)
        {
            return Err(Error::Numerical(format!(
                "station {} is in both {} and {}",
                file_report.station,
                other.path.display(),
                path.display()
            )));
        }
        if file_report.skipped_total() > 0 {
            tracing::warn!("{file_report}");
        }
        report.files.push(file_report);
        series.push(one);
    }
    Ok((StationSet::new(series)?, report))
}

/// Splits `line` at whitespace into `fields` (cleared first), as `str::split_whitespace` does.
///
/// A plain line, whose bytes are all ASCII letters, digits, punctuation or the six ASCII
/// characters Unicode calls white space (every line of an NGL file), is split from bit masks of
/// its separators, 64 bytes at a time; any other line goes to `split_whitespace` itself.
fn split_fields<'a>(line: &'a str, fields: &mut Vec<&'a str>) {
    fields.clear();
    let bytes = line.as_bytes();
    // No early exit, so that the check runs 16 bytes at a time.
    let plain = bytes.iter().fold(true, |plain, &b| {
        plain & ((b'!'..=b'~').contains(&b) | matches!(b, b'\t'..=b'\r' | b' '))
    });
    if !plain {
        fields.extend(line.split_whitespace());
        return;
    }
    // The field that started in an earlier block, if one is open.
    let mut open: Option<usize> = None;
    for (block, chunk) in bytes.chunks(64).enumerate() {
        let base = 64 * block;
        let separators = match <&[u8; 64]>::try_from(chunk) {
            Ok(block) => separator_mask(block),
            Err(_) => {
                let mut padded = [b'!'; 64];
                padded[..chunk.len()].copy_from_slice(chunk);
                separator_mask(&padded)
            }
        };
        // The padding is text that does not start a field: a field may go on in the next block.
        let text = !separators & (u64::MAX >> (64 - chunk.len()));
        let mut at = 0;
        while at < chunk.len() {
            let ahead = match open {
                Some(_) => separators >> at,
                None => text >> at,
            };
            if ahead == 0 {
                break;
            }
            at += ahead.trailing_zeros() as usize;
            match open.take() {
                Some(start) => fields.push(&line[start..base + at]),
                None => open = Some(base + at),
            }
        }
    }
    if let Some(start) = open {
        fields.push(&line[start..]);
    }
}

/// The bits of the white space of a plain 64-byte block (byte `i`, bit `i`): its bytes up to a
/// space, 16 at a time. A plain block is ASCII, so a signed comparison of its bytes is the
/// unsigned one.
#[cfg(target_arch = "x86_64")]
fn separator_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    block
        .chunks_exact(16)
        .enumerate()
        .fold(0, |mask, (k, lane)| {
            // SAFETY: SSE2 is part of the x86-64 baseline, and the load reads the 16 bytes of
            // `lane`, unaligned.
            let spaces = unsafe {
                let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
                _mm_movemask_epi8(_mm_cmplt_epi8(bytes, _mm_set1_epi8(b'!' as i8)))
            };
            // One bit per byte of the lane.
            mask | u64::from(spaces as u16) << (16 * k)
        })
}

/// [`separator_mask`] eight bytes at a time, in integer arithmetic: adding 0x5F to a byte below
/// 0x80 sets its top bit exactly when the byte is above a space, and one multiplication gathers
/// the eight top bits into one byte.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn separator_mask_swar(block: &[u8; 64]) -> u64 {
    let mut mask = 0;
    for (i, word) in block.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(word.try_into().expect("chunks of 8 bytes"));
        let spaces = (!x.wrapping_add(0x5F5F_5F5F_5F5F_5F5F) & 0x8080_8080_8080_8080) >> 7;
        mask |= (spaces.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
use separator_mask_swar as separator_mask;

/// The number of columns a header line announces: the full layout or the older 20-column one.
fn header_layout(path: &Path, fields: &[&str]) -> Result<usize> {
    let expected: Vec<&str> = TENV3_HEADER.split_whitespace().collect();
    // NGL pads names with underscores to align them; compare without the padding.
    let same = |a: &str, b: &str| {
        a.trim_matches('_')
            .eq_ignore_ascii_case(b.trim_matches('_'))
    };
    let matches = (fields.len() == FULL_COLUMNS || fields.len() == SHORT_COLUMNS)
        && fields.iter().zip(&expected).all(|(a, b)| same(a, b));
    if matches {
        Ok(fields.len())
    } else {
        Err(Error::parse(
            path,
            1,
            "header",
            format!(
                "a header of {} names that is not NGL's tenv3 header (expected `{TENV3_HEADER}`, \
                 or its first {SHORT_COLUMNS} names)",
                fields.len()
            ),
        ))
    }
}

/// The days a file has given so far, with their lines: in date order, so that the usual file,
/// in date order too, only ever appends.
#[derive(Default)]
struct SeenDays(Vec<(Date, u64)>);

impl SeenDays {
    /// The line that gave `date`, if one did.
    fn line_of(&self, date: Date) -> Option<u64> {
        match self.0.last() {
            Some((last, _)) if *last < date => None,
            _ => self
                .0
                .binary_search_by_key(&date, |(d, _)| *d)
                .ok()
                .map(|i| self.0[i].1),
        }
    }

    /// Records that `line` gave `date`, which no earlier line gave.
    fn insert(&mut self, date: Date, line: u64) {
        match self.0.last() {
            Some((last, _)) if *last > date => {
                let at = self.0.partition_point(|(d, _)| *d < date);
                self.0.insert(at, (date, line));
            }
            _ => self.0.push((date, line)),
        }
    }
}

/// A good data line.
struct Row<'a> {
    site: &'a str,
    date: Date,
    enu_m: [f64; 3],
    /// Latitude, raw longitude and height, in the 23-column layout.
    position: Option<[f64; 3]>,
}

/// A bad field in one line.
struct BadField {
    field: &'static str,
    problem: RowProblem,
    message: String,
}

impl BadField {
    fn new(field: &'static str, problem: RowProblem, message: String) -> Self {
        BadField {
            field,
            problem,
            message,
        }
    }
}

/// Fails with the bad field's parse error, or, in lenient mode, counts it.
fn fail_or_skip(
    path: &Path,
    line: u64,
    bad: BadField,
    options: &Tenv3Options,
    report: &mut Tenv3Report,
) -> Result<()> {
    if options.lenient {
        report.skip(line, bad);
        Ok(())
    } else {
        Err(Error::parse(path, line, bad.field, bad.message))
    }
}

/// One data line split into `fields`, in a file of `columns` columns.
fn parse_line<'a>(fields: &[&'a str], columns: usize) -> std::result::Result<Row<'a>, BadField> {
    if fields.len() < columns {
        return Err(BadField::new(
            COLUMNS[fields.len()],
            RowProblem::Missing,
            format!(
                "the line has {} fields and ends before this column (expected {columns})",
                fields.len()
            ),
        ));
    }
    if fields.len() > columns {
        return Err(BadField::new(
            "line",
            RowProblem::Malformed,
            format!(
                "the line has {} fields, more than the file's {columns}",
                fields.len()
            ),
        ));
    }
    let not_a_number = |i: usize| {
        BadField::new(
            COLUMNS[i],
            RowProblem::Malformed,
            format!("`{}` is not a finite number", fields[i]),
        )
    };
    let number = |i: usize| -> std::result::Result<f64, BadField> {
        match parse_f64(fields[i]) {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(not_a_number(i)),
        }
    };
    // A column that is checked but not kept.
    let check_number = |i: usize| -> std::result::Result<(), BadField> {
        if is_finite_number(fields[i]) {
            Ok(())
        } else {
            Err(not_a_number(i))
        }
    };
    let integer = |i: usize| -> std::result::Result<i64, BadField> {
        fields[i].parse::<i64>().map_err(|_| {
            BadField::new(
                COLUMNS[i],
                RowProblem::Malformed,
                format!("`{}` is not a whole number", fields[i]),
            )
        })
    };

    let mjd = integer(3)?;
    let date = date_from_mjd(mjd).ok_or_else(|| {
        BadField::new(
            "MJD",
            RowProblem::OutOfRange,
            format!("MJD {mjd} is outside the years -9999 to 9999"),
        )
    })?;
    if !is_yymmmdd(fields[1], date) {
        let written = yymmmdd(date);
        return Err(BadField::new(
            "YYMMMDD",
            RowProblem::Malformed,
            format!(
                "`{}` disagrees with MJD {mjd}, which is {date} ({written})",
                fields[1]
            ),
        ));
    }
    // The decimal year, GPS week and day are redundant with the MJD and are only checked to be
    // numbers: NGL's own README example (`10JUL28 ... 1594 4`) gives day 4 for a Wednesday, which
    // is day 3, so a strict check would refuse lines NGL considers fine.
    check_number(2)?;
    integer(4)?;
    integer(5)?;
    check_number(6)?;
    let enu_m = [
        number(7)? + number(8)?,
        number(9)? + number(10)?,
        number(11)? + number(12)?,
    ];
    // Antenna height, sigmas and correlations are not kept, but a line with a malformed one is
    // as suspect as any other bad line.
    for i in 13..SHORT_COLUMNS {
        check_number(i)?;
    }
    let position = if columns == FULL_COLUMNS {
        let latitude = number(20)?;
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(BadField::new(
                "latitude",
                RowProblem::OutOfRange,
                format!("latitude {latitude} is outside [-90, 90]"),
            ));
        }
        Some([latitude, number(21)?, number(22)?])
    } else {
        None
    };
    Ok(Row {
        site: fields[0],
        date,
        enu_m,
        position,
    })
}

/// A line must name the same site as the file's first good line: a file holds one station.
fn check_against_first(
    row: &Row<'_>,
    first: Option<&Row<'_>>,
) -> std::result::Result<(), BadField> {
    match first {
        Some(first) if first.site != row.site => Err(BadField::new(
            "site",
            RowProblem::Malformed,
            format!(
                "site {} in a file of station {} (one file holds one station)",
                row.site, first.site
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first line of NGL's CHAN.tenv3 (north-east China), as NGL wrote it.
    const CHAN_LINE: &str = "CHAN 00OCT10 2000.7748 51827 1083 2  125.4   3557  0.388316   4850565  0.569955   273  0.258084  0.2500 0.000726 0.000971 0.002951 -0.006208 -0.017137 -0.107418  43.7906870848 -234.5558020471   273.25808";

    /// The 20-column example line of NGL's README_tenv3.txt.
    const COVE_LINE: &str = "COVE 10JUL28 2010.5708 55405 1594 4 -112.8  -3815 -0.41548   4276712 0.86481  1687  0.35637  0.1800 0.00065 0.00067 0.00328  0.05829 -0.56488  0.04405";

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.tenv3");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn read(text: &str, options: &Tenv3Options) -> Result<(StationSeries, Tenv3Report)> {
        let (_dir, path) = file(text);
        read_tenv3_with_report(&path, options)
    }

    fn lenient() -> Tenv3Options<'static> {
        Tenv3Options {
            lenient: true,
            ..Tenv3Options::default()
        }
    }

    fn assert_close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() <= tolerance, "{a} vs {b}");
    }

    #[test]
    fn mjd_and_calendar_dates() {
        assert_eq!(mjd_from_date(day("1858-11-17")), 0);
        // MJD 51544 is 2000-01-01 and MJD 44244 the GPS epoch, 1980-01-06.
        assert_eq!(mjd_from_date(day("2000-01-01")), 51544);
        assert_eq!(mjd_from_date(day("1980-01-06")), 44244);
        // LHAS.tenv3 begins `LHAS 95MAY19 1995.3785 49856  801 5`.
        assert_eq!(date_from_mjd(49856), Some(day("1995-05-19")));
        assert_eq!(date_from_mjd(-1), Some(day("1858-11-16")));
        assert_eq!(date_from_mjd(10_000_000), None);
        assert_eq!(yymmmdd(day("1995-05-19")), "95MAY19");
        assert_eq!(yymmmdd(day("2000-01-05")), "00JAN05");
        assert_eq!(yymmmdd(day("2010-07-28")), "10JUL28");
        // 1995-05-19 was a Friday (day 5) of GPS week 801, as LHAS.tenv3 says.
        assert_eq!(gps_week_day(49856), (801, 5));
        assert_eq!(gps_week_day(44244), (0, 0));
        // NGL's README example: 10JUL28 is MJD 55405, decimal year 2010.5708.
        assert_close(decimal_year(55405), 2010.5708, 5e-5);
        assert_close(decimal_year(51827), 2000.7748, 5e-5);
    }

    #[test]
    fn a_full_line_gives_integer_plus_fraction_and_a_wrapped_longitude() {
        let (series, report) = read(
            &format!("{TENV3_HEADER}\n{CHAN_LINE}\n"),
            &Tenv3Options::default(),
        )
        .unwrap();
        assert_eq!(
            (report.lines, report.days, report.station.as_str()),
            (1, 1, "CHAN")
        );
        assert_eq!(series.dates(), [day("2000-10-10")]);
        let [e, n, u] = series.positions()[0];
        // 3557 + 0.388316, 4850565 + 0.569955, 273 + 0.258084.
        assert_close(e, 3557.388316, 1e-9);
        assert_close(n, 4850565.569955, 1e-8);
        assert_close(u, 273.258084, 1e-9);
        let station = series.station();
        assert_eq!(station.name, "CHAN");
        assert_close(station.latitude, 43.7906870848, 1e-12);
        // -234.5558020471 + 360.
        assert_close(station.longitude, 125.4441979529, 1e-9);
        assert_close(station.height_m, 273.25808, 1e-12);
    }

    #[test]
    fn a_change_of_the_integer_part_keeps_the_absolute_position() {
        // Day 1: east 3557 + 0.998 = 3557.998, north 4850565 + 1.250 = 4850566.250 (a fraction
        // past 1 m, as NGL allows). Day 2 re-initialised: east 3558 + 0.001 = 3558.001, north
        // 4850566 + 0.252 = 4850566.252. So the station moved 3 mm east and 2 mm north.
        let text = "\
TEST 00OCT10 2000.7748 51827 1083 2  125.4   3557  0.998000   4850565  1.250000   273  0.258084  0.2500 0.000726 0.000971 0.002951 -0.006208 -0.017137 -0.107418  43.79 125.44 273.25
TEST 00OCT11 2000.7775 51828 1083 3  125.4   3558  0.001000   4850566  0.252000   273  0.258084  0.2500 0.000726 0.000971 0.002951 -0.006208 -0.017137 -0.107418  43.79 125.44 273.25
";
        let (series, _) = read(text, &Tenv3Options::default()).unwrap();
        let p = series.positions();
        assert_close(p[1][0] - p[0][0], 0.003, 1e-8);
        assert_close(p[1][1] - p[0][1], 0.002, 1e-8);
        assert_close(p[1][2] - p[0][2], 0.0, 1e-12);
    }

    #[test]
    fn header_is_optional_and_checked_when_present() {
        let (with, _) = read(
            &format!("{TENV3_HEADER}\n{CHAN_LINE}\n"),
            &Tenv3Options::default(),
        )
        .unwrap();
        let (without, _) = read(&format!("{CHAN_LINE}\n"), &Tenv3Options::default()).unwrap();
        assert_eq!(with, without);
        // NGL pads the names with underscores differently in some files: padding is ignored.
        let padded = TENV3_HEADER
            .replace("__MJD", "MJD")
            .replace("_e0(m)", "__e0(m)");
        assert!(
            read(
                &format!("{padded}\n{CHAN_LINE}\n"),
                &Tenv3Options::default()
            )
            .is_ok()
        );
        let wrong = "site date east north up\n";
        let err = read(&format!("{wrong}{CHAN_LINE}\n"), &Tenv3Options::default()).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { line: 1, field, .. } if field == "header"),
            "{err}"
        );
    }

    #[test]
    fn bad_line_names_file_line_and_field() {
        let bad_east = CHAN_LINE
            .replace("0.388316", "0.38x316")
            .replace("00OCT10", "00OCT11")
            .replace("51827", "51828");
        let text = format!("{TENV3_HEADER}\n{CHAN_LINE}\n{bad_east}\n");
        let (_dir, path) = file(&text);
        let err = read_tenv3(&path, &Tenv3Options::default()).unwrap_err();
        match &err {
            Error::Parse {
                path: p,
                line,
                field,
                message,
            } => {
                assert_eq!(p, &path);
                assert_eq!(*line, 3);
                assert_eq!(field, "east");
                assert!(message.contains("0.38x316"), "{message}");
            }
            other => panic!("expected a parse error, got {other}"),
        }
        assert!(
            err.to_string().contains("test.tenv3:3: field `east`"),
            "{err}"
        );
    }

    #[test]
    fn each_kind_of_bad_line_is_caught() {
        // The YYMMMDD text says 11 October while MJD 51827 is 10 October.
        let wrong_date = CHAN_LINE.replace("00OCT10", "00OCT11");
        // 15 fields: the line ends before column 16, sig_n.
        let short: Vec<&str> = CHAN_LINE.split_whitespace().take(15).collect();
        let other_site = CHAN_LINE
            .replace("CHAN", "IRKJ")
            .replace("00OCT10", "00OCT12")
            .replace("51827", "51829");
        let far_north = CHAN_LINE.replace(" 43.7906870848", " 93.7906870848");
        let cases = [
            (wrong_date, "YYMMMDD", RowProblem::Malformed),
            (short.join(" "), "sig_n", RowProblem::Missing),
            (format!("{CHAN_LINE} 7"), "line", RowProblem::Malformed),
            (
                CHAN_LINE.replace("51827", "518.27"),
                "MJD",
                RowProblem::Malformed,
            ),
            (
                CHAN_LINE.replace("-0.017137", "nan"),
                "corr_eu",
                RowProblem::Malformed,
            ),
            (far_north, "latitude", RowProblem::OutOfRange),
            // A repeated day: same line twice.
            (CHAN_LINE.to_string(), "MJD", RowProblem::Malformed),
            (other_site, "site", RowProblem::Malformed),
        ];
        for (bad, field, problem) in cases {
            // Line 1 header, line 2 good, line 3 bad.
            let text = format!("{TENV3_HEADER}\n{CHAN_LINE}\n{bad}\n");
            let err = read(&text, &Tenv3Options::default()).unwrap_err();
            assert!(
                matches!(&err, Error::Parse { line: 3, field: f, .. } if f == field),
                "{bad}: {err}"
            );
            let (series, report) = read(&text, &lenient()).unwrap();
            assert_eq!(series.len(), 1, "{bad}");
            let reason = SkipReason {
                field: field.to_string(),
                problem,
            };
            assert_eq!(
                report.skipped.get(&reason).map(|s| s.first_lines.clone()),
                Some(vec![3]),
                "{bad}: {report}"
            );
        }
    }

    #[test]
    fn lenient_mode_counts_what_it_skips() {
        // Lines: 1 header; 2 good; 3 bad east; 4 blank; 5 date mismatch; 6 good; 7 bad east:
        // five data lines, two of them good.
        let good2 = CHAN_LINE
            .replace("00OCT10", "00OCT13")
            .replace("51827", "51830");
        let bad3 = CHAN_LINE
            .replace("0.388316", "x")
            .replace("00OCT10", "00OCT11")
            .replace("51827", "51828");
        let bad5 = CHAN_LINE.replace("00OCT10", "00NOV10");
        let bad7 = bad3.replace("00OCT11", "00OCT14").replace("51828", "51831");
        let text = format!("{TENV3_HEADER}\n{CHAN_LINE}\n{bad3}\n\n{bad5}\n{good2}\n{bad7}\n");
        let (series, report) = read(&text, &lenient()).unwrap();
        assert_eq!(series.dates(), [day("2000-10-10"), day("2000-10-13")]);
        assert_eq!(
            (
                report.lines,
                report.days,
                report.blank_lines,
                report.skipped_total()
            ),
            (5, 2, 1, 3)
        );
        let east = &report.skipped[&SkipReason {
            field: "east".into(),
            problem: RowProblem::Malformed,
        }];
        assert_eq!((east.count, east.first_lines.clone()), (2, vec![3, 7]));
        let summary = report.to_string();
        assert!(
            summary.contains("skipped 3 bad lines")
                && summary.contains("east malformed: 2 at lines 3, 7"),
            "{summary}"
        );
        // Without good lines there is no station, lenient or not.
        let err = read(&format!("{TENV3_HEADER}\n{bad3}\n"), &lenient()).unwrap_err();
        assert!(matches!(err, Error::Parse { .. }), "{err}");
    }

    #[test]
    fn a_short_file_takes_its_position_from_the_station_list() {
        let entry = StationEntry {
            station: Station {
                name: "COVE".into(),
                latitude: 36.3,
                longitude: -112.8,
                height_m: 1688.0,
            },
            data_begin: day("2000-01-01"),
            data_end: day("2020-01-01"),
            modified: None,
            solutions: 7000,
            original_name: None,
        };
        let list = [entry.clone()];
        let options = Tenv3Options {
            station_list: Some(&list),
            ..Tenv3Options::default()
        };
        let (series, _) = read(&format!("{COVE_LINE}\n"), &options).unwrap();
        assert_eq!(series.station(), &entry.station);
        assert_eq!(series.dates(), [day("2010-07-28")]);
        let [e, n, u] = series.positions()[0];
        // -3815 + -0.41548, 4276712 + 0.86481, 1687 + 0.35637.
        assert_close(e, -3815.41548, 1e-9);
        assert_close(n, 4276712.86481, 1e-8);
        assert_close(u, 1687.35637, 1e-9);

        let err = read(&format!("{COVE_LINE}\n"), &Tenv3Options::default()).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { line: 1, field, .. } if field == "site"),
            "{err}"
        );
        assert!(err.to_string().contains("no station list"), "{err}");
        let other = [StationEntry {
            station: Station {
                name: "LHAS".into(),
                ..entry.station.clone()
            },
            ..entry
        }];
        let options = Tenv3Options {
            station_list: Some(&other),
            ..Tenv3Options::default()
        };
        let err = read(&format!("{COVE_LINE}\n"), &options).unwrap_err();
        assert!(err.to_string().contains("not in the station list"), "{err}");
    }

    fn station(name: &str, longitude: f64) -> Station {
        Station {
            name: name.into(),
            latitude: 29.6573392384,
            longitude,
            height_m: 3624.70788,
        }
    }

    #[test]
    fn write_then_read_gives_the_same_series() {
        let samples = vec![
            (day("1999-12-31"), [0.0, 0.0, 0.0]),
            (day("2000-01-01"), [-0.0123, 0.5, -1.25]),
            // A jump of more than 10 m re-initialises the integer parts.
            (day("2000-01-02"), [15.3, -20.7, 0.004]),
            (day("2010-07-28"), [385.888603, 3282129.602585, 3624.707878]),
            (day("2024-02-29"), [-7.999999, 1e6 + 0.25, -0.000001]),
        ];
        let series = StationSeries::new(station("LHAS", 91.1039857924), samples).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out").join("LHAS.tenv3");
        write_tenv3(&path, &series).unwrap();
        let (back, report) = read_tenv3_with_report(&path, &Tenv3Options::default()).unwrap();
        assert_eq!(report.skipped_total(), 0);
        assert_eq!(back.dates(), series.dates());
        for (a, b) in back.positions().iter().zip(series.positions()) {
            for k in 0..3 {
                assert_close(a[k], b[k], 1e-5);
            }
        }
        let s = back.station();
        assert_eq!(s.name, "LHAS");
        assert_close(s.latitude, 29.6573392384, 1e-10);
        assert_close(s.longitude, 91.1039857924, 1e-10);
        assert_close(s.height_m, 3624.70788, 1e-5);

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], TENV3_HEADER);
        assert!(lines.iter().all(|l| l.split_whitespace().count() == 23));
        // 2010-07-28: NGL's README gives 10JUL28 2010.5708 55405 and GPS week 1594; it was a
        // Wednesday, day 3. The reference meridian is 91.104 rounded to 0.1.
        let fields: Vec<&str> = lines[4].split_whitespace().collect();
        assert_eq!(
            fields[1..8],
            ["10JUL28", "2010.5708", "55405", "1594", "3", "91.1", "385"]
        );
        assert_eq!(
            fields[14..20],
            [
                "0.001000", "0.001000", "0.004000", "0.000000", "0.000000", "0.000000"
            ]
        );
        // The day after the 10 m jump starts new integer parts: 15, -20, 0.
        let jump: Vec<&str> = lines[3].split_whitespace().collect();
        assert_eq!([jump[7], jump[9], jump[11]], ["15", "-20", "0"]);
    }

    #[test]
    fn small_negative_values_are_a_zero_integer_and_a_negative_fraction() {
        let samples = vec![(day("2020-01-01"), [-0.5, 0.25, -0.004])];
        let series = StationSeries::new(station("NEGV", 140.04), samples).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("NEGV.tenv3");
        write_tenv3(&path, &series).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let fields: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(
            fields[6..13],
            ["140.0", "0", "-0.500000", "0", "0.250000", "0", "-0.004000"]
        );
    }

    #[test]
    fn names_that_cannot_be_read_back_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["", "TWO WORDS"] {
            let series = StationSeries::new(station(name, 0.0), vec![]).unwrap();
            assert!(
                write_tenv3(&dir.path().join("x.tenv3"), &series).is_err(),
                "{name:?}"
            );
        }
    }

    #[test]
    fn date_edges_and_yymmmdd_checks_agree_with_jiff() {
        // The last and first days jiff holds, and one beyond each.
        let last = mjd_from_date(day("9999-12-31"));
        let first = mjd_from_date(day("-009999-01-01"));
        assert_eq!(date_from_mjd(last), Some(day("9999-12-31")));
        assert_eq!(date_from_mjd(last + 1), None);
        assert_eq!(date_from_mjd(first), Some(day("-009999-01-01")));
        assert_eq!(date_from_mjd(first - 1), None);
        assert_eq!(date_from_mjd(i64::MIN), None);
        for mjd in (first..=last).step_by(1013) {
            let date = date_from_mjd(mjd).unwrap();
            assert_eq!(mjd_from_date(date), mjd);
            let written = yymmmdd(date);
            assert!(is_yymmmdd(&written, date), "{written}");
            assert!(is_yymmmdd(&written.to_lowercase(), date), "{written}");
            let next = date.tomorrow().or_else(|_| date.yesterday()).unwrap();
            assert!(!is_yymmmdd(&written, next), "{written} {next}");
        }
        for not_a_date in ["", "95MAY1", "95MAY190", "9SMAY19", "95MAI19", "95MAY1x"] {
            assert!(!is_yymmmdd(not_a_date, day("1995-05-19")), "{not_a_date}");
        }
    }

    #[test]
    fn fields_split_as_split_whitespace_splits_them() {
        let mut fields = Vec::new();
        for line in [
            "",
            "   \n",
            "CHAN 00OCT10  2000.7748\t51827\r\n",
            "a\u{0B}b\u{0C}c\rd",
            "  lead and trail  ",
            "non\u{A0}breaking\u{3000}space é x",
            "one",
        ] {
            split_fields(line, &mut fields);
            let expected: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields, expected, "{line:?}");
        }
    }

    #[test]
    fn random_lines_across_blocks_split_as_split_whitespace_splits_them() {
        use rand::Rng;
        // Fields and runs of white space that straddle the 64-byte blocks, control characters
        // that are not white space (one of them just below the space), DEL and two non-ASCII
        // spaces.
        let alphabet = [
            "a", "7", ".", "-", " ", " ", "\t", "\n", "\u{0B}", "\r", "\u{01}", "\u{1F}", "\u{7F}",
            "\u{85}", "\u{A0}", "é",
        ];
        let mut rng = crate::rng::stream(19, "tenv3 fields");
        for _ in 0..20_000 {
            let mut fields = Vec::new();
            let len = rng.random_range(0..200);
            // Mostly ASCII lines, so that the bit masks do the splitting.
            let top = if rng.random_range(0..4) == 0 {
                alphabet.len()
            } else {
                10
            };
            let line: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..top)])
                .collect();
            split_fields(&line, &mut fields);
            let expected: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields, expected, "{line:?}");
        }
    }

    #[test]
    fn separator_masks_agree_on_plain_blocks() {
        use rand::Rng;
        // The plain bytes: the six ASCII white space characters and `!` to `~`.
        let plain: Vec<u8> = (b'\t'..=b'\r').chain([b' ']).chain(b'!'..=b'~').collect();
        let mut rng = crate::rng::stream(19, "tenv3 separator masks");
        for _ in 0..2_000 {
            let block: [u8; 64] = std::array::from_fn(|_| plain[rng.random_range(0..plain.len())]);
            assert_eq!(
                separator_mask(&block),
                separator_mask_swar(&block),
                "{block:?}"
            );
        }
    }

    #[test]
    fn in_a_directory_the_first_failure_in_name_order_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let good = |name: &str| {
            StationSeries::new(
                station(name, 140.0),
                vec![(day("2020-01-01"), [1.0, 2.0, 3.0])],
            )
            .unwrap()
        };
        // Ten good files, then a repeated station (in `k`), then a malformed file (in `m`): the
        // repeat comes first in name order, so it is the error, however the reading is shared.
        for (i, name) in ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"]
            .iter()
            .enumerate()
        {
            write_tenv3(&dir.path().join(format!("{i}.tenv3")), &good(name)).unwrap();
        }
        write_tenv3(&dir.path().join("k.tenv3"), &good("C")).unwrap();
        std::fs::write(dir.path().join("m.tenv3"), "no tenv3 line\n").unwrap();
        for _ in 0..5 {
            let err = read_tenv3_dir(dir.path(), &Tenv3Options::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("2.tenv3") && err.contains("k.tenv3"), "{err}");
        }
        std::fs::remove_file(dir.path().join("k.tenv3")).unwrap();
        let err = read_tenv3_dir(dir.path(), &Tenv3Options::default()).unwrap_err();
        assert!(
            matches!(&err, Error::Parse { path, line: 1, .. } if path.ends_with("m.tenv3")),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("m.tenv3")).unwrap();
        let (set, report) = read_tenv3_dir(dir.path(), &Tenv3Options::default()).unwrap();
        let files: Vec<String> = report
            .files
            .iter()
            .map(|r| r.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let expected: Vec<String> = (0..10).map(|i| format!("{i}.tenv3")).collect();
        assert_eq!(files, expected);
        assert_eq!(set.series().len(), 10);
    }

    #[test]
    fn a_directory_becomes_one_station_set() {
        let dir = tempfile::tempdir().unwrap();
        let a = StationSeries::new(
            station("BBBB", 140.0),
            vec![(day("2020-01-01"), [1.0, 2.0, 3.0])],
        )
        .unwrap();
        let b = StationSeries::new(
            station("AAAA", -170.0),
            vec![(day("2020-01-01"), [0.0; 3]), (day("2020-01-02"), [0.0; 3])],
        )
        .unwrap();
        write_tenv3(&dir.path().join("one.tenv3"), &a).unwrap();
        write_tenv3(&dir.path().join("two.tenv3"), &b).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a series").unwrap();
        let (set, report) = read_tenv3_dir(dir.path(), &Tenv3Options::default()).unwrap();
        let names: Vec<&str> = set
            .series()
            .iter()
            .map(|s| s.station().name.as_str())
            .collect();
        assert_eq!(names, ["AAAA", "BBBB"]);
        assert_eq!(
            (report.files.len(), report.days(), report.skipped_total()),
            (2, 3, 0)
        );
        // The same station twice is refused, naming both files.
        write_tenv3(&dir.path().join("three.tenv3"), &a).unwrap();
        let err = read_tenv3_dir(dir.path(), &Tenv3Options::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("one.tenv3") && err.contains("three.tenv3"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_tenv3_dir(empty.path(), &Tenv3Options::default()),
            Err(Error::Io { .. })
        ));
    }
}
