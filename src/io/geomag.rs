//! Magnetometer records: INTERMAGNET IAGA-2002 files, quakelab's station series CSV, station
//! metadata, and the daily field the second method (papers.md §B) works on.
//!
//! # IAGA-2002
//!
//! INTERMAGNET's exchange format, one file per station and day (minute data) or per station
//! and hour or day (second data). [`read_iaga2002`] reads
//!
//! - **header records**, ` Key  value |` padded to 70 columns: the key is the text before the
//!   first run of two or more spaces, the value the rest up to the closing `|`. Keys are matched
//!   without regard to case. `Format`, `IAGA CODE`, `Geodetic Latitude`, `Geodetic Longitude`
//!   and `Reported` must be present; every record is kept in [`IagaFile::header`].
//! - **comment records**, starting with ` #`, passed over.
//! - **the column header**, `DATE TIME DOY BOUH BOUD BOUZ BOUF |`: a column's component is the
//!   last letter of its name, and the four letters must be those of `Reported` (e.g. `HDZF`,
//!   `XYZF`, `HEZF`, `XYZG`), in that order.
//! - **data records**, `2014-11-01 00:00:00.000 305 20873.75 -9.99 47477.30 52397.33`: date,
//!   UTC time, day of year (checked against the date) and the four values. IAGA's missing-value
//!   codes, `99999.00` (missing) and `88888.00` (not recorded, e.g. `F` of a vector-only
//!   instrument), and any value that rounds to either, become `NaN` and are counted per
//!   component in [`IagaFile::missing`].
//!
//! The cadence ([`Cadence`]) comes from the time stamps: every step between records must be a
//! positive whole number of minutes (minute data, all stamps on the minute) or seconds (second
//! data). A `Data Interval Type` record that names a cadence (`1-minute`, `1-second`, `minute`,
//! `second`) must agree with it. The geodetic longitude may be written in `[0, 360)`; it is
//! normalised to `[-180, 180)` by [`crate::geo::normalize_longitude`].
//!
//! A bad number, a bad time, a missing header record, a record with the wrong number of fields
//! and a time that does not move forward are [`Error::Parse`] errors naming the file, the 1-based
//! line and the field.
//!
//! # The station series CSV
//!
//! quakelab's plain series format, what `quakelab geomag read` writes and [`read_series_csv`]
//! reads:
//!
//! ```text
//! station,time,H,D,Z,F
//! BOU,2014-11-01T00:00:00Z,20873.75,-9.99,47477.3,52397.33
//! BOU,2014-11-01T00:01:00Z,20873.82,-10,47477.23,
//! ```
//!
//! - the header is `station,time`, then one column per component, each named by one ASCII
//!   letter (`H`, `D`, `Z`, `F`, `X`, `Y`, `E`, `G`, ...), no letter twice;
//! - `time` is UTC, RFC 3339 (`2014-11-01T00:00:00Z`, offsets allowed) or
//!   `YYYY-MM-DD HH:MM:SS` (read as UTC); the writer writes RFC 3339 in UTC;
//! - values are in the file's units (nT; `D` in minutes of arc as IAGA-2002 gives it); an empty
//!   field is a missing value;
//! - fields are not quoted, so station codes hold no commas;
//! - the rows of one station are in strictly increasing time; stations may follow each other
//!   or interleave.
//!
//! # Station metadata CSV
//!
//! `station,latitude,longitude` (`code`, `lat` and `lon` are accepted too; other columns are
//! ignored), degrees north and east, longitude in `[-180, 360)`, normalised to `[-180, 180)`.
//!
//! # The daily field
//!
//! [`daily_field`] turns series into one value per station and day: the mean of a component's
//! samples in each UTC day of a period (see [`daily_field`] for the total intensity `F`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::geo::normalize_longitude;
use crate::geomag::{DailyField, GeomagStation};
use crate::io::write_atomic;
use crate::period::Period;
use crate::{Error, Result};

/// The header keys an IAGA-2002 file must have.
const REQUIRED_KEYS: [&str; 5] = [
    "Format",
    "IAGA CODE",
    "Geodetic Latitude",
    "Geodetic Longitude",
    "Reported",
];

/// The number of values in an IAGA-2002 data record (and letters in `Reported`).
const IAGA_COMPONENTS: usize = 4;

