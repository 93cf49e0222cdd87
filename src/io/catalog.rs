//! Earthquake catalogs on disk: USGS ComCat CSV and generic CSV files with a column mapping.
//!
//! # Reading
//!
//! ```no_run
//! use std::path::Path;
//! use quakelab::io::catalog::{CatalogFormat, ReadOptions, read_catalog};
//!
//! let path = Path::new("../shared/data/catalogs/japan_comcat_1990-2019.csv");
//! let format = CatalogFormat::detect(path)?; // ComCat header, or a mapping inferred from the header
//! let (catalog, report) = read_catalog(path, &format, &ReadOptions::default())?;
//! println!("{report}");
//! # Ok::<(), quakelab::Error>(())
//! ```
//!
//! What the reader guarantees:
//!
//! - Times become UTC timestamps. A time written with a zone (`Z`, `+09:00`) keeps it; a time
//!   without one is read in the mapping's [`ColumnMapping::utc_offset`], UTC by default. Without a
//!   `time_format` the common layouts `YYYY-MM-DDTHH:MM:SS(.fff)(Z|±HH:MM)` and
//!   `YYYY-MM-DD HH:MM:SS(.fff)` are accepted, with or without zero padding of month, day and hour
//!   (the CENC list writes `2012-2-8 10:34:38`).
//!   Separate date and time columns (JMA) are joined: a mapping's `time = "date+time"` reads the
//!   two fields with a space between them, then parses that (with the `time_format`, if given).
//!   A time of day `24:00[:00]` (HORUS) is refused unless [`ColumnMapping::time_24h`] says
//!   [`Time24h::NextDay`]: 24:00:00 of day D is then 00:00:00 of D + 1.
//! - Longitudes are normalised to `[-180, 180)` (NGL and some catalogs use 0–360).
//! - Magnitudes must lie in the physical range [`crate::catalog::MIN_MAGNITUDE`] to
//!   [`crate::catalog::MAX_MAGNITUDE`] (−3 to 10.5); a fill value such as 1e10 is a bad row, never an event.
//! - Only the [`ReadOptions::event_types`] are kept (earthquakes by default): ComCat's `type`
//!   column also lists explosions, quarry blasts and the like. A row without a type is an
//!   earthquake. The report counts the rows left out per type.
//! - A bad row (blank magnitude, unparseable number or time, latitude beyond ±90, magnitude
//!   outside the physical range, missing field) is an [`Error::Parse`] naming the file, the 1-based line (the header is line 1) and the
//!   field. With [`ReadOptions::lenient`] it is skipped instead, and the [`ReadReport`] counts the
//!   skipped rows per reason with the first few line numbers. A blank magnitude is never read as
//!   zero.
//! - Events are filtered by [`ReadOptions::filter`] (region box, period, minimum magnitude).
//! - Duplicates (same time, place and magnitude, see [`Catalog::duplicate_groups`]) among the
//!   kept events are counted in the report and kept, unless [`ReadOptions::drop_duplicates`] asks
//!   to drop the later copies; the report then says how many went.
//!
//! Every data row is accounted for:
//! `rows = kept + filtered_out + other_types_total() + skipped_total() + duplicates_dropped`.
//!
//! A file of more than 1 MiB is read in pieces on all cores, cut only between records (never
//! inside a quoted field, which may hold commas and line breaks); the events, the report and the
//! first error are the same as one pass in file order gives.
//!
//! # Writing
//!
//! [`write_comcat`] writes the ComCat CSV layout (the 22 columns of the USGS search API), so a
//! synthetic catalog reads back like a real one.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::{Timestamp, Unit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogFilter, Event, EventTypes, check_magnitude};
use crate::{Error, Result};

mod fast;
mod pieces;
mod records;

use records::{Record, Records};

pub(crate) use fast::{civil_from_days, days_from_civil, is_finite_number, parse_f64};

/// The header of a USGS ComCat CSV download (`https://earthquake.usgs.gov/fdsnws/event/1/query?format=csv`).
pub const COMCAT_HEADER: [&str; 22] = [
    "time",
    "latitude",
    "longitude",
    "depth",
    "mag",
    "magType",
    "nst",
    "gap",
    "dmin",
    "rms",
    "net",
    "id",
    "updated",
    "place",
    "type",
    "horizontalError",
    "depthError",
    "magError",
    "magNst",
    "status",
    "locationSource",
    "magSource",
];

/// How many leading ComCat columns [`CatalogFormat::detect`] compares: `time` to `magType` is
/// what every ComCat export starts with, whatever trailing columns a mirror adds or drops.
const COMCAT_SIGNATURE_LEN: usize = 6;

/// How many line numbers a [`SkippedRows`] tally keeps as examples.
pub const SAMPLE_LINES: usize = 5;

pub use crate::geo::normalize_longitude;

/// A fixed offset from UTC, written `+08:00`, `-0530`, `+09` or `Z`/`UTC`.
///
/// It states the zone of zone-less times in a file (CENC lists Beijing time, `+08:00`; JMA lists
/// JST, `+09:00`). In TOML it is a string: `utc_offset = "+08:00"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UtcOffset(Offset);

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(Offset::UTC);

    /// The offset as a jiff [`Offset`].
    pub fn offset(self) -> Offset {
        self.0
    }

    /// The offset in seconds east of UTC.
    pub fn seconds(self) -> i32 {
        self.0.seconds()
    }
}

impl FromStr for UtcOffset {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = || {
            Error::config(
                "utc_offset",
                format!("`{text}` is not an offset like +08:00, -05:30, +0900 or Z"),
            )
        };
        let t = text.trim();
        if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
            return Ok(UtcOffset::UTC);
        }
        let (sign, rest) = match t.as_bytes().first() {
            Some(b'+') => (1, &t[1..]),
            Some(b'-') => (-1, &t[1..]),
            _ => return Err(invalid()),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        let colons = rest.matches(':').count();
        let well_formed = digits.chars().all(|c| c.is_ascii_digit())
            && colons <= 1
            && (digits.len() == 2 || digits.len() == 4)
            && (colons == 0 || rest.find(':') == Some(2));
        if !well_formed {
            return Err(invalid());
        }
        let hours: i32 = digits[..2].parse().map_err(|_| invalid())?;
        let minutes: i32 = if digits.len() == 4 {
            digits[2..].parse().map_err(|_| invalid())?
        } else {
            0
        };
        if hours > 18 || minutes > 59 {
            return Err(invalid());
        }
        Offset::from_seconds(sign * (hours * 3600 + minutes * 60))
            .map(UtcOffset)
            .map_err(|_| invalid())
    }
}

impl TryFrom<String> for UtcOffset {
    type Error = Error;

    fn try_from(text: String) -> Result<Self> {
        text.parse()
    }
}

impl From<UtcOffset> for String {
    fn from(offset: UtcOffset) -> String {
        offset.to_string()
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.seconds();
        let sign = if s < 0 { '-' } else { '+' };
        let s = s.abs();
        write!(f, "{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
    }
}

/// Which columns of a generic CSV hold what, and how its times are written.
///
/// Column names match the header case-insensitively, ignoring surrounding spaces. In an
/// experiment file:
///
/// ```toml
/// [catalog.columns]
/// time = "time_bjt"
/// latitude = "latitude"
/// longitude = "longitude"
/// depth = "depth_km"
/// magnitude = "magnitude"
/// utc_offset = "+08:00"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The origin-time column.
    pub time: String,
    /// The latitude column (degrees north).
    pub latitude: String,
    /// The longitude column (degrees east; any range, normalised on reading).
    pub longitude: String,
    /// The depth column (km, positive down), if the file has one. Blank depths read as unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<String>,
    /// The magnitude column. A blank magnitude makes the row bad.
    pub magnitude: String,
    /// A `strftime` layout for the times (`jiff::fmt::strtime`, e.g. `%Y/%m/%d %H:%M:%S`).
    /// Without it the common ISO-like layouts are recognised (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_format: Option<String>,
    /// The zone of times written without one; UTC when absent. Times that carry their own zone
    /// (`Z`, `+09:00`) keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset: Option<UtcOffset>,
    /// How a time of day `24:00:00` is read (default: refused).
    #[serde(default, skip_serializing_if = "Time24h::is_refuse")]
    pub time_24h: Time24h,
    /// The event-type column (ComCat's `type`), if the file has one; rows whose type is not in
    /// [`ReadOptions::event_types`] are left out and counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

/// How a time of day written `24:00`, `24:00:00` or `24:00:00.000` is read. Some catalogs
/// (HORUS) close a day with it; ISO 8601 allows it as the end of the day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Time24h {
    /// A bad row, with a message naming the option that reads it.
    #[default]
    Refuse,
    /// 24:00:00 of day D is 00:00:00 of day D + 1.
    NextDay,
}

impl Time24h {
    fn is_refuse(&self) -> bool {
        *self == Time24h::Refuse
    }
}

/// Keys [`ColumnMapping::parse_pairs`] accepts, with their aliases.
const MAPPING_KEYS: &str = "time, latitude (lat), longitude (lon), magnitude (mag), depth, type";