/// How often an IAGA-2002 file samples the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// One record per minute, stamped on the minute.
    Minute,
    /// One record per second.
    Second,
}

impl Cadence {
    /// Seconds between consecutive records.
    pub fn seconds(self) -> i64 {
        match self {
            Cadence::Minute => 60,
            Cadence::Second => 1,
        }
    }

    /// Records in a complete UTC day (1440 or 86,400).
    pub fn per_day(self) -> usize {
        (86_400 / self.seconds()) as usize
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cadence::Minute => "minute",
            Cadence::Second => "second",
        })
    }
}

/// One IAGA-2002 file as read.
#[derive(Debug, Clone, PartialEq)]
pub struct IagaFile {
    /// The file read.
    pub path: PathBuf,
    /// The observatory: `IAGA CODE`, geodetic latitude and longitude (normalised).
    pub station: GeomagStation,
    /// The components in column order, as `Reported` spells them (e.g. `H`, `D`, `Z`, `F`).
    pub components: Vec<char>,
    /// Minute or second data.
    pub cadence: Cadence,
    /// The record times, strictly increasing.
    pub times: Vec<Timestamp>,
    /// The values per component (`values[c][i]` is component `c` at `times[i]`), `NaN` where
    /// the file has a missing-value code.
    pub values: Vec<Vec<f64>>,
    /// The missing-value codes read, per component.
    pub missing: Vec<usize>,
    /// Every header record, `(key, value)`, in file order (comments excluded).
    pub header: Vec<(String, String)>,
    /// The 1-based line of the `Reported` record, for messages about the components.
    pub reported_line: u64,
    /// Blank lines passed over.
    pub blank_lines: usize,
}

impl IagaFile {
    /// The value of header record `key` (case-insensitive), if present.
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// All missing values, every component together.
    pub fn n_missing(&self) -> usize {
        self.missing.iter().sum()
    }
}

/// Whether an IAGA-2002 value is one of the missing-value codes 88888 and 99999 (any value that
/// rounds to either, e.g. `99999.00`).
pub fn is_missing_code(value: f64) -> bool {
    let rounded = value.round();
    rounded == 88_888.0 || rounded == 99_999.0
}

/// A header record's key and value: the key runs to the first run of two spaces, the value from
/// there to the closing `|`.
fn split_header_record(text: &str) -> (String, String) {
    let body = text.trim_end();
    let body = body.strip_suffix('|').unwrap_or(body).trim();
    match body.split_once("  ") {
        Some((key, value)) => (key.trim().to_string(), value.trim().to_string()),
        None => (body.to_string(), String::new()),
    }
}

/// Parses an IAGA-2002 date and time (`2014-11-01`, `00:00:00.000`) as UTC.
fn parse_utc(date: &str, time: &str) -> std::result::Result<Timestamp, String> {
    let civil: DateTime = format!("{date}T{time}")
        .parse()
        .map_err(|e| format!("`{date} {time}` is not a date and time: {e}"))?;
    civil
        .to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| format!("`{date} {time}` is out of range: {e}"))
}

/// Reads an IAGA-2002 file (minute or second data); see the module documentation.
pub fn read_iaga2002(path: &Path) -> Result<IagaFile> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = BufReader::new(file);
    let mut header: Vec<(String, String)> = Vec::new();
    let mut header_lines: Vec<u64> = Vec::new();
    let mut columns: Option<(u64, Vec<char>)> = None;
    let mut times: Vec<Timestamp> = Vec::new();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); IAGA_COMPONENTS];
    let mut missing = vec![0usize; IAGA_COMPONENTS];
    let mut blank_lines = 0usize;
    let mut reported: Option<(u64, Vec<char>)> = None;
    let mut line_number = 0u64;
    for line in reader.lines() {
        let line = line.map_err(|e| Error::io(path, e))?;
        line_number += 1;
        if line.trim().is_empty() {
            blank_lines += 1;
            continue;
        }
        if columns.is_none() {
            if line.starts_with(" #") {
                continue;
            }
            if line.starts_with("DATE") {
                let names: Vec<&str> = line
                    .trim_end()
                    .trim_end_matches('|')
                    .split_whitespace()
                    .collect();
                let bad =
                    |message: String| Error::parse(path, line_number, "column header", message);
                if names.len() != 3 + IAGA_COMPONENTS || names[..3] != ["DATE", "TIME", "DOY"] {
                    return Err(bad(format!(
                        "expected `DATE TIME DOY` and {IAGA_COMPONENTS} component columns, found `{}`",
                        names.join(" ")
                    )));
                }
                let letters: Vec<char> = names[3..]
                    .iter()
                    .map(|n| n.chars().last().unwrap_or(' '))
                    .collect();
                columns = Some((line_number, letters));
                continue;
            }
            let (key, value) = split_header_record(&line);
            if key.eq_ignore_ascii_case("Reported") {
                reported = Some((line_number, value.chars().collect()));
            }
            header.push((key, value));
            header_lines.push(line_number);
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 3 + IAGA_COMPONENTS {
            return Err(Error::parse(
                path,
                line_number,
                "record",
                format!(
                    "a data record has {} fields (DATE TIME DOY and {IAGA_COMPONENTS} values), found {}",
                    3 + IAGA_COMPONENTS,
                    fields.len()
                ),
            ));
        }
        let time = parse_utc(fields[0], fields[1])
            .map_err(|m| Error::parse(path, line_number, "TIME", m))?;
        let doy: i16 = fields[2].parse().map_err(|_| {
            Error::parse(
                path,
                line_number,
                "DOY",
                format!("`{}` is not a day of the year", fields[2]),
            )
        })?;
        let expected_doy = time.to_zoned(TimeZone::UTC).date().day_of_year();
        if doy != expected_doy {
            return Err(Error::parse(
                path,
                line_number,
                "DOY",
                format!(
                    "day of year {doy} does not match the date {} (day {expected_doy})",
                    fields[0]
                ),
            ));
        }
        if let Some(&previous) = times.last()
            && time <= previous
        {
            return Err(Error::parse(
                path,
                line_number,
                "TIME",
                format!("time {time} does not come after the previous record's {previous}"),
            ));
        }
        for (c, text) in fields[3..].iter().enumerate() {
            let value: f64 = text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    Error::parse(
                        path,
                        line_number,
                        columns
                            .as_ref()
                            .and_then(|(_, letters)| letters.get(c))
                            .map_or("value".to_string(), char::to_string),
                        format!("`{text}` is not a number"),
                    )
                })?;
            if is_missing_code(value) {
                missing[c] += 1;
                values[c].push(f64::NAN);
            } else {
                values[c].push(value);
            }
        }
        times.push(time);
    }

    let Some((columns_line, letters)) = columns else {
        return Err(Error::parse(
            path,
            line_number,
            "column header",
            "no column header (`DATE TIME DOY ...`) found: not an IAGA-2002 file",
        ));
    };
    let value_of = |key: &str| -> Result<(u64, &str)> {
        header
            .iter()
            .zip(&header_lines)
            .find(|((k, _), _)| k.eq_ignore_ascii_case(key))
            .map(|((_, v), &line)| (line, v.as_str()))
            .ok_or_else(|| {
                Error::parse(
                    path,
                    columns_line,
                    key,
                    format!("the header has no `{key}` record (IAGA-2002 requires it)"),
                )
            })
    };
    for key in REQUIRED_KEYS {
        value_of(key)?;
    }
    let (format_line, format) = value_of("Format")?;
    if !format.eq_ignore_ascii_case("IAGA-2002") {
        return Err(Error::parse(
            path,
            format_line,
            "Format",
            format!("`{format}` is not IAGA-2002"),
        ));
    }
    let (_, code) = value_of("IAGA CODE")?;
    let code = code.to_string();
    let degrees = |key: &str, range: std::ops::RangeInclusive<f64>| -> Result<f64> {
        let (line, text) = value_of(key)?;
        text.parse::<f64>()
            .ok()
            .filter(|v| range.contains(v))
            .ok_or_else(|| {
                Error::parse(
                    path,
                    line,
                    key,
                    format!(
                        "`{text}` is not a number of degrees in [{}, {}]",
                        range.start(),
                        range.end()
                    ),
                )
            })
    };
    let latitude = degrees("Geodetic Latitude", -90.0..=90.0)?;
    let longitude = normalize_longitude(degrees("Geodetic Longitude", -180.0..=360.0)?);
    let (reported_line, reported_letters) = reported.unwrap_or_default();
    if reported_letters != letters {
        return Err(Error::parse(
            path,
            reported_line,
            "Reported",
            format!(
                "reports `{}` but the columns are for `{}` (last letter of each column name)",
                reported_letters.iter().collect::<String>(),
                letters.iter().collect::<String>()
            ),
        ));
    }
    if let Some(letter) = letters
        .iter()
        .enumerate()
        .find(|(i, l)| !l.is_ascii_alphabetic() || letters[..*i].contains(l))
        .map(|(_, l)| *l)
    {
        return Err(Error::parse(
            path,
            reported_line,
            "Reported",
            format!(
                "`{}`: component `{letter}` is not a letter or appears twice",
                letters.iter().collect::<String>()
            ),
        ));
    }
    let cadence = cadence_of(path, &times, columns_line)?;
    let interval = value_of("Data Interval Type").ok();
    if let Some((line, text)) = interval
        && let Some(named) = named_cadence(text)
        && Some(named) != cadence
    {
        return Err(Error::parse(
            path,
            line,
            "Data Interval Type",
            format!(
                "says {named} data, but the time stamps are {}",
                cadence.map_or("a single record".to_string(), |c| format!("{c} data"))
            ),
        ));
    }
    let cadence = match (cadence, interval.and_then(|(_, t)| named_cadence(t))) {
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => {
            return Err(Error::parse(
                path,
                columns_line,
                "Data Interval Type",
                "a single record and no `Data Interval Type` naming the cadence: cannot tell minute from second data",
            ));
        }
    };
    Ok(IagaFile {
        path: path.to_path_buf(),
        station: GeomagStation {
            code,
            latitude,
            longitude,
        },
        components: letters,
        cadence,
        times,
        values,
        missing,
        header,
        reported_line,
        blank_lines,
    })
}