/// Header names [`ColumnMapping::infer`] recognises for UTC origin times, in order of preference.
const TIME_NAMES: [&str; 8] = [
    "time",
    "time_utc",
    "origin_time",
    "origintime",
    "datetime",
    "date_time",
    "utc_time",
    "time_iso",
];
/// Local-time columns whose name says the zone: used only when no UTC column exists.
const LOCAL_TIME_NAMES: [(&str, i32); 2] = [("time_bjt", 8 * 3600), ("time_jst", 9 * 3600)];
const LATITUDE_NAMES: [&str; 2] = ["latitude", "lat"];
const LONGITUDE_NAMES: [&str; 4] = ["longitude", "lon", "long", "lng"];
const DEPTH_NAMES: [&str; 2] = ["depth", "depth_km"];
const MAGNITUDE_NAMES: [&str; 3] = ["magnitude", "mag", "magnitude_value"];
const EVENT_TYPE_NAMES: [&str; 2] = ["type", "event_type"];

impl ColumnMapping {
    /// A mapping recognised from common header names, or `None` if time, latitude, longitude or
    /// magnitude has no recognisable column.
    ///
    /// Recognised names (case-insensitive): time `time`, `time_utc`, `origin_time`, `datetime`
    /// (and a few spellings); latitude `latitude`, `lat`; longitude `longitude`, `lon`, `long`,
    /// `lng`; depth `depth`, `depth_km` (optional); magnitude `magnitude`, `mag`. A file with
    /// only a local-time column named for its zone (`time_bjt`, `time_jst`) gets that zone as
    /// its `utc_offset`; a UTC column is always preferred when both exist.
    pub fn infer<S: AsRef<str>>(header: &[S]) -> Option<ColumnMapping> {
        infer_mapping(header).ok()
    }

    /// The columns ComCat's CSV uses for each field.
    pub fn comcat() -> ColumnMapping {
        ColumnMapping {
            time: "time".into(),
            latitude: "latitude".into(),
            longitude: "longitude".into(),
            depth: Some("depth".into()),
            magnitude: "mag".into(),
            time_format: None,
            utc_offset: None,
            time_24h: Time24h::Refuse,
            event_type: Some("type".into()),
        }
    }

    /// Parses `time=COL,latitude=COL,longitude=COL,magnitude=COL[,depth=COL][,type=COL]` (the
    /// command line's `--columns`). `time=date+time` joins two columns. Errors name the key
    /// `columns`.
    pub fn parse_pairs(text: &str) -> Result<ColumnMapping> {
        let bad = |message: String| Error::config("columns", message);
        let mut mapping = ColumnMapping {
            time: String::new(),
            latitude: String::new(),
            longitude: String::new(),
            depth: None,
            magnitude: String::new(),
            time_format: None,
            utc_offset: None,
            time_24h: Time24h::Refuse,
            event_type: None,
        };
        for pair in text.split(',') {
            let Some((key, column)) = pair.split_once('=') else {
                return Err(bad(format!("expected KEY=COLUMN pairs, got `{pair}`")));
            };
            let column = column.trim().to_string();
            if column.is_empty() {
                return Err(bad(format!("`{pair}` names no column")));
            }
            match key.trim() {
                "time" => mapping.time = column,
                "latitude" | "lat" => mapping.latitude = column,
                "longitude" | "lon" => mapping.longitude = column,
                "magnitude" | "mag" => mapping.magnitude = column,
                "depth" => mapping.depth = Some(column),
                "type" | "event_type" => mapping.event_type = Some(column),
                other => {
                    return Err(bad(format!(
                        "unknown key `{other}` (expected {MAPPING_KEYS})"
                    )));
                }
            }
        }
        for (key, value) in [
            ("time", &mapping.time),
            ("latitude", &mapping.latitude),
            ("longitude", &mapping.longitude),
            ("magnitude", &mapping.magnitude),
        ] {
            if value.is_empty() {
                return Err(bad(format!("`{key}=COLUMN` is required")));
            }
        }
        Ok(mapping)
    }
}

/// The inferred mapping, or the roles (`time`, `latitude`, ...) that found no column.
fn infer_mapping<S: AsRef<str>>(
    header: &[S],
) -> std::result::Result<ColumnMapping, Vec<&'static str>> {
    let find = |names: &[&str]| -> Option<String> {
        names.iter().find_map(|name| {
            header
                .iter()
                .map(|h| h.as_ref().trim())
                .find(|h| h.eq_ignore_ascii_case(name))
                .map(str::to_string)
        })
    };
    let utc_time = find(&TIME_NAMES).map(|t| (t, None));
    let time = utc_time.or_else(|| {
        LOCAL_TIME_NAMES.iter().find_map(|(name, seconds)| {
            let offset = Offset::from_seconds(*seconds).ok().map(UtcOffset);
            find(&[name]).map(|t| (t, offset))
        })
    });
    let latitude = find(&LATITUDE_NAMES);
    let longitude = find(&LONGITUDE_NAMES);
    let magnitude = find(&MAGNITUDE_NAMES);
    match (time, latitude, longitude, magnitude) {
        (Some((time, utc_offset)), Some(latitude), Some(longitude), Some(magnitude)) => {
            Ok(ColumnMapping {
                time,
                latitude,
                longitude,
                depth: find(&DEPTH_NAMES),
                magnitude,
                time_format: None,
                utc_offset,
                time_24h: Time24h::Refuse,
                event_type: find(&EVENT_TYPE_NAMES),
            })
        }
        (time, latitude, longitude, magnitude) => {
            let mut missing = Vec::new();
            if time.is_none() {
                missing.push("time");
            }
            if latitude.is_none() {
                missing.push("latitude");
            }
            if longitude.is_none() {
                missing.push("longitude");
            }
            if magnitude.is_none() {
                missing.push("magnitude");
            }
            Err(missing)
        }
    }
}

/// The layout of a catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogFormat {
    /// A USGS ComCat CSV download (header `time,latitude,longitude,depth,mag,magType,...`).
    Comcat,
    /// Any CSV with a header, read through a column mapping.
    Generic(ColumnMapping),
}

impl CatalogFormat {
    /// The format of the file at `path`, judged from its header: ComCat if the header starts with
    /// ComCat's columns, otherwise a generic CSV with the mapping [`ColumnMapping::infer`]
    /// recognises. An error lists the header and the names looked for when neither fits.
    pub fn detect(path: &Path) -> Result<CatalogFormat> {
        let mut reader = open_csv(path)?;
        let header = read_header(path, &mut reader)?;
        let is_comcat = header.len() >= COMCAT_SIGNATURE_LEN
            && header
                .iter()
                .zip(&COMCAT_HEADER[..COMCAT_SIGNATURE_LEN])
                .all(|(h, c)| h == c);
        if is_comcat {
            return Ok(CatalogFormat::Comcat);
        }
        infer_mapping(&header)
            .map(CatalogFormat::Generic)
            .map_err(|missing| {
                Error::parse(
                    path,
                    1,
                    "header",
                    format!(
                        "neither a ComCat header nor recognisable column names: no column for {} \
                         (looked for time: {} or, in local time, {}; latitude: {}; longitude: {}; \
                         magnitude: {}); the header is [{}]; give a column mapping instead",
                        missing.join(", "),
                        TIME_NAMES.join("/"),
                        LOCAL_TIME_NAMES.map(|(name, _)| name).join("/"),
                        LATITUDE_NAMES.join("/"),
                        LONGITUDE_NAMES.join("/"),
                        MAGNITUDE_NAMES.join("/"),
                        header.join(", "),
                    ),
                )
            })
    }

    /// The column mapping this format reads through.
    pub fn mapping(&self) -> ColumnMapping {
        match self {
            CatalogFormat::Comcat => ColumnMapping::comcat(),
            CatalogFormat::Generic(mapping) => mapping.clone(),
        }
    }
}

/// How [`read_catalog`] treats the rows it reads.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Keep only events in this region, period and magnitude range.
    pub filter: CatalogFilter,
    /// Keep only rows of these types (default: earthquakes; a row without a type is one).
    pub event_types: EventTypes,
    /// Skip bad rows (and count them) instead of failing on the first one.
    pub lenient: bool,
    /// Drop the later copies of duplicate events instead of only reporting them.
    pub drop_duplicates: bool,
}

/// What is wrong with a bad row's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowProblem {
    /// The row ends before this column.
    Missing,
    /// The field is empty.
    Blank,
    /// The field is not a finite number, or not a time in the expected layout.
    Malformed,
    /// A number outside its physical range (a latitude beyond ±90, a magnitude outside
    /// [`crate::catalog::MIN_MAGNITUDE`]..=[`crate::catalog::MAX_MAGNITUDE`]).
    OutOfRange,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RowProblem::Missing => "missing",
            RowProblem::Blank => "blank",
            RowProblem::Malformed => "malformed",
            RowProblem::OutOfRange => "out of range",
        })
    }
}

/// Why a row was skipped: the field (the file's column name) and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkipReason {
    /// The column, as the file's header spells it.
    pub field: String,
    /// What was wrong with it.
    pub problem: RowProblem,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// The rows skipped for one reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkippedRows {
    /// How many rows.
    pub count: usize,
    /// The first [`SAMPLE_LINES`] of their 1-based line numbers.
    pub first_lines: Vec<u64>,
    /// The full message for the first of them.
    pub first_message: String,
}

/// What [`read_catalog`] did with each row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadReport {
    /// The file read.
    pub path: PathBuf,
    /// Data rows read (the header excluded).
    pub rows: usize,
    /// Events in the returned catalog.
    pub kept: usize,
    /// Good rows that the filter left out.
    pub filtered_out: usize,
    /// Good rows left out for their event type, per type (as the file spells it, lower-cased).
    pub other_types: BTreeMap<String, usize>,
    /// Bad rows skipped in lenient mode, per reason.
    pub skipped: BTreeMap<SkipReason, SkippedRows>,
    /// Groups of kept events that share time, place and magnitude.
    pub duplicate_groups: usize,
    /// Copies beyond the first in those groups.
    pub duplicate_copies: usize,
    /// Copies removed because [`ReadOptions::drop_duplicates`] was set.
    pub duplicates_dropped: usize,
}

impl ReadReport {
    /// All bad rows skipped, whatever the reason.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().map(|s| s.count).sum()
    }

    /// Rows left out for their event type, whatever the type.
    pub fn other_types_total(&self) -> usize {
        self.other_types.values().sum()
    }

    /// Whether anything deserves the user's attention: bad rows skipped, rows of other event
    /// types left out, or duplicates found.
    pub fn has_warnings(&self) -> bool {
        self.skipped_total() > 0 || self.duplicate_groups > 0 || !self.other_types.is_empty()
    }

    fn skip(&mut self, line: u64, bad: BadField) {
        let tally = self
            .skipped
            .entry(SkipReason {
                field: bad.field,
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

impl fmt::Display for ReadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: read {} rows, kept {} events, {} outside the filter",
            self.path.display(),
            self.rows,
            self.kept,
            self.filtered_out
        )?;
        if !self.other_types.is_empty() {
            let types: Vec<String> = self
                .other_types
                .iter()
                .map(|(kind, n)| format!("{kind}: {n}"))
                .collect();
            write!(
                f,
                ", left out {} rows of other event types ({})",
                self.other_types_total(),
                types.join(", ")
            )?;
        }
        if self.skipped.is_empty() {
            write!(f, ", no bad rows")?;
        } else {
            write!(f, ", skipped {} bad rows (", self.skipped_total())?;
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
            write!(f, ")")?;
        }
        if self.duplicate_groups == 0 {
            write!(f, "; no duplicate events.")
        } else if self.duplicates_dropped > 0 {
            write!(
                f,
                "; {} groups of duplicate events, {} extra copies dropped.",
                self.duplicate_groups, self.duplicates_dropped
            )
        } else {
            write!(
                f,
                "; {} groups of duplicate events with {} extra copies, kept (ask to drop them to remove).",
                self.duplicate_groups, self.duplicate_copies
            )
        }
    }
}

/// A bad field in one row.
struct BadField {
    field: String,
    problem: RowProblem,
    message: String,
}

impl BadField {
    fn new(field: &str, problem: RowProblem, message: impl Into<String>) -> Self {
        BadField {
            field: field.to_string(),
            problem,
            message: message.into(),
        }
    }
}

/// The mapping's columns found in the header, with their positions.
struct Columns<'m> {
    mapping: &'m ColumnMapping,
    names: [String; 4],
    /// One column, or several (`date+time`) joined with a space.
    time: Vec<usize>,
    latitude: usize,
    longitude: usize,
    magnitude: usize,
    depth: Option<(usize, String)>,
    event_type: Option<usize>,
    offset: Offset,
    /// How many of a row's fields are read: up to the last column above.
    needed: usize,
}

impl<'m> Columns<'m> {
    fn resolve(path: &Path, mapping: &'m ColumnMapping, header: &[String]) -> Result<Self> {
        let find = |key: &str, name: &str| -> Result<(usize, String)> {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name.trim()))
                .map(|i| (i, header[i].clone()))
                .ok_or_else(|| {
                    Error::parse(
                        path,
                        1,
                        "header",
                        format!(
                            "no column `{name}` for {key}; the header is [{}]",
                            header.join(", ")
                        ),
                    )
                })
        };
        // `date+time` joins columns, unless the header has a column of that very name.
        let joined = !header
            .iter()
            .any(|h| h.eq_ignore_ascii_case(mapping.time.trim()))
            && mapping.time.contains('+');
        let (time, time_name) = if joined {
            let parts = mapping
                .time
                .split('+')
                .map(|part| find("time", part))
                .collect::<Result<Vec<_>>>()?;
            let names: Vec<String> = parts.iter().map(|(_, name)| name.clone()).collect();
            (parts.into_iter().map(|(i, _)| i).collect(), names.join("+"))
        } else {
            let (i, name) = find("time", &mapping.time)?;
            (vec![i], name)
        };
        let (latitude, latitude_name) = find("latitude", &mapping.latitude)?;
        let (longitude, longitude_name) = find("longitude", &mapping.longitude)?;
        let (magnitude, magnitude_name) = find("magnitude", &mapping.magnitude)?;
        let depth = mapping
            .depth
            .as_deref()
            .map(|name| find("depth", name))
            .transpose()?;
        let event_type = mapping
            .event_type
            .as_deref()
            .map(|name| find("event type", name).map(|(i, _)| i))
            .transpose()?;
        let needed = 1 + time
            .iter()
            .chain([&latitude, &longitude, &magnitude])
            .chain(depth.as_ref().map(|(i, _)| i))
            .chain(event_type.as_ref())
            .max()
            .expect("the time has a column");
        Ok(Columns {
            mapping,
            names: [time_name, latitude_name, longitude_name, magnitude_name],
            needed,
            time,
            latitude,
            longitude,
            magnitude,
            depth,
            event_type,
            offset: mapping.utc_offset.unwrap_or(UtcOffset::UTC).offset(),
        })
    }

    /// The bytes of the row's event type field, `None` when the file has no type column or
    /// the row ends before it (see [`event_type`]).
    fn event_type_field<'r>(&self, record: &'r Record, text: &'r [u8]) -> Option<&'r [u8]> {
        record.get(text, self.event_type?)
    }

    /// The event of `record`, a record of `text`.
    fn event(&self, record: &Record, text: &[u8]) -> std::result::Result<Event, BadField> {
        let [_, latitude_name, longitude_name, magnitude_name] = &self.names;
        let time = self.time(record, text)?;
        let number = |i: usize, name: &str| number(record, text, i, name);
        let latitude = number(self.latitude, latitude_name)?;
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(BadField::new(
                latitude_name,
                RowProblem::OutOfRange,
                format!("latitude {latitude} is outside [-90, 90]"),
            ));
        }
        let longitude = normalize_longitude(number(self.longitude, longitude_name)?);
        let magnitude = number(self.magnitude, magnitude_name)?;
        check_magnitude(magnitude)
            .map_err(|why| BadField::new(magnitude_name, RowProblem::OutOfRange, why))?;
        let depth_km = match &self.depth {
            Some((i, name)) => match number(*i, name) {
                Ok(depth) => Some(depth),
                // A blank depth is an unknown depth, not a bad row: many catalogs leave it out.
                Err(BadField {
                    problem: RowProblem::Blank,
                    ..
                }) => None,
                Err(bad) => return Err(bad),
            },
            None => None,
        };
        Ok(Event {
            time,
            latitude,
            longitude,
            depth_km,
            magnitude,
        })
    }

    /// The origin time of `record`, a record of `text`.
    fn time(&self, record: &Record, text: &[u8]) -> std::result::Result<Timestamp, BadField> {
        let name = &self.names[0];
        let format = self.mapping.time_format.as_deref();
        if let ([i], None) = (&self.time[..], format)
            && let Some(time) = record.get(text, *i).and_then(fast::comcat_time)
        {
            return Ok(time);
        }
        let joined;
        let time_text = match self.time[..] {
            [i] => field(record, text, i, name)?,
            _ => {
                joined = self
                    .time
                    .iter()
                    .map(|&i| field(record, text, i, name))
                    .collect::<std::result::Result<Vec<_>, _>>()?
                    .join(" ");
                joined.as_str()
            }
        };
        parse_time(time_text, format, self.offset, self.mapping.time_24h)
            .map_err(|m| BadField::new(name, RowProblem::Malformed, m))
    }
}

/// The trimmed text of field `i` of `record`, a record of `text`, or why there is none.
fn field<'r>(
    record: &'r Record,
    text: &'r [u8],
    i: usize,
    name: &str,
) -> std::result::Result<&'r str, BadField> {
    let bytes = record.get(text, i).ok_or_else(|| {
        BadField::new(
            name,
            RowProblem::Missing,
            format!(
                "the row has {} fields and ends before this column",
                record.len()
            ),
        )
    })?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| BadField::new(name, RowProblem::Malformed, "not valid UTF-8"))?;
    // Most fields begin and end with an ASCII character that is not white space, and so have
    // nothing to trim.
    let solid = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii() && !char::from(b).is_whitespace());
    let text = if solid(bytes.first()) && solid(bytes.last()) {
        text
    } else {
        text.trim()
    };
    if text.is_empty() {
        return Err(BadField::new(
            name,
            RowProblem::Blank,
            format!("blank `{name}` (a missing value is never read as zero)"),
        ));
    }
    Ok(text)
}