/// The cadence a `Data Interval Type` value names, if it names one.
fn named_cadence(text: &str) -> Option<Cadence> {
    let text = text.to_ascii_lowercase();
    if text.contains("second") {
        Some(Cadence::Second)
    } else if text.contains("minute") {
        Some(Cadence::Minute)
    } else {
        None
    }
}

/// The cadence of the record times (`None` for fewer than two records): minute data when every
/// stamp is on the minute and every step a whole number of minutes, second data when every stamp
/// is a whole second and the smallest step is one second.
fn cadence_of(path: &Path, times: &[Timestamp], columns_line: u64) -> Result<Option<Cadence>> {
    if times.len() < 2 {
        return Ok(None);
    }
    let line_of = |i: usize| columns_line + 1 + i as u64;
    if let Some(i) = times.iter().position(|t| t.subsec_nanosecond() != 0) {
        return Err(Error::parse(
            path,
            line_of(i),
            "TIME",
            format!(
                "{} is not on a whole second (only minute and second data are read)",
                times[i]
            ),
        ));
    }
    let smallest = times
        .windows(2)
        .map(|w| w[1].as_second() - w[0].as_second())
        .min()
        .unwrap_or(0);
    let cadence = match smallest {
        1 => Cadence::Second,
        60 => Cadence::Minute,
        other => {
            return Err(Error::parse(
                path,
                columns_line,
                "TIME",
                format!(
                    "the smallest step between records is {other} s; only minute (60 s) and second (1 s) data are read"
                ),
            ));
        }
    };
    if cadence == Cadence::Minute
        && let Some(i) = times.iter().position(|t| t.as_second() % 60 != 0)
    {
        return Err(Error::parse(
            path,
            line_of(i),
            "TIME",
            format!("{} is not on the minute in minute data", times[i]),
        ));
    }
    Ok(Some(cadence))
}

/// One station's series: its components and their values at each time.
#[derive(Debug, Clone, PartialEq)]
pub struct GeomagSeries {
    /// The station code.
    pub station: String,
    /// The component letters, in column order.
    pub components: Vec<char>,
    /// Sample times, strictly increasing.
    pub times: Vec<Timestamp>,
    /// Values per component (`values[c][i]`), `NaN` where missing.
    pub values: Vec<Vec<f64>>,
}

impl GeomagSeries {
    /// Missing values over every component.
    pub fn n_missing(&self) -> usize {
        self.values.iter().flatten().filter(|v| v.is_nan()).count()
    }

    /// The column of component `letter`, if the series has it.
    pub fn component(&self, letter: char) -> Option<&[f64]> {
        self.components
            .iter()
            .position(|&c| c == letter)
            .map(|c| self.values[c].as_slice())
    }
}

/// The series of IAGA-2002 files, one per station in order of first appearance: the files of one
/// station are concatenated in time order.
///
/// Refuses files whose components differ (the series CSV has one header; convert them
/// separately), and two files of one station whose times overlap.
pub fn series_from_iaga(files: &[IagaFile]) -> Result<Vec<GeomagSeries>> {
    let Some(first) = files.first() else {
        return Ok(Vec::new());
    };
    for file in &files[1..] {
        if file.components != first.components {
            return Err(Error::parse(
                &file.path,
                file.reported_line,
                "Reported",
                format!(
                    "reports components {} but {} reports {}; a series CSV has one set of \
                     component columns, so convert files with different components separately",
                    letters(&file.components),
                    first.path.display(),
                    letters(&first.components)
                ),
            ));
        }
    }
    let mut order: Vec<&str> = Vec::new();
    let mut by_station: BTreeMap<&str, Vec<&IagaFile>> = BTreeMap::new();
    for file in files {
        let code = file.station.code.as_str();
        if !by_station.contains_key(code) {
            order.push(code);
        }
        by_station.entry(code).or_default().push(file);
    }
    let mut series = Vec::with_capacity(order.len());
    for code in order {
        let mut parts = by_station.remove(code).unwrap_or_default();
        parts.sort_by_key(|f| f.times.first().copied());
        let mut out = GeomagSeries {
            station: code.to_string(),
            components: first.components.clone(),
            times: Vec::new(),
            values: vec![Vec::new(); first.components.len()],
        };
        let mut last: Option<&IagaFile> = None;
        for part in parts {
            if let (Some(previous), Some(&end), Some(&start)) =
                (last, out.times.last(), part.times.first())
                && start <= end
            {
                return Err(Error::Numerical(format!(
                    "{}: station {code} starts at {start}, before {} ends at {end}; the files \
                     overlap",
                    part.path.display(),
                    previous.path.display()
                )));
            }
            out.times.extend_from_slice(&part.times);
            for (column, values) in out.values.iter_mut().zip(&part.values) {
                column.extend_from_slice(values);
            }
            last = Some(part);
        }
        series.push(out);
    }
    Ok(series)
}

/// Component letters as `H,D,Z,F`.
fn letters(components: &[char]) -> String {
    components
        .iter()
        .map(char::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes series as the station series CSV (see the module documentation), station by station.
///
/// Every series must have the same components (one header); a missing value is an empty field.
/// The file is written atomically.
pub fn write_series_csv(path: &Path, series: &[GeomagSeries]) -> Result<()> {
    let components = series
        .first()
        .map(|s| s.components.clone())
        .unwrap_or_default();
    if let Some(other) = series.iter().find(|s| s.components != components) {
        return Err(Error::Numerical(format!(
            "station {} has components {} and station {} has {}: one series CSV holds one set of \
             component columns",
            series[0].station,
            letters(&components),
            other.station,
            letters(&other.components)
        )));
    }
    write_atomic(path, |out| {
        write!(out, "station,time")?;
        for c in &components {
            write!(out, ",{c}")?;
        }
        writeln!(out)?;
        for s in series {
            for (i, time) in s.times.iter().enumerate() {
                write!(out, "{},{time}", s.station)?;
                for column in &s.values {
                    let v = column[i];
                    if v.is_nan() {
                        write!(out, ",")?;
                    } else {
                        write!(out, ",{v}")?;
                    }
                }
                writeln!(out)?;
            }
        }
        Ok(())
    })
}

/// Parses a series CSV time: RFC 3339, or `YYYY-MM-DD HH:MM:SS` as UTC.
fn parse_csv_time(text: &str) -> std::result::Result<Timestamp, String> {
    // A bare date would parse as midnight; the format asks for a time of day.
    let has_time = text.len() >= 19 && matches!(text.as_bytes()[10], b'T' | b't' | b' ');
    if has_time && let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    Some(text)
        .filter(|_| has_time)
        .and_then(|t| t.parse::<DateTime>().ok())
        .and_then(|dt| dt.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            format!("`{text}` is not an RFC 3339 time or a `YYYY-MM-DD HH:MM:SS` UTC time")
        })
}

/// The comma-separated fields of record `line` (line `line_number` of `path`), which must
/// number `expected`, as the header's.
fn record_fields<'a>(
    path: &Path,
    line_number: u64,
    line: &'a str,
    expected: usize,
) -> Result<Vec<&'a str>> {
    let fields: Vec<&str> = line.split(',').collect();
    if fields.len() != expected {
        return Err(Error::parse(
            path,
            line_number,
            "record",
            format!(
                "expected {expected} fields like the header, found {}",
                fields.len()
            ),
        ));
    }
    Ok(fields)
}