/// Field `i` of `record`, a record of `text`, as a finite number.
fn number(
    record: &Record,
    text: &[u8],
    i: usize,
    name: &str,
) -> std::result::Result<f64, BadField> {
    // A plain decimal is ASCII without white space: valid UTF-8 with nothing to trim.
    match record.get(text, i).and_then(fast::plain_decimal) {
        Some(value) => Ok(value),
        None => finite(field(record, text, i, name)?, name),
    }
}

/// `text` as a finite number.
fn finite(text: &str, name: &str) -> std::result::Result<f64, BadField> {
    match parse_f64(text) {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(BadField::new(
            name,
            RowProblem::Malformed,
            format!("`{text}` is not a finite number"),
        )),
    }
}

/// The event type an event type field gives: `None` when there is no field, or it is blank or
/// not UTF-8.
fn event_type(field: Option<&[u8]>) -> Option<&str> {
    std::str::from_utf8(field?)
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Parses an origin time; `offset` applies when the text carries no zone of its own, and
/// `hour_24` says what a time of day `24:00:00` means.
fn parse_time(
    text: &str,
    format: Option<&str>,
    offset: Offset,
    hour_24: Time24h,
) -> std::result::Result<Timestamp, String> {
    if format.is_none()
        && let Some(time) = fast::comcat_time(text.as_bytes())
    {
        return Ok(time);
    }
    let Some(midnight) = end_of_day_as_midnight(text) else {
        return parse_clock_time(text, format, offset);
    };
    match hour_24 {
        Time24h::Refuse => Err(format!(
            "`{text}` has the hour 24; to read 24:00:00 of a day as 00:00:00 of the next, give \
             --time-24h next-day (time_24h = \"next-day\" in a column mapping)"
        )),
        Time24h::NextDay => {
            let t = parse_clock_time(&midnight, format, offset)?;
            // The next civil day in the file's own zone: a day is 24 hours in a fixed offset.
            t.checked_add(jiff::SignedDuration::from_hours(24))
                .map_err(|e| format!("`{text}` is out of range: {e}"))
        }
    }
}

/// `text` with a time of day `24:00`, `24:00:00` or `24:00:00.000…` turned into `00:00…`,
/// or `None` when it has no such time. The hour must follow a space or `T` (or open the text,
/// for a separate time column) and nothing but zeros may follow it.
fn end_of_day_as_midnight(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find("24:00") {
        let at = from + found;
        from = at + 1;
        let opens = at == 0 || matches!(bytes[at - 1], b' ' | b'T' | b't');
        let rest = &text[at + 5..];
        let tail = rest.strip_prefix(":00").map_or(rest, |r| {
            r.strip_prefix('.').map_or(r, |f| f.trim_start_matches('0'))
        });
        let ends = tail
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_digit() && c != ':' && c != '.');
        if opens && ends {
            return Some(format!("{}00{}", &text[..at], &text[at + 2..]));
        }
    }
    None
}

/// Parses an origin time whose hour is at most 23.
fn parse_clock_time(
    text: &str,
    format: Option<&str>,
    offset: Offset,
) -> std::result::Result<Timestamp, String> {
    let (datetime, own_offset) = match format {
        Some(format) => {
            let parsed = jiff::fmt::strtime::parse(format, text)
                .map_err(|e| format!("`{text}` does not match the time format `{format}`: {e}"))?;
            let datetime = parsed
                .to_datetime()
                .map_err(|e| format!("`{text}` is not a complete date and time: {e}"))?;
            (datetime, parsed.offset())
        }
        None => parse_common_time(text)?,
    };
    own_offset
        .unwrap_or(offset)
        .to_timestamp(datetime)
        .map_err(|e| format!("`{text}` is out of range: {e}"))
}

/// The zone-free layouts most catalogs use: a `Y-M-D` date (or `Y/M/D`), `T` or a space, then
/// `H:MM[:SS[.fraction]]`, optionally followed by `Z`, `UTC` or `±HH[:MM]`.
fn parse_common_time(text: &str) -> std::result::Result<(DateTime, Option<Offset>), String> {
    let bad = |why: &str| {
        format!(
            "`{text}` is not a time like 2011-03-11T05:46:24.120Z or 2011-03-11 05:46:24 ({why}); \
             give a time_format for other layouts"
        )
    };
    let s = text.trim();
    let split = s
        .find(['T', 't', ' '])
        .ok_or_else(|| bad("no time of day"))?;
    let (date, rest) = (&s[..split], s[split + 1..].trim());

    let date_parts: Vec<&str> = date.split(['-', '/']).collect();
    let [year, month, day] = date_parts[..] else {
        return Err(bad("the date needs year, month and day"));
    };
    let year: i16 = digits(year, 4, 4).ok_or_else(|| bad("year"))?;
    let month: i8 = digits(month, 1, 2).ok_or_else(|| bad("month"))?;
    let day: i8 = digits(day, 1, 2).ok_or_else(|| bad("day"))?;

    let (clock, zone) = split_zone(rest).ok_or_else(|| bad("zone"))?;
    let clock_parts: Vec<&str> = clock.split(':').collect();
    let (hour, minute, seconds) = match clock_parts[..] {
        [h, m] => (h, m, None),
        [h, m, s] => (h, m, Some(s)),
        _ => return Err(bad("the time of day needs hours and minutes")),
    };
    let hour: i8 = digits(hour, 1, 2).ok_or_else(|| bad("hour"))?;
    let minute: i8 = digits(minute, 2, 2).ok_or_else(|| bad("minute"))?;
    let (second, nanos) = match seconds {
        None => (0, 0),
        Some(sec) => {
            let (whole, fraction) = sec.split_once('.').unwrap_or((sec, ""));
            let second: i8 = digits(whole, 2, 2).ok_or_else(|| bad("second"))?;
            if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("fraction of a second"));
            }
            // Nine digits at most, so the fraction in nanoseconds fits an i32.
            let nanos = fraction
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(9)
                .fold(0i32, |n, digit| n * 10 + i32::from(digit - b'0'));
            (second, nanos)
        }
    };
    let datetime = DateTime::new(year, month, day, hour, minute, second, nanos)
        .map_err(|e| bad(&e.to_string()))?;
    Ok((datetime, zone))
}

/// Splits a trailing `Z`, `UTC` or `±HH[:MM]` zone off a time of day.
fn split_zone(clock: &str) -> Option<(&str, Option<Offset>)> {
    if let Some(c) = clock.strip_suffix(['Z', 'z']) {
        return Some((c.trim_end(), Some(Offset::UTC)));
    }
    if let Some(c) = clock.strip_suffix("UTC") {
        return Some((c.trim_end(), Some(Offset::UTC)));
    }
    match clock.rfind(['+', '-']) {
        Some(i) => {
            let offset: UtcOffset = clock[i..].parse().ok()?;
            Some((clock[..i].trim_end(), Some(offset.offset())))
        }
        None => Some((clock, None)),
    }
}

/// An all-digit field of `min..=max` characters as a number.
fn digits<T: FromStr>(text: &str, min: usize, max: usize) -> Option<T> {
    let ok = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if ok { text.parse().ok() } else { None }
}

fn open_csv(path: &Path) -> Result<csv::Reader<BufReader<File>>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(csv_reader(BufReader::new(file)))
}

/// A csv reader of catalog text whose first record is the header.
fn csv_reader<R: std::io::Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        // Rows may have more or fewer fields than the header; a row too short for a mapped
        // column is reported as a bad row with its line, not as a CSV-level failure.
        .flexible(true)
        .from_reader(input)
}

fn read_header<R: std::io::Read>(path: &Path, reader: &mut csv::Reader<R>) -> Result<Vec<String>> {
    let header = reader.byte_headers().map_err(|e| csv_error(path, e))?;
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(Error::parse(
            path,
            1,
            "header",
            "the file has no header line",
        ));
    }
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let name = std::str::from_utf8(h).map_err(|_| {
                Error::parse(path, 1, "header", format!("column {} is not UTF-8", i + 1))
            })?;
            // Spreadsheet exports start with a byte-order mark.
            Ok(name.trim_start_matches('\u{feff}').trim().to_string())
        })
        .collect()
}

/// Counts the line feeds before each record of a piece of the file, in memory.
///
/// The csv crate's own line count lags by one in files with CR LF line ends (it ends a record
/// at the CR and counts the LF with the next one), and points at skipped blank lines; the CENC
/// and JMA files use CR LF. So a record's line is counted here from its byte offset: the line of
/// its first byte that is not a line end. The counter only moves forward, as offsets only grow.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line_feeds: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            offset: 0,
            line_feeds: 0,
        }
    }

    /// The line feeds before the first non-line-end byte at or after `start`.
    fn line_feeds_before(&mut self, start: usize) -> u64 {
        while let Some(&byte) = self.text.get(self.offset) {
            if self.offset >= start && byte != b'\n' && byte != b'\r' {
                break;
            }
            self.line_feeds += u64::from(byte == b'\n');
            self.offset += 1;
        }
        self.line_feeds
    }
}