/// Reads a station series CSV (see the module documentation): one series per station, in order
/// of first appearance.
pub fn read_series_csv(path: &Path) -> Result<Vec<GeomagSeries>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| Error::parse(path, 1, "header", "the file is empty"))?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names.len() < 3 || names[0] != "station" || names[1] != "time" {
        return Err(Error::parse(
            path,
            1,
            "header",
            format!("expected `station,time,<component letters>`, found `{header}`"),
        ));
    }
    let mut components = Vec::new();
    for name in &names[2..] {
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() && !components.contains(&c) => {
                components.push(c)
            }
            _ => {
                return Err(Error::parse(
                    path,
                    1,
                    *name,
                    format!(
                        "a component column is named by one letter, not used twice; found `{name}`"
                    ),
                ));
            }
        }
    }
    let mut series: Vec<GeomagSeries> = Vec::new();
    for (index, line) in lines {
        let line_number = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields = record_fields(path, line_number, line, names.len())?;
        let station = fields[0].trim();
        if station.is_empty() {
            return Err(Error::parse(
                path,
                line_number,
                "station",
                "empty station code",
            ));
        }
        let time = parse_csv_time(fields[1].trim())
            .map_err(|m| Error::parse(path, line_number, "time", m))?;
        let position = match series.iter().position(|s| s.station == station) {
            Some(p) => p,
            None => {
                series.push(GeomagSeries {
                    station: station.to_string(),
                    components: components.clone(),
                    times: Vec::new(),
                    values: vec![Vec::new(); components.len()],
                });
                series.len() - 1
            }
        };
        let s = &mut series[position];
        if let Some(&previous) = s.times.last()
            && time <= previous
        {
            return Err(Error::parse(
                path,
                line_number,
                "time",
                format!(
                    "station {station}: {time} does not come after the previous row's {previous}"
                ),
            ));
        }
        for (c, text) in fields[2..].iter().enumerate() {
            let text = text.trim();
            let value = if text.is_empty() {
                f64::NAN
            } else {
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        Error::parse(
                            path,
                            line_number,
                            components[c].to_string(),
                            format!(
                                "`{text}` is not a number (leave the field empty when missing)"
                            ),
                        )
                    })?
            };
            s.values[c].push(value);
        }
        s.times.push(time);
    }
    Ok(series)
}

/// Reads a station metadata CSV (`station,latitude,longitude`; see the module documentation),
/// in file order. Refuses a station listed twice.
pub fn read_stations_csv(path: &Path) -> Result<Vec<GeomagStation>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| Error::parse(path, 1, "header", "the file is empty"))?;
    let names: Vec<String> = header
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let column = |aliases: &[&str], what: &str| -> Result<usize> {
        names
            .iter()
            .position(|n| aliases.contains(&n.as_str()))
            .ok_or_else(|| {
                Error::parse(
                    path,
                    1,
                    what,
                    format!(
                        "no `{what}` column (header `{header}`; accepted: {})",
                        aliases.join(", ")
                    ),
                )
            })
    };
    let code_at = column(&["station", "code"], "station")?;
    let lat_at = column(&["latitude", "lat"], "latitude")?;
    let lon_at = column(&["longitude", "lon"], "longitude")?;
    let mut stations: Vec<GeomagStation> = Vec::new();
    for (index, line) in lines {
        let line_number = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = record_fields(path, line_number, line, names.len())?
            .into_iter()
            .map(str::trim)
            .collect();
        let code = fields[code_at];
        if code.is_empty() {
            return Err(Error::parse(
                path,
                line_number,
                "station",
                "empty station code",
            ));
        }
        if stations.iter().any(|s| s.code == code) {
            return Err(Error::parse(
                path,
                line_number,
                "station",
                format!("station `{code}` is listed twice"),
            ));
        }
        let degrees = |at: usize, what: &str, within: &str, ok: fn(f64) -> bool| -> Result<f64> {
            fields[at]
                .parse::<f64>()
                .ok()
                .filter(|&v| ok(v))
                .ok_or_else(|| {
                    Error::parse(
                        path,
                        line_number,
                        what,
                        format!(
                            "`{}` is not a {what} in degrees within {within}",
                            fields[at]
                        ),
                    )
                })
        };
        let latitude = degrees(lat_at, "latitude", "[-90, 90]", |v| {
            (-90.0..=90.0).contains(&v)
        })?;
        let longitude = normalize_longitude(degrees(lon_at, "longitude", "[-180, 360)", |v| {
            (-180.0..360.0).contains(&v)
        })?);
        stations.push(GeomagStation {
            code: code.to_string(),
            latitude,
            longitude,
        });
    }
    Ok(stations)
}

/// What [`daily_field`] did with the samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyReport {
    /// The component averaged (`F` for total intensity, computed or read).
    pub component: char,
    /// How `F` was obtained per station (`read`, or the formula), in network order; empty for
    /// other components.
    pub intensity_from: Vec<String>,
    /// Samples averaged.
    pub samples_used: usize,
    /// Missing samples (`NaN`) inside the period.
    pub missing_samples: usize,
    /// Samples outside the period, not used.
    pub outside_period: usize,
    /// Station-days with fewer valid samples than the minimum, left `NaN`, in total.
    pub short_days: usize,
    /// The same per station, in network order.
    pub short_days_per_station: Vec<usize>,
}

impl fmt::Display for DailyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "daily means of {}: {} samples used, {} missing, {} outside the period; {} \
             station-days below the minimum sample count left missing",
            self.component,
            self.samples_used,
            self.missing_samples,
            self.outside_period,
            self.short_days
        )
    }
}

/// How the total intensity of a series is obtained.
enum Intensity {
    /// The series has an `F` column.
    Read(usize),
    /// `sqrt` of the sum of squares of these columns.
    Computed(Vec<usize>, &'static str),
}

/// Which columns give `F`: `F` itself, else `X,Y,Z`, else `H,E,Z`, else `H,Z` (with `D` an
/// angle, `H` and `Z` are the whole vector).
fn intensity_of(series: &GeomagSeries) -> Option<Intensity> {
    let at = |c: char| series.components.iter().position(|&x| x == c);
    if let Some(f) = at('F') {
        return Some(Intensity::Read(f));
    }
    let options: [(&[char], &'static str); 3] = [
        (&['X', 'Y', 'Z'], "sqrt(X²+Y²+Z²)"),
        (&['H', 'E', 'Z'], "sqrt(H²+E²+Z²)"),
        (&['H', 'Z'], "sqrt(H²+Z²)"),
    ];
    options.iter().find_map(|(letters, formula)| {
        let columns: Option<Vec<usize>> = letters.iter().map(|&c| at(c)).collect();
        columns.map(|c| Intensity::Computed(c, formula))
    })
}

/// The daily mean of one component per station over `period`: value `(d, s)` is the mean of
/// station `s`'s valid samples in UTC day `d` (`[start + d, start + d + 1)`), or `NaN` when it
/// has fewer than `min_samples_per_day` of them (counted in the report). The field's columns
/// follow `stations`.
///
/// `component` `F` is the total intensity: the series' `F` column when it has one, else
/// computed per sample as `sqrt(X²+Y²+Z²)`, `sqrt(H²+E²+Z²)` or `sqrt(H²+Z²)` (in that order of
/// preference; a sample with any of them missing is missing). Any other component must be one of
/// the series' columns.
///
/// Refuses `min_samples_per_day = 0`, a component a station's series lacks (naming the station
/// and its components), a station without a series, a series whose station is not in
/// `stations`, and two series of one station.
pub fn daily_field(
    series: &[GeomagSeries],
    stations: &[GeomagStation],
    component: char,
    period: &Period,
    min_samples_per_day: usize,
) -> Result<(DailyField, DailyReport)> {
    crate::ensure_config!(
        min_samples_per_day > 0,
        "min_samples_per_day",
        "must be at least 1"
    );
    for (i, s) in series.iter().enumerate() {
        if !stations.iter().any(|st| st.code == s.station) {
            return Err(Error::Numerical(format!(
                "station {} has a series but no position in the station list",
                s.station
            )));
        }
        if series[..i].iter().any(|o| o.station == s.station) {
            return Err(Error::Numerical(format!(
                "station {} has two series; merge them first",
                s.station
            )));
        }
    }
    let n_days = period.n_days();
    let n_stations = stations.len();
    let mut values = vec![f64::NAN; n_days * n_stations];
    let mut report = DailyReport {
        component,
        intensity_from: Vec::new(),
        samples_used: 0,
        missing_samples: 0,
        outside_period: 0,
        short_days: 0,
        short_days_per_station: vec![0; n_stations],
    };
    let start = period.start_timestamp().as_second();
    let end = period.end_timestamp().as_second();
    for (column, station) in stations.iter().enumerate() {
        let s = series
            .iter()
            .find(|s| s.station == station.code)
            .ok_or_else(|| Error::Numerical(format!("station {} has no series", station.code)))?;
        let sample: Box<dyn Fn(usize) -> f64> = if component == 'F' {
            match intensity_of(s) {
                Some(Intensity::Read(c)) => {
                    report.intensity_from.push("read".into());
                    let col = &s.values[c];
                    Box::new(move |i| col[i])
                }
                Some(Intensity::Computed(cols, formula)) => {
                    report.intensity_from.push(formula.into());
                    let cols: Vec<&[f64]> = cols.iter().map(|&c| s.values[c].as_slice()).collect();
                    Box::new(move |i| cols.iter().map(|c| c[i] * c[i]).sum::<f64>().sqrt())
                }
                None => {
                    return Err(Error::Numerical(format!(
                        "station {} has components {}: no F, and neither X,Y,Z nor H,E,Z nor H,Z \
                         to compute the total intensity from",
                        s.station,
                        letters(&s.components)
                    )));
                }
            }
        } else {
            let col = s.component(component).ok_or_else(|| {
                Error::Numerical(format!(
                    "station {} has components {}, not {component}; choose one of them (or F, \
                     the total intensity)",
                    s.station,
                    letters(&s.components)
                ))
            })?;
            Box::new(move |i| col[i])
        };
        let mut sums = vec![0.0f64; n_days];
        let mut counts = vec![0usize; n_days];
        for (i, t) in s.times.iter().enumerate() {
            let second = t.as_second();
            if second < start || second >= end {
                report.outside_period += 1;
                continue;
            }
            let v = sample(i);
            if v.is_nan() {
                report.missing_samples += 1;
                continue;
            }
            let day = ((second - start) / 86_400) as usize;
            sums[day] += v;
            counts[day] += 1;
            report.samples_used += 1;
        }
        for day in 0..n_days {
            if counts[day] >= min_samples_per_day {
                values[day * n_stations + column] = sums[day] / counts[day] as f64;
            } else {
                report.short_days += 1;
                report.short_days_per_station[column] += 1;
            }
        }
    }
    let field = DailyField::new(stations.to_vec(), *period, values)?;
    Ok((field, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_records_split_at_the_first_double_space() {
        let (k, v) = split_header_record(
            " Data Interval Type     filtered 1-minute (00:15-01:45)              |",
        );
        assert_eq!(
            (k.as_str(), v.as_str()),
            ("Data Interval Type", "filtered 1-minute (00:15-01:45)")
        );
        let (k, v) = split_header_record(
            " IAGA CODE              BOU                                          |",
        );
        assert_eq!((k.as_str(), v.as_str()), ("IAGA CODE", "BOU"));
    }

    #[test]
    fn missing_codes_are_the_two_iaga_values() {
        assert!(is_missing_code(99_999.0) && is_missing_code(88_888.0));
        assert!(is_missing_code(99_999.004) && is_missing_code(88_887.6));
        assert!(!is_missing_code(88_887.4) && !is_missing_code(52_397.33));
        assert!(!is_missing_code(-99_999.0));
    }

    #[test]
    fn interval_types_name_their_cadence() {
        assert_eq!(
            named_cadence("filtered 1-minute (00:15-01:45)"),
            Some(Cadence::Minute)
        );
        assert_eq!(named_cadence("1-second"), Some(Cadence::Second));
        assert_eq!(named_cadence("average"), None);
    }
}