/// The line feeds in `text`.
fn count_line_feeds(text: &[u8]) -> u64 {
    text.iter().map(|&b| u64::from(b == b'\n')).sum()
}

fn csv_error(path: &Path, error: csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    match error.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        other => Error::parse(path, line, "row", format!("{other:?}")),
    }
}

/// What one piece of a catalog file gave, read on its own.
struct Piece {
    /// Where the piece starts in the rows' text.
    start: usize,
    /// The piece's tallies; the lines of its skipped rows are counted from the piece's start, as
    /// line feeds before the row.
    report: ReadReport,
    /// Kept events, in file order.
    events: Vec<Event>,
    /// What ended the piece early, in strict mode: its first bad row, with the line feeds
    /// between the piece's start and the row.
    failure: Option<(u64, BadField)>,
}

impl Piece {
    /// Reads the records of `body[range]`, which starts at a record.
    fn read(columns: &Columns, options: &ReadOptions, body: &[u8], range: Range<usize>) -> Piece {
        let text = &body[range.clone()];
        let mut piece = Piece {
            start: range.start,
            report: ReadReport::default(),
            // ComCat rows take about 70 to 140 bytes.
            events: Vec::with_capacity(text.len() / 64),
            failure: None,
        };
        let mut records = Records::new(text);
        let mut lines = LineCounter::new(text);
        let mut kinds = KindCache::new(&options.event_types);
        let mut record = Record::default();
        while records.read(&mut record, columns.needed) {
            piece.report.rows += 1;
            let field = columns.event_type_field(&record, text);
            if !kinds.keeps(field) {
                let kind = event_type(field)
                    .unwrap_or(EventTypes::EARTHQUAKE)
                    .to_lowercase();
                *piece.report.other_types.entry(kind).or_default() += 1;
                continue;
            }
            match columns.event(&record, text) {
                Ok(event) if options.filter.keeps(&event) => piece.events.push(event),
                Ok(_) => piece.report.filtered_out += 1,
                Err(bad) => {
                    let line_feeds = lines.line_feeds_before(record.start());
                    if !options.lenient {
                        piece.failure = Some((line_feeds, bad));
                        break;
                    }
                    piece.report.skip(line_feeds, bad);
                }
            }
        }
        piece
    }
}

/// The bytes of the file at `path`; a file of more than two pieces is read in pieces of
/// `piece_bytes` on all cores (on Unix, where a file can be read at an offset).
fn read_whole(path: &Path, piece_bytes: usize) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if len / 2 > piece_bytes {
            let mut data = vec![0u8; len];
            data.par_chunks_mut(piece_bytes)
                .enumerate()
                .try_for_each(|(i, chunk)| file.read_exact_at(chunk, (i * piece_bytes) as u64))?;
            return Ok(data);
        }
    }
    std::fs::read(path)
}

/// The line feeds counted so far from the start of the file.
struct Counted {
    /// Line feeds in the header and in `body[..through]`.
    line_feeds: u64,
    through: usize,
}

impl Counted {
    /// The line feeds before `body[at]`, counting on from the last call (`at` must grow).
    fn up_to(&mut self, body: &[u8], at: usize) -> u64 {
        self.line_feeds += count_line_feeds(&body[self.through..at]);
        self.through = at;
        self.line_feeds
    }
}

/// [`EventTypes::keeps`], remembered for the few distinct event type fields a file spells,
/// byte for byte.
struct KindCache<'o> {
    types: &'o EventTypes,
    untyped: bool,
    seen: Vec<(Vec<u8>, bool)>,
}

impl<'o> KindCache<'o> {
    /// The most types remembered; a file with more asks [`EventTypes::keeps`] for the rest.
    const SIZE: usize = 16;

    fn new(types: &'o EventTypes) -> Self {
        KindCache {
            types,
            untyped: types.keeps(None),
            seen: Vec::new(),
        }
    }

    /// Whether a row with the event type `field` is kept (see [`event_type`]).
    fn keeps(&mut self, field: Option<&[u8]>) -> bool {
        let Some(bytes) = field else {
            return self.untyped;
        };
        if let Some((_, keep)) = self.seen.iter().find(|(seen, _)| seen == bytes) {
            return *keep;
        }
        let keep = self.types.keeps(event_type(field));
        if self.seen.len() < Self::SIZE {
            self.seen.push((bytes.to_vec(), keep));
        }
        keep
    }
}

/// Reads the catalog at `path` in `format`, keeping the events that pass `options.filter`.
///
/// Returns the catalog (time-sorted) and a report of what happened to every row. Fails on the
/// first bad row unless `options.lenient` is set; see the module docs for the rules.
pub fn read_catalog(
    path: &Path,
    format: &CatalogFormat,
    options: &ReadOptions,
) -> Result<(Catalog, ReadReport)> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    let per_core = usize::try_from(len).unwrap_or(usize::MAX) / (4 * rayon::current_num_threads());
    read_catalog_in_pieces(path, format, options, per_core.max(MIN_PIECE_BYTES))
}

/// The smallest piece a catalog file is cut into to be read in parallel: a file below twice this
/// size is read in one pass, a larger one in about four pieces per core.
const MIN_PIECE_BYTES: usize = 1 << 19;

/// [`read_catalog`], cutting the file into pieces of at least `piece_bytes`.
fn read_catalog_in_pieces(
    path: &Path,
    format: &CatalogFormat,
    options: &ReadOptions,
    piece_bytes: usize,
) -> Result<(Catalog, ReadReport)> {
    let mut mapping = format.mapping();
    let data = read_whole(path, piece_bytes).map_err(|e| Error::io(path, e))?;
    let mut reader = csv_reader(data.as_slice());
    let header = read_header(path, &mut reader)?;
    // ComCat mirrors that drop the trailing columns drop `type` too: every row is then an
    // earthquake, as ComCat's own default query returns.
    if *format == CatalogFormat::Comcat && !header.iter().any(|h| h == "type") {
        mapping.event_type = None;
    }
    let columns = Columns::resolve(path, &mapping, &header)?;

    // The header record ends here; the rows start at a record, as every piece does.
    let body_start = usize::try_from(reader.position().byte())
        .unwrap_or(data.len())
        .min(data.len());
    let (head, body) = data.split_at(body_start);
    let pieces = read_pieces(&columns, options, body, piece_bytes);

    let mut report = ReadReport {
        path: path.to_path_buf(),
        ..ReadReport::default()
    };
    // Line feeds before the piece being merged, counted only once a line number is needed.
    let mut counted = Counted {
        line_feeds: count_line_feeds(head),
        through: 0,
    };
    let events = concatenated_events(&pieces);
    for piece in pieces {
        let needs_lines = piece.failure.is_some() || !piece.report.skipped.is_empty();
        let first_line = if needs_lines {
            1 + counted.up_to(body, piece.start)
        } else {
            0
        };
        if let Some((line_feeds, bad)) = piece.failure {
            return Err(Error::parse(
                path,
                first_line + line_feeds,
                bad.field,
                bad.message,
            ));
        }
        report.rows += piece.report.rows;
        report.filtered_out += piece.report.filtered_out;
        for (kind, n) in piece.report.other_types {
            *report.other_types.entry(kind).or_default() += n;
        }
        for (reason, rows) in piece.report.skipped {
            let tally = report.skipped.entry(reason).or_default();
            if tally.count == 0 {
                tally.first_message = rows.first_message;
            }
            tally.count += rows.count;
            let room = SAMPLE_LINES - tally.first_lines.len();
            tally.first_lines.extend(
                rows.first_lines
                    .iter()
                    .take(room)
                    .map(|line_feeds| first_line + line_feeds),
            );
        }
    }

    let mut catalog = Catalog::from_events(events);
    let groups = catalog.duplicate_groups();
    report.duplicate_groups = groups.len();
    report.duplicate_copies = groups.iter().map(|g| g.len() - 1).sum();
    if options.drop_duplicates && report.duplicate_copies > 0 {
        let (deduplicated, dropped) = catalog.deduplicated();
        catalog = deduplicated;
        report.duplicates_dropped = dropped;
    }
    report.kept = catalog.len();
    Ok((catalog, report))
}

/// The pieces of `body` (see [`pieces::cut`]), each read on its own, in file order. Each piece
/// is read on any core as soon as it is cut.
fn read_pieces(
    columns: &Columns,
    options: &ReadOptions,
    body: &[u8],
    piece_bytes: usize,
) -> Vec<Piece> {
    let (sender, receiver) = std::sync::mpsc::channel();
    rayon::scope(|scope| {
        for (index, range) in pieces::cut(body, piece_bytes).enumerate() {
            let sender = sender.clone();
            scope.spawn(move |_| {
                // The receiver lives until every piece is in.
                let _ = sender.send((index, Piece::read(columns, options, body, range)));
            });
        }
    });
    drop(sender);
    let mut pieces: Vec<(usize, Piece)> = receiver.into_iter().collect();
    pieces.sort_unstable_by_key(|&(index, _)| index);
    pieces.into_iter().map(|(_, piece)| piece).collect()
}

/// The events of all `pieces`, in piece order, copied on all cores: most of the time goes to
/// the first touch of the new list's memory, which the cores then share.
fn concatenated_events(pieces: &[Piece]) -> Vec<Event> {
    let starts: Vec<usize> = pieces
        .iter()
        .scan(0, |total, piece| {
            let start = *total;
            *total += piece.events.len();
            Some(start)
        })
        .collect();
    let total = pieces.iter().map(|p| p.events.len()).sum();
    let mut events = Vec::new();
    (0..total)
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|k| {
            // The last piece starting at or before k; pieces without events start where the
            // next one does, so this is the piece that holds event k.
            let p = starts.partition_point(|&start| start <= k) - 1;
            pieces[p].events[k - starts[p]]
        })
        .collect_into_vec(&mut events);
    events
}

/// Writes `catalog` as a ComCat CSV at `path`, atomically: the rows go to a temporary file in
/// the same directory, which is then renamed over `path`, so a reader never sees half a file.
///
/// Times are written in UTC to the millisecond (`2011-03-11T05:46:24.120Z`, rounded to the
/// nearest millisecond), numbers in their shortest exact decimal form, a missing depth as a
/// blank, `type` as `earthquake`, and the columns quakelab does not know (magType, id, ...) blank.
pub fn write_comcat(path: &Path, catalog: &Catalog) -> Result<()> {
    // Round every time first, so a bad timestamp fails before anything is written.
    let times = catalog
        .events()
        .iter()
        .map(|e| {
            e.time
                .round(Unit::Millisecond)
                .map(|t| Offset::UTC.to_datetime(t))
                .map_err(|err| Error::Numerical(format!("cannot round {}: {err}", e.time)))
        })
        .collect::<Result<Vec<_>>>()?;
    // Columns after `mag`: magType..place (9 blanks), type, then 7 blanks.
    let tail = format!("{}earthquake{}", ",".repeat(10), ",".repeat(7));
    super::write_atomic(path, |out| {
        writeln!(out, "{}", COMCAT_HEADER.join(","))?;
        for (event, civil) in catalog.events().iter().zip(&times) {
            let depth = event.depth_km.map(|d| d.to_string()).unwrap_or_default();
            writeln!(
                out,
                "{}T{:02}:{:02}:{:02}.{:03}Z,{},{},{},{}{}",
                civil.date(),
                civil.hour(),
                civil.minute(),
                civil.second(),
                civil.millisecond(),
                event.latitude,
                event.longitude,
                depth,
                event.magnitude,
                tail
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Region;
    use crate::period::Period;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Writes `text` to a temporary file and returns the directory guard with the path.
    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn read(text: &str, options: &ReadOptions) -> Result<(Catalog, ReadReport)> {
        let (_dir, path) = file(text);
        let format = CatalogFormat::detect(&path)?;
        read_catalog(&path, &format, options)
    }

    const COMCAT: &str = "\
time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type,horizontalError,depthError,magError,magNst,status,locationSource,magSource
2011-03-11T05:46:24.120Z,38.297,142.373,29,9.1,mww,541,9.5,2.357,1.16,official,official20110311054624120_30,2022-10-21T17:01:34.337Z,\"2011 Great Tohoku Earthquake, Japan\",earthquake,,,,,reviewed,iscgem,official
2011-03-11T06:15:40.280Z,36.281,141.111,42.6,7.9,mww,,,,,us,usp000hvpg,2022-10-21T17:01:34.337Z,\"near the east coast of Honshu, Japan\",earthquake,,,,,reviewed,us,us
";

    #[test]
    fn comcat_layout_reads_times_places_and_quoted_fields() {
        let (_dir, path) = file(COMCAT);
        assert_eq!(CatalogFormat::detect(&path).unwrap(), CatalogFormat::Comcat);
        let (cat, report) =
            read_catalog(&path, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap();
        assert_eq!(cat.len(), 2);
        let e = cat.events()[0];
        assert_eq!(e.time, ts("2011-03-11T05:46:24.120Z"));
        assert_eq!((e.latitude, e.longitude), (38.297, 142.373));
        assert_eq!(e.depth_km, Some(29.0));
        assert_eq!(e.magnitude, 9.1);
        assert_eq!(cat.events()[1].depth_km, Some(42.6));
        assert_eq!((report.rows, report.kept, report.filtered_out), (2, 2, 0));
    }

    #[test]
    fn generic_layout_is_inferred_from_common_names() {
        // The layout of japan_comcat_1990-2019.csv: no depth, zone-less UTC times.
        let text = "id,time,longitude,latitude,magnitude,x,y\n\
                    0,1990-01-01 09:03:12.880,140.568,36.417,4.8,204.1,90.8\n";
        let (cat, _) = read(text, &ReadOptions::default()).unwrap();
        let e = cat.events()[0];
        assert_eq!(e.time, ts("1990-01-01T09:03:12.88Z"));
        assert_eq!(
            (e.latitude, e.longitude, e.magnitude),
            (36.417, 140.568, 4.8)
        );
        assert_eq!(e.depth_km, None);
    }

    #[test]
    fn infer_prefers_utc_and_reads_zone_from_local_names() {
        let jma = [
            "time_jst",
            "time_utc",
            "latitude",
            "longitude",
            "depth_km",
            "magnitude",
        ];
        let m = ColumnMapping::infer(&jma).unwrap();
        assert_eq!((m.time.as_str(), m.utc_offset), ("time_utc", None));
        assert_eq!(m.depth.as_deref(), Some("depth_km"));

        let cenc = ["time_bjt", "magnitude", "latitude", "longitude", "depth_km"];
        let m = ColumnMapping::infer(&cenc).unwrap();
        assert_eq!(m.time, "time_bjt");
        assert_eq!(m.utc_offset.map(UtcOffset::seconds), Some(8 * 3600));

        assert_eq!(
            ColumnMapping::infer(&["Lat", "LON", "Mag", "Origin_Time"]).map(|m| m.time),
            Some("Origin_Time".to_string())
        );
        assert!(ColumnMapping::infer(&["when", "lat", "lon", "mag"]).is_none());
    }

    #[test]
    fn unrecognisable_header_is_an_error_that_lists_it() {
        let (_dir, path) = file("when,where,size\n2020-01-01 00:00:00,here,3\n");
        let err = CatalogFormat::detect(&path).unwrap_err().to_string();
        assert!(
            err.contains(":1:") && err.contains("[when, where, size]"),
            "{err}"
        );
        assert!(
            err.contains("no column for time, latitude, longitude, magnitude"),
            "{err}"
        );
    }

    #[test]
    fn time_layouts_with_and_without_zone() {
        let utc = Offset::UTC;
        let p = |t: &str| parse_time(t, None, utc, Time24h::Refuse).unwrap();
        assert_eq!(p("2011-03-11T05:46:24.120Z"), ts("2011-03-11T05:46:24.12Z"));
        assert_eq!(p("2011-03-11T05:46:24Z"), ts("2011-03-11T05:46:24Z"));
        assert_eq!(p("2011-03-11 05:46:24"), ts("2011-03-11T05:46:24Z"));
        assert_eq!(p("2011-03-11 05:46"), ts("2011-03-11T05:46:00Z"));
        assert_eq!(p("2011/03/11 05:46:24.5"), ts("2011-03-11T05:46:24.5Z"));
        // CENC's unpadded month, day and hour.
        assert_eq!(p("2012-2-8 1:34:38"), ts("2012-02-08T01:34:38Z"));
        // 14:46:24 JST is 05:46:24 UTC.
        assert_eq!(p("2011-03-11T14:46:24+09:00"), ts("2011-03-11T05:46:24Z"));
        assert_eq!(
            p("2011-03-11T14:46:24.000000001+0900"),
            ts("2011-03-11T05:46:24.000000001Z")
        );
        for bad in [
            "2011-03-11",
            "2011-13-11 00:00:00",
            "11-03-11 00:00:00",
            "2011-03-11 05:46:24.1234567891",
            "2011-03-11 05:61:00",
            "yesterday noon",
        ] {
            assert!(
                parse_time(bad, None, utc, Time24h::Refuse).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_a_whole_hour_24_is_the_end_of_the_day() {
        let m = end_of_day_as_midnight;
        assert_eq!(m("2011-03-11 24:00").as_deref(), Some("2011-03-11 00:00"));
        assert_eq!(
            m("2011-03-11T24:00:00.000Z").as_deref(),
            Some("2011-03-11T00:00:00.000Z")
        );
        assert_eq!(m("24:00:00").as_deref(), Some("00:00:00"));
        for not_24 in [
            "2011-03-11 24:00:01",
            "2011-03-11 12:24:00",
            "2011-03-11 24:00:00.5",
        ] {
            assert_eq!(m(not_24), None, "{not_24}");
        }
        let next = parse_time("2011-12-31 24:00:00", None, Offset::UTC, Time24h::NextDay).unwrap();
        assert_eq!(next, ts("2012-01-01T00:00:00Z"));
        // In a local zone the next civil day begins at local midnight.
        let jst: UtcOffset = "+09:00".parse().unwrap();
        let next = parse_time("2011-03-11 24:00", None, jst.offset(), Time24h::NextDay).unwrap();
        assert_eq!(next, ts("2011-03-11T15:00:00Z"));
    }

    #[test]
    fn utc_offset_shifts_zone_less_times_only() {
        let bjt: UtcOffset = "+08:00".parse().unwrap();
        let local = parse_time("2022-09-05 12:52:18", None, bjt.offset(), Time24h::Refuse).unwrap();
        assert_eq!(local, ts("2022-09-05T04:52:18Z"));
        // A time with its own zone ignores the mapping's offset.
        let own = parse_time("2022-09-05T04:52:18Z", None, bjt.offset(), Time24h::Refuse).unwrap();
        assert_eq!(own, ts("2022-09-05T04:52:18Z"));
        let west: UtcOffset = "-0530".parse().unwrap();
        assert_eq!(west.seconds(), -(5 * 3600 + 30 * 60));
        assert_eq!(west.to_string(), "-05:30");
        for bad in ["8", "+8:00", "+08:0", "+19:00", "+08:60", "08:00"] {
            assert!(bad.parse::<UtcOffset>().is_err(), "{bad}");
        }
    }

    #[test]
    fn time_format_and_offset_from_a_mapping() {
        let text = "when,y,x,m\n05/09/2022 12h52m18,29.59,102.08,6.8\n";
        let toml_text = "time = \"when\"\nlatitude = \"y\"\nlongitude = \"x\"\nmagnitude = \"m\"\n\
                         time_format = \"%d/%m/%Y %Hh%Mm%S\"\nutc_offset = \"+08:00\"\n";
        let mapping: ColumnMapping = toml::from_str(toml_text).unwrap();
        let (_dir, path) = file(text);
        let (cat, _) = read_catalog(
            &path,
            &CatalogFormat::Generic(mapping),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(cat.events()[0].time, ts("2022-09-05T04:52:18Z"));

        let typo = "time = \"when\"\nlatitude = \"y\"\nlongitude = \"x\"\nmagnitude = \"m\"\nutc_ofset = \"+08:00\"\n";
        let err = toml::from_str::<ColumnMapping>(typo)
            .unwrap_err()
            .to_string();
        assert!(err.contains("utc_ofset"), "{err}");
    }

    #[test]
    fn bad_row_names_file_line_and_field() {
        // Header is line 1; the blank magnitude is on line 3.
        let text = "time,lat,lon,mag\n\
                    2020-01-01 00:00:00,35,140,3.2\n\
                    2020-01-02 00:00:00,35,140,\n";
        let (_dir, path) = file(text);
        let format = CatalogFormat::detect(&path).unwrap();
        let err = read_catalog(&path, &format, &ReadOptions::default()).unwrap_err();
        match &err {
            Error::Parse {
                path: p,
                line,
                field,
                message,
            } => {
                assert_eq!(p, &path);
                assert_eq!(*line, 3);
                assert_eq!(field, "mag");
                assert!(message.contains("blank"), "{message}");
            }
            other => panic!("expected a parse error, got {other}"),
        }
        assert!(
            err.to_string().contains("catalog.csv:3: field `mag`"),
            "{err}"
        );
    }

    #[test]
    fn line_numbers_count_crlf_line_ends_once() {
        // The CENC and JMA files end their lines with CR LF.
        let text = "time,lat,lon,mag\r\n2020-01-01 00:00:00,35,140,3\r\n2020-01-02 00:00:00,35,140,3\r\n2020-01-03 00:00:00,35,140,\r\n";
        let err = read(text, &ReadOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Parse { line: 4, .. }), "{err}");
        // Blank lines count as lines; a quoted field may span two.
        let text = "time,lat,lon,mag,place\n\n2020-01-01 00:00:00,35,140,,\"two\nlines\"\r\n\r\n2020-01-01 00:00:00,35,140,,x\n";
        let (_, report) = read(
            text,
            &ReadOptions {
                lenient: true,
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let blank = &report.skipped[&SkipReason {
            field: "mag".into(),
            problem: RowProblem::Blank,
        }];
        assert_eq!(blank.first_lines, vec![3, 6]);
    }

    #[test]
    fn each_kind_of_bad_field_is_caught() {
        let cases = [
            (
                "2020-01-01 00:00:00,95,140,3",
                "lat",
                RowProblem::OutOfRange,
            ),
            (
                "2020-01-01 00:00:00,35,east,3",
                "lon",
                RowProblem::Malformed,
            ),
            (
                "2020-01-01 00:00:00,35,140,NaN",
                "mag",
                RowProblem::Malformed,
            ),
            (
                "2020-01-32 00:00:00,35,140,3",
                "time",
                RowProblem::Malformed,
            ),
            ("2020-01-01 00:00:00,35", "lon", RowProblem::Missing),
        ];
        for (row, field, problem) in cases {
            let text = format!("time,lat,lon,mag\n{row}\n");
            let lenient = ReadOptions {
                lenient: true,
                ..ReadOptions::default()
            };
            let (cat, report) = read(&text, &lenient).unwrap();
            assert!(cat.is_empty(), "{row}");
            let reason = SkipReason {
                field: field.to_string(),
                problem,
            };
            assert_eq!(
                report.skipped.get(&reason).map(|s| s.first_lines.clone()),
                Some(vec![2]),
                "{row}: {report}"
            );
        }
    }

    #[test]
    fn lenient_mode_counts_skipped_rows_per_reason() {
        // Lines: 1 header; 2 good; 3 blank mag; 4 good; 5 blank mag; 6 bad lat; 7 blank mag.
        let text = "time,lat,lon,depth,mag\n\
                    2020-01-01 00:00:00,35,140,10,3.2\n\
                    2020-01-02 00:00:00,35,140,10,\n\
                    2020-01-03 00:00:00,35,140,,3.5\n\
                    2020-01-04 00:00:00,35,140,10, \n\
                    2020-01-05 00:00:00,135,140,10,4.0\n\
                    2020-01-06 00:00:00,35,140,10,\n";
        let options = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        let (cat, report) = read(text, &options).unwrap();
        assert_eq!(cat.len(), 2);
        // A blank depth is an unknown depth, not a bad row.
        assert_eq!(cat.events()[1].depth_km, None);
        assert_eq!(
            (report.rows, report.kept, report.skipped_total()),
            (6, 2, 4)
        );
        let blank = &report.skipped[&SkipReason {
            field: "mag".into(),
            problem: RowProblem::Blank,
        }];
        assert_eq!((blank.count, blank.first_lines.clone()), (3, vec![3, 5, 7]));
        let lat = &report.skipped[&SkipReason {
            field: "lat".into(),
            problem: RowProblem::OutOfRange,
        }];
        assert_eq!((lat.count, lat.first_lines.clone()), (1, vec![6]));
        let summary = report.to_string();
        assert!(
            summary.contains("skipped 4 bad rows")
                && summary.contains("mag blank: 3 at lines 3, 5, 7"),
            "{summary}"
        );
    }

    #[test]
    fn sample_lines_stop_at_the_limit() {
        let mut text = String::from("time,lat,lon,mag\n");
        for day in 1..=9 {
            text.push_str(&format!("2020-01-0{day} 00:00:00,35,140,\n"));
        }
        let options = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        let (_, report) = read(&text, &options).unwrap();
        let blank = &report.skipped[&SkipReason {
            field: "mag".into(),
            problem: RowProblem::Blank,
        }];
        assert_eq!(blank.count, 9);
        assert_eq!(blank.first_lines, vec![2, 3, 4, 5, 6]);
    }

    #[test]
    fn duplicates_are_reported_and_kept_unless_dropped() {
        // Two copies of one event, three of another, one single: 2 groups, 3 extra copies.
        let text = "time,lat,lon,mag\n\
                    2020-01-01 00:00:00,35,140,3.2\n\
                    2020-01-01 00:00:00,35,140,3.2\n\
                    2020-01-02 00:00:00,36,141,4.0\n\
                    2020-01-02 00:00:00,36,141,4.0\n\
                    2020-01-02 00:00:00,36,141,4.0\n\
                    2020-01-02 00:00:00,36,141,4.1\n";
        let (cat, report) = read(text, &ReadOptions::default()).unwrap();
        assert_eq!(cat.len(), 6);
        assert_eq!(
            (
                report.duplicate_groups,
                report.duplicate_copies,
                report.duplicates_dropped
            ),
            (2, 3, 0)
        );
        assert!(
            report
                .to_string()
                .contains("2 groups of duplicate events with 3 extra copies, kept")
        );

        let options = ReadOptions {
            drop_duplicates: true,
            ..ReadOptions::default()
        };
        let (cat, report) = read(text, &options).unwrap();
        assert_eq!(cat.len(), 3);
        assert_eq!(
            (
                report.duplicate_groups,
                report.duplicates_dropped,
                report.kept
            ),
            (2, 3, 3)
        );
        assert_eq!(
            report.rows,
            report.kept + report.filtered_out + report.skipped_total() + report.duplicates_dropped
        );
    }

    #[test]
    fn longitudes_wrap_into_minus_180_to_180() {
        // The NGL examples from the data README: -268.896 is 91.104E, -234.556 is 125.444E.
        assert!((normalize_longitude(-268.896) - 91.104).abs() < 1e-9);
        assert!((normalize_longitude(-234.556) - 125.444).abs() < 1e-9);
        assert_eq!(normalize_longitude(234.5), -125.5);
        assert_eq!(normalize_longitude(180.0), -180.0);
        assert_eq!(normalize_longitude(-180.0), -180.0);
        assert_eq!(normalize_longitude(540.0), -180.0);
        assert_eq!(normalize_longitude(142.373), 142.373);
        assert!(normalize_longitude(-1e-20) < 180.0);
        let (cat, _) = read(
            "time,lat,lon,mag\n2020-01-01 00:00:00,35,500,3\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(cat.events()[0].longitude, 140.0);
    }

    #[test]
    fn filters_by_region_period_and_magnitude() {
        // Kept: row 1 only. Row 2 outside the box (lon 150), row 3 before the period,
        // row 4 below M3, row 5 on the period's excluded end, row 6 just at M3 (kept).
        let text = "time,lat,lon,mag\n\
                    2020-01-10 00:00:00,35,140,3.5\n\
                    2020-01-10 00:00:00,35,150,3.5\n\
                    2019-12-31 23:59:59,35,140,3.5\n\
                    2020-01-10 00:00:00,35,140,2.9\n\
                    2020-02-01 00:00:00,35,140,5.0\n\
                    2020-01-20 00:00:00,46,123,3.0\n";
        let options = ReadOptions {
            filter: CatalogFilter {
                region: Some(Region::JAPAN),
                period: Some(Period::parse("2020-01-01", "2020-02-01").unwrap()),
                min_magnitude: Some(3.0),
            },
            ..ReadOptions::default()
        };
        let (cat, report) = read(text, &options).unwrap();
        assert_eq!((report.kept, report.filtered_out), (2, 4));
        assert_eq!(cat.events()[1].latitude, 46.0);
    }

    #[test]
    fn mapping_to_a_missing_column_names_it() {
        let (_dir, path) = file("time,lat,lon,mag\n");
        let mut mapping = ColumnMapping::comcat();
        mapping.latitude = "lat".into();
        mapping.longitude = "lon".into();
        let err = read_catalog(
            &path,
            &CatalogFormat::Generic(mapping),
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(":1:") && err.contains("no column `depth`"),
            "{err}"
        );
    }

    #[test]
    fn write_then_read_gives_the_same_events() {
        let events = vec![
            Event {
                time: ts("2011-03-11T05:46:24.120Z"),
                latitude: 38.297,
                longitude: 142.373,
                depth_km: Some(29.0),
                magnitude: 9.1,
            },
            Event {
                time: ts("2011-03-11T06:15:40.28Z"),
                latitude: 36.281,
                longitude: -179.5,
                depth_km: None,
                magnitude: 7.9,
            },
            Event {
                time: ts("2024-12-31T23:59:59.999Z"),
                latitude: -0.0001,
                longitude: 0.0,
                depth_km: Some(0.25),
                magnitude: 3.0,
            },
        ];
        let catalog = Catalog::from_events(events);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write_comcat(&path, &catalog).unwrap();
        // Only the final file remains: the temporary one was renamed.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.csv")]);
        assert_eq!(CatalogFormat::detect(&path).unwrap(), CatalogFormat::Comcat);
        let (back, _) =
            read_catalog(&path, &CatalogFormat::Comcat, &ReadOptions::default()).unwrap();
        assert_eq!(back, catalog);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("2011-03-11T05:46:24.120Z,38.297,142.373,29,9.1,")
        );
        assert_eq!(text.lines().nth(1).unwrap().split(',').count(), 22);
    }

    /// A ComCat file of `n` rows, the line on which each row starts and the line after the last
    /// row, with rows of every kind the reader tells apart: quoted places with commas and line
    /// feeds, CR LF line ends, other event types, rows outside a filter, duplicated rows and,
    /// unless `clean`, blank magnitudes and latitudes out of range.
    fn mixed_comcat(n: usize, clean: bool) -> (String, Vec<u64>, u64) {
        let mut text = format!("{}\n", COMCAT_HEADER.join(","));
        let mut line = 2;
        let mut starts = Vec::new();
        for i in 0..n {
            let time = format!(
                "2015-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                1 + (i / 28) % 12,
                1 + i % 28,
                i % 24,
                i % 60,
                (i * 7) % 60,
                i % 1000
            );
            let (place, extra_lines) = match i % 3 {
                0 => ("\"12 km E of Town, Japan\"".to_string(), 0),
                1 => (format!("\"near\nthe \"\"coast\"\", line {i}\""), 1),
                _ => ("plain".to_string(), 0),
            };
            let kind = if i % 17 == 0 {
                "quarry blast"
            } else {
                "earthquake"
            };
            let mag = if i % 101 == 0 && !clean {
                String::new()
            } else {
                format!("{:.1}", 2.5 + (i % 40) as f64 / 10.0)
            };
            let lat = if i % 211 == 0 && !clean {
                "95".to_string()
            } else {
                format!("{:.3}", 30.0 + (i % 100) as f64 / 10.0)
            };
            let end = if i % 5 == 0 { "\r\n" } else { "\n" };
            let row = format!(
                "{time},{lat},140.5,10,{mag},mw,,,,,us,id{i},,{place},{kind},,,,,reviewed,us,us{end}"
            );
            let copies = if i % 250 == 0 { 2 } else { 1 };
            for _ in 0..copies {
                text.push_str(&row);
                starts.push(line);
                line += 1 + extra_lines;
            }
        }
        (text, starts, line)
    }

    #[test]
    fn pieces_read_in_parallel_give_the_catalog_and_report_of_one_pass() {
        let (text, starts, _) = mixed_comcat(3000, false);
        let (_dir, path) = file(&text);
        let options = ReadOptions {
            lenient: true,
            filter: CatalogFilter {
                min_magnitude: Some(3.0),
                ..CatalogFilter::default()
            },
            ..ReadOptions::default()
        };
        let piece = 4096;
        assert!(text.len() > 20 * piece, "{} bytes", text.len());
        let one_pass =
            read_catalog_in_pieces(&path, &CatalogFormat::Comcat, &options, usize::MAX).unwrap();
        let in_pieces =
            read_catalog_in_pieces(&path, &CatalogFormat::Comcat, &options, piece).unwrap();
        assert_eq!(in_pieces, one_pass);
        let report = &one_pass.1;
        // 3000 rows, 12 of them (every 250th from 0) written twice.
        assert_eq!(report.rows, 3012);
        // Every 17th row is a quarry blast, and row 0 is one of the doubled rows.
        assert_eq!(report.other_types.get("quarry blast"), Some(&(177 + 1)));
        assert!(report.filtered_out > 0 && report.duplicate_groups > 0);
        // Row 101 has a blank magnitude and is the first such after row 0 (a quarry blast).
        let blank = &report.skipped[&SkipReason {
            field: "mag".into(),
            problem: RowProblem::Blank,
        }];
        assert_eq!(blank.first_lines[0], starts[101 + 1]);
        let strict_one_pass = read_catalog_in_pieces(
            &path,
            &CatalogFormat::Comcat,
            &ReadOptions::default(),
            usize::MAX,
        );
        let strict_pieces = read_catalog_in_pieces(
            &path,
            &CatalogFormat::Comcat,
            &ReadOptions::default(),
            piece,
        );
        assert_eq!(
            strict_pieces.unwrap_err().to_string(),
            strict_one_pass.unwrap_err().to_string()
        );
    }

    #[test]
    fn a_bad_row_deep_in_a_later_piece_names_its_own_line() {
        let (mut text, _, bad_line) = mixed_comcat(2000, true);
        text.push_str(
            "2016-01-01T00:00:00.000Z,35,east,10,4.0,mw,,,,,us,x,,\"a, b\",earthquake,,,,,,,\n",
        );
        let piece = 4096;
        assert!(text.len() > 40 * piece, "{} bytes", text.len());
        let (_dir, path) = file(&text);
        let err = read_catalog_in_pieces(
            &path,
            &CatalogFormat::Comcat,
            &ReadOptions::default(),
            piece,
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Parse { line, field, .. } if *line == bad_line && field == "longitude"),
            "expected line {bad_line}: {err}"
        );
        let lenient = ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        };
        let (_, report) =
            read_catalog_in_pieces(&path, &CatalogFormat::Comcat, &lenient, piece).unwrap();
        let lon = &report.skipped[&SkipReason {
            field: "longitude".into(),
            problem: RowProblem::Malformed,
        }];
        assert_eq!(lon.first_lines, vec![bad_line]);
    }

    #[test]
    fn missing_file_is_an_io_error_with_the_path() {
        let err = CatalogFormat::detect(Path::new("no/such/catalog.csv")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
        assert!(err.to_string().contains("no/such/catalog.csv"));
    }
}
